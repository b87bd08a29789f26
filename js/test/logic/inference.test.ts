import { describe, expect, it } from "vitest";
import {
  type EvalResultState,
  confusionFigure,
  describeData,
  describeOrigin,
  formatSeconds,
  formatWhen,
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

  it("reads the time a result was made in the kernel's own clock", () => {
    const now = new Date(2024, 4, 1, 9, 0, 0); // 1 May 2024, browser local time
    expect(formatWhen("2024-05-01T14:02:31+08:00", now)).toBe("14:02:31");
    expect(formatWhen("2024-04-30T23:59:59-05:00", now)).toBe("2024-04-30 23:59:59");
    expect(formatWhen(undefined, now)).toBe("");
    expect(formatWhen("yesterday", now)).toBe("");
    expect(describeOrigin(result({ source: "panel.evaluate", finished_at: "2024-05-01T14:02:31+00:00" }), now)).toBe(
      "Result from panel.evaluate(...) at 14:02:31.");
    expect(describeOrigin(result({ source: "run" }), now)).toBe("Result from the Run button.");
    expect(describeOrigin(null, now)).toBe("");
  });

  it("formats the evaluation's duration", () => {
    expect(formatSeconds(0.0042)).toBe("4.2 ms");
    expect(formatSeconds(3.214)).toBe("3.21 s");
    expect(formatSeconds(125)).toBe("2 min 5 s");
    expect(formatSeconds(null)).toBe("—");
  });

  it("lists batch size, time and when once the kernel sends them", () => {
    const items = summaryItems(result({ batch_size: 64, seconds: 0.5, finished_at: "1999-12-31T23:59:59+00:00" }));
    const keys = items.map(([k]) => k);
    expect(keys).toEqual(["accuracy", "loss", "n", "batch", "device", "seconds", "throughput", "mode", "when"]);
    expect(items.find(([k]) => k === "batch")?.[2]).toBe("64");
    expect(items.find(([k]) => k === "when")?.[2]).toBe("1999-12-31 23:59:59");
    expect(summaryItems(result({ batch_size: null })).find(([k]) => k === "batch")?.[2]).toBe("—");
  });

  it("does not say 'No evaluation data yet' once a result is shown", () => {
    expect(describeData(null)).toMatch(/^No evaluation data yet/);
    expect(describeData(null, true)).not.toMatch(/No evaluation data yet/);
    expect(describeData(null, true)).toMatch(/set_eval_data/);
  });
});
