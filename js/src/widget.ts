// modelpanel front end: render() mounts the sections of one view and returns its cleanup.
//
// Stable CSS class names (browser tests and users' custom CSS rely on them):
//   .modelpanel                          root of one view
//   .mp-header                           totals, memory, MACs, device(s), dtype(s), mode:
//                                        .mp-header-item[data-key] cards (dt label, dd value);
//                                        .mp-nonfinite warning line ("NaN/Inf in gradients,
//                                        first at fc2"), hidden while all is finite
//   .mp-tree, .mp-tree-row[data-path][data-params]  layer tree and its (virtualised) rows;
//                                        inside a row: .mp-tree-name, .mp-kind, .mp-shape,
//                                        .mp-count (parameters), .mp-share (% of total);
//                                        .mp-selected on the selected row
//   .mp-tree-detail                      how the hovered / selected row's count is derived
//   .mp-tree-toggle                      expand/collapse button of one row
//   .mp-expand-all, .mp-collapse-all     tree toolbar buttons
//   .mp-search                           tree search box (filters by name or type)
//   .mp-badge-frozen, .mp-badge-shared, .mp-badge-unused
//   .mp-badge-nonfinite                  on the row where NaN/Inf first appeared (that row
//                                        also carries .mp-nonfinite-row)
//   .mp-params, .mp-param-row[data-name] parameter table and its rows (data-name = first name,
//                                        data-id = _params id); th[data-key] sorts; rows with a
//                                        histogram drawn carry .mp-plotted
//   .mp-hist, .mp-hist-plot[data-name]   weight histograms (small multiples, Plotly inside);
//                                        .mp-hist-item wraps one, .mp-hist-enlarged when clicked,
//                                        .mp-hist-loading until the kernel sent its counts
//   .mp-training, .mp-inference          training and inference sections (the training views
//                                        list their own classes: views/progressBars.ts, ...)
//   .mp-error                            last error raised by a callback the view triggered

import type { AnyModel, RenderProps } from "@anywidget/types";
import { type ViewContext, createContext } from "./core/context";
import { h } from "./core/dom";
import { type Hists, createHists } from "./core/hists";
import { type Store, createStore } from "./core/store";
import type { Model } from "./model";
import { isProgressLine, renderProgressLine } from "./progressLine";
import { mountDiagnostics } from "./views/diagnostics";
import { mountDistribution } from "./views/distribution";
import { mountHeader } from "./views/header";
import { mountHistograms } from "./views/histograms";
import { mountInference } from "./views/inference";
import { mountMetricCharts } from "./views/metricCharts";
import { mountParams } from "./views/params";
import { mountProgressBars } from "./views/progressBars";
import { mountTree } from "./views/tree";
import css from "./widget.css";

function section(parent: HTMLElement, className: string): HTMLElement {
  return parent.appendChild(h("section", className));
}

/**
 * The training section holds four views, each in its own div. The NaN/Inf line comes first,
 * above the bars, although the diagnostics view that fills it draws its table further down.
 */
function mountTraining(
  parent: HTMLElement,
  model: AnyModel<Model>,
  ctx: ViewContext,
  store: Store,
  hists: Hists,
): Array<() => void> {
  const part = (className: string) => parent.appendChild(h("div", className));
  const flag = part("mp-nonfinite");
  return [
    mountProgressBars(part("mp-bars"), model, ctx),
    mountMetricCharts(part("mp-metrics"), model, ctx),
    mountDiagnostics(part("mp-diag"), model, ctx, flag),
    mountDistribution(part("mp-dist"), model, ctx, store, hists),
  ];
}

/** Render one view of the panel into `el`; every piece of state lives inside this call. */
function render({ model, el }: RenderProps<Model>): () => void {
  // The same bundle draws a cell's ProgressLine (panel/progress_line.py): `_view` says which.
  if (isProgressLine(model)) return renderProgressLine({ model, el } as never);
  const ctx = createContext(model);
  const root = document.createElement("div");
  root.className = "modelpanel";
  const style = document.createElement("style");
  style.textContent = css;
  root.appendChild(style);

  // Shown above everything: the last exception from a callback this view triggered.
  const error = document.createElement("div");
  error.className = "mp-error";
  error.setAttribute("role", "alert");
  root.appendChild(error);
  const showError = () => {
    const text = model.get("_error") ?? "";
    error.textContent = text;
    error.hidden = !text;
  };
  showError();
  ctx.on("change:_error", () => ctx.schedule(showError));

  const store = createStore(); // selection, sort, picks and watched tensors of THIS view only
  const hists = createHists(model, ctx, store);
  const cleanups = [
    mountHeader(section(root, "mp-header"), model, ctx),
    mountTree(section(root, "mp-tree"), model, ctx, store),
    mountParams(section(root, "mp-params"), model, ctx, store),
    mountHistograms(section(root, "mp-hist"), model, ctx, store, hists),
    ...mountTraining(section(root, "mp-training"), model, ctx, store, hists),
    mountInference(section(root, "mp-inference"), model, ctx),
  ];

  el.appendChild(root);
  return () => {
    for (const fn of cleanups.reverse()) fn();
    hists.dispose();
    ctx.dispose();
    root.remove();
  };
}

export default { render };
