// Header: totals, trainable / non-trainable, parameter and buffer memory, MACs, device(s),
// dtype(s) and train/eval mode, as a row of stat cards; below them, the message of a forward
// that failed (the panel shows the model up to there), and a warning line when a NaN/Inf has
// appeared in the loss, the weights or the gradients (issue 4, point 4). The MACs card offers a
// "Count MACs" button until they are counted (a count_macs request; "counting… 40%" meanwhile,
// from the kernel's _macs_progress, which also shows a count started from code).

import type { AnyModel } from "@anywidget/types";
import { recordsOf, summaryOf } from "../core/columns";
import type { ViewContext } from "../core/context";
import { button, h } from "../core/dom";
import { type MacsRequest, forwardFailure, headerItems } from "../logic/header";
import { nonfiniteFlag, nonfiniteMessage } from "../logic/nonfinite";
import type { Model, Summary } from "../model";

/** Mount the header into `root`; returns its cleanup. */
export function mountHeader(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  // The warning keeps its own element, so a diagnostics update does not rebuild the cards.
  const warning = h("div", "mp-nonfinite");
  warning.setAttribute("role", "alert");
  const drawWarning = () => {
    const text = nonfiniteMessage(nonfiniteFlag(model.get("_diagnostics"), recordsOf(model)), ctx.t);
    if (warning.textContent !== text) warning.textContent = text;
    warning.hidden = !text;
  };
  const request: MacsRequest = { counting: false, error: "" };
  const countMacs = () => {
    request.counting = true;
    request.error = "";
    draw();
    ctx.send({ kind: "count_macs" }, (reply) => {
      request.counting = false;
      request.error = reply.ok ? "" : (reply.error ?? ctx.t("common.failed"));
      ctx.schedule(draw); // the count itself came with _summary, before this reply
    });
  };
  const draw = () => {
    request.progress = model.get("_macs_progress") ?? null;
    const s = summaryOf(model.get("_summary"));
    if (!s) {
      root.replaceChildren(h("div", "mp-empty", ctx.t("common.noSummary")), warning);
      return;
    }
    const title = h("div", "mp-header-title");
    title.append(h("span", "mp-model-kind", s.model_kind));
    // The summary is of the module inside torch.compile / DataParallel: say it was wrapped.
    if (s.wrappers?.length) {
      const wrapped = h("span", "mp-model-wrappers", ctx.t("header.wrappedIn", { wrappers: s.wrappers.join(" › ") }));
      wrapped.title = ctx.t("header.wrappedInTitle");
      title.append(" ", wrapped);
    }
    root.replaceChildren(title, cards(s), ...failure(s), warning);
  };
  const cards = (s: Summary) => {
    const list = h("dl", "mp-header-items");
    for (const item of headerItems(s, request, ctx.t)) {
      const cell = h("div", "mp-header-item");
      cell.dataset.key = item.key;
      if (item.title) cell.title = item.title;
      cell.append(h("dt", "", item.label), h("dd", "", item.value));
      if (item.note) cell.append(h("dd", "mp-hint", item.note));
      if (item.action) {
        const dd = h("dd");
        dd.appendChild(button("mp-count-macs", item.action));
        cell.append(dd);
      }
      list.appendChild(cell);
    }
    return list;
  };
  const failure = (s: Summary): HTMLElement[] => {
    const f = forwardFailure(s, ctx.t);
    if (!f) return [];
    const banner = h("div", "mp-forward-error");
    banner.setAttribute("role", "alert");
    banner.append(h("div", "mp-forward-error-heading", f.heading), h("div", "mp-forward-error-message", f.message));
    return [banner];
  };
  // One listener for the button of every redraw (the cards are rebuilt on each _summary).
  ctx.listen(root, "click", (ev) => {
    const b = (ev.target as HTMLElement | null)?.closest?.(".mp-count-macs") as HTMLButtonElement | null;
    if (b && !request.counting) countMacs();
  });
  draw();
  drawWarning();
  ctx.on("change:_summary", () => ctx.schedule(draw));
  ctx.on("change:_macs_progress", () => ctx.schedule(draw));
  ctx.on("change:_diagnostics", () => ctx.schedule(drawWarning));
  ctx.on("change:_params", () => ctx.schedule(drawWarning));
  ctx.on("change:_param_stats", () => ctx.schedule(drawWarning));
  return () => root.replaceChildren();
}
