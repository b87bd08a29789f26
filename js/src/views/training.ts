// Live training view: tqdm-like progress bars, one Plotly line chart per metric, a NaN/Inf
// flag, the opt-in diagnostics table, and the distributions-over-time heatmap of one tensor.
// Traits: _progress, _metrics, _diagnostics, _hist_history, _params (docs/widget-state.md).
//
// Stable class names (browser tests rely on them):
//   .mp-bars, .mp-bar[data-id][data-level][data-state], .mp-bar-count, .mp-bar-fill, .mp-bar-error
//   .mp-metrics, .mp-metric[data-name], .mp-metric-plot[data-name]   (one chart per metric)
//   .mp-nonfinite, .mp-diag, .mp-dist, .mp-dist-select, .mp-dist-plot
//
// Kernel updates arrive at most ~10 per second; each trait is redrawn at most once per frame
// (ctx.schedule). Every string from the kernel goes through textContent; Plotly gets numbers
// only (its titles parse HTML), names are captions next to the charts.

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { decodeHistory, distributionHeatmap } from "../logic/distributions";
import { h } from "../core/dom";
import { formatStat } from "../core/format";
import { nonfiniteFlag, nonfiniteMessage } from "../logic/nonfinite";
import { decodeMetrics, thinSeries } from "../logic/metrics";
import type { Diagnostics, Model, ProgressBar } from "../model";
import Plotly from "../core/plotly";
import { barText, fractionDone, orderBars } from "../logic/progress";

const CSS = `
.mp-bar { display: grid; grid-template-columns: minmax(60px, max-content) 3.2em minmax(120px, 1fr) max-content max-content;
  gap: 6px; align-items: center; font-family: var(--jp-code-font-family, monospace); font-size: 11px; }
.mp-bar[data-level="1"] { padding-left: 14px; } .mp-bar[data-level="2"] { padding-left: 28px; }
.mp-bar-track { height: 10px; background: var(--mp-bg-alt, #f6f8fa); border: 1px solid var(--mp-border, #d0d7de); border-radius: 2px; overflow: hidden; }
.mp-bar-fill { height: 100%; background: var(--mp-accent, #1976d2); width: 0; }
.mp-bar[data-state="done"] .mp-bar-fill { background: var(--jp-success-color1, #2e7d32); }
.mp-bar[data-state="error"] .mp-bar-fill, .mp-bar[data-state="stopped"] .mp-bar-fill { background: var(--jp-error-color1, #b42318); }
.mp-bar-error { color: var(--jp-error-color1, #b42318); grid-column: 1 / -1; }
.mp-training > .mp-nonfinite { color: var(--jp-error-color1, #b42318); font-weight: 600; }
.mp-metrics { display: flex; flex-wrap: wrap; gap: 8px; }
.mp-metric-name, .mp-dist-title { font-weight: 600; }
.mp-diag table { border-collapse: collapse; } .mp-diag td, .mp-diag th { padding: 0 8px; text-align: right; }
.mp-diag td:first-child, .mp-diag th:first-child { text-align: left; }
`;

const PLOT_CONFIG = { displayModeBar: false, responsive: false, staticPlot: false };
const MAX_POINTS = 1500; // per drawn line; the kernel keeps up to 2x its metric_points

