// Number, shape and size formatting for the views. Pure functions, locale-independent so
// that what a test sees is what every user sees.

import type { Shape } from "../model";

/** Shown where a value is not known (yet): MACs before they are counted, stats of an empty tensor. */
export const MISSING = "—";

/** 1234567 -> "1,234,567". */
export function formatInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return MISSING;
  const sign = n < 0 ? "-" : "";
  const digits = Math.round(Math.abs(n)).toString();
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 83 -> "83", 12_345 -> "12.3K", 124_439_808 -> "124M", 1.5e9 -> "1.5B" (3 significant digits at most). */
export function formatCompact(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return MISSING;
  const a = Math.abs(n);
  if (a < 1000) return formatInt(n);
  const suffixes = ["K", "M", "B", "T"];
  let i = Math.min(Math.floor(Math.log10(a) / 3) - 1, suffixes.length - 1);
  // Promote when rounding reaches the next unit: 999_950 reads "1.0M", not "1000.0K".
  if (i < suffixes.length - 1 && Number((a / 1000 ** (i + 1)).toFixed(1)) >= 1000) i += 1;
  const v = n / 1000 ** (i + 1);
  return (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) + suffixes[i];
}

/** Binary units, as torch users read memory: 332 -> "332 B", 1536 -> "1.5 KiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return MISSING;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  const sign = n < 0 ? "-" : "";
  return i === 0 ? `${sign}${Math.round(v)} B` : `${sign}${v.toFixed(1)} ${units[i]}`;
}

/** Share of a total: 50/83 -> "60.2%"; tiny but non-zero -> "<0.1%"; no total -> "". */
export function formatShare(part: number, total: number): string {
  if (!(total > 0) || !Number.isFinite(part)) return "";
  const pct = (100 * part) / total;
  if (pct === 0) return "0%";
  if (pct < 0.1) return "<0.1%";
  return `${pct.toFixed(1)}%`;
}

/**
 * A statistic (mean, std, min, max): 4 significant digits, exponent form for very small or
 * large magnitudes. null (no finite values) -> "—".
 */
export function formatStat(x: number | null | undefined): string {
  if (x === null || x === undefined) return MISSING;
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0"; // also -0
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

function isIntList(value: unknown[]): value is number[] {
  return value.every((v) => typeof v === "number");
}

/**
 * An output shape as the kernel sends it: [1, 10] -> "[1, 10]"; a tuple of tensors ->
 * "([1, 10], [1, 5])"; a dict -> "{logits: [1, 3]}"; null -> "—".
 */
export function formatShape(shape: Shape | null | undefined | unknown): string {
  if (shape === null || shape === undefined) return MISSING;
  if (Array.isArray(shape)) {
    if (isIntList(shape)) return `[${shape.join(", ")}]`;
    return `(${shape.map((s) => formatShape(s)).join(", ")})`;
  }
  if (typeof shape === "object") {
    const parts = Object.entries(shape as Record<string, unknown>).map(([k, v]) => `${k}: ${formatShape(v)}`);
    return `{${parts.join(", ")}}`;
  }
  return String(shape);
}

/** Dimensions of a parameter: [10, 4] -> "10×4"; a scalar ([]) -> "scalar". */
export function formatDims(shape: number[]): string {
  return shape.length === 0 ? "scalar" : shape.join("×");
}
