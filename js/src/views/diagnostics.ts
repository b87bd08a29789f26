// The opt-in diagnostics of the training section: a titled table of per-layer gradient norms,
// activation statistics and flags (dead units, vanishing or exploding gradients, NaN/Inf:
// logic/flags.ts) from `_diagnostics`, flagged rows highlighted, each flag's sentence (what it
// means, what helps) under the table; and the NaN/Inf line at the top of the section. That line
// repeats the header's wording, from the kernel's report only (the header also reads _params).
//
// Stable class names (browser tests rely on them): .mp-nonfinite, .mp-diag, tr[data-path], .mp-diag-kind,
// .mp-flagged-row, .mp-badge-<flag>, .mp-diag-advice li[data-flag]

import type { AnyModel } from "@anywidget/types";
import { summaryOf } from "../core/columns";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import { formatStat } from "../core/format";
import type { Translate } from "../core/i18n";
import { diagnosticsRows, flagBadges, flagLegend, flagsByPath } from "../logic/flags";
import { type NonfiniteFlag, nonfiniteFlag, nonfiniteMessage } from "../logic/nonfinite";
import type { Diagnostics, Layer, Model } from "../model";

// Column heads (catalog keys; each has a "<key>Title" tooltip).
const COLUMNS = ["diag.colLayer", "diag.colGradNorm", "diag.colActMean", "diag.colActStd", "diag.colZeros", "diag.colFlags"];

/**
 * Mount the diagnostics table into `root` (.mp-diag) and the NaN/Inf line into `flag`, which
 * sits apart from the table, above the progress bars; returns the cleanup.
 */
export function mountDiagnostics(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext, flag: HTMLElement): () => void {
  flag.setAttribute("role", "alert");
  flag.hidden = true;
  const render = () => {
    const d: Diagnostics = model.get("_diagnostics") ?? {};
    const first = nonfiniteFlag(d, null);
    flag.textContent = nonfiniteMessage(first, ctx.t);
    flag.hidden = !flag.textContent;
    root.replaceChildren();
    const summary = summaryOf(model.get("_summary"));
    // The model itself (the kernel's `root`, path "") first, as in the tree.
    const layers = summary ? (summary.root ? [summary.root, ...summary.layers] : summary.layers) : [];
    const table = diagnosticsTable(d, first, layers, ctx.t);
    if (table) root.appendChild(table);
  };
  render();
  ctx.on("change:_diagnostics", () => ctx.schedule(render));
  ctx.on("change:_summary", () => ctx.schedule(render)); // the rows' order and kinds
  return () => {
    flag.replaceChildren();
    root.replaceChildren();
  };
}

/**
 * The titled table, one row per module measured or flagged in the model's order with its kind
 * beside its path, and the flags' sentences; null when empty.
 */
function diagnosticsTable(d: Diagnostics, first: NonfiniteFlag | null, layers: readonly Layer[], t: Translate): HTMLElement | null {
  const rows = diagnosticsRows(d, flagsByPath(d, first), layers);
  if (!rows.length) return null;
  const table = h("table");
  table.appendChild(h("caption", "mp-diag-title", t("diag.title")));
  const head = h("tr");
  for (const key of COLUMNS) {
    const th = h("th", "", t(key));
    th.title = t(`${key}Title`);
    th.scope = "col";
    head.appendChild(th);
  }
  table.appendChild(h("thead")).appendChild(head);
  const body = table.appendChild(h("tbody"));
  for (const row of rows) {
    const tr = h("tr");
    tr.dataset.path = row.path;
    const flags = h("td", "mp-diag-flags");
    for (const b of flagBadges(row.flags, first?.firstLayer === row.path, t)) {
      const badge = h("span", `mp-badge mp-badge-${b.key}`, b.text);
      badge.title = b.title;
      flags.appendChild(badge);
    }
    if (row.flags.length) tr.classList.add("mp-flagged-row");
    const layer = h("td", "", row.path || t("diag.root"));
    if (row.kind) layer.append(" ", h("span", "mp-diag-kind", row.kind));
    tr.append(
      layer,
      h("td", "mp-num", row.gradNorm === undefined ? "" : formatStat(row.gradNorm)),
      h("td", "mp-num", row.mean === undefined ? "" : formatStat(row.mean)),
      h("td", "mp-num", row.std === undefined ? "" : formatStat(row.std)),
      h("td", "mp-num", row.zeroFrac === undefined || row.zeroFrac === null ? "" : `${(100 * row.zeroFrac).toFixed(1)}%`),
      flags,
    );
    body.appendChild(tr);
  }
  const wrap = h("div");
  wrap.appendChild(table);
  const legend = flagLegend(rows, t);
  if (legend.length) {
    const list = h("ul", "mp-diag-advice");
    for (const b of legend) {
      const li = h("li");
      li.dataset.flag = b.key;
      li.append(h("span", `mp-badge mp-badge-${b.key}`, b.text), ` ${b.title}`);
      list.appendChild(li);
    }
    wrap.appendChild(list);
  }
  return wrap;
}
