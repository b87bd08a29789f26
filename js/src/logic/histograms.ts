// Histogram logic without Plotly: read the kernel's `_hist` snapshot and hist_watch replies
// into one row per tensor, and turn a row into bar-chart data. core/hists.ts keeps the rows;
// views/histograms.ts draws them.

import { decodeArray } from "../core/decode";
import type { Histograms, HistWatchReply, ParamRecord } from "../model";

/** One tensor's histogram: `counts.length` bins over [lo, hi]. */
export interface HistRow {
  counts: ArrayLike<number>;
  lo: number;
  hi: number;
}

export interface DecodedHist {
  version: number;
  step: number | null; // training step of the snapshot; null outside training
  bins: number;
  ids: number[];
  rows: HistRow[]; // rows[k] is tensor ids[k]
}

/** Decode a `_hist` snapshot; the rows are windows on the message's bytes (no copy). */
export function decodeHist(h: Histograms): DecodedHist {
  const counts = decodeArray(h.counts);
  const range = decodeArray(h.range);
  const ids = Array.isArray(h.ids) ? h.ids.map(Number) : [];
  const n = counts.shape[0] ?? 0;
  const bins = Number(h.bins) || (counts.shape[1] ?? 0);
  if (n !== ids.length) throw new RangeError(`_hist: counts hold ${n} rows for ${ids.length} ids`);
  if (range.data.length < 2 * n) {
    throw new RangeError(`_hist: range holds ${range.data.length / 2} rows but counts hold ${n}`);
  }
  if (counts.data.length < n * bins) throw new RangeError(`_hist: counts hold fewer than ${bins} bins per row`);
  const rows = ids.map((_, k) => ({
    counts: counts.data.subarray(k * bins, (k + 1) * bins),
    lo: Number(range.data[2 * k]),
    hi: Number(range.data[2 * k + 1]),
  }));
  const step = h.step === null || h.step === undefined ? null : Number(h.step);
  return { version: Number(h.version) || 0, step, bins, ids, rows };
}

/** The rows of a hist_watch reply, by tensor id; rows with a missing range are left out. */
export function replyRows(reply: Pick<HistWatchReply, "ids" | "counts" | "range">): Map<number, HistRow> {
  const out = new Map<number, HistRow>();
  const ids = reply.ids ?? [];
  ids.forEach((id, k) => {
    const counts = reply.counts?.[k];
    const r = reply.range?.[k];
    if (!Array.isArray(counts) || !Array.isArray(r) || r.length < 2) return;
    out.set(Number(id), { counts, lo: Number(r[0]), hi: Number(r[1]) });
  });
  return out;
}

/**
 * What a bar's height means. "counts": values in the bin (exact). A sampled tensor (the kernel
 * bins a strided sample of a large CPU tensor: stats/histograms.py) has its sample's counts scaled
 * to the whole tensor, "estimated": count x numel / sample. A sparse tensor's statistics are of
 * its stored values, whose number the wire does not carry, so a sampled one shows "shares" (the
 * fraction of the values in each bin) instead of counts.
 */
export type BarScale = "counts" | "estimated" | "shares";

export interface Bars {
  x: number[]; // bin centres
  y: number[]; // bar heights, per `scale`
  width: number; // bin width (a constant tensor: a nominal width)
  lo: number;
  hi: number;
  total: number; // values binned (the sample's size for a sampled tensor)
  scale: BarScale;
}

/** How a tensor's bars are scaled, from its record (none: exact counts). */
export function barScale(tensor: Pick<ParamRecord, "sampled" | "note"> | undefined): BarScale {
  if (!tensor?.sampled) return "counts";
  return (tensor.note ?? "").startsWith("sparse") ? "shares" : "estimated";
}

/**
 * Bar data for one tensor's row, or null while there is none (not received yet). `tensor` (its
 * `_params` record) scales a sampled tensor's bars: see BarScale.
 */
export function barsFor(row: HistRow | undefined, tensor?: Pick<ParamRecord, "sampled" | "note" | "numel">): Bars | null {
  if (!row || row.counts.length === 0) return null;
  const { lo, hi, counts } = row;
  const bins = counts.length;
  let total = 0;
  for (let i = 0; i < bins; i++) total += Number(counts[i]);
  let scale = barScale(tensor);
  // The sample holds every binned value (a sampled tensor has no NaN/Inf: the kernel recounts
  // those exactly), so numel / total is how many values each sampled one stands for.
  const factor =
    scale === "shares" ? (total > 0 ? 1 / total : 0) : scale === "estimated" && total > 0 ? (tensor?.numel ?? total) / total : 1;
  if (scale === "estimated" && !(total > 0)) scale = "counts";
  if (!(hi > lo)) {
    // Constant tensor (LayerNorm weight at init): one bar at the value holding every count.
    const width = Math.max(Math.abs(lo) * 0.02, 1e-3);
    return { x: [lo], y: [total * factor], width, lo, hi, total, scale };
  }
  const width = (hi - lo) / bins;
  const x: number[] = new Array(bins);
  const y: number[] = new Array(bins);
  for (let i = 0; i < bins; i++) {
    x[i] = lo + (i + 0.5) * width;
    y[i] = Number(counts[i]) * factor;
  }
  return { x, y, width, lo, hi, total, scale };
}
