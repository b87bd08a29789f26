// One Plotly line chart per metric series, step-level series first. The series are kept across
// `_metrics` messages by core/metricsFeed.ts (each message brings only new points). Long series
// are thinned for drawing (logic/metrics.ts keeps the spikes). Names are captions set with
// textContent: Plotly gets numbers only, because its titles parse HTML.
//
// Stable class names (browser tests rely on them):
//   .mp-metrics, .mp-metric[data-name], .mp-metric-plot[data-name]

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import type { Translate } from "../core/i18n";
import { createMetricsFeed } from "../core/metricsFeed";
import Plotly from "../core/plotly";
import { type Theme, themeOf, withTheme } from "../core/theme";
import { type Series, flatRange, thinSeries } from "../logic/metrics";
import type { Model } from "../model";

const MAX_POINTS = 1500; // per drawn line; the feed keeps up to 2,000 per series

interface Chart {
  box: HTMLElement;
  plot: HTMLElement;
}

/** Mount the metric charts into `root` (.mp-metrics); returns its cleanup. */
export function mountMetricCharts(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  const charts = new Map<string, Chart>();
  const theme = themeOf(ctx, root);
  const render = () => {
    const series = feed.series();
    const seen = new Set<string>();
    for (const s of series) {
      seen.add(s.name);
      let chart = charts.get(s.name);
      if (!chart) {
        chart = buildChart(s, ctx.t);
        charts.set(s.name, chart);
      }
      root.appendChild(chart.box);
      draw(chart.plot, s, theme.get(), ctx.t);
    }
    for (const [name, chart] of charts) {
      if (!seen.has(name)) {
        Plotly.purge(chart.plot);
        chart.box.remove();
        charts.delete(name);
      }
    }
  };
  const feed = createMetricsFeed(model, ctx, () => ctx.schedule(render));
  render();
  const unsubscribeTheme = theme.subscribe(() => ctx.schedule(render));
  return () => {
    unsubscribeTheme();
    for (const chart of charts.values()) Plotly.purge(chart.plot);
    charts.clear();
    root.replaceChildren();
  };
}

function buildChart(s: Series, t: Translate): Chart {
  const box = h("div", "mp-metric");
  box.dataset.name = s.name;
  const plot = h("div", "mp-metric-plot");
  plot.dataset.name = s.name;
  box.append(h("div", "mp-metric-name", s.epochLevel ? t("metrics.perEpoch", { name: s.name }) : s.name), plot);
  return { box, plot };
}

function draw(plot: HTMLElement, s: Series, theme: Theme, t: Translate): void {
  const pts = thinSeries(s.x, s.y, MAX_POINTS);
  // New arrays every draw: the feed appends to its arrays in place, and Plotly.react skips
  // the recalculation (axes, autorange) of data arrays it has seen before.
  const trace = {
    x: pts.x.slice(),
    y: pts.y.slice(),
    type: "scatter",
    mode: s.epochLevel || pts.x.length < 2 ? "lines+markers" : "lines",
    line: { width: 1.5 },
    hovertemplate: "%{x}: %{y:.4g}<extra></extra>",
  };
  const flat = flatRange(pts.y);
  const layout = withTheme(
    {
      width: 320,
      height: 180,
      margin: { l: 48, r: 8, t: 6, b: 30 },
      xaxis: { title: { text: t(s.epochLevel ? "axis.epoch" : "axis.step") }, automargin: true },
      yaxis: { automargin: true, ...(flat ? { range: flat, autorange: false } : {}) },
      showlegend: false,
    },
    theme,
  );
  void Plotly.react(plot, [trace], layout, { displayModeBar: false, responsive: false });
}
