// Weight histograms: Plotly bar charts (small multiples) for the parameters picked in the table
// (default: its first rows). A click enlarges one. The kernel sends counts only for watched
// tensors, so the ids shown go into the store's `watched` (core/hists.ts tells the kernel and
// keeps the rows); a histogram whose counts have not arrived yet shows as loading. Plots are
// drawn only while visible, at most once per animation frame; every plot is purged on cleanup.
//
// No model string goes into Plotly (its titles parse a subset of HTML): names are captions
// set with textContent.

import type { AnyModel } from "@anywidget/types";
import { recordsOf } from "../core/columns";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import { formatInt } from "../core/format";
import Plotly from "../core/plotly";
import type { Hists } from "../core/hists";
import { type Store, setWatched } from "../core/store";
import { themeOf, withTheme } from "../core/theme";
import { type Bars, barsFor } from "../logic/histograms";
import { displayedRecords, hasNoValues, histogramIds, valuelessNote } from "../logic/params";
import type { Model, ParamRecord } from "../model";

const SMALL = { width: 216, height: 140 };
const LARGE = { width: 640, height: 320 };

interface Item {
  id: number;
  figure: HTMLElement;
  plot: HTMLElement;
  caption: HTMLElement;
  visible: boolean;
  drawn: string; // what is on screen: "<row rev>:<size>", "" = nothing
}

