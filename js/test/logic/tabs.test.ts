// The tab bar's keys and the rule for opening the Training tab by itself.
import { describe, expect, it } from "vitest";
import { TABS, autoOpenTraining, tabKey } from "../../src/logic/tabs";

describe("tabs", () => {
  it("are Model, Parameters, Training, Inference, in that order", () => {
    expect(TABS.map((t) => t.id)).toEqual(["model", "parameters", "training", "inference"]);
  });

  it("move with Left/Right (wrapping) and Home/End, as the WAI-ARIA tabs pattern does", () => {
    expect(tabKey(0, 4, "ArrowRight")).toBe(1);
    expect(tabKey(3, 4, "ArrowRight")).toBe(0);
    expect(tabKey(0, 4, "ArrowLeft")).toBe(3);
    expect(tabKey(2, 4, "ArrowLeft")).toBe(1);
    expect(tabKey(2, 4, "Home")).toBe(0);
    expect(tabKey(1, 4, "End")).toBe(3);
    expect(tabKey(1, 4, "ArrowDown")).toBeNull();
    expect(tabKey(1, 4, "a")).toBeNull();
    expect(tabKey(0, 0, "ArrowRight")).toBeNull();
  });

  it("open Training only when a loop starts and the user has not picked a tab", () => {
    expect(autoOpenTraining({ userChose: false, runningBefore: false, runningNow: true })).toBe(true);
    // A user's choice is never taken away, not even by the next loop.
    expect(autoOpenTraining({ userChose: true, runningBefore: false, runningNow: true })).toBe(false);
    // Every tick of a running loop is not a new start (the user may have left Training meanwhile).
    expect(autoOpenTraining({ userChose: false, runningBefore: true, runningNow: true })).toBe(false);
    expect(autoOpenTraining({ userChose: false, runningBefore: true, runningNow: false })).toBe(false);
    expect(autoOpenTraining({ userChose: false, runningBefore: false, runningNow: false })).toBe(false);
  });
});
