// Parameter table: one row per tensor (tied ones once, with all their names), sortable by any
// column, filtered to the subtree selected in the tree. Clicking a row picks it for the
// histograms; Ctrl/Cmd-click adds or removes it. A tensor that is not a plain materialised float
// (packed/quantized, lazy, meta, complex, sparse, parametrized) carries a badge naming its kind,
// with the kernel's whole note as the tooltip.

import type { AnyModel } from "@anywidget/types";
import { recordsOf } from "../core/columns";
import type { ViewContext } from "../core/context";
import { button, h } from "../core/dom";
import type { Store } from "../core/store";
import { COLUMNS, type SortKey, displayedRecords, finiteOnlyNote, histogramIds, nextSort } from "../logic/params";
import { type Model, type ParamRecord } from "../model";

/** Rows built at first; a button shows the rest (thousands of rows cost more than they help). */
const ROW_LIMIT = 200;

/** The columns the kernel computes over finite values only (their cells say so for a tensor with NaN/Inf). */
const FINITE_STATS = new Set<SortKey>(["mean", "std", "min", "max"]);

/**
 * The badge text of a note: the kind before each part's ":" ("quantized qint8, packed: ...;
 * parametrized: ..." -> "quantized qint8, packed · parametrized").
 */
export function noteBadge(note: string): string {
  return note
    .split("; ")
    .map((part) => part.split(":")[0]?.trim() ?? "")
    .filter((kind) => kind !== "")
    .join(" · ");
}

/** Mount the table into `root`; returns its cleanup. */
export function mountParams(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext, store: Store): () => void {
  let showAll = false;
  const caption = h("span", "mp-params-caption");
  const { t } = ctx;
  const clear = button("mp-params-clear", t("params.showAllLayers"));
  const hint = h("span", "mp-hint", t("params.hint"));
  const toolbar = h("div", "mp-toolbar");
  toolbar.append(caption, clear, hint);
  // Native table semantics (rows, cells, column headers); sortable headers carry aria-sort.
  const table = h("table", "mp-params-table");
  table.setAttribute("aria-label", t("params.label"));
  const thead = h("thead");
  const headRow = h("tr");
  const ths = COLUMNS.map((col) => {
    const th = h("th", col.numeric ? "mp-num" : "", t(col.label));
    th.dataset.key = col.key;
    th.title = t("params.sortTitle", { title: t(`${col.label}Title`) });
    th.setAttribute("role", "columnheader");
    th.scope = "col";
    th.tabIndex = 0;
    headRow.appendChild(th);
    return th;
  });
  thead.appendChild(headRow);
  const tbody = h("tbody");
  table.append(thead, tbody);
  const scroll = h("div", "mp-params-scroll");
  scroll.appendChild(table);
  const more = button("mp-params-more", "");
  root.replaceChildren(toolbar, scroll, more);

  function draw() {
    const state = store.get();
    const all = recordsOf(model);
    const rows = displayedRecords(all, state);
    const plotted = new Set(histogramIds(rows, state.picked));
    const sel = state.selectedPath;
    caption.textContent =
      sel === null
        ? t("params.caption", { n: rows.length })
        : t("params.captionSelected", { shown: rows.length, n: all.length, where: sel === "" ? t("params.theRoot") : sel });
    clear.hidden = sel === null;
    for (const th of ths) {
      const sorted = state.sort?.key === th.dataset.key;
      th.setAttribute("aria-sort", sorted ? (state.sort?.dir === "asc" ? "ascending" : "descending") : "none");
      th.classList.toggle("mp-sorted", sorted);
    }
    const limit = showAll ? rows.length : Math.min(rows.length, ROW_LIMIT);
    const trs: HTMLElement[] = [];
    for (let i = 0; i < limit; i++) {
      const r = rows[i] as ParamRecord;
      const tr = h("tr", "mp-param-row");
      tr.dataset.name = r.names[0] ?? "";
      tr.dataset.id = String(r.id);
      if (plotted.has(r.id)) {
        tr.classList.add("mp-plotted");
        tr.setAttribute("aria-selected", "true");
      }
      if (!r.trainable) tr.classList.add("mp-frozen");
      if (r.nan || r.inf) tr.classList.add("mp-nonfinite");
      const finiteOnly = finiteOnlyNote(r, t);
      for (const col of COLUMNS) {
        const td = tr.appendChild(h("td", col.numeric ? "mp-num" : "", col.text(r, t)));
        if (finiteOnly && FINITE_STATS.has(col.key)) td.title = finiteOnly;
      }
      const titles: string[] = [];
      if (r.note) {
        const badge = h("span", "mp-badge mp-badge-note", noteBadge(r.note));
        badge.title = r.note;
        tr.firstElementChild?.append(" ", badge);
        tr.classList.add("mp-param-noted");
        titles.push(r.note);
      }
      if (r.sampled) titles.push(t("params.sampled"));
      if (titles.length) tr.title = titles.join("\n");
      trs.push(tr);
    }
    tbody.replaceChildren(...trs);
    more.hidden = limit >= rows.length;
    more.textContent = t("params.showAllRows", { n: rows.length });
  }

  const onHeadClick = (ev: Event) => {
    const th = (ev.target as HTMLElement).closest("th") as HTMLElement | null;
    const key = th?.dataset.key;
    const col = COLUMNS.find((c) => c.key === key);
    if (col) store.update({ sort: nextSort(store.get().sort, col.key) });
  };
  const onHeadKey = (ev: KeyboardEvent) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      onHeadClick(ev);
    }
  };
  const onRowClick = (ev: MouseEvent) => {
    const tr = (ev.target as HTMLElement).closest(".mp-param-row") as HTMLElement | null;
    if (!tr) return;
    const id = Number(tr.dataset.id);
    const state = store.get();
    let picked: Set<number>;
    if (ev.ctrlKey || ev.metaKey) {
      // Start from what is drawn now, so Ctrl-click adds to the default picks too.
      picked = new Set(histogramIds(displayedRecords(recordsOf(model), state), state.picked));
      if (picked.has(id)) picked.delete(id);
      else picked.add(id);
    } else {
      picked = new Set([id]);
    }
    store.update({ picked });
  };
  ctx.listen(clear, "click", () => store.update({ selectedPath: null }));
  ctx.listen(more, "click", () => {
    showAll = true;
    ctx.schedule(draw);
  });
  ctx.listen(thead, "click", onHeadClick);
  ctx.listen(thead, "keydown", onHeadKey);
  ctx.listen(tbody, "click", onRowClick);

  // First draw on the next frame: the header and the tree show first on big models.
  const redraw = () => ctx.schedule(draw);
  redraw();
  ctx.on("change:_params", redraw);
  ctx.on("change:_param_stats", redraw);
  const unsubscribe = store.subscribe(redraw, ["selectedPath", "sort", "picked"]);
  return () => {
    unsubscribe();
    root.replaceChildren();
  };
}