/** Mount the histograms into `root`; returns its cleanup. */
export function mountHistograms(
  root: HTMLElement,
  model: AnyModel<Model>,
  ctx: ViewContext,
  store: Store,
  hists: Hists,
): () => void {
  let enlarged: number | null = null;
  const theme = themeOf(ctx, root);
  const items = new Map<number, Item>();
  const { t } = ctx;
  const title = h("div", "mp-hist-title", t("hist.title"));
  const note = h("div", "mp-hint");
  const grid = h("div", "mp-hist-grid");
  root.replaceChildren(title, note, grid);

  const io =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
          for (const e of entries) {
            const item = items.get(Number((e.target as HTMLElement).dataset.id));
            if (item) item.visible = e.isIntersecting;
          }
          ctx.schedule(plotVisible);
        })
      : null;

  function captionFor(item: Item, r: ParamRecord | undefined) {
    const bits: string[] = [];
    if (r) {
      if (r.sampled) bits.push(t("hist.sampled"));
      if (r.nan || r.inf) bits.push(t("hist.notBinned", { nan: formatInt(r.nan), inf: formatInt(r.inf) }));
    }
    const name = h("span", "mp-hist-name", r ? r.names.join(", ") : `#${item.id}`);
    name.title = name.textContent ?? ""; // a long (tied) name is cut; the note after it is not
    item.caption.replaceChildren(name);
    if (bits.length) item.caption.appendChild(h("span", "mp-hist-note", bits.join("; ")));
  }

  /** What the bars of a sampled tensor stand for, as the figure's tooltip; "" for exact counts. */
  function sampleTitle(bars: Bars, r: ParamRecord | undefined): string {
    if (bars.scale === "counts") return "";
    const n = formatInt(bars.total);
    const how = bars.scale === "shares" ? t("hist.sharesOf", { n }) : t("hist.estimatedFrom", { n, numel: formatInt(r?.numel) });
    return `${t("hist.sampledTitle")}: ${how}`;
  }

  /** The bars' hover text: exact counts, estimated counts (and from what) or shares. */
  function hoverOf(bars: Bars, r: ParamRecord | undefined): string {
    const n = formatInt(bars.total);
    if (bars.scale === "shares") return `%{x:.4g}: %{y:.2%}<br>${t("hist.sharesOf", { n })}<extra></extra>`;
    if (bars.scale === "estimated") {
      const from = t("hist.estimatedFrom", { n, numel: formatInt(r?.numel) });
      return `%{x:.4g}: ≈%{y:,.0f} ${t("hist.values")}<br>${from}<extra></extra>`;
    }
    return `%{x:.4g}: %{y} ${t("hist.values")}<extra></extra>`;
  }

  function sync() {
    const records = recordsOf(model);
    const byId = new Map(records.map((r) => [r.id, r]));
    const displayed = displayedRecords(records, store.get());
    const ids = histogramIds(displayed.filter((r) => !hasNoValues(r)), store.get().picked);
    const valueless = valuelessNote(displayed, t);
    setWatched(store, "histograms", ids);
    if (enlarged !== null && !ids.includes(enlarged)) enlarged = null;
    note.textContent =
      hists.error ||
      (!records.length
        ? t("hist.empty")
        : [valueless, ids.length ? t("hist.enlarge") : valueless ? "" : t("hist.noneSelected")].filter(Boolean).join(" "));
    for (const [id, item] of items) {
      if (ids.includes(id)) continue;
      io?.unobserve(item.plot);
      Plotly.purge(item.plot);
      items.delete(id);
    }
    const order: HTMLElement[] = [];
    for (const id of ids) {
      let item = items.get(id);
      if (!item) {
        const figure = h("figure", "mp-hist-item");
        const plot = h("div", "mp-hist-plot");
        plot.dataset.id = String(id);
        const caption = h("figcaption", "mp-hist-caption");
        figure.append(plot, caption);
        item = { id, figure, plot, caption, visible: io === null, drawn: "" };
        items.set(id, item);
        io?.observe(plot);
      }
      const r = byId.get(id);
      item.plot.dataset.name = r?.names[0] ?? "";
      item.figure.dataset.name = r?.names[0] ?? "";
      item.figure.classList.toggle("mp-hist-enlarged", enlarged === id);
      captionFor(item, r);
      order.push(item.figure);
    }
    grid.replaceChildren(...order);
    plotVisible();
  }

  function plotVisible() {
    for (const item of items.values()) {
      const row = hists.row(item.id);
      item.figure.classList.toggle("mp-hist-loading", !row);
      if (!item.visible || !row) continue;
      const size = enlarged === item.id ? LARGE : SMALL;
      const colours = theme.get();
      const key = `${row.rev}:${size.width}:${colours.key}`;
      if (item.drawn === key) continue;
      const r = recordsOf(model).find((p) => p.id === item.id);
      const bars = barsFor(row, r);
      if (!bars) continue;
      // Cleared too: a later snapshot of the same tensor may be exact.
      item.figure.title = sampleTitle(bars, r);
      item.drawn = key;
      item.plot.style.width = `${size.width}px`;
      item.plot.style.height = `${size.height}px`;
      void Plotly.react(
        item.plot,
        [
          {
            type: "bar",
            x: bars.x,
            y: bars.y,
            width: bars.width,
            hovertemplate: hoverOf(bars, r),
          },
        ],
        withTheme(
          {
            width: size.width,
            height: size.height,
            margin: { l: 40, r: 8, t: 6, b: 26 },
            bargap: 0,
            showlegend: false,
            font: { size: 9 },
            // No zoom/pan: a click on the chart enlarges it (and a double click would toggle twice).
            dragmode: false,
            xaxis: { zeroline: false, showgrid: false, fixedrange: true },
            yaxis: { rangemode: "tozero", fixedrange: true, ...(bars.scale === "shares" ? { tickformat: ".0%" } : {}) },
          },
          colours,
        ),
        { displayModeBar: false, responsive: false, doubleClick: false },
      );
    }
  }

  const onClick = (ev: MouseEvent) => {
    const fig = (ev.target as HTMLElement).closest(".mp-hist-item") as HTMLElement | null;
    const plot = fig?.querySelector(".mp-hist-plot") as HTMLElement | null;
    if (!plot) return;
    const id = Number(plot.dataset.id);
    enlarged = enlarged === id ? null : id;
    ctx.schedule(sync);
  };
  ctx.listen(grid, "click", onClick);

  const resync = () => ctx.schedule(sync);
  resync(); // after the tree and the table, like every later update
  ctx.on("change:_params", resync);
  ctx.on("change:_param_stats", resync);
  const unsubscribe = store.subscribe(resync, ["selectedPath", "sort", "picked"]);
  const unsubscribeHists = hists.subscribe(() => ctx.schedule(plotVisible));
  const unsubscribeTheme = theme.subscribe(() => ctx.schedule(plotVisible));
  return () => {
    unsubscribe();
    unsubscribeHists();
    unsubscribeTheme();
    setWatched(store, "histograms", []);
    io?.disconnect();
    for (const item of items.values()) Plotly.purge(item.plot);
    items.clear();
    root.replaceChildren();
  };
}
