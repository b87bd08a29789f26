// Metric series: decode with gaps for non-finite values, and thinning that keeps spikes.
import { describe, expect, it } from "vitest";
import { decodeMetrics, thinSeries } from "../../src/logic/metrics";
import { wireArray as wire } from "../helpers";

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