/** Mount the training section into `root`; returns its cleanup. */
export function mountTraining(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  root.replaceChildren();
  const style = h("style");
  style.textContent = CSS;
  const flag = h("div", "mp-nonfinite");
  flag.setAttribute("role", "alert");
  flag.hidden = true;
  const bars = h("div", "mp-bars");
  const metrics = h("div", "mp-metrics");
  const diag = h("div", "mp-diag");
  const dist = h("div", "mp-dist");
  root.append(style, flag, bars, metrics, diag, dist);

  // -- progress bars (keyed by id, elements reused between updates) --------------------------
  const barEls = new Map<number, { row: HTMLElement; parts: Record<string, HTMLElement> }>();
  const renderBars = () => {
    const list = orderBars(model.get("_progress"));
    const seen = new Set<number>();
    for (const bar of list) {
      seen.add(bar.id);
      let item = barEls.get(bar.id);
      if (!item) {
        const row = h("div", "mp-bar");
        const parts = {
          desc: h("span", "mp-bar-desc"),
          percent: h("span", "mp-bar-percent mp-num"),
          track: h("div", "mp-bar-track"),
          fill: h("div", "mp-bar-fill"),
          count: h("span", "mp-bar-count mp-num"),
          meta: h("span", "mp-bar-meta"),
          error: h("div", "mp-bar-error"),
        };
        parts.track.appendChild(parts.fill);
        row.append(parts.desc, parts.percent, parts.track, parts.count, parts.meta, parts.error);
        item = { row, parts };
        barEls.set(bar.id, item);
      }
      updateBar(item.row, item.parts, bar);
      bars.appendChild(item.row); // re-append keeps the DOM in display order
    }
    for (const [id, item] of barEls) {
      if (!seen.has(id)) {
        item.row.remove();
        barEls.delete(id);
      }
    }
  };

  // -- metric charts: one Plotly line chart per series ----------------------------------------
  const charts = new Map<string, { box: HTMLElement; plot: HTMLElement }>();
  const renderMetrics = () => {
    let series;
    try {
      series = decodeMetrics(model.get("_metrics"));
    } catch {
      return; // a malformed update: keep the last good charts
    }
    const seen = new Set<string>();
    for (const s of series) {
      seen.add(s.name);
      let chart = charts.get(s.name);
      if (!chart) {
        const box = h("div", "mp-metric");
        box.dataset.name = s.name;
        const plot = h("div", "mp-metric-plot");
        plot.dataset.name = s.name;
        box.append(h("div", "mp-metric-name", s.epochLevel ? `${s.name} (per epoch)` : s.name), plot);
        chart = { box, plot };
        charts.set(s.name, chart);
      }
      metrics.appendChild(chart.box);
      const pts = thinSeries(s.x, s.y, MAX_POINTS);
      const trace = {
        x: pts.x,
        y: pts.y,
        type: "scatter",
        mode: s.epochLevel || pts.x.length < 2 ? "lines+markers" : "lines",
        line: { width: 1.5 },
        hovertemplate: "%{x}: %{y:.4g}<extra></extra>",
      };
      const layout = {
        width: 320,
        height: 180,
        margin: { l: 48, r: 8, t: 6, b: 30 },
        xaxis: { title: { text: s.epochLevel ? "epoch" : "step" }, automargin: true },
        yaxis: { automargin: true },
        showlegend: false,
      };
      void Plotly.react(chart.plot, [trace] as never, layout as never, PLOT_CONFIG as never);
    }
    for (const [name, chart] of charts) {
      if (!seen.has(name)) {
        Plotly.purge(chart.plot);
        chart.box.remove();
        charts.delete(name);
      }
    }
  };

  // -- NaN/Inf flag and diagnostics table --------------------------------------------------------
  const renderDiagnostics = () => {
    const d: Diagnostics = model.get("_diagnostics") ?? {};
    // The header's wording, from the kernel's report only (the header also reads _params).
    flag.textContent = nonfiniteMessage(nonfiniteFlag(d, null));
    flag.hidden = !flag.textContent;
    diag.replaceChildren();
    const grads = d.grad_norms ?? {};
    const acts = d.activations ?? {};
    const paths = Array.from(new Set([...Object.keys(grads), ...Object.keys(acts)]));
    if (!paths.length) return;
    const table = h("table");
    const head = h("tr");
    for (const label of ["layer", "grad norm", "act mean", "act std", "zeros"]) head.appendChild(h("th", "", label));
    table.appendChild(head);
    for (const path of paths) {
      const a = acts[path];
      const tr = h("tr");
      tr.dataset.path = path;
      tr.append(
        h("td", "", path || "(root)"),
        h("td", "mp-num", path in grads ? formatStat(grads[path] ?? null) : ""),
        h("td", "mp-num", a ? formatStat(a.mean) : ""),
        h("td", "mp-num", a ? formatStat(a.std) : ""),
        h("td", "mp-num", a && a.zero_frac !== null ? `${(100 * a.zero_frac).toFixed(1)}%` : ""),
      );
      table.appendChild(tr);
    }
    diag.appendChild(table);
  };

  // -- distributions over time: heatmap of one tensor ---------------------------------------------
  const select = h("select", "mp-dist-select");
  const distPlot = h("div", "mp-dist-plot");
  let chosen = 0; // this view's choice; other views of the widget keep their own
  let distPlotted = false;
  const onSelect = () => {
    chosen = Number(select.value);
    ctx.schedule(renderDist);
  };
  ctx.listen(select, "change", onSelect);
  const renderDist = () => {
    let history;
    try {
      history = decodeHistory(model.get("_hist_history"));
    } catch {
      return;
    }
    if (!history || history.t === 0) {
      dist.replaceChildren();
      if (distPlotted) Plotly.purge(distPlot);
      distPlotted = false;
      return;
    }
    const params = model.get("_params") ?? [];
    const names = Array.from({ length: history.n }, (_, i) => params[i]?.names?.[0] ?? `tensor ${i}`);
    if (select.options.length !== names.length || Array.from(select.options).some((o, i) => o.textContent !== names[i])) {
      select.replaceChildren(...names.map((name, i) => {
        const o = h("option", "", name);
        o.value = String(i);
        return o;
      }));
    }
    if (chosen >= names.length) chosen = 0;
    select.value = String(chosen);
    if (!dist.firstChild) dist.append(h("span", "mp-dist-title", "Weights over time "), select, distPlot);
    const heat = distributionHeatmap(history, chosen);
    if (!heat) return;
    const trace = { type: "heatmap", x: heat.x, y: heat.y, z: heat.z, colorscale: "Blues", reversescale: false, showscale: false,
      hovertemplate: "step %{x}<br>value %{y:.3g}<br>%{z:.1%}<extra></extra>" };
    const layout = { width: 480, height: 220, margin: { l: 56, r: 8, t: 6, b: 30 },
      xaxis: { title: { text: "step" } }, yaxis: { title: { text: "value" } } };
    void Plotly.react(distPlot, [trace] as never, layout as never, PLOT_CONFIG as never);
    distPlotted = true;
  };

  renderBars();
  renderMetrics();
  renderDiagnostics();
  renderDist();
  ctx.on("change:_progress", () => ctx.schedule(renderBars));
  ctx.on("change:_metrics", () => ctx.schedule(renderMetrics));
  ctx.on("change:_diagnostics", () => ctx.schedule(renderDiagnostics));
  ctx.on("change:_hist_history", () => ctx.schedule(renderDist));
  ctx.on("change:_params", () => ctx.schedule(renderDist));

  return () => {
    for (const chart of charts.values()) Plotly.purge(chart.plot);
    if (distPlotted) Plotly.purge(distPlot);
    charts.clear();
    barEls.clear();
    root.replaceChildren();
  };
}

function updateBar(row: HTMLElement, parts: Record<string, HTMLElement>, bar: ProgressBar): void {
  const text = barText(bar);
  row.dataset.id = String(bar.id);
  row.dataset.level = String(Math.min(bar.level, 2));
  row.dataset.state = String(bar.state);
  setText(parts.desc, text.desc);
  setText(parts.percent, text.percent);
  setText(parts.count, text.count);
  setText(parts.meta, text.meta);
  setText(parts.error, bar.error ?? "");
  (parts.error as HTMLElement).hidden = !bar.error;
  const frac = fractionDone(bar);
  // Without a total tqdm shows no bar; a full track that is "running" says the same honestly.
  (parts.fill as HTMLElement).style.width = `${Math.round((frac ?? (bar.state === "running" ? 0 : 1)) * 1000) / 10}%`;
}

function setText(el: HTMLElement | undefined, text: string): void {
  if (el && el.textContent !== text) el.textContent = text;
}
