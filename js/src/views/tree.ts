// Layer tree: indented, collapsible, virtualised rows. Only the rows in the scroll window
// exist in the DOM (fixed row height + a spacer), so a 2,000-module model opens as fast as a
// small one. Selecting a row filters the parameter table (view-local state, see core/store.ts).
// The module where a NaN/Inf first appeared (logic/nonfinite.ts) carries a badge.

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { button, h } from "../core/dom";
import { formatInt, formatShape, formatShare } from "../core/format";
import { nonfiniteBadgeTitle, nonfiniteFlag } from "../logic/nonfinite";
import { type Model, summaryOf } from "../model";
import type { Store } from "../core/store";
import {
  type Tree,
  type TreeNode,
  allExpandable,
  badgesOf,
  buildTree,
  initialExpanded,
  visibleRows,
} from "../logic/tree";

/** Row height in px; must match --mp-row-h in widget.css. */
export const ROW_H = 22;
/** Most rows shown before the tree scrolls. */
const MAX_VISIBLE = 16;
/** Rows built above and below the window, so a fast scroll does not flash empty space. */
const OVERSCAN = 8;
const INDENT = 14;

const BADGE_TEXT = {
  frozen: ["frozen", "Some of its parameters do not require grad"],
  shared: ["shared", "Holds a parameter another module also holds (tied weights)"],
  unused: ["unused", "Never called in the captured forward pass"],
} as const;

function detailText(node: TreeNode): string {
  const l = node.layer;
  const formula = l.param_formula || (l.params ? `${formatInt(l.params)} in submodules` : "no parameters");
  return `${l.path} (${l.kind}): ${formula}`;
}

