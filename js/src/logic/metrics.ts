// Metric series for views/metricCharts.ts: decode each `_metrics` message (the points new since
// the previous one), append them to the series kept so far, tell when a message was missed (so
// the whole history must be asked for), and thin long series. Pure functions (no DOM, no Plotly).

import { decodeArray } from "../core/decode";
import type { MetricSeries, MetricsDelta, MetricsHistoryReply } from "../model";

export interface Series {
  name: string;
  x: number[];
  y: (number | null)[]; // NaN/Inf -> null: Plotly leaves a gap instead of failing to scale
  epochLevel: boolean;
}

/** Decode the series of one `_metrics` message (or any name -> wire series map): step-level first, then epoch-level, each by name. */
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

/** The series kept so far, and which message they run up to. */
export interface Accumulated {
  reset: number; // -1: nothing received yet
  seq: number; // last message applied; -1: none since `reset`
  series: Map<string, Series>;
}

export function emptyAccumulated(): Accumulated {
  return { reset: -1, seq: -1, series: new Map() };
}

/** Points kept per series; past it, the older points are thinned (the newest stay exact). */
export const MAX_KEPT = 2000;

/**
 * Apply one `_metrics` message to `acc` (mutated):
 * - "appended": its points were added (a new `reset` drops everything before);
 * - "stale": it is one already applied (a history reply covered it), nothing changes;
 * - "gap": a message was missed (mounted late, page reloaded): ask for the whole history.
 */
export function applyDelta(acc: Accumulated, delta: MetricsDelta, maxKept = MAX_KEPT): "appended" | "stale" | "gap" {
  const reset = Number(delta.reset);
  const seq = Number(delta.seq);
  if (reset !== acc.reset) {
    // The kernel numbers the messages of each reset from 1: message 1 needs nothing before it.
    acc.reset = reset;
    acc.seq = 0;
    acc.series.clear();
  }
  if (seq <= acc.seq) return "stale";
  if (seq !== acc.seq + 1) return "gap";
  for (const s of decodeMetrics(delta.series)) {
    const kept = acc.series.get(s.name);
    if (!kept) {
      acc.series.set(s.name, boundSeries(s, maxKept));
      continue;
    }
    kept.epochLevel = s.epochLevel;
    for (let i = 0; i < s.x.length; i++) {
      kept.x.push(s.x[i] as number);
      kept.y.push(s.y[i] ?? null);
    }
    acc.series.set(s.name, boundSeries(kept, maxKept));
  }
  acc.seq = seq;
  return "appended";
}

/** Replace everything in `acc` by a metrics_history reply, to append from its `seq` on. */
export function applyHistory(acc: Accumulated, reply: MetricsHistoryReply, maxKept = MAX_KEPT): void {
  acc.reset = Number(reply.reset);
  acc.seq = Number(reply.seq);
  acc.series.clear();
  for (const [name, s] of Object.entries(reply.series ?? {})) {
    const x = (s.step ?? []).map(Number);
    // JSON has no NaN: the kernel may send null for a non-finite value.
    const y = (s.value ?? []).map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null));
    if (x.length !== y.length) continue;
    acc.series.set(name, boundSeries({ name, x, y, epochLevel: Boolean(s.epoch_level) }, maxKept));
  }
}

/** The kept series in drawing order: step-level first, then epoch-level, each by name. */
export function seriesOf(acc: Accumulated): Series[] {
  return Array.from(acc.series.values()).sort(
    (a, b) => Number(a.epochLevel) - Number(b.epochLevel) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/**
 * `s` with at most `maxKept` points: past it, the newest quarter stays exact and the older
 * points are thinned to half of `maxKept` (spikes kept), so thinning runs once per
 * quarter of `maxKept` appended points rather than at every message.
 */
export function boundSeries(s: Series, maxKept = MAX_KEPT): Series {
  const n = s.x.length;
  if (n <= maxKept) return s;
  const recent = Math.floor(maxKept / 4);
  const cut = n - recent;
  const old = thinSeries(s.x.slice(0, cut), s.y.slice(0, cut), Math.floor(maxKept / 2));
  return { ...s, x: old.x.concat(s.x.slice(cut)), y: old.y.concat(s.y.slice(cut)) };
}

/**
 * The y range of a flat series (every finite value the same, up to float rounding), or null for
 * one that varies (Plotly's autorange then). Plotly pads a constant by a sliver, so a learning
 * rate logged at 1e4 every step got ticks "9.999k, 10k, 10.0005k". The range is the value plus
 * or minus its order of magnitude (10^floor(log10|v|); 1 around 0): round ticks, the line in the
 * middle (1e4 -> [0, 2e4]; 0.5 -> [0.4, 0.6]; 0 -> [-1, 1]).
 */
export function flatRange(y: readonly (number | null)[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of y) {
    if (v === null || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo > hi) return null; // no finite value
  const size = Math.max(Math.abs(lo), Math.abs(hi));
  if (hi - lo > 1e-9 * size) return null;
  const v = (lo + hi) / 2;
  const d = v === 0 ? 1 : 10 ** Math.floor(Math.log10(Math.abs(v)));
  return [v - d, v + d];
}
