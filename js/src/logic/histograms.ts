// Histogram logic without Plotly: turn one row of the decoded `_hist` arrays into bar-chart
// data. views/histograms.ts draws it.

import { type NumericArray, decodeArray } from "../core/decode";
import type { Histograms } from "../model";

export interface DecodedHist {
  version: number;
  bins: number;
  counts: NumericArray; // [n_params * bins]
  range: NumericArray; // [n_params * 2]
  n: number;
}

/** Decode `_hist` (once per version: callers keep the result and compare versions). */
export function decodeHist(h: Histograms): DecodedHist {
  const counts = decodeArray(h.counts);
  const range = decodeArray(h.range);
  const bins = Number(h.bins) || (counts.shape[1] ?? 0);
  const n = counts.shape[0] ?? 0;
  if (range.data.length < 2 * n) {
    throw new RangeError(`_hist: range holds ${range.data.length / 2} rows but counts hold ${n}`);
  }
  return { version: Number(h.version) || 0, bins, counts: counts.data, range: range.data, n };
}

export interface Bars {
  x: number[]; // bin centres
  y: number[]; // counts
  width: number; // bin width (a constant tensor: a nominal width)
  lo: number;
  hi: number;
  total: number;
}

/** Bar data for parameter `id`, or null if the kernel sent no row for it. */
export function barsFor(d: DecodedHist, id: number): Bars | null {
  if (id < 0 || id >= d.n || d.bins <= 0) return null;
  const lo = Number(d.range[2 * id]);
  const hi = Number(d.range[2 * id + 1]);
  const row = d.counts.subarray(id * d.bins, (id + 1) * d.bins);
  let total = 0;
  for (let i = 0; i < row.length; i++) total += Number(row[i]);
  if (!(hi > lo)) {
    // Constant tensor (LayerNorm weight at init): one bar at the value holding every count.
    const width = Math.max(Math.abs(lo) * 0.02, 1e-3);
    return { x: [lo], y: [total], width, lo, hi, total };
  }
  const width = (hi - lo) / d.bins;
  const x: number[] = new Array(d.bins);
  const y: number[] = new Array(d.bins);
  for (let i = 0; i < d.bins; i++) {
    x[i] = lo + (i + 0.5) * width;
    y[i] = Number(row[i]);
  }
  return { x, y, width, lo, hi, total };
}
