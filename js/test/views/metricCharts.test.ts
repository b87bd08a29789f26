// The metric charts in a DOM: each `_metrics` message appends to the charts, bursts coalesce per
// frame, a missed message asks for the history, names stay text.
import { afterEach, describe, expect, it, vi } from "vitest";
import { mountMetricCharts } from "../../src/views/metricCharts";
import { HOSTILE, metricsDelta, mountView, nextFrame, plotlyMock as plotly, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

const mount = (state: Record<string, unknown>) => mountView(mountMetricCharts, state);

/** The x values of the last line drawn for `name`. */
function lastX(name: string): number[] | undefined {
  const calls = plotly.react.mock.calls.filter((c) => (c[0] as HTMLElement).dataset.name === name);
  return ((calls[calls.length - 1] as unknown[] | undefined)?.[1] as { x: number[] }[] | undefined)?.[0]?.x;
}

afterEach(resetViews);

describe("metric charts", () => {
  it("appends each message's points, coalescing bursts into one redraw per frame", async () => {
    const { model, root, cleanup } = mount({ _metrics: metricsDelta(0, 1, { loss: [[0, 1], [2, 1]] }) });
    expect(plotly.react).toHaveBeenCalledTimes(1);
    for (let i = 1; i <= 5; i++) {
      model.set("_metrics", metricsDelta(0, i + 1, { loss: [[1 + i], [1 / i]], ...(i === 1 ? { [HOSTILE]: [[0], [0.9], true] } : {}) }));
    }
    await nextFrame();
    expect(plotly.react).toHaveBeenCalledTimes(3); // first draw + one per chart in the frame
    const names = Array.from(root.querySelectorAll<HTMLElement>(".mp-metric-plot")).map((p) => p.dataset.name);
    expect(names).toEqual(["loss", HOSTILE]);
    expect(lastX("loss")).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Each draw hands Plotly new arrays: react() re-ranges only data it has not seen before.
    const calls = (plotly.react as unknown as { mock: { calls: unknown[][] } }).mock.calls;
    const xs = calls.map((c) => (c[1] as { x: number[] }[])[0]?.x);
    expect(new Set(xs).size).toBe(xs.length);
    expect(root.querySelector("img")).toBeNull();
    expect(model.sent).toEqual([]); // no message missed: no history asked for
    model.set("_metrics", metricsDelta(1, 1, { acc: [[0], [0.5]] })); // the user cleared the history
    await nextFrame();
    expect(Array.from(root.querySelectorAll<HTMLElement>(".mp-metric-plot")).map((p) => p.dataset.name)).toEqual(["acc"]);
    cleanup();
    expect(plotly.purge).toHaveBeenCalledTimes(3);
  });

  it("asks for the history when mounted late or after a missed message, then appends from it", async () => {
    const { model, root, cleanup } = mount({ _metrics: metricsDelta(0, 7, { loss: [[70], [0.1]] }) });
    expect(root.querySelectorAll(".mp-metric")).toHaveLength(0);
    const ask = model.sent[0] as { kind: string; id: string };
    expect(ask.kind).toBe("metrics_history");
    model.set("_metrics", metricsDelta(0, 8, { loss: [[80], [0.1]] })); // covered by the reply on its way
    expect(model.sent).toHaveLength(1);
    model.emit("msg:custom", {
      kind: "metrics_history_reply", id: ask.id, ok: true, reset: 0, seq: 8,
      series: { loss: { step: [0, 70, 80], value: [1, 0.1, 0.1], epoch_level: false } },
    });
    await nextFrame();
    expect(lastX("loss")).toEqual([0, 70, 80]);
    model.set("_metrics", metricsDelta(0, 9, { loss: [[90], [0.05]] }));
    await nextFrame();
    expect(lastX("loss")).toEqual([0, 70, 80, 90]);
    model.set("_metrics", metricsDelta(0, 11, { loss: [[110], [0.05]] })); // seq 10 never came
    expect((model.sent[1] as { kind: string }).kind).toBe("metrics_history");
    cleanup();
  });

  it("keeps what arrives while the history is on its way (a running cell delays the reply)", async () => {
    const { model, cleanup } = mount({ _metrics: metricsDelta(0, 3, { loss: [[3], [0.3]] }) });
    const ask = model.sent[0] as { kind: string; id: string };
    // The kernel answers only after the cell that trains: these arrive first.
    model.set("_metrics", metricsDelta(0, 4, { loss: [[4], [0.4]] }));
    model.set("_metrics", metricsDelta(0, 5, { loss: [[5], [0.5]] }));
    model.emit("msg:custom", {
      kind: "metrics_history_reply", id: ask.id, ok: true, reset: 0, seq: 4,
      series: { loss: { step: [0, 1, 2, 3, 4], value: [0, 0.1, 0.2, 0.3, 0.4], epoch_level: false } },
    });
    await nextFrame();
    expect(lastX("loss")).toEqual([0, 1, 2, 3, 4, 5]); // 4 came with the reply, 5 was kept
    expect(model.sent).toHaveLength(1);
    cleanup();
  });

  it("gives a constant series a round range around its value, a varying one Plotly's autorange", async () => {
    const steps = Array.from({ length: 20 }, (_, i) => i);
    const { cleanup } = mount({ _metrics: metricsDelta(0, 1, { lr: [steps, steps.map(() => 1e4)], loss: [steps, steps.map((i) => 1 / (i + 1))] }) });
    const yaxis = (name: string) => {
      const calls = plotly.react.mock.calls.filter((c) => (c[0] as HTMLElement).dataset.name === name);
      return (calls[calls.length - 1]?.[2] as { yaxis: { range?: number[]; autorange?: boolean } }).yaxis;
    };
    expect(yaxis("lr")).toMatchObject({ range: [0, 20000], autorange: false });
    expect(yaxis("loss").range).toBeUndefined();
    cleanup();
  });
});
