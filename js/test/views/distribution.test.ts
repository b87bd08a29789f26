// The distributions-over-time heatmap in a DOM: the history asked for on mount and on a new
// pick, a column per `_hist` snapshot after it, the picked tensor watched, names as text.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createHists } from "../../src/core/hists";
import { createStore } from "../../src/core/store";
import type { ParamRecord } from "../../src/model";
import { mountDistribution } from "../../src/views/distribution";
import { HOSTILE, histWire, lastPlotData, mountView, nextFrame, paramColumns, paramStats, plotlyMock, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

function rec(id: number, name: string): ParamRecord {
  return {
    id, names: [name], owners: [""], shape: [2], numel: 2, dtype: "float32", device: "cpu", trainable: true,
    mean: 0, std: 1, min: -1, max: 1, nan: 0, inf: 0, sampled: false,
  };
}

function mount() {
  const records = [rec(0, "fc1.weight"), rec(1, HOSTILE)];
  const store = createStore();
  let disposeHists = () => {};
  const view = mountView(
    (root, model, ctx) => {
      const hists = createHists(model, ctx, store);
      disposeHists = () => hists.dispose();
      return mountDistribution(root, model, ctx, store, hists);
    },
    { _params: paramColumns(records), _param_stats: paramStats(records), _hist: {} },
  );
  type Sent = { kind: string; id: string; tensor?: number; ids?: number[] };
  const sent = () => view.model.sent as Sent[];
  const last = (kind: string) => sent().filter((m) => m.kind === kind).pop() as Sent;
  const reply = (ask: Sent, steps: number[], counts: number[][], range: number[][]) =>
    view.model.emit("msg:custom", { kind: "hist_history_reply", id: ask.id, ok: true, tensor: ask.tensor, bins: 2, steps, counts, range });
  return { ...view, store, sent, last, reply, disposeHists };
}

// The steps of the columns (the trace's x holds the cells' edges; customdata each cell's step).
const plottedX = () => lastPlotData<{ customdata: number[][] }[]>()[0]?.customdata[0];
type Drawn = [{ x: number[]; showscale: boolean; colorbar: { title: { text: string } } }, { xaxis: Record<string, unknown>; yaxis: Record<string, unknown> }];
const lastDrawn = (): Drawn => {
  const calls = plotlyMock.react.mock.calls;
  const call = calls[calls.length - 1] as unknown[];
  return [(call[1] as Drawn[0][])[0] as Drawn[0], call[2] as Drawn[1]];
};
const plottedY = () => lastPlotData<{ y: number[] }[]>()[0]?.y;

afterEach(resetViews);

describe("distribution over time", () => {
  it("draws an integer step axis from the first to the last step, a colour bar and titled axes", async () => {
    const v = mount();
    v.reply(v.last("hist_history"), [-1, 48], [[1, 1], [2, 0]], [[0, 1], [0, 1]]);
    await nextFrame();
    const [trace, layout] = lastDrawn();
    expect(trace.x).toEqual([-1, 23.5, 48]); // edges: the axis ends at the last step
    expect(trace.showscale).toBe(true);
    expect(trace.colorbar.title.text).toBe("share of elements");
    expect(layout.xaxis.range).toEqual([-1, 48]);
    expect(layout.xaxis.tickvals).toEqual([0, 10, 20, 30, 40, 48]);
    expect((layout.xaxis.tickvals as number[]).every(Number.isInteger)).toBe(true);
    expect(layout.xaxis.automargin).toBe(true); // the title is pushed clear of the tick labels
    expect(layout.yaxis.automargin).toBe(true);
    v.cleanup();
  });

  it("asks for the picked tensor's history, watches it, and adds a column per snapshot", async () => {
    const v = mount();
    const ask = v.last("hist_history");
    expect(ask.tensor).toBe(0);
    expect(v.root.children.length).toBe(0); // nothing to draw before the history
    await nextFrame();
    expect(v.last("hist_watch").ids).toEqual([0]);
    v.reply(ask, [0, 5], [[1, 1], [2, 0]], [[0, 1], [0, 1]]);
    await nextFrame();
    const select = v.root.querySelector<HTMLSelectElement>(".mp-dist-select") as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.textContent)).toEqual(["fc1.weight", HOSTILE]);
    expect(v.root.querySelector("img")).toBeNull();
    expect(plottedX()).toEqual([0, 5]);
    expect(plottedY()).toEqual([0.25, 0.75]);
    v.model.set("_hist", histWire([0], [[0, 2]], [[0, 1]], 10, 2));
    await nextFrame();
    expect(plottedX()).toEqual([0, 5, 10]);
    v.model.set("_hist", histWire([0], [[2, 0]], [[0, 1]], 10, 3)); // same step again: replaced
    v.model.set("_hist", histWire([0], [[2, 0]], [[0, 1]], null, 4)); // outside training: no column
    await nextFrame();
    expect(plottedX()).toEqual([0, 5, 10]);

    select.value = "1";
    select.dispatchEvent(new Event("change"));
    const ask1 = v.last("hist_history");
    expect(ask1.tensor).toBe(1);
    v.model.set("_hist", histWire([1], [[1, 1]], [[-1, 1]], 11, 5)); // before the reply: in it
    v.reply(ask, [0], [[9, 9]], [[0, 1]]); // a late answer to the earlier pick: ignored
    v.reply(ask1, [0, 11], [[0, 2], [1, 1]], [[-1, 1], [-1, 1]]);
    await nextFrame();
    expect(plottedX()).toEqual([0, 11]);
    expect(plottedY()).toEqual([-0.5, 0.5]);
    expect(v.last("hist_watch").ids).toEqual([1]);
    v.cleanup();
    expect(v.root.children.length).toBe(0);
    expect(v.store.get().watched.distribution).toEqual([]);
    v.disposeHists();
    expect(v.last("hist_watch").ids).toEqual([]);
  });

  it("draws the columns that arrive before the reply, and extends the reply with the newer ones", async () => {
    // Training in the cell that shows the panel: the kernel answers only when the cell ends.
    const v = mount();
    const ask = v.last("hist_history");
    await nextFrame();
    v.model.set("_hist", histWire([0], [[1, 1]], [[0, 1]], 3, 1));
    await nextFrame();
    expect(plottedX()).toEqual([3]); // live, before any reply
    v.model.set("_hist", histWire([0], [[2, 0]], [[0, 1]], 7, 2));
    await nextFrame();
    expect(plottedX()).toEqual([3, 7]);
    v.reply(ask, [0, 3], [[0, 2], [1, 1]], [[0, 1], [0, 1]]); // the kernel's history up to step 3
    await nextFrame();
    expect(plottedX()).toEqual([0, 3, 7]);
    v.cleanup();
    v.disposeHists();
  });
});
