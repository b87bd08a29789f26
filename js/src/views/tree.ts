// Layer tree: indented, collapsible, virtualised rows. Only the rows in the scroll window
// exist in the DOM (fixed row height + a spacer), so a 2,000-module model opens as fast as a
// small one. Selecting a row filters the parameter table (view-local state, see core/store.ts).
// The module where a NaN/Inf first appeared (logic/nonfinite.ts), every module holding a tensor
// with NaN/Inf values (`_param_stats`) and every module the training diagnostics flag (dead
// units, vanishing or exploding gradients: logic/flags.ts) carry a badge
// whose tooltip says what it means and what helps. The first row
// is the model itself (the kernel's `root`); after a failed forward, the module where it raised
// is marked "failed here", and a note under the column heads says what the shapes are.

import type { AnyModel } from "@anywidget/types";
import { recordsOf, summaryOf } from "../core/columns";
import type { ViewContext } from "../core/context";
import { button, h } from "../core/dom";
import { formatInt, formatShape, formatShare } from "../core/format";
import type { Translate } from "../core/i18n";
import type { Store } from "../core/store";
import { flagBadges, flagsByPath } from "../logic/flags";
import { nonfiniteFlag } from "../logic/nonfinite";
import {
  type Tree,
  type TreeNode,
  allExpandable,
  badgesOf,
  buildTree,
  collapsedAll,
  detailText,
  initialExpanded,
  keyAction,
  moduleCount,
  paramsColumnWidth,
  rowName,
  shapeColumnTitle,
  shapeNote,
  toggled,
  visibleRows,
} from "../logic/tree";
import type { DiagnosticFlag, Model, Summary } from "../model";

/** Row height in px; must match --mp-row-h in widget.css. */
export const ROW_H = 22;
/** Most rows shown before the tree scrolls. */
const MAX_VISIBLE = 16;
/** Rows built above and below the window, so a fast scroll does not flash empty space. */
const OVERSCAN = 8;
const INDENT = 14;

/** Catalog keys of the badges' text; "<key>Title" is the tooltip. */
const BADGE_TEXT = { frozen: "tree.badgeFrozen", shared: "tree.badgeShared", unused: "tree.badgeUnused" } as const;

/** The kernel's statuses (Layer.status, English), which replace the "unused" text: their catalog keys. */
const STATUS_KEY: Record<string, string> = {
  "not called in eval mode": "tree.statusEvalMode",
  "never called": "tree.statusNever",
  "inside TorchScript: not traced": "tree.statusScript",
  "not reached: the forward failed before it": "tree.statusNotReached",
  "holds its parent's packed weights: never called": "tree.statusPacked",
};

interface Elements {
  search: HTMLInputElement;
  expandAll: HTMLButtonElement;
  collapseAll: HTMLButtonElement;
  count: HTMLElement;
  body: HTMLElement; // the scrolling window
  spacer: HTMLElement; // as tall as every row; holds the rows of the window
  detail: HTMLElement;
  shapeHead: HTMLElement; // the shape column's head: its tooltip says how to get shapes
  note: HTMLElement; // no shapes (no input) or shapes up to a failure; hidden otherwise
  root: HTMLElement; // holds the head and the rows: the params column's width is set on it
}

/** The state of one mounted tree; every function below reads or updates one of these. */
interface TreeView {
  el: Elements;
  store: Store;
  tree: Tree | null;
  expanded: Set<string>;
  query: string;
  rows: number[]; // node indices on display, in order
  matched: Set<number> | null; // nodes matching the query (null without one)
  windowKey: string; // what the window shows now; a redraw with the same key is skipped
  uid: string; // prefix of the rows' ids (aria-activedescendant), unique per view
  hovered: TreeNode | null;
  nonfinite: { path: string; where: "weights" | "grads" | null } | null;
  flags: Map<string, DiagnosticFlag[]>; // the diagnostics' flags of each flagged row
  flagsKey: string; // changes when they do (part of windowKey)
  error: string; // the failed forward's message: the "failed here" badge's tooltip
  t: Translate;
}

