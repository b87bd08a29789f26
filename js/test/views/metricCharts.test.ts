// The metric charts in a DOM: one chart per series, bursts coalesced per frame, names as text.
import { afterEach, describe, expect, it, vi } from "vitest";
import { mountMetricCharts } from "../../src/views/metricCharts";
import { HOSTILE, f64, mountView, nextFrame, plotlyMock as plotly, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

const mount = (state: Record<string, unknown>) => mountView(mountMetricCharts, state);

afterEach(resetViews);

describe("metric charts", () => {
  it("draws one chart per metric, coalescing bursts into one redraw per frame", async () => {
    const { model, root, cleanup } = mount({
      _metrics: { loss: { step: f64([0, 1]), value: f64([2, 1]), epoch_level: false } },
    });
    expect(plotly.react).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 5; i++) {
      model.set("_metrics", {
        loss: { step: f64([0, 1, 2 + i]), value: f64([2, 1, 0.5]), epoch_level: false },
        [HOSTILE]: { step: f64([0]), value: f64([0.9]), epoch_level: true },
      });
    }
    await nextFrame();
    expect(plotly.react).toHaveBeenCalledTimes(3); // first draw + one per chart in the frame
    const names = Array.from(root.querySelectorAll<HTMLElement>(".mp-metric-plot")).map((p) => p.dataset.name);
    expect(names).toEqual(["loss", HOSTILE]);
    const lastLoss = plotly.react.mock.calls.find((c) => (c[0] as HTMLElement).dataset.name === "loss" && c !== plotly.react.mock.calls[0]);
    expect(((lastLoss as unknown[] | undefined)?.[1] as { x: number[] }[])[0]?.x).toEqual([0, 1, 6]);
    expect(root.querySelector("img")).toBeNull();
    cleanup();
    expect(plotly.purge).toHaveBeenCalledTimes(2);
  });
});
