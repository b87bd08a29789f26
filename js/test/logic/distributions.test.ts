// Distributions over time: one tensor's history from the hist_history reply, a column per
// later snapshot, re-binned onto a shared value axis.
import { describe, expect, it } from "vitest";
import { type TensorHistory, appendColumn, distributionHeatmap, historyFromReply, stepAxis } from "../../src/logic/distributions";
import type { HistHistoryReply } from "../../src/model";

function reply(over: Partial<HistHistoryReply> = {}): HistHistoryReply {
  // Three snapshots, four bins; the tensor widens from [0, 4] to [-4, 4].
  return {
    kind: "hist_history_reply", id: "r1", ok: true, tensor: 1, bins: 4,
    steps: [0, 10, 20],
    counts: [[0, 2, 2, 0], [1, 1, 1, 1], [4, 0, 0, 4]],
    range: [[0, 4], [0, 4], [-4, 4]],
    ...over,
  };
}

describe("distributions over time", () => {
  it("re-bins every snapshot onto one shared value axis as fractions", () => {
    const heat = distributionHeatmap(historyFromReply(reply()));
    expect(heat?.x).toEqual([0, 10, 20]);
    expect(heat?.y).toEqual([-3, -1, 1, 3]); // shared range [-4, 4], 4 bins
    // z[bin][snapshot]; snapshot 0 had bins centred at 0.5..3.5 -> shared bins 2 and 3.
    expect(heat?.z.map((row) => row[0])).toEqual([0, 0, 0.5, 0.5]);
    expect(heat?.z.map((row) => row[2])).toEqual([0.5, 0, 0, 0.5]);
    for (let t = 0; t < 3; t++) expect(heat?.z.reduce((s, row) => s + (row[t] as number), 0)).toBeCloseTo(1);
  });

  it("handles constant tensors, empty histories and failed or misaligned replies", () => {
    const constant = historyFromReply(reply({ steps: [0], counts: [[0, 0, 5]], range: [[2, 2]] }));
    expect(distributionHeatmap(constant)).toEqual({ x: [0], y: [2, 2, 2], z: [[1], [0], [0]] });
    expect(distributionHeatmap(historyFromReply(reply({ steps: [], counts: [], range: [] })))).toBeNull();
    expect(historyFromReply(reply({ ok: false, error: "no such tensor" }))).toBeNull();
    expect(historyFromReply(reply({ steps: [0, 1] }))).toBeNull();
    expect(distributionHeatmap(null)).toBeNull();
  });

  it("appends a column per new step and replaces the last one for the same step", () => {
    const h = historyFromReply(reply()) as TensorHistory;
    appendColumn(h, 30, new Uint32Array([0, 8, 0, 0]), [-4, 4]);
    expect(h.steps).toEqual([0, 10, 20, 30]);
    expect(h.counts[3]).toEqual([0, 8, 0, 0]);
    appendColumn(h, 30, [0, 0, 8, 0], [-4, 4]);
    expect(h.steps).toEqual([0, 10, 20, 30]);
    expect(h.counts[3]).toEqual([0, 0, 8, 0]);
    expect(distributionHeatmap(h)?.z.map((row) => row[3])).toEqual([0, 0, 1, 0]);
    // An empty history (no snapshot before training) grows from nothing.
    const empty = historyFromReply(reply({ steps: [], counts: [], range: [] })) as TensorHistory;
    expect(distributionHeatmap(appendColumn(empty, 5, [1, 1], [0, 1]))?.x).toEqual([5]);
  });

  it("thins the older half past the column limit, keeping the newest columns exact", () => {
    const h: TensorHistory = { tensor: 0, steps: [], counts: [], range: [] };
    for (let s = 0; s < 9; s++) appendColumn(h, s, [1], [0, 1], 8);
    expect(h.steps).toEqual([0, 2, 4, 5, 6, 7, 8]);
    expect(h.counts).toHaveLength(7);
    expect(h.range).toHaveLength(7);
  });
});

describe("step axis", () => {
  it("runs from the first step to the last with integer ticks ending on the last step", () => {
    const a = stepAxis([-1, 48]);
    expect(a.edges).toEqual([-1, 23.5, 48]);
    expect(a.range).toEqual([-1, 48]);
    expect(a.ticks).toEqual([0, 10, 20, 30, 40, 48]);
    expect(stepAxis([-1, 0, 1, 2, 3, 4]).ticks).toEqual([-1, 0, 1, 2, 3, 4]);
    expect(stepAxis([-1, 0, 1, 2, 3, 4]).edges).toEqual([-1, -0.5, 0.5, 1.5, 2.5, 3.5, 4]);
    expect(stepAxis([0, 200, 480]).ticks).toEqual([0, 100, 200, 300, 400, 480]);
    // A tick closer than half a gap to the last step gives way to it.
    expect(stepAxis([0, 41]).ticks).toEqual([0, 10, 20, 30, 41]);
    for (const steps of [[3, 7], [0, 1e6], [12, 13, 5000], [-1, 2.5]]) {
      const { ticks, range } = stepAxis(steps);
      expect(ticks.every(Number.isInteger)).toBe(true);
      expect(ticks.length).toBeLessThanOrEqual(6);
      expect(Math.min(...ticks)).toBeGreaterThanOrEqual(range[0]);
      expect(Math.max(...ticks)).toBeLessThanOrEqual(range[1]);
      expect(range).toEqual([steps[0], steps[steps.length - 1]]);
    }
  });

  it("gives one snapshot one integer tick and one step of width (47.6-48.4 is gone)", () => {
    expect(stepAxis([48])).toEqual({ edges: [47.5, 48.5], range: [47.5, 48.5], ticks: [48] });
    expect(stepAxis([])).toEqual({ edges: [], range: [0, 1], ticks: [] });
  });
});
