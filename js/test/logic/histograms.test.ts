// Histograms: `_hist` snapshots of the watched tensors and hist_watch replies, read into one row
// per tensor, and a row into bars.
import { describe, expect, it } from "vitest";
import { barScale, barsFor, decodeHist, replyRows } from "../../src/logic/histograms";
import type { Histograms } from "../../src/model";
import { histWire, irisRecords, irisState } from "../helpers";

describe("decodeHist / barsFor", () => {
  it("reads one row per listed id and puts bars at bin centres with the bin width", () => {
    const d = decodeHist(histWire([5, 2], [[1, 2, 3, 4], [0, 0, 9, 0]], [[0, 4], [-1, 1]], 30, 7));
    expect([d.version, d.step, d.bins, d.ids]).toEqual([7, 30, 4, [5, 2]]);
    expect(barsFor(d.rows[0])).toEqual({ x: [0.5, 1.5, 2.5, 3.5], y: [1, 2, 3, 4], width: 1, lo: 0, hi: 4, total: 10, scale: "counts" });
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

describe("barsFor a sampled tensor", () => {
  // GPT-2's tied wte/lm_head weight: 50257 x 768 = 38,597,376 values, binned from a strided
  // sample of 65,536 (stats/histograms.py); each sampled value stands for 38,597,376 / 65,536.
  const numel = 50257 * 768;
  const sample = [16384, 32768, 16384]; // 65,536 values in all
  const row = { counts: sample, lo: -1, hi: 1 };

  it("scales the sample's counts to the whole tensor: the bars sum to numel", () => {
    const b = barsFor(row, { sampled: true, numel, note: "" });
    expect(b?.scale).toBe("estimated");
    expect(b?.total).toBe(65536);
    expect(b?.y).toEqual([numel / 4, numel / 2, numel / 4]);
    expect(b?.y.reduce((a, c) => a + c, 0)).toBe(38597376);
  });

  it("scales a constant sampled tensor's one bar to numel too", () => {
    const b = barsFor({ counts: [0, 65536], lo: 2, hi: 2 }, { sampled: true, numel: 1_000_000, note: "" });
    expect(b?.y).toEqual([1_000_000]);
  });

  it("shows a sampled sparse tensor's bars as shares: its stored values are not numel", () => {
    const b = barsFor(row, { sampled: true, numel, note: "sparse (sparse_coo): statistics of the 70000 stored values" });
    expect(b?.scale).toBe("shares");
    expect(b?.y).toEqual([0.25, 0.5, 0.25]);
  });

  it("leaves exact counts (not sampled, or no record yet) as they are", () => {
    expect(barsFor(row, { sampled: false, numel: 65536, note: "" })?.y).toEqual(sample);
    expect(barsFor(row)?.scale).toBe("counts");
    expect(barScale({ sampled: true, note: undefined })).toBe("estimated");
  });
});
