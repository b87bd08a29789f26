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

  it("keeps the latest run in full and earlier runs one line each, collapsed", async () => {
    const { model, root, cleanup } = mount({ _progress: [bar({ id: 1, run: 1, n: 2, total: 2, state: "done" })] });
    const rows = () => Array.from(root.querySelectorAll<HTMLElement>(".mp-bar")).map((r) => r.dataset.id);
    expect(rows()).toEqual(["1"]);
    expect(root.querySelector<HTMLElement>(".mp-runs")?.hidden).toBe(true);
    model.set("_progress", [
      bar({ id: 1, run: 1, n: 2, total: 2, state: "done", desc: HOSTILE }),
      bar({ id: 2, run: 1, level: 1, n: 5, total: 5, state: "done" }),
      bar({ id: 3, run: 3, n: 1, total: 4 }),
    ]);
    await nextFrame();
    expect(rows()).toEqual(["3"]);
    const runs = root.querySelector<HTMLDetailsElement>(".mp-runs")!;
    expect([runs.hidden, runs.open, runs.querySelector("summary")?.textContent]).toEqual([false, false, "Earlier runs (1)"]);
    const line = runs.querySelector<HTMLElement>(".mp-run")!;
    expect([line.dataset.run, line.dataset.state]).toEqual(["1", "done"]);
    expect(line.textContent).toBe(`${HOSTILE}: 100% 2/2 [00:00<?, ?it/s]`);
    expect(root.querySelector("img")).toBeNull();
    expect(root.lastElementChild).toBe(runs); // below the running loop's bars
    cleanup();
  });
});
