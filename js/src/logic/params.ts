// Parameter table logic without a DOM: columns, sorting, the subtree filter, and which
// parameters get a histogram. views/params.ts renders it.

import { MISSING, formatDims, formatInt, formatStat } from "../core/format";
import { EN, type Translate } from "../core/i18n";
import type { ParamRecord } from "../model";
import { inSubtree } from "./tree";

export type SortKey =
  | "name"
  | "shape"
  | "numel"
  | "dtype"
  | "device"
  | "trainable"
  | "mean"
  | "std"
  | "min"
  | "max"
  | "nonfinite";

export type SortDir = "asc" | "desc";

export interface Sort {
  key: SortKey;
  dir: SortDir;
}

export interface Column {
  key: SortKey;
  label: string; // catalog key of the head's text (core/i18n.ts); "<label>Title" is its tooltip
  numeric: boolean;
  text(r: ParamRecord, t?: Translate): string;
}

/** The table's columns, in display order. */
export const COLUMNS: Column[] = [
  { key: "name", label: "params.colName", numeric: false, text: (r) => r.names.join(", ") },
  { key: "shape", label: "params.colShape", numeric: false, text: (r, t = EN) => (r.shape.length ? formatDims(r.shape) : t("params.scalar")) },
  { key: "numel", label: "params.colCount", numeric: true, text: (r) => formatInt(r.numel) },
  { key: "dtype", label: "params.colDtype", numeric: false, text: (r) => r.dtype },
  { key: "device", label: "params.colDevice", numeric: false, text: (r) => r.device },
  { key: "trainable", label: "params.colTrainable", numeric: false, text: (r, t = EN) => t(r.trainable ? "common.yes" : "common.no") },
  { key: "mean", label: "params.colMean", numeric: true, text: (r) => statText(r, r.mean) },
  { key: "std", label: "params.colStd", numeric: true, text: (r) => statText(r, r.std) },
  { key: "min", label: "params.colMin", numeric: true, text: (r) => statText(r, r.min) },
  { key: "max", label: "params.colMax", numeric: true, text: (r) => statText(r, r.max) },
  {
    key: "nonfinite",
    label: "params.colNonfinite",
    numeric: true,
    // A tensor without values has no NaN/Inf count either (the kernel sends 0 for it).
    text: (r) => (hasNoStatistics(r) ? MISSING : r.nan || r.inf ? `${formatInt(r.nan)} / ${formatInt(r.inf)}` : "0"),
  },
];

function statText(r: ParamRecord, x: number | null): string {
  return hasNoStatistics(r) ? MISSING : formatStat(x);
}

/** Natural order for names: "layers.2" before "layers.10". */
export function naturalCompare(a: string, b: string): number {
  const ax = a.match(/\d+|\D+/g) ?? [];
  const bx = b.match(/\d+|\D+/g) ?? [];
  const n = Math.min(ax.length, bx.length);
  for (let i = 0; i < n; i++) {
    const x = ax[i] as string;
    const y = bx[i] as string;
    if (x === y) continue;
    const xd = /^\d/.test(x);
    const yd = /^\d/.test(y);
    if (xd && yd) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      continue;
    }
    return x < y ? -1 : 1;
  }
  return ax.length - bx.length;
}

function sortValue(r: ParamRecord, key: SortKey): number | string | null {
  switch (key) {
    case "name":
      return r.names[0] ?? "";
    case "shape":
      return r.shape.length ? r.shape.join("x") : "";
    case "numel":
      return r.numel;
    case "dtype":
      return r.dtype;
    case "device":
      return r.device;
    case "trainable":
      return r.trainable ? 1 : 0;
    case "nonfinite":
      return hasNoStatistics(r) ? null : (r.nan ?? 0) + (r.inf ?? 0);
    default:
      return hasNoStatistics(r) ? null : r[key];
  }
}

/**
 * A sorted copy. Stable (ties keep the kernel's order); missing values (null statistics of
 * an all-NaN tensor) go last in both directions, so flipping the order never buries the data.
 */
