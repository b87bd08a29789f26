// tqdm-like text for the progress bars (views/progressBars.ts). Pure functions: the numbers
// come from tqdm's own format_dict in the kernel (PanelTqdm); this file only formats them the
// way tqdm's format_meter does, so a bar reads the same as in a terminal.

import type { ProgressBar } from "../model";

/** tqdm.format_interval: 65 -> "01:05", 3725 -> "1:02:05". Unknown -> "?". */
export function formatInterval(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "?";
  const total = Math.trunc(seconds);
  const h = Math.trunc(total / 3600);
  const m = Math.trunc((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** tqdm's rate_fmt: "12.50it/s", or inverted "3.20s/it" when slower than one per second. */
export function formatRate(rate: number | null | undefined, unit: string): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate) || rate <= 0) return `?${unit}/s`;
  const inv = 1 / rate;
  return inv > 1 ? `${inv.toFixed(2)}s/${unit}` : `${rate.toFixed(2)}${unit}/s`;
}

/** Fraction done in [0, 1], or null when the total is unknown. */
export function fractionDone(bar: Pick<ProgressBar, "n" | "total">): number | null {
  if (bar.total === null || bar.total === undefined || !(bar.total > 0)) return null;
  return Math.min(1, Math.max(0, bar.n / bar.total));
}

/** The parts of tqdm's meter, as separate strings the view puts into separate elements. */
export interface BarText {
  desc: string; // "epoch" (tqdm's prefix without the ": ")
  percent: string; // " 45%" ("" without a total)
  count: string; // "9/20", or "9it" without a total
  meta: string; // "[00:03<00:04, 2.50it/s, loss=0.31]"
}

/** Format one `_progress` record as tqdm would print it. */
export function barText(bar: ProgressBar): BarText {
  const frac = fractionDone(bar);
  const desc = (bar.desc ?? "").replace(/:\s*$/, "");
  const unit = bar.unit || "it";
  const postfix = bar.postfix ? `, ${bar.postfix}` : "";
  const rate = formatRate(bar.rate, unit);
  if (frac === null) {
    return { desc, percent: "", count: `${bar.n}${unit}`, meta: `[${formatInterval(bar.elapsed)}, ${rate}${postfix}]` };
  }
  const remaining = bar.state === "running" ? formatInterval(bar.remaining) : formatInterval(0);
  return {
    desc,
    percent: `${Math.floor(frac * 100)}%`.padStart(4, " "),
    count: `${bar.n}/${bar.total}`,
    meta: `[${formatInterval(bar.elapsed)}<${remaining}, ${rate}${postfix}]`,
  };
}

/** Bars in display order: by level (outermost first), then by id (older first). */
export function orderBars(bars: ProgressBar[] | null | undefined): ProgressBar[] {
  return [...(bars ?? [])].sort((a, b) => a.level - b.level || a.id - b.id);
}

/** One running bar as the compact line shows it: "epoch 2/3 66%" ("batch 40it" without a total). */
export function runningItem(bar: ProgressBar): string {
  const text = barText(bar);
  const name = text.desc || "loop";
  return text.percent ? `${name} ${text.count} ${text.percent.trim()}` : `${name} ${text.count}`;
}

/**
 * The compact line of the loops running now, outermost first ("epoch 2/3 66% · batch 40/150
 * 26%"), shown above the tabs so a loop's progress is visible whatever tab is open. "" when no
 * bar runs: finished, stopped and failed bars stay on the Training tab only.
 */
export function runningLine(bars: ProgressBar[] | null | undefined): string {
  return orderBars(bars)
    .filter((b) => b.state === "running")
    .map(runningItem)
    .join(" · ");
}
