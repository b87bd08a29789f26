// The progress bars in a DOM: keyed by id and updated in place, strings as text.
import { afterEach, describe, expect, it } from "vitest";
import type { ProgressBar } from "../../src/model";
import { mountProgressBars } from "../../src/views/progressBars";
import { HOSTILE, mountView, nextFrame, resetViews } from "../helpers";

function bar(over: Partial<ProgressBar>): ProgressBar {
  return { id: 1, level: 0, desc: "epoch", n: 0, total: 10, unit: "it", rate: null, elapsed: 0, remaining: null,
    postfix: "", state: "running", error: "", ...over };
}

const mount = (state: Record<string, unknown>) => mountView(mountProgressBars, state);

afterEach(resetViews);

describe("progress bars", () => {
  it("renders nested bars in order, as text, and updates them in place", async () => {
    const { model, root, cleanup } = mount({
      _progress: [bar({ id: 4, level: 1, desc: HOSTILE, n: 3, postfix: `loss=${HOSTILE}` }), bar({ id: 2, n: 1 })],
    });
    const rows = () => Array.from(root.querySelectorAll<HTMLElement>(".mp-bar"));
    expect(rows().map((r) => [r.dataset.id, r.dataset.level])).toEqual([["2", "0"], ["4", "1"]]);
    expect(root.querySelector("img")).toBeNull();
    expect(rows()[1]?.querySelector(".mp-bar-desc")?.textContent).toBe(HOSTILE);
    const inner = rows()[1];
    model.set("_progress", [bar({ id: 2, n: 1 }), bar({ id: 4, level: 1, desc: "batch", n: 7 })]);
    await nextFrame();
    expect(rows()[1]).toBe(inner); // same element, new text
    expect(inner?.querySelector(".mp-bar-count")?.textContent).toBe("7/10");
    expect((inner?.querySelector(".mp-bar-fill") as HTMLElement).style.width).toBe("70%");
    cleanup();
  });

  it("shows why a bar stopped, and drops bars the kernel no longer sends", async () => {
    const { model, root, cleanup } = mount({ _progress: [bar({ id: 1 }), bar({ id: 2, level: 1 })] });
    model.set("_progress", [bar({ id: 1, n: 4, state: "error", error: "KeyboardInterrupt" })]);
    await nextFrame();
    const rows = root.querySelectorAll<HTMLElement>(".mp-bar");
    expect(rows.length).toBe(1);
    expect(rows[0]?.dataset.state).toBe("error");
    const err = rows[0]?.querySelector<HTMLElement>(".mp-bar-error");
    expect(err?.textContent).toBe("KeyboardInterrupt");
    expect(err?.hidden).toBe(false);
    cleanup();
  });
});
