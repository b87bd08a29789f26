import { describe, expect, it } from "vitest";
import { barsFor, decodeHist } from "../../src/logic/histograms";
import type { Histograms } from "../../src/model";
import { irisState } from "../helpers";

function hist(counts: number[][], range: number[][], version = 1): Histograms {
  const bins = counts[0]?.length ?? 0;
  return {
    bins,
    counts: { view: new Uint32Array(counts.flat()), dtype: "uint32", shape: [counts.length, bins] },
    range: { view: new Float64Array(range.flat()), dtype: "float64", shape: [range.length, 2] },
    version,
  };
}

describe("decodeHist / barsFor", () => {
  it("puts bars at bin centres with the bin width", () => {
    const d = decodeHist(hist([[1, 2, 3, 4], [0, 0, 9, 0]], [[0, 4], [-1, 1]], 7));
    expect(d.version).toBe(7);
    expect(barsFor(d, 0)).toEqual({ x: [0.5, 1.5, 2.5, 3.5], y: [1, 2, 3, 4], width: 1, lo: 0, hi: 4, total: 10 });
    expect(barsFor(d, 1)?.x).toEqual([-0.75, -0.25, 0.25, 0.75]);
    expect(barsFor(d, 2)).toBeNull();
  });

  it("draws a constant tensor (lo == hi) as one bar holding every value", () => {
    const d = decodeHist(hist([[0, 768, 0]], [[1, 1]]));
    const b = barsFor(d, 0);
    expect(b?.x).toEqual([1]);
    expect(b?.y).toEqual([768]);
    expect(b?.width).toBeGreaterThan(0);
  });

  it("reads the kernel's real buffers (DataViews at an offset): counts sum to numel", () => {
    const state = irisState();
    const d = decodeHist(state._hist as Histograms);
    const params = state._params as Array<{ id: number; numel: number; min: number; max: number }>;
    for (const p of params) {
      const b = barsFor(d, p.id);
      expect(b?.total).toBe(p.numel);
      expect(b?.lo).toBeLessThanOrEqual(p.min);
      expect(b?.hi).toBeGreaterThanOrEqual(p.max);
    }
  });

  it("rejects a range array shorter than the counts", () => {
    const h = hist([[1], [2]], [[0, 1]]);
    expect(() => decodeHist(h)).toThrow(/range holds 1 rows but counts hold 2/);
  });
});
