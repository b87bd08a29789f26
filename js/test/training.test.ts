// Pure logic of the training view: tqdm-like text, metric decode and thinning, and the
// distributions-over-time re-binning.
import { describe, expect, it } from "vitest";
import type { WireArray } from "../src/core/decode";
import { decodeHistory, distributionHeatmap } from "../src/logic/distributions";
import { decodeMetrics, thinSeries } from "../src/logic/metrics";
import type { ProgressBar } from "../src/model";
import { barText, formatInterval, formatRate, fractionDone, orderBars } from "../src/logic/progress";

function wire(data: number[], dtype: "float64" | "uint32", shape: number[]): WireArray {
  const arr = dtype === "float64" ? new Float64Array(data) : new Uint32Array(data);
  // A window at an offset inside a larger buffer, as ipywidgets hands it over.
  const buf = new ArrayBuffer(arr.byteLength + 16);
  new Uint8Array(buf, 8, arr.byteLength).set(new Uint8Array(arr.buffer));
  return { view: new DataView(buf, 8, arr.byteLength), dtype, shape };
}

function bar(over: Partial<ProgressBar> = {}): ProgressBar {
  return { id: 1, level: 0, desc: "epoch", n: 9, total: 20, unit: "it", rate: 2.5, elapsed: 3.6, remaining: 4.4,
    postfix: "loss=0.31", state: "running", error: "", ...over };
}

describe("tqdm-like text", () => {
  it("formats intervals as tqdm.format_interval", () => {
    expect(formatInterval(0)).toBe("00:00");
    expect(formatInterval(65.9)).toBe("01:05");
    expect(formatInterval(3725)).toBe("1:02:05");
    expect(formatInterval(null)).toBe("?");
    expect(formatInterval(Number.NaN)).toBe("?");
  });

  it("formats rates, inverting below one per second", () => {
    expect(formatRate(12.5, "it")).toBe("12.50it/s");
    expect(formatRate(0.3125, "epoch")).toBe("3.20s/epoch");
    expect(formatRate(null, "it")).toBe("?it/s");
  });

  it("builds the meter parts from a record", () => {
    expect(barText(bar())).toEqual({ desc: "epoch", percent: " 45%", count: "9/20", meta: "[00:03<00:04, 2.50it/s, loss=0.31]" });
    // tqdm's prefix arrives with ": " from set_description; no total: count with unit, no ETA.
    expect(barText(bar({ desc: "train: ", total: null, n: 7, unit: "batch", postfix: "" }))).toEqual({
      desc: "train", percent: "", count: "7batch", meta: "[00:03, 2.50batch/s]" });
    // A finished bar shows no time left, whatever the last estimate said.
    expect(barText(bar({ n: 20, state: "done", remaining: 12 })).meta).toBe("[00:03<00:00, 2.50it/s, loss=0.31]");
  });

  it("clamps the fraction and orders bars by level, then age", () => {
    expect(fractionDone({ n: 30, total: 20 })).toBe(1);
    expect(fractionDone({ n: 3, total: null })).toBeNull();
    expect(fractionDone({ n: 3, total: 0 })).toBeNull();
    const ordered = orderBars([bar({ id: 5, level: 1 }), bar({ id: 2, level: 0 }), bar({ id: 3, level: 1 })]);
    expect(ordered.map((b) => b.id)).toEqual([2, 3, 5]);
    expect(orderBars(null)).toEqual([]);
  });
});

describe("metrics", () => {
  it("decodes series with gaps for non-finite values, step-level first", () => {
    const series = decodeMetrics({
      "val (epoch)": { step: wire([0, 1], "float64", [2]), value: wire([0.5, 0.4], "float64", [2]), epoch_level: true },
      loss: { step: wire([0, 1, 2], "float64", [3]), value: wire([1, Number.NaN, Infinity], "float64", [3]), epoch_level: false },
    });
    expect(series.map((s) => s.name)).toEqual(["loss", "val (epoch)"]);
    expect(series[0]?.y).toEqual([1, null, null]);
    expect(series[1]?.epochLevel).toBe(true);
    expect(decodeMetrics(null)).toEqual([]);
  });

  it("rejects series whose steps and values disagree", () => {
    expect(() => decodeMetrics({ loss: { step: wire([0, 1], "float64", [2]), value: wire([1], "float64", [1]), epoch_level: false } }))
      .toThrow(/2 steps but 1 values/);
  });

  it("thins long series keeping extremes, ends and order", () => {
    const n = 10_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y: (number | null)[] = x.map((i) => Math.sin(i / 100));
    y[4321] = 50; // a spike must survive
    const t = thinSeries(x, y, 500);
    expect(t.x.length).toBeLessThanOrEqual(500);
    expect(t.x[0]).toBe(0);
    expect(t.x[t.x.length - 1]).toBe(n - 1);
    expect(t.y).toContain(50);
    expect(t.x.every((v, i) => i === 0 || v > (t.x[i - 1] as number))).toBe(true);
    const short = thinSeries([1, 2], [3, 4], 500);
    expect(short).toEqual({ x: [1, 2], y: [3, 4] });
  });
});

describe("distributions over time", () => {
  // Two tensors, three snapshots, four bins; tensor 1 widens from [0, 4] to [-4, 4].
  const history = {
    steps: wire([0, 10, 20], "float64", [3]),
    counts: wire([
      1, 1, 1, 1, 0, 0, 0, 4, 4, 0, 0, 0, // tensor 0 (not inspected)
      0, 2, 2, 0, 1, 1, 1, 1, 4, 0, 0, 4, // tensor 1
    ], "uint32", [2, 3, 4]),
    range: wire([0, 1, 0, 1, 0, 1, 0, 4, 0, 4, -4, 4], "float64", [2, 3, 2]),
  };

  it("re-bins every snapshot onto one shared value axis as fractions", () => {
    const heat = distributionHeatmap(decodeHistory(history), 1);
    expect(heat?.x).toEqual([0, 10, 20]);
    expect(heat?.y).toEqual([-3, -1, 1, 3]); // shared range [-4, 4], 4 bins
    // z[bin][snapshot]; snapshot 0 had bins centred at 0.5..3.5 -> shared bins 2 and 3.
    expect(heat?.z.map((row) => row[0])).toEqual([0, 0, 0.5, 0.5]);
    expect(heat?.z.map((row) => row[2])).toEqual([0.5, 0, 0, 0.5]);
    for (let t = 0; t < 3; t++) expect(heat?.z.reduce((s, row) => s + (row[t] as number), 0)).toBeCloseTo(1);
  });

  it("handles constant tensors and missing rows", () => {
    const constant = {
      steps: wire([0], "float64", [1]), counts: wire([0, 0, 5], "uint32", [1, 1, 3]), range: wire([2, 2], "float64", [1, 1, 2]),
    };
    expect(distributionHeatmap(decodeHistory(constant), 0)).toEqual({ x: [0], y: [2, 2, 2], z: [[1], [0], [0]] });
    expect(distributionHeatmap(decodeHistory(constant), 3)).toBeNull();
    expect(decodeHistory({})).toBeNull();
  });
});
