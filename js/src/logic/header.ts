// The header's stat cards as label / value / tooltip text, and the failed-forward banner.
// views/header.ts renders them.

import { MISSING, formatBytes, formatCompact, formatInt } from "../core/format";
import { EN, type Translate } from "../core/i18n";
import type { Summary } from "../model";

export interface HeaderItem {
  key: string; // data-key on the element, for tests
  label: string;
  value: string;
  title: string;
  note?: string; // a short line under the value, e.g. what a count leaves out
  action?: string; // the label of a button in the card ("Count MACs"), when it offers one
}

/** Where the MACs card's own request stands: none, running, or failed with a message. */
export interface MacsRequest {
  counting: boolean;
  error: string; // "" unless the last count_macs request failed
  progress?: { done: number; total: number } | null; // the kernel's _macs_progress: the pass runs (from here or from code)
}

const IDLE: MacsRequest = { counting: false, error: "" };


/**
 * The MACs card: the count, and the ops it leaves out (no FLOP formula) when there are any.
 * Not counted yet: a button when an input was given and the forward ran ("counting…" while
 * the kernel's MAC pass runs), and a tooltip that says how to count them from Python too.
 */
export function macsItem(s: Summary, request: MacsRequest = IDLE, t: Translate = EN): HeaderItem {
  const item = { key: "macs", label: t("header.macs") };
  if (s.macs === null || s.macs === undefined) {
    if (s.error) return { ...item, value: MISSING, title: t("header.macsFailedForward") };
    if (s.input_shapes == null) {
      return {
        ...item,
        value: MISSING,
        title: t("header.macsNeedInput"),
      };
    }
    const p = request.progress;
    if (request.counting || p) {
      const title = t("header.macsCountingTitle");
      if (!p || !(p.total > 0)) return { ...item, value: t("header.macsCounting"), title };
      const done = Math.min(p.done, p.total);
      return {
        ...item,
        value: t("header.macsCountingPercent", { pct: Math.floor((100 * done) / p.total) }),
        title: t("header.macsCountingDone", { title, done: formatInt(done), total: formatInt(p.total) }),
      };
    }
    const how = t("header.macsNotYet");
    return {
      ...item,
      value: MISSING,
      title: request.error ? `${how}\n${t("header.macsLastFailed", { error: request.error })}` : how,
      action: t("header.countMacs"),
      ...(request.error ? { note: t("header.macsCountFailed") } : {}),
    };
  }
  const title =
    t("header.macsTitle", { n: formatInt(s.macs) }) + (s.trace === "fake" ? t("header.macsFake") : "");
  const excluded = s.macs_excluded ?? [];
  if (!excluded.length) return { ...item, value: formatCompact(s.macs), title };
  return {
    ...item,
    value: formatCompact(s.macs),
    title: `${title}\n${t("header.macsExcludedTitle", { ops: excluded.join(", ") })}`,
    note: t("header.macsExcludes", { n: excluded.length }),
  };
}

/** The header's items for a summary (pure: tested without a DOM). */
export function headerItems(s: Summary, request: MacsRequest = IDLE, t: Translate = EN): HeaderItem[] {
  const count = (n: number) => ({ value: formatCompact(n), title: t("header.paramsTitle", { n: formatInt(n) }) });
  const bytes = (n: number) => ({ value: formatBytes(n), title: t("header.bytesTitle", { n: formatInt(n) }) });
  const several = (list: string[] | undefined) => ((list?.length ?? 0) > 1 ? 2 : 1);
  return [
    { key: "total", label: t("header.total"), ...count(s.total_params) },
    { key: "trainable", label: t("header.trainable"), ...count(s.trainable_params) },
    { key: "non-trainable", label: t("header.nonTrainable"), ...count(s.non_trainable_params) },
    { key: "param-bytes", label: t("header.paramBytes"), ...bytes(s.param_bytes) },
    { key: "buffer-bytes", label: t("header.buffers"), ...bytes(s.buffer_bytes) },
    macsItem(s, request, t),
    { key: "devices", label: t("header.devices", { n: several(s.devices) }), value: (s.devices ?? []).join(", ") || MISSING, title: "" },
    { key: "dtypes", label: t("header.dtypes", { n: several(s.dtypes) }), value: (s.dtypes ?? []).join(", ") || MISSING, title: "" },
    { key: "mode", label: t("header.mode"), value: t(s.training ? "mode.train" : "mode.eval"), title: t("header.modeTitle") },
    ...trainingItem(s, t),
  ];
}

/** The training-memory card (none until a forward ran): one training step at the summary's input. */
export function trainingItem(s: Pick<Summary, "training_memory">, t: Translate = EN): HeaderItem[] {
  const m = s.training_memory;
  if (!m) return [];
  const title = t("header.trainMemoryTitle", {
    optimizer: m.optimizer,
    inference: formatBytes(m.inference),
    gradients: formatBytes(m.gradients),
    states: formatBytes(m.optimizer_states),
  });
  return [{ key: "train-memory", label: t("header.trainMemory", { optimizer: m.optimizer }), value: formatBytes(m.training), title }];
}

/** The banner of a failed forward: a heading and the ForwardError's message; null when it ran. */
export function forwardFailure(
  s: Pick<Summary, "error" | "failed_path">,
  t: Translate = EN,
): { heading: string; message: string } | null {
  if (!s.error) return null;
  const where = s.failed_path ? t("header.failedModule", { path: s.failed_path }) : t("header.failedRoot");
  return {
    heading: t("header.failedHeading", { where }),
    message: s.error,
  };
}
