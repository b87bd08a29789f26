// Metric series for views/metricCharts.ts: decode the kernel's `_metrics` trait once, and thin
// long series for drawing. Pure functions (no DOM, no Plotly).

import { decodeArray } from "../core/decode";
import type { MetricSeries } from "../model";

export interface Series {
  name: string;
  x: number[];
  y: (number | null)[]; // NaN/Inf -> null: Plotly leaves a gap instead of failing to scale
  epochLevel: boolean;
}

/** Decode `_metrics` into series: step-level first, then epoch-level, each by name. */
export function decodeMetrics(metrics: Record<string, MetricSeries> | null | undefined): Series[] {
  const out: Series[] = [];
  for (const [name, s] of Object.entries(metrics ?? {})) {
    if (!s || !s.step || !s.value) continue;
    const x = Array.from(decodeArray(s.step).data);
    const y = Array.from(decodeArray(s.value).data, (v) => (Number.isFinite(v) ? v : null));
    if (x.length !== y.length) throw new RangeError(`metric ${name}: ${x.length} steps but ${y.length} values`);
    out.push({ name, x, y, epochLevel: Boolean(s.epoch_level) });
  }
  return out.sort((a, b) => Number(a.epochLevel) - Number(b.epochLevel) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * At most `maxPoints` points for drawing, keeping the shape: the series is cut into buckets
 * and each bucket keeps its minimum and maximum (in x order), so spikes survive; the first and
 * last points are always kept. Series already short enough are returned as they are.
 */
export function thinSeries(x: number[], y: (number | null)[], maxPoints: number): { x: number[]; y: (number | null)[] } {
  const n = x.length;
  if (n <= maxPoints || maxPoints < 4) return { x, y };
  const buckets = Math.floor((maxPoints - 2) / 2);
  const inner = n - 2;
  const keep: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const v = y[i];
      if (v === null || v === undefined) continue;
      if (lo < 0 || v < (y[lo] as number)) lo = i;
      if (hi < 0 || v > (y[hi] as number)) hi = i;
    }
    if (lo < 0) {
      keep.push(start); // an all-gap bucket keeps one gap so the line still breaks there
      continue;
    }
    if (lo === hi) keep.push(lo);
    else keep.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  keep.push(n - 1);
  return { x: keep.map((i) => x[i] as number), y: keep.map((i) => y[i] ?? null) };
}
