// Distributions over time (TensorBoard's "distributions", inside the notebook): a heatmap of one
// tensor's weight histograms over training, bins x snapshots, with a picker of the tensor. The
// choice is this view's own: other views of the widget keep theirs.
//
// The kernel sends a tensor's history only when asked (hist_history, on mount and when the
// picker changes); after that each `_hist` snapshot with a step adds one column. The chosen
// tensor goes into the store's `watched`, so the snapshots include it.
//
// Stable class names (browser tests rely on them): .mp-dist, .mp-dist-select, .mp-dist-plot

import type { AnyModel } from "@anywidget/types";
import { recordsOf } from "../core/columns";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import type { Hists } from "../core/hists";
import type { Translate } from "../core/i18n";
import Plotly from "../core/plotly";
import { type Store, setWatched } from "../core/store";
import { type Theme, colorscale, themeOf, withTheme } from "../core/theme";
import { type Heatmap, type TensorHistory, appendColumn, distributionHeatmap, historyFromReply, stepAxis } from "../logic/distributions";
import type { HistHistoryReply, Model } from "../model";

// The UI strings of this view.
/** Mount the distributions heatmap into `root` (.mp-dist); returns its cleanup. */
export function mountDistribution(
  root: HTMLElement,
  model: AnyModel<Model>,
  ctx: ViewContext,
  store: Store,
  hists: Hists,
): () => void {
  const select = h("select", "mp-dist-select");
  const plot = h("div", "mp-dist-plot");
  const theme = themeOf(ctx, root);
  let chosen = 0;
  let plotted = false;
  let history: TensorHistory | null = null;
  let pending: string | null = null; // id of the hist_history request on its way
  // Columns that arrive while the request is on its way. The kernel answers only between
  // cells, so when training runs in the cell that showed the panel these are all there is
  // until it ends: they are drawn meanwhile, and the newer ones extend the reply.
  let held: TensorHistory | null = null;

  const request = () => {
    history = null;
    held = null;
    const n = recordsOf(model).length;
    if (chosen >= n) chosen = 0;
    if (!n) {
      pending = null;
      setWatched(store, "distribution", []);
      return;
    }
    setWatched(store, "distribution", [chosen]);
    const tensor = chosen;
    held = { tensor, steps: [], counts: [], range: [] };
    pending = ctx.send({ kind: "hist_history", tensor }, (reply) => {
      if (reply.id !== pending) return; // an answer for an earlier choice
      pending = null;
      const h = historyFromReply(reply as HistHistoryReply);
      if (h && h.tensor === tensor && held) {
        const last = h.steps.length ? (h.steps[h.steps.length - 1] as number) : -Infinity;
        held.steps.forEach((step, i) => {
          if (step > last) appendColumn(h, step, held?.counts[i] ?? [], (held?.range[i] ?? [0, 0]) as [number, number]);
        });
      }
      history = h && h.tensor === tensor ? h : null;
      held = null;
      ctx.schedule(render);
    });
  };

  const onSnapshot = (snapshot: { step: number | null; ids: number[] } | null) => {
    const target = pending !== null ? held : history;
    if (!snapshot || snapshot.step === null || !target) return;
    if (!snapshot.ids.includes(target.tensor)) return;
    const row = hists.row(target.tensor);
    if (!row) return;
    appendColumn(target, snapshot.step, row.counts, [row.lo, row.hi]);
    ctx.schedule(render);
  };

  const render = () => {
    const heat = distributionHeatmap(history ?? held);
    if (!heat) {
      root.replaceChildren();
      if (plotted) Plotly.purge(plot);
      plotted = false;
      return;
    }
    const params = recordsOf(model);
    setOptions(select, params.map((r, i) => r.names[0] ?? ctx.t("dist.tensor", { i })));
    select.value = String(chosen);
    if (!root.firstChild) root.append(h("span", "mp-dist-title", `${ctx.t("dist.title")} `), select, plot);
    draw(plot, heat, theme.get(), ctx.t);
    plotted = true;
  };

  ctx.listen(select, "change", () => {
    chosen = Number(select.value);
    request();
    ctx.schedule(render);
  });
  request();
  // A refresh may bring other tensors: the history is asked for again.
  ctx.on("change:_params", () => {
    request();
    ctx.schedule(render);
  });
  const unsubscribe = hists.subscribe(onSnapshot);
  const unsubscribeTheme = theme.subscribe(() => ctx.schedule(render));
  return () => {
    unsubscribe();
    unsubscribeTheme();
    setWatched(store, "distribution", []);
    if (plotted) Plotly.purge(plot);
    root.replaceChildren();
  };
}

/** Replace the picker's options when the tensor names changed (rarely: snapshots come often). */
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

function draw(plot: HTMLElement, heat: Heatmap, theme: Theme, t: Translate): void {
  const axis = stepAxis(heat.x);
  const trace = {
    type: "heatmap",
    x: axis.edges, // cell edges: the axis ends on the first and last step, not half a cell past
    y: heat.y,
    z: heat.z,
    customdata: heat.z.map(() => heat.x), // each cell's own step, for the hover text
    colorscale: colorscale(theme),
    showscale: true,
    colorbar: { title: { text: t("dist.share"), side: "right" }, tickformat: ".0%", thickness: 10, outlinewidth: 0 },
    hovertemplate: `${t("axis.step")} %{customdata}<br>${t("axis.value")} %{y:.3g}<br>%{z:.1%}<extra></extra>`,
  };
  const layout = withTheme(
    {
      width: 520,
      height: 240,
      margin: { l: 8, r: 8, t: 6, b: 8 },
      // automargin + standoff: each title sits beyond its tick labels, however wide they are.
      xaxis: {
        title: { text: t("axis.step"), standoff: 6 },
        range: axis.range,
        tickmode: "array",
        tickvals: axis.ticks,
        ticktext: axis.ticks.map(String),
        automargin: true,
      },
      yaxis: { title: { text: t("axis.value"), standoff: 6 }, automargin: true },
    },
    theme,
  );
  void Plotly.react(plot, [trace], layout, { displayModeBar: false, responsive: false });
}
