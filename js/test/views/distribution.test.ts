// The distributions-over-time heatmap in a DOM: the tensor picker, names as text, a clean cleanup.
import { afterEach, describe, expect, it, vi } from "vitest";
import { mountDistribution } from "../../src/views/distribution";
import { HOSTILE, f64, lastPlotData, mountView, nextFrame, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

const mount = (state: Record<string, unknown>) => mountView(mountDistribution, state);

afterEach(resetViews);

describe("distribution over time", () => {
  it("draws the chosen tensor's distribution over time and follows the picker", async () => {
    const hist = {
      steps: f64([0, 5]),
      counts: { view: new Uint32Array([1, 1, 2, 0, 0, 2, 1, 1]), dtype: "uint32", shape: [2, 2, 2] },
      range: { view: new Float64Array([0, 1, 0, 1, -1, 1, -2, 2]), dtype: "float64", shape: [2, 2, 2] },
    };
    const { root, cleanup } = mount({ _hist_history: hist, _params: [{ names: ["fc1.weight"] }, { names: [HOSTILE] }] });
    const select = root.querySelector<HTMLSelectElement>(".mp-dist-select");
    expect(Array.from(select?.options ?? []).map((o) => o.textContent)).toEqual(["fc1.weight", HOSTILE]);
    expect(lastPlotData<{ y: number[] }[]>()[0]?.y).toEqual([0.25, 0.75]);
    if (select) {
      select.value = "1";
      select.dispatchEvent(new Event("change"));
    }
    await nextFrame();
    expect(lastPlotData<{ y: number[] }[]>()[0]?.y).toEqual([-1, 1]);
    cleanup();
    expect(root.children.length).toBe(0);
  });
});
