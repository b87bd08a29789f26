// Header: totals, trainable / non-trainable, parameter and buffer memory, MACs, device(s),
// dtype(s) and train/eval mode, as a row of stat cards; below them, a warning line when a
// NaN/Inf has appeared in the loss, the weights or the gradients (issue 4, point 4).

import type { AnyModel } from "@anywidget/types";
import { recordsOf, summaryOf } from "../core/columns";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import { headerItems } from "../logic/header";
import { nonfiniteFlag, nonfiniteMessage } from "../logic/nonfinite";
import type { Model } from "../model";

/** Mount the header into `root`; returns its cleanup. */
export function mountHeader(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  // The warning keeps its own element, so a diagnostics update does not rebuild the cards.
  const warning = h("div", "mp-nonfinite");
  warning.setAttribute("role", "alert");
  const drawWarning = () => {
    const text = nonfiniteMessage(nonfiniteFlag(model.get("_diagnostics"), recordsOf(model)));
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
      if (item.note) cell.append(h("dd", "mp-hint", item.note));
      list.appendChild(cell);
    }
    root.replaceChildren(title, list, warning);
  };
  draw();
  drawWarning();
  ctx.on("change:_summary", () => ctx.schedule(draw));
  ctx.on("change:_diagnostics", () => ctx.schedule(drawWarning));
  ctx.on("change:_params", () => ctx.schedule(drawWarning));
  ctx.on("change:_param_stats", () => ctx.schedule(drawWarning));
  return () => root.replaceChildren();
}
