// Pure logic of the inference view: what the kernel's `_eval_result` / `_eval_data` mean as
// text, table rows and a heatmap figure. No DOM, no Plotly: tested under Node (vitest).
//
// Traits mirrored here: EvalData / EvalResult in model.ts (docs/widget-state.md "Inference").

import { decodeArray } from "../core/decode";
import { MISSING, formatCompact, formatInt, formatShape } from "../core/format";
import { EN, type Translate } from "../core/i18n";
import type { EvalData, EvalResult, PerClass } from "../model";

/** One row of `per_class`. */
export type EvalRow = PerClass;

/**
 * `_eval_result` as this logic reads it: model.ts's EvalResult, with the fields the functions
 * below tolerate being absent made optional (so a partial result still formats).
 */
export type EvalResultState = Omit<EvalResult, "seconds" | "mode" | "metric" | "metric_name"> &
  Partial<Pick<EvalResult, "seconds" | "mode" | "metric" | "metric_name">>;

/** 0.0042 -> "4.2 ms", 3.21 -> "3.21 s", 125 -> "2 min 5 s": how long the evaluation took. */
export function formatSeconds(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x) || x < 0) return MISSING;
  if (x < 1) return `${Number((x * 1000).toPrecision(3))} ms`;
  if (x < 60) return `${Number(x.toPrecision(3))} s`;
  return `${Math.floor(x / 60)} min ${Math.round(x % 60)} s`;
}

/**
 * When a result was made, from `finished_at` (the kernel's local time, ISO 8601 with offset):
 * "14:02:31" on the day `now` is (read in the kernel's own clock, whatever the browser's time
 * zone), else "2024-05-01 14:02:31". "" when absent or unreadable.
 */
export function formatWhen(iso: string | null | undefined, now: Date = new Date()): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso ?? "");
  if (!m) return "";
  const [, day, time] = m;
  const pad = (v: number) => String(v).padStart(2, "0");
  const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return day === today ? `${time}` : `${day} ${time}`;
}

/** Where the shown result came from, and when: "from panel.evaluate(...) at 14:02:31". */
export function describeOrigin(r: EvalResultState | null, now: Date = new Date(), t: Translate = EN): string {
  if (!r) return "";
  const from = t(r.source === "run" ? "eval.fromRun" : "eval.fromCode");
  const when = formatWhen(r.finished_at, now);
  return when ? t("eval.originAt", { from, when }) : t("eval.origin", { from });
}

/** `_eval_data`: what the Run button will evaluate (model.ts's EvalData; labels may be absent). */
export type EvalDataState = Omit<EvalData, "labels"> & Partial<Pick<EvalData, "labels">>;

/** 0.9333 -> "93.33%"; null -> "—". */
export function formatPercent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  return `${(100 * x).toFixed(2)}%`;
}

/** A ratio in 0..1 with three decimals, or "—" where undefined (class never predicted). */
export function formatRatio(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  return x.toFixed(3);
}

/** 12345.6 -> "12.3K samples/s". */
export function formatThroughput(x: number | null | undefined, t: Translate = EN): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  return t("eval.throughput", { n: formatCompact(Math.round(x)) });
}

/** A number for the summary line: up to 4 significant digits. */
export function formatValue(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  return Number(x.toPrecision(4)).toString();
}

/**
 * The batch size typed by the user, or an error message saying what is wrong.
 * Whole positive numbers only; the kernel checks again.
 */
export function parseBatchSize(text: string, t: Translate = EN): { value: number } | { error: string } {
  const typed = text.trim();
  if (!/^\d+$/.test(typed) || Number(typed) < 1) {
    return { error: t("eval.batchError", { text: typed }) };
  }
  return { value: Number(typed) };
}

/** The device to select: the current pick while the kernel still lists it, else the first. */
export function pickDevice(devices: readonly string[], current: string | null): string | null {
  if (current !== null && devices.includes(current)) return current;
  return devices[0] ?? null;
}

/**
 * One line describing the data the Run button uses, or how to set it. With a result already
 * shown (panel.evaluate(...) needs no Run data), it only says what Run needs.
 */
export function describeData(data: EvalDataState | null, hasResult = false, t: Translate = EN): string {
  if (!data && hasResult) return t("eval.dataAgain");
  if (!data) return t("eval.dataNone");
  const n = data.n === null ? t("eval.dataUnknownN") : formatInt(data.n);
  const shape = data.x_shape ? t("eval.dataShape", { shape: formatShape(data.x_shape) }) : "";
  const targets = t(data.has_targets ? "eval.dataTargets" : "eval.dataNoTargets");
  return t("eval.data", { n, shape, targets });
}

