// Histograms: `_hist` snapshots of the watched tensors and hist_watch replies, read into one row
// per tensor, and a row into bars.
import { describe, expect, it } from "vitest";
import { barsFor, decodeHist, replyRows } from "../../src/logic/histograms";
import type { Histograms } from "../../src/model";
import { histWire, irisRecords, irisState } from "../helpers";

describe("decodeHist / barsFor", () => {
  it("reads one row per listed id and puts bars at bin centres with the bin width", () => {
    const d = decodeHist(histWire([5, 2], [[1, 2, 3, 4], [0, 0, 9, 0]], [[0, 4], [-1, 1]], 30, 7));
    expect([d.version, d.step, d.bins, d.ids]).toEqual([7, 30, 4, [5, 2]]);
    expect(barsFor(d.rows[0])).toEqual({ x: [0.5, 1.5, 2.5, 3.5], y: [1, 2, 3, 4], width: 1, lo: 0, hi: 4, total: 10 });
    expect(barsFor(d.rows[1])?.x).toEqual([-0.75, -0.25, 0.25, 0.75]);
    expect(barsFor(undefined)).toBeNull(); // not received yet
    expect(decodeHist(histWire([], [], [])).rows).toEqual([]);
  });

  it("draws a constant tensor (lo == hi) as one bar holding every value", () => {
    const b = barsFor(decodeHist(histWire([0], [[0, 768, 0]], [[1, 1]])).rows[0]);
    expect(b?.x).toEqual([1]);
    expect(b?.y).toEqual([768]);
    expect(b?.width).toBeGreaterThan(0);
  });

  it("reads the kernel's real buffers (DataViews at an offset): counts sum to numel", () => {
    const d = decodeHist(irisState()._hist as Histograms);
    for (const p of irisRecords()) {
      const b = barsFor(d.rows[d.ids.indexOf(p.id)]);
      expect(b?.total).toBe(p.numel);
      expect(b?.lo).toBeLessThanOrEqual(p.min as number);
      expect(b?.hi).toBeGreaterThanOrEqual(p.max as number);
    }
  });

  it("rejects counts or ranges that do not match the ids", () => {
    const h = histWire([0, 1], [[1], [2]], [[0, 1], [0, 1]]);
    expect(() => decodeHist({ ...h, ids: [0] })).toThrow(/2 rows for 1 ids/);
    expect(() => decodeHist({ ...h, range: histWire([0], [[1]], [[0, 1]]).range })).toThrow(/range holds 1 rows but counts hold 2/);
  });
});

describe("replyRows", () => {
  it("keys a hist_watch reply's rows by tensor id, skipping rows without a range", () => {
    const rows = replyRows({ ids: [3, 1, 4], counts: [[1, 2], [3, 4], [5, 6]], range: [[0, 2], [-1, 1]] });
    expect(Array.from(rows.keys())).toEqual([3, 1]);
    expect(barsFor(rows.get(1))?.y).toEqual([3, 4]);
    expect(rows.get(1)).toMatchObject({ lo: -1, hi: 1 });
  });
});