export function sortRecords(records: readonly ParamRecord[], key: SortKey, dir: SortDir): ParamRecord[] {
  const sign = dir === "asc" ? 1 : -1;
  const keyed = records.map((r, i) => ({ r, i, v: sortValue(r, key) }));
  keyed.sort((a, b) => {
    const av = a.v;
    const bv = b.v;
    const am = av === null || (typeof av === "number" && Number.isNaN(av));
    const bm = bv === null || (typeof bv === "number" && Number.isNaN(bv));
    if (am || bm) return am && bm ? a.i - b.i : am ? 1 : -1;
    let c: number;
    if (typeof av === "number" && typeof bv === "number") c = av - bv;
    else c = naturalCompare(String(av), String(bv));
    return c !== 0 ? sign * c : a.i - b.i;
  });
  return keyed.map((k) => k.r);
}

/** The records held by a module in the selected subtree (null selection: all). */
export function filterBySubtree(records: readonly ParamRecord[], selected: string | null): ParamRecord[] {
  if (selected === null) return records.slice();
  return records.filter((r) => r.owners.some((o) => inSubtree(o, selected)));
}

/** Next sort state after clicking a column header: a new column sorts ascending, the same one flips. */
export function nextSort(current: Sort | null, key: SortKey): Sort {
  if (current && current.key === key) return { key, dir: current.dir === "asc" ? "desc" : "asc" };
  return { key, dir: "asc" };
}

/** How many histograms show when the user has not picked any. */
export const DEFAULT_HISTOGRAMS = 4;

/**
 * The parameter ids to draw: the user's explicit picks that are still in the table, or else
 * the first few rows of the table as displayed.
 */
export function histogramIds(displayed: readonly ParamRecord[], picked: ReadonlySet<number>): number[] {
  if (picked.size) {
    const ids = displayed.filter((r) => picked.has(r.id)).map((r) => r.id);
    if (ids.length) return ids;
  }
  return displayed.slice(0, DEFAULT_HISTOGRAMS).map((r) => r.id);
}

/** The table's records as displayed: filtered to the selected subtree, then sorted. */
export function displayedRecords(records: readonly ParamRecord[] | null, state: { selectedPath: string | null; sort: Sort | null }): ParamRecord[] {
  const rows = filterBySubtree(records ?? [], state.selectedPath);
  return state.sort ? sortRecords(rows, state.sort.key, state.sort.dir) : rows;
}

/** Whether a tensor holds no values to bin: on the meta device, or lazy before its first forward
 * (the kernel's note says so: `_core/tensors.py` param_note). */
export function hasNoValues(r: ParamRecord): boolean {
  const note = r.note ?? "";
  return r.device === "meta" || note.startsWith("meta:") || note.startsWith("lazy:");
}

/**
 * Whether a tensor has no statistics at all (every statistic reads "—", the NaN/Inf count too):
 * it has no values (hasNoValues: meta, lazy) or no elements (numel 0).
 */
export function hasNoStatistics(r: ParamRecord): boolean {
  return hasNoValues(r) || r.numel === 0;
}

/**
 * The tooltip of a tensor's mean/std/min/max cells when it holds NaN/Inf: the kernel computes
 * them over its finite values only (stats/histograms.py); "" otherwise.
 */
export function finiteOnlyNote(r: ParamRecord, t: Translate = EN): string {
  if (hasNoStatistics(r) || !(r.nan || r.inf)) return "";
  return t("params.finiteOnly", { nan: formatInt(r.nan), inf: formatInt(r.inf) });
}

/** The histogram view's note on the tensors it leaves out for having no values; "" when none. */
export function valuelessNote(displayed: readonly ParamRecord[], t: Translate = EN): string {
  const n = displayed.filter(hasNoValues).length;
  if (!n) return "";
  const meta = displayed.some((r) => r.device === "meta" || (r.note ?? "").startsWith("meta:"));
  const kind = meta ? "meta" : "lazy";
  return n === displayed.length ? t(`hist.${kind}All`) : t(`hist.${kind}Some`, { n });
}
