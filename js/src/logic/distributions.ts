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

/** The heatmap's step axis: cell edges, the axis range and its (integer) tick values. */
export interface StepAxis {
  edges: number[]; // T + 1 edges: column t spans edges[t]..edges[t + 1] around steps[t]
  range: [number, number];
  ticks: number[];
}

/**
 * The step axis of `steps` (increasing): it runs from the first step to the last, not half a
 * column past them (each column's edges are the midpoints to its neighbours, the outer two
 * end at the first and last step), with at most `maxTicks` integer ticks at 1, 2 or 5 x 10^k
 * apart that always end on the last step. A single column is one step wide around it.
 */
export function stepAxis(steps: readonly number[], maxTicks = 6): StepAxis {
  const T = steps.length;
  if (!T) return { edges: [], range: [0, 1], ticks: [] };
  const first = steps[0] as number;
  const last = steps[T - 1] as number;
  if (T === 1) return { edges: [first - 0.5, first + 0.5], range: [first - 0.5, first + 0.5], ticks: [Math.round(first)] };
  const edges = [first];
  for (let t = 1; t < T; t++) edges.push(((steps[t - 1] as number) + (steps[t] as number)) / 2);
  edges.push(last);
  const end = Math.floor(last);
  const raw = Math.max(1, (end - first) / Math.max(1, maxTicks - 1));
  const mag = 10 ** Math.floor(Math.log10(raw));
  const gap = [1, 2, 5, 10].map((m) => m * mag).find((d) => d >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(first / gap) * gap || 0; v <= end - gap / 2; v += gap) ticks.push(v); // || 0: not -0
  ticks.push(end);
  return { edges, range: [first, last], ticks };
}
