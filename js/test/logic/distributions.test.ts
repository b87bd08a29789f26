// Distributions over time: one tensor's snapshots re-binned onto a shared value axis.
import { describe, expect, it } from "vitest";
import { decodeHistory, distributionHeatmap } from "../../src/logic/distributions";
import { wireArray as wire } from "../helpers";

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
