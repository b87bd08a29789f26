// The training view in a DOM: bars keyed by id and updated in place, strings as text, one chart
// per metric, updates coalesced per frame, the distributions picker, and a clean cleanup.
// Plotly is replaced (happy-dom does no SVG layout); the browser suite draws the real thing.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WireArray } from "../../src/core/decode";
import type { ProgressBar } from "../../src/model";
import { mountTraining } from "../../src/views/training";
import { HOSTILE, lastPlotData, mountView, nextFrame, plotlyMock as plotly, resetViews, wireArray } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

function f64(data: number[]): WireArray {
  return wireArray(data, "float64", [data.length]);
}

function bar(over: Partial<ProgressBar>): ProgressBar {
  return { id: 1, level: 0, desc: "epoch", n: 0, total: 10, unit: "it", rate: null, elapsed: 0, remaining: null,
    postfix: "", state: "running", error: "", ...over };
}

const mount = (state: Record<string, unknown>) => mountView(mountTraining, state);

afterEach(resetViews);

describe("training view", () => {
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

  it("flags NaN/Inf and lists diagnostics per layer", () => {
    const { root, cleanup } = mount({
      _diagnostics: {
        nonfinite: { loss: true, first_layer: "fc2", where: "grads" },
        grad_norms: { fc1: 0.5, fc2: null },
        activations: { fc1: { mean: 0.1, std: 1, zero_frac: 0.25 } },
      },
    });
    const flag = root.querySelector<HTMLElement>(".mp-nonfinite");
    expect(flag?.hidden).toBe(false);
    expect(flag?.textContent).toBe("NaN/Inf in a logged metric and in gradients, first at fc2");
    const cells = Array.from(root.querySelectorAll("tr[data-path='fc1'] td")).map((td) => td.textContent);
    expect(cells[0]).toBe("fc1");
    expect(cells[4]).toBe("25.0%");
    cleanup();
  });

  it("hides the NaN/Inf flag while the kernel reports nothing non-finite", () => {
    const { root, cleanup } = mount({ _diagnostics: { nonfinite: { loss: false, first_layer: null, where: null } } });
    const flag = root.querySelector<HTMLElement>(".mp-nonfinite");
    expect(flag?.textContent).toBe("");
    expect(flag?.hidden).toBe(true);
    cleanup();
  });

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
