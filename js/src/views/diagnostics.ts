// The opt-in diagnostics of the training section: per-layer gradient norms and activation
// statistics from `_diagnostics`, and the NaN/Inf line at the top of the section. That line
// repeats the header's wording, from the kernel's report only (the header also reads _params).
//
// Stable class names (browser tests rely on them): .mp-nonfinite, .mp-diag, tr[data-path]

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import { formatStat } from "../core/format";
import type { Translate } from "../core/i18n";
import { nonfiniteFlag, nonfiniteMessage } from "../logic/nonfinite";
import type { Diagnostics, Model } from "../model";

const COLUMNS = ["diag.colLayer", "diag.colGradNorm", "diag.colActMean", "diag.colActStd", "diag.colZeros"];

/**
 * Mount the diagnostics table into `root` (.mp-diag) and the NaN/Inf line into `flag`, which
 * sits apart from the table, above the progress bars; returns the cleanup.
 */
export function mountDiagnostics(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext, flag: HTMLElement): () => void {
  flag.setAttribute("role", "alert");
  flag.hidden = true;
  const render = () => {
    const d: Diagnostics = model.get("_diagnostics") ?? {};
    flag.textContent = nonfiniteMessage(nonfiniteFlag(d, null), ctx.t);
    flag.hidden = !flag.textContent;
    root.replaceChildren();
    const table = diagnosticsTable(d, ctx.t);
    if (table) root.appendChild(table);
  };
  render();
  ctx.on("change:_diagnostics", () => ctx.schedule(render));
  return () => {
    flag.replaceChildren();
    root.replaceChildren();
  };
}

/** One row per layer named in the gradient norms or the activations; null when there is none. */
function diagnosticsTable(d: Diagnostics, t: Translate): HTMLTableElement | null {
  const grads = d.grad_norms ?? {};
  const acts = d.activations ?? {};
  const paths = Array.from(new Set([...Object.keys(grads), ...Object.keys(acts)]));
  if (!paths.length) return null;
  const table = h("table");
  const head = h("tr");
  for (const key of COLUMNS) head.appendChild(h("th", "", t(key)));
  table.appendChild(head);
  for (const path of paths) {
    const a = acts[path];
    const tr = h("tr");
    tr.dataset.path = path;
    tr.append(
      h("td", "", path || t("diag.root")),
      h("td", "mp-num", path in grads ? formatStat(grads[path] ?? null) : ""),
      h("td", "mp-num", a ? formatStat(a.mean) : ""),
      h("td", "mp-num", a ? formatStat(a.std) : ""),
      h("td", "mp-num", a && a.zero_frac !== null ? `${(100 * a.zero_frac).toFixed(1)}%` : ""),
    );
    table.appendChild(tr);
  }
  return table;
}