/** Mount the tree into `root`; returns its cleanup. */
export function mountTree(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext, store: Store): () => void {
  let tree: Tree | null = null;
  let expanded = new Set<string>();
  let query = "";
  let rows: number[] = [];
  let matched: Set<number> | null = null;
  let windowKey = "";
  let hovered: TreeNode | null = null;
  let nonfinite: { path: string; where: "weights" | "grads" | null } | null = null;

  const search = h("input", "mp-search");
  search.type = "search";
  search.placeholder = "Search name or type";
  search.setAttribute("aria-label", "Search layers by name or type");
  const count = h("span", "mp-tree-count");
  const toolbar = h("div", "mp-toolbar");
  toolbar.append(
    search,
    button("mp-expand-all", "Expand all", () => {
      if (tree) setExpanded(allExpandable(tree));
    }),
    button("mp-collapse-all", "Collapse all", () => setExpanded(new Set())),
    count,
  );
  const head = h("div", "mp-tree-head");
  for (const label of ["Layer", "Type", "Output shape", "Params"]) head.appendChild(h("span", "mp-cell", label));
  const body = h("div", "mp-tree-body");
  body.setAttribute("role", "tree");
  body.tabIndex = 0;
  const spacer = h("div", "mp-tree-spacer");
  body.appendChild(spacer);
  const detail = h("div", "mp-tree-detail");
  root.replaceChildren(toolbar, head, body, detail);

  function setExpanded(next: Set<string>) {
    expanded = next;
    recompute();
  }

  function recompute() {
    if (!tree) return;
    ({ rows, matched } = visibleRows(tree, expanded, query));
    const n = tree.nodes.length;
    count.textContent = query ? `${matched ? matched.size : 0} of ${n} modules match` : `${n} modules`;
    const height = rows.length * ROW_H;
    spacer.style.height = `${height}px`;
    body.style.height = `${Math.min(rows.length, MAX_VISIBLE) * ROW_H}px`;
    windowKey = "";
    drawWindow();
  }

  function buildRow(i: number, selected: string | null): HTMLElement {
    const t = tree as Tree;
    const node = t.nodes[i] as TreeNode;
    const l = node.layer;
    const row = h("div", "mp-tree-row");
    row.dataset.path = l.path;
    row.dataset.params = String(l.params);
    row.setAttribute("role", "treeitem");
    row.setAttribute("aria-level", String(l.depth));
    if (l.param_formula) row.title = l.param_formula;
    if (selected === l.path) {
      row.classList.add("mp-selected");
      row.setAttribute("aria-selected", "true");
    }
    if (matched?.has(i)) row.classList.add("mp-match");

    const name = h("span", "mp-cell mp-tree-namecell");
    name.style.paddingLeft = `${(l.depth - 1) * INDENT}px`;
    if (node.children.length) {
      const open = query ? true : expanded.has(l.path);
      row.setAttribute("aria-expanded", String(open));
      const toggle = h("button", "mp-tree-toggle", open ? "▾" : "▸");
      toggle.type = "button";
      toggle.disabled = Boolean(query); // while searching, ancestors of matches stay open
      toggle.setAttribute("aria-label", open ? "Collapse" : "Expand");
      name.appendChild(toggle);
    } else {
      name.appendChild(h("span", "mp-tree-leaf"));
    }
    name.appendChild(h("span", "mp-tree-name", l.name));
    const badges = badgesOf(t, node);
    for (const key of ["frozen", "shared", "unused"] as const) {
      if (!badges[key]) continue;
      const [text, title] = BADGE_TEXT[key];
      const b = h("span", `mp-badge mp-badge-${key}`, text);
      b.title = title;
      name.appendChild(b);
    }
    if (nonfinite && nonfinite.path === l.path) {
      row.classList.add("mp-nonfinite-row");
      const b = h("span", "mp-badge mp-badge-nonfinite", "NaN/Inf");
      b.title = nonfiniteBadgeTitle(nonfinite.where);
      name.appendChild(b);
    }
    const params = h("span", "mp-cell mp-num");
    params.appendChild(h("span", "mp-count", formatInt(l.params)));
    const share = formatShare(l.params, t.totalParams);
    if (share && l.params) params.appendChild(h("span", "mp-share", share));
    row.append(name, h("span", "mp-cell mp-kind", l.kind), h("span", "mp-cell mp-shape", formatShape(l.output_shape)), params);
    return row;
  }

  function drawWindow() {
    if (!tree) return;
    const first = Math.max(0, Math.floor(body.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(rows.length, first + MAX_VISIBLE + 2 * OVERSCAN);
    const selected = store.get().selectedPath;
    const key = `${first}:${last}:${selected}:${nonfinite?.path}:${nonfinite?.where}`;
    if (key === windowKey) return;
    windowKey = key;
    const els: HTMLElement[] = [];
    for (let r = first; r < last; r++) {
      const row = buildRow(rows[r] as number, selected);
      row.style.top = `${r * ROW_H}px`;
      els.push(row);
    }
    spacer.replaceChildren(...els);
    showDetail();
  }

  function showDetail() {
    const sel = store.get().selectedPath;
    const node = hovered ?? (sel !== null && tree ? tree.nodes[tree.byPath.get(sel) ?? -1] : undefined);
    detail.textContent = node ? detailText(node) : "Hover or select a layer to see how its parameters are counted.";
  }

  function nodeOf(target: EventTarget | null): TreeNode | null {
    const row = (target as HTMLElement | null)?.closest?.(".mp-tree-row") as HTMLElement | null;
    if (!row || !tree) return null;
    const i = tree.byPath.get(row.dataset.path ?? "");
    return i === undefined ? null : (tree.nodes[i] as TreeNode);
  }

  const onClick = (ev: MouseEvent) => {
    const node = nodeOf(ev.target);
    if (!node) return;
    const path = node.layer.path;
    if ((ev.target as HTMLElement).closest(".mp-tree-toggle")) {
      const next = new Set(expanded);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      setExpanded(next);
      return;
    }
    store.update({ selectedPath: store.get().selectedPath === path ? null : path });
  };
  const onOver = (ev: MouseEvent) => {
    const node = nodeOf(ev.target);
    if (node !== hovered) {
      hovered = node;
      showDetail();
    }
  };
  const onLeave = () => {
    hovered = null;
    showDetail();
  };
  // Keyboard: arrows move the selection, Right/Left expand/collapse (Left again: to the parent).
  const onKey = (ev: KeyboardEvent) => {
    if (!tree || !rows.length) return;
    const t = tree;
    const sel = store.get().selectedPath;
    const current = sel === null ? -1 : rows.indexOf(t.byPath.get(sel) ?? -2);
    const node = current >= 0 ? (t.nodes[rows[current] as number] as TreeNode) : null;
    let target = -1;
    if (ev.key === "ArrowDown") target = Math.min(rows.length - 1, current + 1);
    else if (ev.key === "ArrowUp") target = Math.max(0, current - 1);
    else if (ev.key === "Home") target = 0;
    else if (ev.key === "End") target = rows.length - 1;
    else if ((ev.key === "ArrowRight" || ev.key === "ArrowLeft") && node && !query) {
      const open = expanded.has(node.layer.path);
      if (ev.key === "ArrowRight" && node.children.length && !open) {
        setExpanded(new Set(expanded).add(node.layer.path));
      } else if (ev.key === "ArrowLeft" && open) {
        const next = new Set(expanded);
        next.delete(node.layer.path);
        setExpanded(next);
      } else if (ev.key === "ArrowLeft" && node.parent >= 0) {
        target = rows.indexOf(node.parent);
      }
    } else return;
    ev.preventDefault();
    if (target < 0) return;
    const top = target * ROW_H;
    if (top < body.scrollTop) body.scrollTop = top;
    else if (top + ROW_H > body.scrollTop + body.clientHeight) body.scrollTop = top + ROW_H - body.clientHeight;
    store.update({ selectedPath: (t.nodes[rows[target] as number] as TreeNode).layer.path });
  };
  const onScroll = () => ctx.schedule(drawWindow);
  // One function for every keystroke, so schedule() coalesces a burst into one recompute
  // (a fresh closure per event was queued once per keystroke).
  const applyQuery = () => {
    query = search.value;
    recompute();
  };
  const onInput = () => ctx.schedule(applyQuery);
  ctx.listen(body, "click", onClick);
  ctx.listen(body, "mouseover", onOver);
  ctx.listen(body, "mouseleave", onLeave);
  ctx.listen(body, "scroll", onScroll, { passive: true });
  ctx.listen(body, "keydown", onKey);
  ctx.listen(search, "input", onInput);

  const load = () => {
    const s = summaryOf(model.get("_summary"));
    const first = tree === null;
    tree = s ? buildTree(s) : null;
    if (!tree) {
      spacer.replaceChildren();
      count.textContent = "";
      detail.textContent = "No summary yet.";
      return;
    }
    if (first) expanded = initialExpanded(tree);
    else expanded = new Set(Array.from(expanded).filter((p) => tree?.byPath.has(p)));
    recompute();
  };
  // The root ("") has no row: the header names it.
  const loadNonfinite = () => {
    const f = nonfiniteFlag(model.get("_diagnostics"), model.get("_params"));
    nonfinite = f?.where && f.firstLayer ? { path: f.firstLayer, where: f.where } : null;
    drawWindow();
  };
  load();
  loadNonfinite();
  ctx.on("change:_summary", () => ctx.schedule(load));
  ctx.on("change:_diagnostics", () => ctx.schedule(loadNonfinite));
  ctx.on("change:_params", () => ctx.schedule(loadNonfinite));
  const unsubscribe = store.subscribe(() => ctx.schedule(drawWindow));

  return () => {
    unsubscribe();
    root.replaceChildren();
  };
}
