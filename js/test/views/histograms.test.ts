// The weight histograms in a DOM: the displayed ids go to the kernel as hist_watch, counts come
// from the reply and later `_hist` snapshots, and a histogram without counts shows as loading.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createHists } from "../../src/core/hists";
import { createStore } from "../../src/core/store";
import { mountHistograms } from "../../src/views/histograms";
import {
  HOSTILE,
  histWire,
  irisRecords,
  irisState,
  mountView,
  nextFrame,
  paramColumns,
  paramStats,
  plotlyMock as plotly,
  resetViews,
} from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

afterEach(() => {
  vi.unstubAllGlobals();
  resetViews();
});

function mount(state: Record<string, unknown>) {
  // happy-dom's IntersectionObserver never reports a plot as visible; without one, all draw.
  vi.stubGlobal("IntersectionObserver", undefined);
  const store = createStore();
  let disposeHists = () => {};
  const view = mountView((root, model, ctx) => {
    const hists = createHists(model, ctx, store);
    disposeHists = () => hists.dispose();
    return mountHistograms(root, model, ctx, store, hists);
  }, state);
  type Watch = { kind: string; id: string; view: string; ids: number[] };
  const watches = () => (view.model.sent as Watch[]).filter((m) => m.kind === "hist_watch");
  const loading = () =>
    Array.from(view.root.querySelectorAll<HTMLElement>(".mp-hist-item.mp-hist-loading .mp-hist-plot")).map((p) => p.dataset.id);
  const drawnIds = () => plotly.react.mock.calls.map((c) => (c[0] as HTMLElement).dataset.id);
  return { ...view, store, watches, loading, drawnIds, disposeHists: () => disposeHists() };
}

describe("histograms", () => {
  it("watch what they show, draw the reply's counts, and follow the snapshots", async () => {
    const v = mount({ ...irisState(), _hist: {} });
    await nextFrame();
    await nextFrame();
    const watch = v.watches().pop();
    expect(watch?.ids).toEqual([0, 1, 2, 3]); // the table's first rows
    expect(typeof watch?.view).toBe("string");
    expect(v.loading()).toEqual(["0", "1", "2", "3"]);
    expect(plotly.react).not.toHaveBeenCalled();
    v.model.emit("msg:custom", {
      kind: "hist_watch_reply", id: watch?.id, ok: true, bins: 2,
      ids: [0, 1], counts: [[3, 1], [0, 4]], range: [[-1, 1], [0, 2]],
    });
    await nextFrame();
    expect(v.loading()).toEqual(["2", "3"]);
    expect(v.drawnIds().sort()).toEqual(["0", "1"]);
    const bars = (plotly.react.mock.calls.find((c) => (c[0] as HTMLElement).dataset.id === "1")?.[1] as { y: number[] }[])[0];
    expect(bars?.y).toEqual([0, 4]);

    v.store.update({ picked: new Set([3]) });
    await nextFrame();
    await nextFrame();
    expect(v.watches().pop()?.ids).toEqual([3]);
    plotly.react.mockClear();
    v.model.set("_hist", histWire([3], [[1, 2]], [[0, 1]], 40, 9));
    await nextFrame();
    expect(v.loading()).toEqual([]);
    expect(v.drawnIds()).toEqual(["3"]);
    v.cleanup();
    v.disposeHists();
    expect(v.watches().pop()?.ids).toEqual([]);
  });

  it("show a name as text and say when the kernel's histograms cannot be read", async () => {
    const records = irisRecords().map((r) => (r.id === 0 ? { ...r, names: [HOSTILE] } : r));
    const v = mount({
      ...irisState(),
      _params: paramColumns(records),
      _param_stats: paramStats(records),
      _hist: { ...histWire([0], [[1]], [[0, 1]]), ids: [0, 1] },
    });
    await nextFrame();
    expect(v.root.querySelector(".mp-hist-note, .mp-hint")?.textContent).toMatch(/Cannot read the histograms: .*2 ids/);
    expect(v.root.querySelector(".mp-hist-name")?.textContent).toBe(HOSTILE);
    expect(v.root.querySelector("img")).toBeNull();
    v.cleanup();
  });

  it("draw a sampled tensor's bars scaled to its numel, say so in the hover and keep the tag after a long name", async () => {
    // A tied tensor with a long name, summarised from a sample of 8 of its 800 values.
    const name = ["transformer.wte.weight", "lm_head.weight"];
    const records = irisRecords().map((r) => (r.id === 0 ? { ...r, names: name, numel: 800, sampled: true } : r));
    const v = mount({ ...irisState(), _params: paramColumns(records), _param_stats: paramStats(records), _hist: histWire([0], [[2, 6]], [[-1, 1]]) });
    await nextFrame();
    await nextFrame();
    const call = plotly.react.mock.calls.find((c) => (c[0] as HTMLElement).dataset.id === "0");
    const trace = (call?.[1] as { y: number[]; hovertemplate: string }[])[0];
    expect(trace?.y).toEqual([200, 600]); // 2 and 6 of 8 sampled values, of 800
    expect(trace?.hovertemplate).toContain("counts estimated from a sample of 8 of its 800 values");
    const fig = v.root.querySelector<HTMLElement>('.mp-hist-item[data-name="transformer.wte.weight"]');
    expect(fig?.title).toMatch(/strided sample.*sample of 8 of its 800/);
    const caption = fig?.querySelector(".mp-hist-caption");
    expect(Array.from(caption?.children ?? [], (c) => c.className)).toEqual(["mp-hist-name", "mp-hist-note"]);
    expect(caption?.querySelector(".mp-hist-name")?.getAttribute("title")).toBe(name.join(", "));
    expect(caption?.querySelector(".mp-hist-note")?.textContent).toBe("sampled");
    v.cleanup();
  });
});
