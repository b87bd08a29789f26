// Distributions over time (TensorBoard's "distributions", inside the notebook): one tensor's
// histograms over training as a heatmap of bins x steps. The history comes whole once (the
// hist_history reply), then grows by one column per `_hist` snapshot. Every column was binned
// over its own [lo, hi], so the heatmap re-bins them onto one shared value axis.
// Pure functions (no DOM, no Plotly).

import type { HistHistoryReply } from "../model";

/** One tensor's snapshots, oldest first: counts[t] has `bins` counts over range[t] = [lo, hi]. */
export interface TensorHistory {
  tensor: number;
  steps: number[];
  counts: number[][];
  range: number[][];
}

export interface Heatmap {
  x: number[]; // step of each snapshot
  y: number[]; // centre of each value bin (shared by all columns)
  z: number[][]; // z[bin][snapshot]: fraction of the tensor's elements in that bin
}

/** Columns kept before the older half is thinned: the view appends for as long as training runs. */
export const MAX_COLUMNS = 128;

/** The history in a hist_history reply; null when it failed or does not line up. */
export function historyFromReply(reply: HistHistoryReply): TensorHistory | null {
  if (!reply.ok) return null;
  const steps = (reply.steps ?? []).map(Number);
  const counts = reply.counts ?? [];
  const range = reply.range ?? [];
  if (counts.length !== steps.length || range.length !== steps.length) return null;
  return { tensor: Number(reply.tensor), steps, counts: counts.map((c) => c.map(Number)), range: range.map((r) => r.map(Number)) };
}

/**
 * Add the snapshot of `step`: a new last column, or the last one replaced when it has the same
 * step (the kernel re-sent the step's histogram). Past `maxColumns`, every other column of the
 * older half goes, as the kernel thins its own history. Mutates and returns `h`.
 */
export function appendColumn(
  h: TensorHistory,
  step: number,
  counts: ArrayLike<number>,
  range: readonly [number, number],
  maxColumns = MAX_COLUMNS,
): TensorHistory {
  const col = Array.from(counts, Number);
  const last = h.steps.length - 1;
  if (last >= 0 && h.steps[last] === step) {
    h.counts[last] = col;
    h.range[last] = [range[0], range[1]];
    return h;
  }
  h.steps.push(step);
  h.counts.push(col);
  h.range.push([range[0], range[1]]);
  if (h.steps.length > maxColumns) {
    const half = Math.floor(h.steps.length / 2);
    const keep = (_: unknown, i: number) => i >= half || i % 2 === 0;
    h.steps = h.steps.filter(keep);
    h.counts = h.counts.filter(keep);
    h.range = h.range.filter(keep);
  }
  return h;
}

/** The heatmap of a tensor's history, or null while it has no usable column. */
export function distributionHeatmap(h: TensorHistory | null): Heatmap | null {
  if (!h) return null;
  const T = h.steps.length;
  const B = h.counts.reduce((m, c) => Math.max(m, c.length), 0);
  if (T === 0 || B === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < T; t++) {
    const [a = Number.NaN, b = Number.NaN] = h.range[t] ?? [];
    if (Number.isFinite(a)) lo = Math.min(lo, a);
    if (Number.isFinite(b)) hi = Math.max(hi, b);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  const width = hi > lo ? (hi - lo) / B : 0;
  const y = Array.from({ length: B }, (_, j) => (width ? lo + (j + 0.5) * width : lo));
  const z = Array.from({ length: B }, () => new Array<number>(T).fill(0));
  for (let t = 0; t < T; t++) {
    const [a = Number.NaN, b = Number.NaN] = h.range[t] ?? [];
    const counts = h.counts[t] ?? [];
    const bins = counts.length;
    let total = 0;
    for (let k = 0; k < bins; k++) total += counts[k] as number;
    if (!total) continue;
    for (let k = 0; k < bins; k++) {
      const c = counts[k] as number;
      if (!c) continue;
      const centre = b > a ? a + ((k + 0.5) * (b - a)) / bins : a;
      const j = width ? Math.min(B - 1, Math.max(0, Math.floor((centre - lo) / width))) : 0;
      const col = z[j] as number[];
      col[t] = (col[t] as number) + c / total;
    }
  }
  return { x: h.steps.slice(), y, z };
}
