// Header: totals, trainable / non-trainable, parameter and buffer memory, MACs, device(s),
// dtype(s) and train/eval mode.

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "./context";
import { h } from "./dom";
import { MISSING, formatBytes, formatCompact, formatInt } from "./format";
import { type Model, type Summary, summaryOf } from "./model";

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

/** Mount the header into `root`; returns its cleanup. */
export function mountHeader(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  const draw = () => {
    const s = summaryOf(model.get("_summary"));
    if (!s) {
      root.replaceChildren(h("div", "mp-empty", "No summary yet."));
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
    root.replaceChildren(title, list);
  };
  draw();
  ctx.on("change:_summary", () => ctx.schedule(draw));
  return () => root.replaceChildren();
}
