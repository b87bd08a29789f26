// Distributions over time (TensorBoard's "distributions", inside the notebook): one tensor's
// weight histograms from `_hist_history` as a heatmap of bins x time. Every snapshot was
// binned over its own [lo, hi], so the columns are re-binned onto one shared value axis.
// Pure functions (no DOM, no Plotly).

import { decodeArray } from "../core/decode";
import type { HistHistory } from "../model";

export interface Heatmap {
  x: number[]; // step of each snapshot
  y: number[]; // centre of each value bin (shared by all columns)
  z: number[][]; // z[bin][snapshot]: fraction of the tensor's elements in that bin
}

/** The decoded history, or null while there is none. */
export function decodeHistory(h: HistHistory | Record<string, never> | null | undefined) {
  if (!h || !(h as HistHistory).counts) return null;
  const hh = h as HistHistory;
  const counts = decodeArray(hh.counts);
  const ranges = decodeArray(hh.range);
  const steps = decodeArray(hh.steps);
  const [n = 0, t = 0, bins = 0] = counts.shape;
  return { counts: counts.data, ranges: ranges.data, steps: Array.from(steps.data), n, t, bins };
}

/** The heatmap of tensor `row` (its id in `_params`), or null when the history lacks it. */
export function distributionHeatmap(h: ReturnType<typeof decodeHistory>, row: number): Heatmap | null {
  if (!h || row < 0 || row >= h.n || h.t === 0 || h.bins === 0) return null;
  const { counts, ranges, t: T, bins: B } = h;
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < T; t++) {
    const a = ranges[(row * T + t) * 2] as number;
    const b = ranges[(row * T + t) * 2 + 1] as number;
    if (Number.isFinite(a)) lo = Math.min(lo, a);
    if (Number.isFinite(b)) hi = Math.max(hi, b);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  const width = hi > lo ? (hi - lo) / B : 0;
  const y = Array.from({ length: B }, (_, j) => (width ? lo + (j + 0.5) * width : lo));
  const z = Array.from({ length: B }, () => new Array<number>(T).fill(0));
  for (let t = 0; t < T; t++) {
    const a = ranges[(row * T + t) * 2] as number;
    const b = ranges[(row * T + t) * 2 + 1] as number;
    const base = (row * T + t) * B;
    let total = 0;
    for (let k = 0; k < B; k++) total += counts[base + k] as number;
    if (!total) continue;
    for (let k = 0; k < B; k++) {
      const c = counts[base + k] as number;
      if (!c) continue;
      const centre = b > a ? a + ((k + 0.5) * (b - a)) / B : a;
      const j = width ? Math.min(B - 1, Math.max(0, Math.floor((centre - lo) / width))) : 0;
      const col = z[j] as number[];
      col[t] = (col[t] as number) + c / total;
    }
  }
  return { x: h.steps.slice(0, T), y, z };
}