/** [label, value] pairs for the result summary, in display order; absent values left out. */
export function summaryItems(r: EvalResultState, t: Translate = EN): Array<[string, string, string]> {
  // [css key, label, value]
  const items: Array<[string, string, string]> = [];
  if (r.metric !== null && r.metric !== undefined) {
    items.push(["metric", r.metric_name || t("eval.metric"), formatValue(r.metric)]);
  } else {
    items.push(["accuracy", t("eval.accuracy"), formatPercent(r.accuracy)]);
  }
  // Top-k is shown only when it says something: with k >= classes it is always 100%.
  const k = r.topk_k ?? 1;
  if (r.topk_accuracy !== null && r.topk_accuracy !== undefined && k > 1 && k < r.classes.length) {
    items.push(["topk", t("eval.topk", { k: r.topk_k ?? k }), formatPercent(r.topk_accuracy)]);
  }
  if (r.loss !== null && r.loss !== undefined) items.push(["loss", t("eval.loss"), formatValue(r.loss)]);
  items.push(["n", t("eval.samples"), formatInt(r.n)]);
  if (r.batch_size !== undefined) {
    items.push(["batch", t("eval.batchUsed"), r.batch_size === null ? MISSING : formatInt(r.batch_size)]);
  }
  items.push(["device", t("eval.deviceUsed"), r.device]);
  if (r.seconds !== undefined) items.push(["seconds", t("eval.time"), formatSeconds(r.seconds)]);
  items.push(["throughput", t("eval.throughputLabel"), formatThroughput(r.samples_per_s, t)]);
  if (r.mode) items.push(["mode", t("eval.ranUnder"), r.mode]);
  const when = formatWhen(r.finished_at);
  if (when) items.push(["when", t("eval.finished"), when]);
  return items;
}

/** Rows of the per-class table as display strings: label, precision, recall, support. */
export function perClassRows(r: EvalResultState): string[][] {
  return (r.per_class ?? []).map((row) => [
    String(row.label),
    formatRatio(row.precision),
    formatRatio(row.recall),
    formatInt(row.support),
  ]);
}

/**
 * Plotly's text parses a small HTML subset (<b>, <br>, links). Class names come from the user,
 * so they go in as entities: Plotly shows them literally and interprets nothing.
 */
export function plotlySafe(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export interface HeatmapFigure {
  z: number[][]; // z[true][predicted]
  labels: string[]; // escaped for Plotly
  annotate: boolean; // counts written in the cells (small matrices only)
  max: number;
}

/** The confusion matrix as heatmap rows, or null when the result has none (no targets). */
export function confusionFigure(r: EvalResultState): HeatmapFigure | null {
  if (!r.confusion) return null;
  const { data, shape } = decodeArray(r.confusion);
  const [rows, cols] = [shape[0] ?? 0, shape[1] ?? 0];
  if (rows !== cols) throw new RangeError(`confusion matrix must be square, got [${shape.join(", ")}]`);
  const z: number[][] = [];
  let max = 0;
  for (let i = 0; i < rows; i++) {
    const row = Array.from(data.subarray(i * cols, (i + 1) * cols));
    for (const v of row) max = Math.max(max, v);
    z.push(row);
  }
  const names = r.classes.length === rows ? r.classes : z.map((_, i) => String(i));
  return { z, labels: names.map(plotlySafe), annotate: rows <= 20, max };
}

/** Plotly data + layout for the figure, without colours (fixed size: autosize on a detached node is untested). */
export function heatmapSpec(fig: HeatmapFigure, t: Translate = EN): { data: object[]; layout: object } {
  const c = fig.labels.length;
  const side = Math.max(220, Math.min(520, 60 + 28 * c));
  // Numeric axes with the names as tick text: two classes named alike stay two rows.
  const idx = fig.labels.map((_, i) => i);
  const trace: Record<string, unknown> = {
    type: "heatmap",
    z: fig.z,
    x: idx,
    y: idx,
    // No colours here: the view adds core/theme.ts's colour scale and layout colours (the
    // cell text picks black or white against each cell by itself).
    zmin: 0,
    zmax: Math.max(1, fig.max),
    showscale: false,
    customdata: fig.z.map((row, i) => row.map((_, j) => [fig.labels[i], fig.labels[j]])),
    hovertemplate: `${t("eval.axisTrue")} %{customdata[0]}<br>${t("eval.axisPredicted")} %{customdata[1]}<br>%{z}<extra></extra>`,
  };
  if (fig.annotate) {
    trace.text = fig.z.map((row) => row.map(String));
    trace.texttemplate = "%{text}";
  }
  const axis = { tickvals: idx, ticktext: fig.labels, automargin: true, showgrid: false };
  return {
    data: [trace],
    layout: {
      width: side + 80,
      height: side,
      margin: { l: 60, r: 10, t: 10, b: 50 },
      xaxis: { ...axis, title: { text: t("eval.axisPredicted") }, side: "bottom" },
      yaxis: { ...axis, title: { text: t("eval.axisTrue") }, autorange: "reversed" },
    },
  };
}