/** Mount the tree into `root`; returns its cleanup. */
export function mountTree(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext, store: Store): () => void {
  const el = buildElements(root, ctx.t);
  const v: TreeView = {
    el, store, tree: null, expanded: new Set(), query: "", rows: [], matched: null,
    windowKey: "", hovered: null, nonfinite: null, flags: new Map(), flagsKey: "", error: "", uid: `mp-tree-${Math.random().toString(36).slice(2, 10)}`,
    t: ctx.t,
  };
  const drawWindow = () => drawRows(v);
  // One function for every keystroke, so schedule() coalesces a burst into one recompute
  // (a fresh closure per event was queued once per keystroke).
  const applyQuery = () => {
    v.query = el.search.value;
    recompute(v);
  };
  const load = () => loadSummary(v, summaryOf(model.get("_summary")));
  const loadNonfinite = () => {
    const records = recordsOf(model);
    const f = nonfiniteFlag(model.get("_diagnostics"), records);
    v.nonfinite = f?.where && f.firstLayer !== null ? { path: f.firstLayer, where: f.where } : null;
    v.flags = flagsByPath(model.get("_diagnostics"), f, records);
    v.flagsKey = JSON.stringify(Array.from(v.flags));
    drawRows(v);
  };

  ctx.listen(el.expandAll, "click", () => {
    if (v.tree) setExpanded(v, allExpandable(v.tree));
  });
  ctx.listen(el.collapseAll, "click", () => setExpanded(v, v.tree ? collapsedAll(v.tree) : new Set()));
  ctx.listen(el.body, "click", (ev) => onRowClick(v, ev));
  ctx.listen(el.body, "mouseover", (ev) => hover(v, nodeAt(v, ev.target)));
  ctx.listen(el.body, "mouseleave", () => hover(v, null));
  ctx.listen(el.body, "scroll", () => ctx.schedule(drawWindow), { passive: true });
  ctx.listen(el.body, "keydown", (ev) => onKey(v, ev));
  ctx.listen(el.search, "input", () => ctx.schedule(applyQuery));

  load();
  loadNonfinite();
  ctx.on("change:_summary", () => ctx.schedule(load));
  ctx.on("change:_diagnostics", () => ctx.schedule(loadNonfinite));
  ctx.on("change:_params", () => ctx.schedule(loadNonfinite));
  ctx.on("change:_param_stats", () => ctx.schedule(loadNonfinite));
  const unsubscribe = store.subscribe(() => ctx.schedule(drawWindow), ["selectedPath"]);

  return () => {
    unsubscribe();
    root.replaceChildren();
  };
}

function buildElements(root: HTMLElement, t: Translate): Elements {
  const search = h("input", "mp-search");
  search.type = "search";
  search.placeholder = t("tree.searchPlaceholder");
  search.setAttribute("aria-label", t("tree.searchLabel"));
  const el: Elements = {
    search,
    expandAll: button("mp-expand-all", t("tree.expandAll")),
    collapseAll: button("mp-collapse-all", t("tree.collapseAll")),
    count: h("span", "mp-tree-count"),
    body: h("div", "mp-tree-body"),
    spacer: h("div", "mp-tree-spacer"),
    detail: h("div", "mp-tree-detail"),
    shapeHead: h("span"),
    note: h("div", "mp-tree-note"),
    root,
  };
  const toolbar = h("div", "mp-toolbar");
  toolbar.append(el.search, el.expandAll, el.collapseAll, el.count);
  const head = h("div", "mp-tree-head");
  for (const key of ["tree.colLayer", "tree.colType", "tree.colShape", "tree.colParams"]) {
    const cell = head.appendChild(h("span", "mp-cell", t(key)));
    if (key === "tree.colShape") el.shapeHead = cell;
  }
  el.body.setAttribute("role", "tree");
  el.body.setAttribute("aria-label", t("tree.label"));
  el.body.tabIndex = 0;
  el.body.appendChild(el.spacer);
  root.replaceChildren(toolbar, head, el.note, el.body, el.detail);
  return el;
}

/** A new summary: a new tree, keeping the expanded rows that still exist (or the first levels). */
function loadSummary(v: TreeView, summary: Summary | null): void {
  const first = v.tree === null;
  v.tree = summary ? buildTree(summary) : null;
  v.error = summary?.error ?? "";
  v.el.note.textContent = summary ? shapeNote(summary, v.t) : "";
  v.el.note.hidden = !v.el.note.textContent;
  v.el.shapeHead.title = summary ? shapeColumnTitle(summary, v.t) : "";
  if (!v.tree) {
    v.el.spacer.replaceChildren();
    v.el.count.textContent = "";
    v.el.detail.textContent = v.t("common.noSummary");
    return;
  }
  const tree = v.tree;
  v.el.root.style.setProperty("--mp-params-col", paramsColumnWidth(tree.nodes.reduce((m, n) => Math.max(m, n.layer.params), 0)));
  v.expanded = first ? initialExpanded(tree) : new Set(Array.from(v.expanded).filter((p) => tree.byPath.has(p)));
  recompute(v);
}

