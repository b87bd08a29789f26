// Header: totals, trainable / non-trainable, parameter and buffer memory, MACs, device(s),
// dtype(s) and train/eval mode, as a row of stat cards; below them, a warning line when a
// NaN/Inf has appeared in the loss, the weights or the gradients (issue 4, point 4).

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "./core/context";
import { h } from "./core/dom";
import { MISSING, formatBytes, formatCompact, formatInt } from "./core/format";
import { type Diagnostics, type Model, type ParamRecord, type Summary, summaryOf } from "./model";

export interface HeaderItem {
  key: string; // data-key on the element, for tests
  label: string;
  value: string;
  title: string;
}

/** The header's items for a summary (pure: tested without a DOM). */
export function headerItems(s: Summary): HeaderItem[] {
  const count = (n: number) => ({ value: formatCompact(n), title: `${formatInt(n)} parameters` });
  return [
    { key: "total", label: "parameters", ...count(s.total_params) },
    { key: "trainable", label: "trainable", ...count(s.trainable_params) },
    { key: "non-trainable", label: "non-trainable", ...count(s.non_trainable_params) },
    { key: "param-bytes", label: "param memory", value: formatBytes(s.param_bytes), title: `${formatInt(s.param_bytes)} bytes` },
    { key: "buffer-bytes", label: "buffers", value: formatBytes(s.buffer_bytes), title: `${formatInt(s.buffer_bytes)} bytes` },
    {
      key: "macs",
      label: "MACs",
      value: s.macs === null || s.macs === undefined ? MISSING : formatCompact(s.macs),
      title: s.macs === null || s.macs === undefined ? "not counted yet" : `${formatInt(s.macs)} multiply-accumulates per forward`,
    },
    { key: "devices", label: s.devices?.length > 1 ? "devices" : "device", value: (s.devices ?? []).join(", ") || MISSING, title: "" },
    { key: "dtypes", label: s.dtypes?.length > 1 ? "dtypes" : "dtype", value: (s.dtypes ?? []).join(", ") || MISSING, title: "" },
    { key: "mode", label: "mode", value: s.training ? "train" : "eval", title: "The root module's training flag" },
  ];
}

/** Where NaN/Inf has shown up, merged from `_diagnostics.nonfinite` and `_params`. */
export interface NonfiniteFlag {
  loss: boolean; // some logged metric held NaN/Inf
  where: "weights" | "grads" | null;
  firstLayer: string | null; // module path ("" = the root); null when unknown
}

/**
 * The NaN/Inf state to show, or null when everything is finite. The kernel's diagnostics come
 * first (they know about gradients and the loss, and the first report wins there); `_params`
 * fills in when they say nothing, e.g. after `panel.refresh()` outside a training loop, where
 * the first parameter row with NaN/Inf values names the module that holds it.
 */
export function nonfiniteFlag(diag: Diagnostics | null | undefined, params: ParamRecord[] | null | undefined): NonfiniteFlag | null {
  const nf = diag?.nonfinite;
  const flag: NonfiniteFlag = { loss: Boolean(nf?.loss), where: nf?.where ?? null, firstLayer: nf?.where ? (nf.first_layer ?? null) : null };
  if (!flag.where) {
    // _params comes in named_parameters() order, which follows named_modules() order.
    const bad = (params ?? []).find((r) => (r.nan ?? 0) + (r.inf ?? 0) > 0);
    if (bad) {
      flag.where = "weights";
      flag.firstLayer = bad.owners?.[0] ?? null;
    }
  }
  return flag.loss || flag.where ? flag : null;
}

/** The warning line: "NaN/Inf in gradients, first at fc2"; "" when there is nothing to flag. */
export function nonfiniteMessage(flag: NonfiniteFlag | null): string {
  if (!flag) return "";
  const parts: string[] = [];
  if (flag.loss) parts.push("a logged metric");
  if (flag.where) {
    const what = flag.where === "grads" ? "gradients" : "weights";
    const at = flag.firstLayer === null ? "" : `, first at ${flag.firstLayer === "" ? "the root module" : flag.firstLayer}`;
    parts.push(`${what}${at}`);
  }
  return `NaN/Inf in ${parts.join(" and in ")}`;
}

/** Mount the header into `root`; returns its cleanup. */
export function mountHeader(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  // The warning keeps its own element, so a diagnostics update does not rebuild the cards.
  const warning = h("div", "mp-nonfinite");
  warning.setAttribute("role", "alert");
  const drawWarning = () => {
    const text = nonfiniteMessage(nonfiniteFlag(model.get("_diagnostics"), model.get("_params")));
    if (warning.textContent !== text) warning.textContent = text;
    warning.hidden = !text;
  };
  const draw = () => {
    const s = summaryOf(model.get("_summary"));
    if (!s) {
      root.replaceChildren(h("div", "mp-empty", "No summary yet."), warning);
      return;
    }
    const title = h("div", "mp-header-title");
    title.append(h("span", "mp-model-kind", s.model_kind));
    const list = h("dl", "mp-header-items");
    for (const item of headerItems(s)) {
      const cell = h("div", "mp-header-item");
      cell.dataset.key = item.key;
      if (item.title) cell.title = item.title;
      cell.append(h("dt", "", item.label), h("dd", "", item.value));
      list.appendChild(cell);
    }
    root.replaceChildren(title, list, warning);
  };
  draw();
  drawWarning();
  ctx.on("change:_summary", () => ctx.schedule(draw));
  ctx.on("change:_diagnostics", () => ctx.schedule(drawWarning));
  ctx.on("change:_params", () => ctx.schedule(drawWarning));
  return () => root.replaceChildren();
}
