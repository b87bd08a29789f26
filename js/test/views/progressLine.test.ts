// The cell's own progress line (a ProgressLine widget): the bundle's render() draws it when
// `_view` is "progress", with the bars of its run as the panel draws them, strings as text.
import { afterEach, describe, expect, it } from "vitest";
import type { ProgressBar } from "../../src/model";
import widget from "../../src/progressLineEntry";
import { FakeModel, HOSTILE, nextFrame, resetViews } from "../helpers";

function bar(over: Partial<ProgressBar>): ProgressBar {
  return { id: 1, level: 0, run: 1, desc: "epoch", n: 0, total: 3, unit: "it", rate: null, elapsed: 0,
    remaining: null, postfix: "", state: "running", error: "", ...over };
}

afterEach(resetViews);

describe("progress line", () => {
  it("is drawn by its own bundle's render(), and follows _progress", async () => {
    const model = new FakeModel({ _progress: [bar({ n: 1, rate: 2.5, elapsed: 0.4, remaining: 0.8 })] } as never);
    const el = document.createElement("div");
    document.body.appendChild(el);
    const cleanup = widget.render({ model: model.asModel(), el } as never) as () => void;
    const root = el.querySelector<HTMLElement>(".mp-line")!;
    expect(root).not.toBeNull();
    expect(el.querySelector(".mp-tree, .mp-params, .mp-inference")).toBeNull(); // no panel parts
    expect(root.getAttribute("aria-label")).toBe("epoch:  33% 1/3 [00:00<00:00,  2.50it/s]");
    model.set("_progress", [bar({ n: 3, state: "done", postfix: `loss=${HOSTILE}` }), bar({ id: 2, level: 1, desc: "batch", n: 4, total: 4, state: "done" })]);
    await nextFrame();
    const rows = Array.from(root.querySelectorAll<HTMLElement>(".mp-bar"));
    expect(rows.map((r) => [r.dataset.level, r.dataset.state, r.querySelector(".mp-bar-count")?.textContent])).toEqual([
      ["0", "done", "3/3"], ["1", "done", "4/4"]]);
    expect(rows[0]?.querySelector(".mp-bar-meta")?.textContent).toContain(`loss=${HOSTILE}`);
    expect(root.querySelector("img")).toBeNull();
    cleanup();
    expect(el.children.length).toBe(0);
  });
});
