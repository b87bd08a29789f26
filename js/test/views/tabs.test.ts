// The tabs of one rendered panel: ARIA wiring, the keyboard, every panel kept mounted (state
// survives a switch), the running-loop line, Training opened when a loop starts unless the
// user chose a tab, and "/" to the tree search.
import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../../src/widget";
import { FakeModel, irisState, nextFrame, resetViews } from "../helpers";
import type { ProgressBar } from "../../src/model";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

afterEach(() => resetViews());

function renderPanel() {
  const model = new FakeModel(irisState());
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = widget.render({ model: model.asModel(), el } as never) as () => void;
  const tab = (id: string) => el.querySelector<HTMLElement>(`.mp-tab[data-tab="${id}"]`) as HTMLElement;
  const panel = (id: string) => el.querySelector<HTMLElement>(`.mp-tabpanel[data-tab="${id}"]`) as HTMLElement;
  const shown = () => Array.from(el.querySelectorAll<HTMLElement>(".mp-tabpanel")).filter((p) => !p.hidden).map((p) => p.dataset.tab);
  const key = (target: HTMLElement, k: string) => {
    const ev = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true });
    target.dispatchEvent(ev);
    return ev;
  };
  return { model, el, cleanup, tab, panel, shown, key };
}

function bar(over: Partial<ProgressBar> = {}): ProgressBar {
  return { id: 1, level: 0, desc: "epoch", n: 1, total: 4, unit: "it", rate: 2, elapsed: 1, remaining: 2,
    postfix: "", state: "running", error: "", ...over };
}

describe("tabs", () => {
  it("carry the tablist/tab/tabpanel roles, each tab controlling its panel; Model opens first", () => {
    const { el, tab, panel, shown, cleanup } = renderPanel();
    expect(el.querySelector(".mp-tabs")?.getAttribute("role")).toBe("tablist");
    for (const id of ["model", "parameters", "training", "inference"]) {
      expect(tab(id).getAttribute("role")).toBe("tab");
      expect(panel(id).getAttribute("role")).toBe("tabpanel");
      expect(tab(id).getAttribute("aria-controls")).toBe(panel(id).id);
      expect(panel(id).getAttribute("aria-labelledby")).toBe(tab(id).id);
    }
    expect(shown()).toEqual(["model"]);
    expect(tab("model").getAttribute("aria-selected")).toBe("true");
    expect(tab("model").tabIndex).toBe(0);
    expect(tab("training").getAttribute("aria-selected")).toBe("false");
    expect(tab("training").tabIndex).toBe(-1);
    // The header stays above the tabs, outside every panel.
    expect(el.querySelector(".mp-tabpanel .mp-header")).toBeNull();
    cleanup();
  });

  it("ids differ between two views of one widget", () => {
    const a = renderPanel();
    const b = renderPanel();
    expect(a.tab("model").id).not.toBe(b.tab("model").id);
    a.cleanup();
    b.cleanup();
  });

  it("switch by click and by Left/Right/Home/End, moving focus with the selection", () => {
    const { tab, shown, key, cleanup } = renderPanel();
    tab("parameters").click();
    expect(shown()).toEqual(["parameters"]);
    tab("parameters").focus();
    expect(key(tab("parameters"), "ArrowRight").defaultPrevented).toBe(true);
    expect(shown()).toEqual(["training"]);
    expect(document.activeElement).toBe(tab("training"));
    key(tab("training"), "End");
    expect(shown()).toEqual(["inference"]);
    key(tab("inference"), "ArrowRight"); // wraps
    expect(shown()).toEqual(["model"]);
    key(tab("model"), "ArrowLeft");
    expect(shown()).toEqual(["inference"]);
    key(tab("inference"), "Home");
    expect(shown()).toEqual(["model"]);
    expect(key(tab("model"), "ArrowDown").defaultPrevented).toBe(false); // left to the page
    cleanup();
  });

  it("keep every view mounted: the tree selection and the table sort survive a switch", async () => {
    const { el, tab, cleanup } = renderPanel();
    await nextFrame();
    const rowsBefore = el.querySelectorAll(".mp-tree-row").length;
    el.querySelector<HTMLElement>('.mp-tree-row[data-path="fc2"] .mp-tree-name')?.click();
    tab("parameters").click();
    el.querySelector<HTMLElement>('.mp-params th[data-key="numel"]')?.click();
    await nextFrame();
    const names = () => Array.from(el.querySelectorAll<HTMLElement>(".mp-param-row")).map((r) => r.dataset.name);
    const sorted = names();
    expect(sorted).toHaveLength(2); // fc2's tensors only
    tab("model").click();
    tab("parameters").click();
    await nextFrame();
    expect(names()).toEqual(sorted);
    expect(el.querySelector('.mp-params th[data-key="numel"]')?.getAttribute("aria-sort")).not.toBe("none");
    expect(el.querySelectorAll(".mp-tree-row")).toHaveLength(rowsBefore);
    expect(el.querySelector('.mp-tree-row.mp-selected')?.getAttribute("data-path")).toBe("fc2");
    cleanup();
  });

  it("show the running loop's line whatever tab is open, and open Training when a loop starts", async () => {
    const { model, el, tab, shown, cleanup } = renderPanel();
    const line = el.querySelector<HTMLElement>(".mp-running") as HTMLElement;
    expect(line.hidden).toBe(true);
    model.set("_progress", [bar({ n: 1, total: 4 }), bar({ id: 2, level: 1, desc: "batch", n: 3, total: 10 })]);
    await nextFrame();
    expect(line.hidden).toBe(false);
    expect(line.textContent).toBe("epoch 1/4 25% · batch 3/10 30%");
    expect(shown()).toEqual(["training"]); // nobody picked a tab: the loop's tab opens
    expect(tab("training").classList.contains("mp-tab-busy")).toBe(true);
    // The loop ends: the line goes, the bars stay on the Training tab.
    model.set("_progress", [bar({ n: 4, total: 4, state: "done" })]);
    await nextFrame();
    expect(line.hidden).toBe(true);
    expect(tab("training").classList.contains("mp-tab-busy")).toBe(false);
    cleanup();
  });

  it("never take a tab the user picked: the next loop leaves it open, its line is a way to Training", async () => {
    const { model, el, tab, shown, cleanup } = renderPanel();
    tab("parameters").click();
    model.set("_progress", [bar()]);
    await nextFrame();
    expect(shown()).toEqual(["parameters"]);
    const line = el.querySelector<HTMLElement>(".mp-running") as HTMLElement;
    expect(line.hidden).toBe(false);
    line.click();
    expect(shown()).toEqual(["training"]);
    cleanup();
  });

  it('"/" opens the Model tab and focuses the tree search, but types into a text field', () => {
    const { el, tab, shown, key, cleanup } = renderPanel();
    tab("parameters").click();
    const ev = key(tab("parameters"), "/");
    expect(ev.defaultPrevented).toBe(true);
    expect(shown()).toEqual(["model"]);
    const search = el.querySelector<HTMLInputElement>(".mp-search") as HTMLInputElement;
    expect(document.activeElement).toBe(search);
    // In the search box (or any input), "/" is a character.
    expect(key(search, "/").defaultPrevented).toBe(false);
    cleanup();
  });
});
