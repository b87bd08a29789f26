// tqdm-like text for the progress bars (views/progressBars.ts and the cell's line,
// progressLine.ts). Pure functions: the numbers come from tqdm's own format_dict in the kernel
// (PanelTqdm); this file only formats them the way tqdm's format_meter does, so a bar reads the
// same as in a terminal (js/test/fixtures/tqdm_meter.json holds format_meter's own output).

import { EN, type Translate } from "../core/i18n";
import type { ProgressBar } from "../model";

/**
 * Python's `f"{x:.{digits}f}"`: like toFixed, except that an exact tie rounds to even
 * (Python: 12.5 -> "12", 0.125 -> "0.12"; JavaScript's toFixed: "13", "0.13").
 */
export function pyFixed(x: number, digits: number): string {
  const scaled = x * 10 ** digits;
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5 && Number.isFinite(scaled)) {
    const even = floor % 2 === 0 ? floor : floor + 1;
    return (even / 10 ** digits).toFixed(digits);
  }
  return x.toFixed(digits);
}

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

/** tqdm's rate_fmt: " 2.50it/s" (5 wide, as `{rate:5.2f}`), or "3.20s/it" below one per second. */
export function formatRate(rate: number | null | undefined, unit: string): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate) || rate <= 0) return `?${unit}/s`;
  const inv = 1 / rate;
  return inv > 1 ? `${pyFixed(inv, 2).padStart(5)}s/${unit}` : `${pyFixed(rate, 2).padStart(5)}${unit}/s`;
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
  meta: string; // "[00:03<00:04,  2.50it/s, loss=0.31]"
}

/** Format one `_progress` record as tqdm would print it. */
export function barText(bar: ProgressBar): BarText {
  const desc = (bar.desc ?? "").replace(/:\s*$/, "");
  const unit = bar.unit || "it";
  const postfix = bar.postfix ? `, ${bar.postfix}` : "";
  const rate = formatRate(bar.rate, unit);
  // As format_meter: no total, or a count past it (tqdm then drops the total), reads as a count.
  if (!(bar.total !== null && bar.total !== undefined && bar.total > 0) || bar.n >= bar.total + 0.5) {
    return { desc, percent: "", count: `${bar.n}${unit}`, meta: `[${formatInterval(bar.elapsed)}, ${rate}${postfix}]` };
  }
  // tqdm: remaining = (total - n) / rate, "?" without a rate; a finished bar has none left.
  const known = bar.rate !== null && bar.rate !== undefined && bar.rate > 0;
  const remaining = !known ? "?" : formatInterval(bar.state === "done" ? 0 : bar.remaining);
  return {
    desc,
    percent: `${pyFixed((bar.n / bar.total) * 100, 0).padStart(3, " ")}%`,
    count: `${bar.n}/${bar.total}`,
    meta: `[${formatInterval(bar.elapsed)}<${remaining}, ${rate}${postfix}]`,
  };
}

/**
 * The whole meter on one line, exactly tqdm's `format_meter(..., ncols=0)` (no bar glyphs):
 * "epoch:  45% 9/20 [00:03<00:04,  2.50it/s, loss=0.31]". The cell's line uses it as the
 * accessible label of its bar, and it is what the tests compare with tqdm's own output.
 */
export function meterLine(bar: ProgressBar): string {
  const t = barText(bar);
  const prefix = bar.desc ? (bar.desc.endsWith(": ") ? bar.desc : `${bar.desc}: `) : "";
  return t.percent ? `${prefix}${t.percent} ${t.count} ${t.meta}` : `${prefix}${t.count} ${t.meta}`;
}

/** The run a record belongs to (records from before runs existed: all one run). */
export function runOf(bar: Pick<ProgressBar, "run">): number {
  return bar.run ?? 0;
}

/** Bars in display order: by run (older first), then level (outermost first), then id. */
export function orderBars(bars: ProgressBar[] | null | undefined): ProgressBar[] {
  return [...(bars ?? [])].sort((a, b) => runOf(a) - runOf(b) || a.level - b.level || a.id - b.id);
}

/**
 * Split ordered bars into the latest run (shown in full) and the finished runs before it
 * (shown one line each, newest first): `{current, earlier: [[outer bar, ...inner], ...]}`.
 */
export function splitRuns(bars: ProgressBar[] | null | undefined): { current: ProgressBar[]; earlier: ProgressBar[][] } {
  const runs = new Map<number, ProgressBar[]>();
  for (const bar of orderBars(bars)) {
    const list = runs.get(runOf(bar)) ?? [];
    list.push(bar);
    runs.set(runOf(bar), list);
  }
  const all = [...runs.values()];
  const current = all.pop() ?? [];
  return { current, earlier: all.reverse() };
}

/** One compact line for a finished run: its outermost bar's meter and how it ended. */
export function runSummary(run: ProgressBar[], t: Translate = EN): string {
  const outer = run[0];
  if (!outer) return "";
  const line = meterLine(outer);
  const state = t(`progress.state${outer.state.charAt(0).toUpperCase()}${outer.state.slice(1)}`);
  const how = outer.state === "done" ? "" : ` (${outer.error || state})`;
  return `${line}${how}`;
}

/** One running bar as the compact line shows it: "epoch 2/3 67%" ("batch 40it" without a total). */
export function runningItem(bar: ProgressBar, t: Translate = EN): string {
  const text = barText(bar);
  const name = text.desc || t("progress.loop");
  return text.percent ? `${name} ${text.count} ${text.percent.trim()}` : `${name} ${text.count}`;
}

/**
 * The compact line of the loops running now, outermost first ("epoch 2/3 67% · batch 40/150
 * 27%"), shown above the tabs so a loop's progress is visible whatever tab is open. "" when no
 * bar runs: finished, stopped and failed bars stay on the Training tab only.
 */
export function runningLine(bars: ProgressBar[] | null | undefined, t: Translate = EN): string {
  return orderBars(bars)
    .filter((b) => b.state === "running")
    .map((b) => runningItem(b, t))
    .join(" · ");
}
