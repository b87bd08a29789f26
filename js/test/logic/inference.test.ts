import { describe, expect, it } from "vitest";
import {
  type EvalResultState,
  confusionFigure,
  describeData,
  heatmapSpec,
  parseBatchSize,
  perClassRows,
  pickDevice,
  plotlySafe,
  summaryItems,
} from "../../src/logic/inference";

function result(over: Partial<EvalResultState> = {}): EvalResultState {
  // confusion[true][predicted] = [[5, 1], [2, 7]], sent as int32 bytes inside a larger buffer.
  const whole = new Int32Array([99, 5, 1, 2, 7, 99]);
  return {
    n: 15,
    device: "cpu",
    samples_per_s: 12345.6,
    mode: "inference_mode",
    accuracy: 12 / 15,
    topk_accuracy: 1,
    topk_k: 2,
    loss: 0.41234,
    classes: ["cat", "<b>dog</b>"],
    confusion: { view: new DataView(whole.buffer, 4, 16), dtype: "int32", shape: [2, 2] },
    per_class: [
      { label: "cat", precision: 5 / 7, recall: 5 / 6, support: 6 },
      { label: "<b>dog</b>", precision: null, recall: 0, support: 9 },
    ],
    ...over,
  };
}

describe("inference view logic", () => {
  it("summarises accuracy, top-k, loss, device and throughput", () => {
    const items = summaryItems(result({ classes: ["cat", "dog", "cow"] }));
    expect(items).toEqual([
      ["accuracy", "accuracy", "80.00%"],
      ["topk", "top-2 accuracy", "100.00%"],
      ["loss", "loss", "0.4123"],
      ["n", "samples", "15"],
      ["device", "device", "cpu"],
      ["throughput", "throughput", "12.3K samples/s"],
      ["mode", "ran under", "inference_mode"],
    ]);
  });

  it("leaves out top-k when k covers every class (always 100%)", () => {
    expect(summaryItems(result({ topk_k: 2 })).some(([key]) => key === "topk")).toBe(false);
  });

  it("shows a custom metric instead of accuracy, and dashes for what is unknown", () => {
    const items = summaryItems(result({ metric: 0.0123456, metric_name: "mse", accuracy: null, loss: null, samples_per_s: null }));
    expect(items[0]).toEqual(["metric", "mse", "0.01235"]);
    expect(items.find(([k]) => k === "throughput")?.[2]).toBe("—");
    expect(items.some(([k]) => k === "loss")).toBe(false);
  });

  it("decodes the confusion matrix from its window of the buffer", () => {
    const fig = confusionFigure(result());
    expect(fig?.z).toEqual([
      [5, 1],
      [2, 7],
    ]);
    expect(fig?.max).toBe(7);
    expect(fig?.annotate).toBe(true);
    expect(confusionFigure(result({ confusion: null }))).toBeNull();
  });

  it("escapes class names before they reach Plotly's HTML-ish text", () => {
    expect(plotlySafe(`<img src=x onerror="a">&`)).toBe("&#60;img src=x onerror=&#34;a&#34;&#62;&#38;");
    const fig = confusionFigure(result());
    expect(fig?.labels).toEqual(["cat", "&#60;b&#62;dog&#60;/b&#62;"]);
    const spec = heatmapSpec(fig!);
    const layout = spec.layout as { xaxis: { ticktext: string[] }; yaxis: { autorange: string } };
    expect(layout.xaxis.ticktext).toEqual(fig?.labels);
    expect(layout.yaxis.autorange).toBe("reversed"); // true class 0 on top, as printed matrices read
    const trace = spec.data[0] as { type: string; z: number[][]; text: string[][] };
    expect(trace.type).toBe("heatmap");
    expect(trace.text).toEqual([
      ["5", "1"],
      ["2", "7"],
    ]);
  });

  it("uses indices when the labels do not match the matrix", () => {
    const fig = confusionFigure(result({ classes: [] }));
    expect(fig?.labels).toEqual(["0", "1"]);
  });

  it("rejects a confusion matrix that is not square", () => {
    const r = result({ confusion: { view: new Int32Array(6), dtype: "int32", shape: [2, 3] } });
    expect(() => confusionFigure(r)).toThrow(/square/);
  });

  it("formats per-class rows, with a dash for an undefined precision", () => {
    expect(perClassRows(result())).toEqual([
      ["cat", "0.714", "0.833", "6"],
      ["<b>dog</b>", "—", "0.000", "9"], // raw text: the view sets it with textContent
    ]);
    expect(perClassRows(result({ per_class: null }))).toEqual([]);
  });

  it("parses the batch size field", () => {
    expect(parseBatchSize(" 64 ")).toEqual({ value: 64 });
    for (const bad of ["0", "-3", "2.5", "", "abc"]) {
      expect("error" in parseBatchSize(bad)).toBe(true);
    }
  });

  it("keeps the picked device while the kernel lists it", () => {
    expect(pickDevice(["cpu", "cuda:0"], "cuda:0")).toBe("cuda:0");
    expect(pickDevice(["cpu"], "cuda:0")).toBe("cpu");
    expect(pickDevice([], null)).toBeNull();
  });

  it("describes the data the Run button uses, or how to set it", () => {
    expect(describeData(null)).toMatch(/set_eval_data/);
    expect(describeData({ n: 30, x_shape: [30, 4], has_targets: true })).toBe(
      "Evaluation data: 30 samples of shape [30, 4], with targets.",
    );
  });
});
