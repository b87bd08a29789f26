// The header's stat cards as label / value / tooltip text, and the failed-forward banner.
// views/header.ts renders them.

import { MISSING, formatBytes, formatCompact, formatInt } from "../core/format";
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
}

const IDLE: MacsRequest = { counting: false, error: "" };

/** The card's action label: a button that sends {kind: "count_macs"}. */
export const COUNT_MACS = "Count MACs";

/**
 * The MACs card: the count, and the ops it leaves out (no FLOP formula) when there are any.
 * Not counted yet: a button when an input was given and the forward ran ("counting…" while
 * the kernel's MAC pass runs), and a tooltip that says how to count them from Python too.
 */
export function macsItem(s: Summary, request: MacsRequest = IDLE): HeaderItem {
  const item = { key: "macs", label: "MACs" };
  if (s.macs === null || s.macs === undefined) {
    if (s.error) return { ...item, value: MISSING, title: "Not counted: the model's forward fails (the message is below)" };
    if (s.input_shapes == null) {
      return {
        ...item,
        value: MISSING,
        title: "MACs need an input: pass input_size=(...) or input_data=... to ModelPanel, then press Count MACs or read panel.summary.macs",
      };
    }
    if (request.counting) return { ...item, value: "counting…", title: "Counting: one more forward pass, under torch's FlopCounterMode" };
    const how = "Not counted yet: press Count MACs, or read panel.summary.macs in Python (one more forward pass)";
    return {
      ...item,
      value: MISSING,
      title: request.error ? `${how}\nThe last count failed: ${request.error}` : how,
      action: COUNT_MACS,
      ...(request.error ? { note: "count failed" } : {}),
    };
  }
  const title =
    `${formatInt(s.macs)} multiply-accumulates per forward` +
    (s.trace === "fake" ? " (counted in the summary's own pass, traced with fake tensors: no values computed)" : "");
  const excluded = s.macs_excluded ?? [];
  if (!excluded.length) return { ...item, value: formatCompact(s.macs), title };
  return {
    ...item,
    value: formatCompact(s.macs),
    title: `${title}\nMACs exclude: ${excluded.join(", ")} (no formula)`,
    note: `excludes ${excluded.length} op${excluded.length > 1 ? "s" : ""}`,
  };
}

/** The header's items for a summary (pure: tested without a DOM). */
export function headerItems(s: Summary, request: MacsRequest = IDLE): HeaderItem[] {
  const count = (n: number) => ({ value: formatCompact(n), title: `${formatInt(n)} parameters` });
  return [
    { key: "total", label: "parameters", ...count(s.total_params) },
    { key: "trainable", label: "trainable", ...count(s.trainable_params) },
    { key: "non-trainable", label: "non-trainable", ...count(s.non_trainable_params) },
    { key: "param-bytes", label: "param memory", value: formatBytes(s.param_bytes), title: `${formatInt(s.param_bytes)} bytes` },
    { key: "buffer-bytes", label: "buffers", value: formatBytes(s.buffer_bytes), title: `${formatInt(s.buffer_bytes)} bytes` },
    macsItem(s, request),
    { key: "devices", label: s.devices?.length > 1 ? "devices" : "device", value: (s.devices ?? []).join(", ") || MISSING, title: "" },
    { key: "dtypes", label: s.dtypes?.length > 1 ? "dtypes" : "dtype", value: (s.dtypes ?? []).join(", ") || MISSING, title: "" },
    { key: "mode", label: "mode", value: s.training ? "train" : "eval", title: "The root module's training flag" },
    ...trainingItem(s),
  ];
}

/** The training-memory card (none until a forward ran): one training step at the summary's input. */
export function trainingItem(s: Pick<Summary, "training_memory">): HeaderItem[] {
  const m = s.training_memory;
  if (!m) return [];
  const title =
    `One training step at this input with ${m.optimizer}: parameters, buffers, input and activations ` +
    `${formatBytes(m.inference)} + gradients ${formatBytes(m.gradients)} + ${m.optimizer} state ` +
    `${formatBytes(m.optimizer_states)} (panel.summary.memory(optimizer=...) for another optimizer)`;
  return [{ key: "train-memory", label: `to train (${m.optimizer})`, value: formatBytes(m.training), title }];
}

/** The banner of a failed forward: a heading and the ForwardError's message; null when it ran. */
export function forwardFailure(s: Pick<Summary, "error" | "failed_path">): { heading: string; message: string } | null {
  if (!s.error) return null;
  const where = s.failed_path ? `module "${s.failed_path}"` : "the model's own forward";
  return {
    heading: `The forward pass failed in ${where}: the panel shows the model up to there (panel.error holds the exception)`,
    message: s.error,
  };
}
