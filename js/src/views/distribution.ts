// Distributions over time (TensorBoard's "distributions", inside the notebook): a heatmap of one
// tensor's weight histograms from `_hist_history`, bins x snapshots, with a picker of the
// tensor. The choice is this view's own: other views of the widget keep theirs.
//
// Stable class names (browser tests rely on them): .mp-dist, .mp-dist-select, .mp-dist-plot

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import Plotly from "../core/plotly";
import { type Heatmap, decodeHistory, distributionHeatmap } from "../logic/distributions";
import type { Model } from "../model";

/** Mount the distributions heatmap into `root` (.mp-dist); returns its cleanup. */
export function mountDistribution(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  const select = h("select", "mp-dist-select");
  const plot = h("div", "mp-dist-plot");
  let chosen = 0;
  let plotted = false;

  const render = () => {
    let history: ReturnType<typeof decodeHistory>;
    try {
      history = decodeHistory(model.get("_hist_history"));
    } catch {
      return; // a malformed update: keep the last good heatmap
    }
    if (!history || history.t === 0) {
      root.replaceChildren();
      if (plotted) Plotly.purge(plot);
      plotted = false;
      return;
    }
    const params = model.get("_params") ?? [];
    const names = Array.from({ length: history.n }, (_, i) => params[i]?.names?.[0] ?? `tensor ${i}`);
    setOptions(select, names);
    if (chosen >= names.length) chosen = 0;
    select.value = String(chosen);
    if (!root.firstChild) root.append(h("span", "mp-dist-title", "Weights over time "), select, plot);
    const heat = distributionHeatmap(history, chosen);
    if (!heat) return;
    draw(plot, heat);
    plotted = true;
  };

  ctx.listen(select, "change", () => {
    chosen = Number(select.value);
    ctx.schedule(render);
  });
  render();
  ctx.on("change:_hist_history", () => ctx.schedule(render));
  ctx.on("change:_params", () => ctx.schedule(render));
  return () => {
    if (plotted) Plotly.purge(plot);
    root.replaceChildren();
  };
}

/** Replace the picker's options when the tensor names changed (rarely: the history refreshes often). */
function setOptions(select: HTMLSelectElement, names: string[]): void {
  const current = Array.from(select.options);
  if (current.length === names.length && current.every((o, i) => o.textContent === names[i])) return;
  select.replaceChildren(
    ...names.map((name, i) => {
      const o = h("option", "", name);
      o.value = String(i);
      return o;
    }),
  );
}

function draw(plot: HTMLElement, heat: Heatmap): void {
  const trace = {
    type: "heatmap",
    x: heat.x,
    y: heat.y,
    z: heat.z,
    colorscale: "Blues",
    reversescale: false,
    showscale: false,
    hovertemplate: "step %{x}<br>value %{y:.3g}<br>%{z:.1%}<extra></extra>",
  };
  const layout = {
    width: 480,
    height: 220,
    margin: { l: 56, r: 8, t: 6, b: 30 },
    xaxis: { title: { text: "step" } },
    yaxis: { title: { text: "value" } },
  };
  void Plotly.react(plot, [trace], layout, { displayModeBar: false, responsive: false });
}