function setExpanded(v: TreeView, next: Set<string>): void {
  v.expanded = next;
  recompute(v);
}

/** Recompute the displayed rows (expansion or query changed) and redraw the window. */
function recompute(v: TreeView): void {
  if (!v.tree) return;
  ({ rows: v.rows, matched: v.matched } = visibleRows(v.tree, v.expanded, v.query));
  const n = v.tree.nodes.length;
  v.el.count.textContent = moduleCount(n, v.query, v.matched ? v.matched.size : 0, v.t);
  v.el.spacer.style.height = `${v.rows.length * ROW_H}px`;
  v.el.body.style.height = `${Math.min(v.rows.length, MAX_VISIBLE) * ROW_H}px`;
  v.windowKey = "";
  drawRows(v);
}

/** Build the rows in (and near) the scroll window; nothing when the window has not changed. */
function drawRows(v: TreeView): void {
  if (!v.tree) return;
  const first = Math.max(0, Math.floor(v.el.body.scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(v.rows.length, first + MAX_VISIBLE + 2 * OVERSCAN);
  const selected = v.store.get().selectedPath;
  const key = `${first}:${last}:${selected}:${v.flagsKey}`;
  if (key === v.windowKey) return;
  v.windowKey = key;
  const els: HTMLElement[] = [];
  for (let r = first; r < last; r++) {
    const row = buildRow(v, v.tree, v.rows[r] as number, selected);
    row.style.top = `${r * ROW_H}px`;
    els.push(row);
  }
  v.el.spacer.replaceChildren(...els);
  // Screen readers follow the selected row while focus stays on the tree.
  const active = selected === null ? undefined : v.tree.byPath.get(selected);
  const activeId = active !== undefined && els.some((r) => r.id === `${v.uid}-${active}`) ? `${v.uid}-${active}` : "";
  if (activeId) v.el.body.setAttribute("aria-activedescendant", activeId);
  else v.el.body.removeAttribute("aria-activedescendant");
  showDetail(v);
}

function buildRow(v: TreeView, t: Tree, i: number, selected: string | null): HTMLElement {
  const node = t.nodes[i] as TreeNode;
  const l = node.layer;
  const row = h("div", "mp-tree-row");
  row.dataset.path = l.path;
  row.dataset.params = String(l.params);
  row.id = `${v.uid}-${i}`;
  row.setAttribute("role", "treeitem");
  row.setAttribute("aria-level", String(l.depth + (t.hasRoot ? 1 : 0))); // the model's row: level 1
  // Only a window of rows exists: each says where it sits among its siblings.
  const siblings = node.parent >= 0 ? (t.nodes[node.parent] as TreeNode).children : t.roots;
  row.setAttribute("aria-setsize", String(siblings.length));
  row.setAttribute("aria-posinset", String(siblings.indexOf(i) + 1));
  row.setAttribute("aria-selected", String(selected === l.path));
  if (l.param_formula) row.title = l.param_formula;
  if (!l.depth) {
    row.classList.add("mp-tree-root");
    row.title = detailText(node, v.t); // its input and output shapes, which no column shows
  }
  if (t.failedPath === l.path) row.classList.add("mp-failed-row");
  if (selected === l.path) {
    row.classList.add("mp-selected");
  }
  if (v.matched?.has(i)) row.classList.add("mp-match");
  if (node.children.length) row.setAttribute("aria-expanded", String(isOpen(v, l.path)));
  if (v.nonfinite?.path === l.path) row.classList.add("mp-nonfinite-row");
  if (v.flags.has(l.path)) row.classList.add("mp-flagged-row");
  row.append(
    nameCell(v, t, node),
    h("span", "mp-cell mp-kind", l.kind),
    shapeCell(formatShape(l.output_shape)),
    paramsCell(l.params, t.totalParams),
  );
  return row;
}

/** The output shape, whole in its tooltip: a nested output (a tuple of tensors) outgrows the column. */
function shapeCell(text: string): HTMLElement {
  const cell = h("span", "mp-cell mp-shape", text);
  cell.title = text;
  return cell;
}

/** While searching, every row on display is open: it is a match or an ancestor of one. */
function isOpen(v: TreeView, path: string): boolean {
  return v.query ? true : v.expanded.has(path);
}

/** Indent, toggle (or the leaf's blank), name and badges. */
function nameCell(v: TreeView, t: Tree, node: TreeNode): HTMLElement {
  const l = node.layer;
  const name = h("span", "mp-cell mp-tree-namecell");
  name.style.paddingLeft = `${Math.max(0, l.depth - (t.hasRoot ? 0 : 1)) * INDENT}px`;
  if (node.children.length) {
    const open = isOpen(v, l.path);
    const toggle = h("button", "mp-tree-toggle", open ? "▾" : "▸");
    toggle.type = "button";
    toggle.disabled = Boolean(v.query); // while searching, ancestors of matches stay open
    toggle.setAttribute("aria-label", v.t(open ? "tree.collapse" : "tree.expand"));
    name.appendChild(toggle);
  } else {
    name.appendChild(h("span", "mp-tree-leaf"));
  }
  name.appendChild(h("span", "mp-tree-name", rowName(node, v.t)));
  if (t.failedPath === l.path) {
    const b = h("span", "mp-badge mp-badge-failed", v.t("tree.failedHere"));
    b.title = v.error;
    name.appendChild(b);
  }
  const badges = badgesOf(t, node);
  for (const key of ["frozen", "shared", "unused"] as const) {
    if (!badges[key]) continue;
    // A status this view has no words for shows as the kernel wrote it.
    const status = key === "unused" && badges.status ? badges.status : "";
    const textKey = status ? STATUS_KEY[status] : BADGE_TEXT[key];
    const b = h("span", `mp-badge mp-badge-${key}`, textKey ? v.t(textKey) : status);
    b.title = textKey ? v.t(`${textKey}Title`) : status;
    name.appendChild(b);
  }
  for (const flag of flagBadges(v.flags.get(l.path) ?? [], v.nonfinite?.path === l.path, v.t)) {
    const b = h("span", `mp-badge mp-badge-${flag.key}`, flag.text);
    b.title = flag.title;
    name.appendChild(b);
  }
  return name;
}

function paramsCell(params: number, total: number): HTMLElement {
  const cell = h("span", "mp-cell mp-num");
  cell.appendChild(h("span", "mp-count", formatInt(params)));
  const share = formatShare(params, total);
  if (share && params) cell.appendChild(h("span", "mp-share", share));
  return cell;
}

function showDetail(v: TreeView): void {
  const sel = v.store.get().selectedPath;
  const node = v.hovered ?? (sel !== null && v.tree ? v.tree.nodes[v.tree.byPath.get(sel) ?? -1] : undefined);
  v.el.detail.textContent = node ? detailText(node, v.t) : v.t("tree.detailHint");
}

function hover(v: TreeView, node: TreeNode | null): void {
  if (node === v.hovered) return;
  v.hovered = node;
  showDetail(v);
}

/** The node of the row holding `target`, if any. */
function nodeAt(v: TreeView, target: EventTarget | null): TreeNode | null {
  const row = (target as HTMLElement | null)?.closest?.(".mp-tree-row") as HTMLElement | null;
  if (!row || !v.tree) return null;
  const i = v.tree.byPath.get(row.dataset.path ?? "");
  return i === undefined ? null : (v.tree.nodes[i] as TreeNode);
}

/** A click on a toggle expands or collapses; anywhere else on a row selects it (again: deselects). */
function onRowClick(v: TreeView, ev: MouseEvent): void {
  const node = nodeAt(v, ev.target);
  if (!node) return;
  const path = node.layer.path;
  if ((ev.target as HTMLElement).closest(".mp-tree-toggle")) {
    setExpanded(v, toggled(v.expanded, path));
    return;
  }
  v.store.update({ selectedPath: v.store.get().selectedPath === path ? null : path });
}

function onKey(v: TreeView, ev: KeyboardEvent): void {
  if (!v.tree) return;
  const action = keyAction(v.tree, v.rows, v.expanded, v.query, v.store.get().selectedPath, ev.key);
  if (!action) return;
  ev.preventDefault();
  if (action.expanded) setExpanded(v, action.expanded);
  if (action.row === undefined || action.row < 0) return;
  scrollToRow(v.el.body, action.row);
  v.store.update({ selectedPath: (v.tree.nodes[v.rows[action.row] as number] as TreeNode).layer.path });
}

/** Scroll the window just enough to show display row `r`. */
function scrollToRow(body: HTMLElement, r: number): void {
  const top = r * ROW_H;
  if (top < body.scrollTop) body.scrollTop = top;
  else if (top + ROW_H > body.scrollTop + body.clientHeight) body.scrollTop = top + ROW_H - body.clientHeight;
}
