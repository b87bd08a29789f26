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
//   .mp-tabs, .mp-tab[data-tab], .mp-tabpanel[data-tab]   the tabs (views/tabs.ts): model
//                                        (tree), parameters (table, histograms), training,
//                                        inference; .mp-tabbody scrolls the shown panel
//   .mp-running                          the running-loop line beside the tabs (views/running.ts)
//
// Layout: the header and the tab bar always show; the tab body scrolls inside a panel at most
// --mp-max-height (700 px) tall, so the whole panel fits a laptop screen beside its cell.

import type { AnyModel, RenderProps } from "@anywidget/types";
import { type ViewContext, createContext } from "./core/context";
import { h } from "./core/dom";
import { type Hists, createHists } from "./core/hists";
import { type Store, createStore } from "./core/store";
import { runningLine } from "./logic/progress";
import { autoOpenTraining } from "./logic/tabs";
import type { Model } from "./model";
import { mountDiagnostics } from "./views/diagnostics";
import { mountDistribution } from "./views/distribution";
import { mountHeader } from "./views/header";
import { mountHistograms } from "./views/histograms";
import { mountInference } from "./views/inference";
import { mountMetricCharts } from "./views/metricCharts";
import { mountParams } from "./views/params";
import { mountProgressBars } from "./views/progressBars";
import { mountRunning } from "./views/running";
import { type Tabs, mountTabs } from "./views/tabs";
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
  // Until a loop runs, the tab says how to fill it rather than showing nothing.
  const hint = parent.appendChild(
    h("div", "mp-hint mp-training-hint", ctx.t("training.empty")),
  );
  const showHint = () => {
    hint.hidden = (model.get("_progress") ?? []).length > 0;
  };
  showHint();
  ctx.on("change:_progress", () => ctx.schedule(showHint));
  const flag = part("mp-nonfinite");
  return [
    mountProgressBars(part("mp-bars"), model, ctx),
    mountMetricCharts(part("mp-metrics"), model, ctx),
    mountDiagnostics(part("mp-diag"), model, ctx, flag),
    mountDistribution(part("mp-dist"), model, ctx, store, hists),
  ];
}

/**
 * While a loop runs, the Training tab's label carries a dot; when one starts, the Training tab
 * opens, unless the user has picked a tab in this view (logic/tabs.ts, autoOpenTraining).
 */
function followLoops(model: AnyModel<Model>, ctx: ViewContext, tabs: Tabs): void {
  let before = runningLine(model.get("_progress")) !== "";
  tabs.setBusy("training", before);
  // One function, so schedule() runs it once per frame however many updates arrive.
  const follow = () => {
    const now = runningLine(model.get("_progress")) !== "";
    tabs.setBusy("training", now);
    if (autoOpenTraining({ userChose: tabs.userChose(), runningBefore: before, runningNow: now })) {
      tabs.show("training", false);
    }
    before = now;
  };
  ctx.on("change:_progress", () => ctx.schedule(follow));
}

/**
 * A panel shown again: its scroll positions come back by themselves, but a view that redrew
 * while hidden read them as 0 (the tree builds only the rows of its scroll window). A scroll
 * event on each scrolled element lets those views redraw for the real position.
 */
function revive(panel: HTMLElement): void {
  const walker = document.createTreeWalker(panel, NodeFilter.SHOW_ELEMENT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if ((node as HTMLElement).scrollTop > 0) node.dispatchEvent(new Event("scroll"));
  }
}

/** "/" anywhere in the panel but a text field: open the Model tab and focus the tree search. */
function focusSearch(ev: KeyboardEvent, tabs: Tabs): void {
  if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const target = ev.target as HTMLElement;
  if (target.closest("input, textarea, select, [contenteditable]")) return;
  const search = tabs.panel("model").querySelector<HTMLInputElement>(".mp-search");
  if (!search) return;
  ev.preventDefault(); // no "/" typed into the box, and no notebook shortcut
  tabs.show("model", true);
  search.focus();
}

/**
 * Render one view of the panel into `el`; every piece of state lives inside this call. A new
 * `_language` (panel.language = "zh-CN") mounts the view afresh: each string is set once.
 */
function render({ model, el }: RenderProps<Model>): () => void {
  let cleanup = mount(model, el);
  const relabel = () => {
    cleanup();
    cleanup = mount(model, el);
  };
  model.on("change:_language", relabel);
  return () => {
    model.off("change:_language", relabel);
    cleanup();
  };
}

function mount(model: AnyModel<Model>, el: HTMLElement): () => void {
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
  const header = section(root, "mp-header");
  const tabRow = root.appendChild(h("div", "mp-tabrow"));
  const tabBar = tabRow.appendChild(h("div", "mp-tabs"));
  const running = tabRow.appendChild(h("button", "mp-running"));
  const body = root.appendChild(h("div", "mp-tabbody"));
  const tabs = mountTabs(tabBar, body, ctx, "model");
  const cleanups = [
    mountHeader(header, model, ctx),
    mountRunning(running, model, ctx, () => tabs.show("training", true)),
    mountTree(section(tabs.panel("model"), "mp-tree"), model, ctx, store),
    mountParams(section(tabs.panel("parameters"), "mp-params"), model, ctx, store),
    mountHistograms(section(tabs.panel("parameters"), "mp-hist"), model, ctx, store, hists),
    ...mountTraining(section(tabs.panel("training"), "mp-training"), model, ctx, store, hists),
    mountInference(section(tabs.panel("inference"), "mp-inference"), model, ctx),
  ];
  followLoops(model, ctx, tabs);
  tabs.onShow((id) => revive(tabs.panel(id)));
  ctx.listen(root, "keydown", (ev) => focusSearch(ev, tabs));

  el.appendChild(root);
  return () => {
    for (const fn of cleanups.reverse()) fn();
    hists.dispose();
    ctx.dispose();
    root.remove();
  };
}

export default { render };
