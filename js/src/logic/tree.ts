// Layer tree logic without a DOM: build the tree from the summary's flat layer list, decide
// which rows are visible (expansion state, search filter), derive badges, decide what a key
// does. views/tree.ts renders it.

import { formatInt, formatShape } from "../core/format";
import { EN, type Translate } from "../core/i18n";
import type { Layer, Shape, Summary } from "../model";

export interface TreeNode {
  index: number; // position in Tree.nodes (the root row, when there is one, is 0)
  layer: Layer;
  parent: number; // index of the parent node; -1 for the root row (or top level without one)
  children: number[];
  calledInSubtree: boolean; // this module or a descendant ran in the captured forward
}

export interface Tree {
  nodes: TreeNode[];
  roots: number[]; // top-level modules, in order
  byPath: Map<string, number>;
  forwardRan: boolean;
  totalParams: number;
  hasRoot: boolean; // nodes[0] is the model itself (path "", depth 0): roots is [0]
  failedPath: string | null; // where the panel's forward raised ("" = the root); null when it did not
}

/**
 * Build the tree. Layers come in named_modules() order: parents before their children. The
 * kernel's `root` record (the model itself) becomes the first row, parent of the top level;
 * a summary without one (an older kernel) lists the top level as roots. The module where the
 * forward failed counts as called (it ran, and raised), so neither it nor its ancestors read
 * "unused".
 */
export function buildTree(
  summary: Pick<Summary, "layers" | "input_shapes" | "total_params"> & Partial<Pick<Summary, "root" | "failed_path">>,
): Tree {
  const layers = summary.layers ?? [];
  const failedPath = summary.failed_path ?? null;
  const byPath = new Map<string, number>();
  const nodes: TreeNode[] = [];
  const roots: number[] = [];
  const add = (layer: Layer, parent: number) => {
    const index = nodes.length;
    const called = layer.calls > 0 || layer.path === failedPath;
    nodes.push({ index, layer, parent, children: [], calledInSubtree: called });
    byPath.set(layer.path, index);
    if (parent >= 0) (nodes[parent] as TreeNode).children.push(index);
    else roots.push(index);
  };
  const root = summary.root ?? null;
  if (root) add({ ...root, path: "", depth: 0, parent: "" }, -1);
  for (const layer of layers) {
    // parent "" is the root: its row when there is one, else none (a top-level row).
    const parent = layer.parent === "" && !root ? -1 : (byPath.get(layer.parent) ?? -1);
    add(layer, parent);
  }
  // Children come after parents, so one backwards pass carries "called" up to the ancestors.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i] as TreeNode;
    if (node.calledInSubtree && node.parent >= 0) (nodes[node.parent] as TreeNode).calledInSubtree = true;
  }
  const forwardRan = summary.input_shapes != null || layers.some((l) => l.calls > 0);
  return { nodes, roots, byPath, forwardRan, totalParams: summary.total_params ?? 0, hasRoot: Boolean(root), failedPath };
}

/** The text of a row's name cell; the root row is the model itself ("(model)"), its kind cell the class name. */
export function rowName(node: TreeNode, t: Translate = EN): string {
  return node.layer.depth === 0 && node.layer.path === "" ? t("tree.rootName") : node.layer.name;
}

/** What was passed to the model: one positional shape alone, several as a tuple. */
export function formatInputs(shapes: Shape[] | Shape | null | undefined): string {
  return Array.isArray(shapes) && shapes.length === 1 ? formatShape(shapes[0]) : formatShape(shapes);
}

/**
 * The detail line of a row (hover / selection): how its parameters are counted. The root's
 * also gives the model's input and output shapes, which no column shows.
 */
export function detailText(node: TreeNode, t: Translate = EN): string {
  const l = node.layer;
  if (node.layer.depth === 0 && l.path === "") {
    const own = l.own_params ? t("tree.detailOwn", { formula: l.param_formula || formatInt(l.own_params) }) : "";
    const shapes =
      l.input_shape == null ? "" : t("tree.detailShapes", { input: formatInputs(l.input_shape), output: formatShape(l.output_shape) });
    return t("tree.detailRoot", { kind: l.kind, shapes, n: formatInt(l.params), own });
  }
  const formula = l.param_formula || (l.params ? t("tree.inSubmodules", { n: formatInt(l.params) }) : t("tree.noParams"));
  return t("tree.detailLayer", { path: l.path, kind: l.kind, formula });
}

/** The tree's module count, the model itself included when it is a row. */
export function moduleCount(n: number, query: string, matched: number, t: Translate = EN): string {
  return query ? t("tree.countMatch", { matched, n }) : t("tree.count", { n });
}

/** The shape column's tooltip: what it shows, or how to get shapes when no forward ran. */
export function shapeColumnTitle(summary: Pick<Summary, "input_shapes"> & Partial<Pick<Summary, "error">>, t: Translate = EN): string {
  if (summary.error) return t("tree.shapeTitleFailed");
  if (summary.input_shapes == null) return t("tree.shapeTitleNoInput", { hint: t("tree.shapeHint") });
  return t("tree.shapeTitle");
}

/**
 * The line under the tree's column heads: how to get shapes when no forward ran, what the
 * shapes are after a failed one; "" when the shapes are all there.
 */
export function shapeNote(
  summary: Pick<Summary, "input_shapes"> & Partial<Pick<Summary, "error" | "failed_path">>,
  t: Translate = EN,
): string {
  if (summary.error) {
    const where = summary.failed_path ? t("tree.noteFailedAt", { path: summary.failed_path }) : t("header.failedRoot");
    return t("tree.noteFailed", { where });
  }
  if (summary.input_shapes == null) return t("tree.noteNoInput", { hint: t("tree.shapeHint") });
  return "";
}

export interface Badges {
  frozen: boolean; // some of its parameters do not require grad
  shared: boolean; // holds a tensor another module also holds (tied weights)
  unused: boolean; // no call of it was seen in the captured forward
  // What that badge says: the kernel's reason (Layer.status: "not called in eval mode",
  // "never called", "inside TorchScript: not traced"), or "" for the view's own wording.
  status: string;
}

/**
 * Badges of one node. "unused" only when a forward ran, and not for containers such as
 * ModuleList whose own forward never runs but whose children do; a status from the kernel
 * always shows (it applies the same rule, and knows more: the pass's mode, TorchScript).
 */
export function badgesOf(tree: Tree, node: TreeNode): Badges {
  const l = node.layer;
  const status = l.status ?? "";
  return {
    frozen: l.trainable_params < l.params,
    shared: Boolean(l.shared),
    unused: status !== "" || (tree.forwardRan && !node.calledInSubtree),
    status,
  };
}

/**
 * The paths to expand at first: every node above `maxDepth` (so rows up to depth maxDepth
 * show), level by level, stopping before the visible rows would pass `maxRows`.
 */
export function initialExpanded(tree: Tree, maxDepth = 2, maxRows = 200): Set<string> {
  const expanded = new Set<string>();
  let visible = tree.roots.length;
  let level = tree.roots;
  if (tree.hasRoot) {
    // The model's row is always open: its children are what the tree without it showed.
    const root = tree.nodes[0] as TreeNode;
    if (root.children.length) expanded.add("");
    level = root.children;
    visible += level.length;
  }
  for (let depth = 1; depth < maxDepth && level.length; depth++) {
    const next: number[] = [];
    for (const i of level) {
      const node = tree.nodes[i] as TreeNode;
      if (!node.children.length) continue;
      if (visible + node.children.length > maxRows) return expanded;
      expanded.add(node.layer.path);
      visible += node.children.length;
      next.push(...node.children);
    }
    level = next;
  }
  return expanded;
}

/** The expansion of "collapse all": the top level stays shown under the model's row. */
export function collapsedAll(tree: Tree): Set<string> {
  return tree.hasRoot && (tree.nodes[0] as TreeNode).children.length ? new Set([""]) : new Set();
}

/** Every path with children (for "expand all"). */
export function allExpandable(tree: Tree): Set<string> {
  const out = new Set<string>();
  for (const node of tree.nodes) if (node.children.length) out.add(node.layer.path);
  return out;
}

/** Does the node match a (lower-cased, trimmed) query: by name, path or type. */
export function matches(node: TreeNode, query: string): boolean {
  const l = node.layer;
  return (
    l.name.toLowerCase().includes(query) ||
    l.path.toLowerCase().includes(query) ||
    l.kind.toLowerCase().includes(query)
  );
}

export interface VisibleRows {
  rows: number[]; // node indices in display order
  matched: Set<number> | null; // nodes matching the query (null without a query)
}

/**
 * The rows to display. Without a query: top-level rows and the children of expanded rows.
 * With a query: the matching rows and their ancestors (shown open), nothing else.
 */
export function visibleRows(tree: Tree, expanded: ReadonlySet<string>, query = ""): VisibleRows {
  const q = query.trim().toLowerCase();
  const rows: number[] = [];
  if (!q) {
    const stack = tree.roots.slice().reverse();
    while (stack.length) {
      const i = stack.pop() as number;
      rows.push(i);
      const node = tree.nodes[i] as TreeNode;
      if (node.children.length && expanded.has(node.layer.path)) {
        for (let c = node.children.length - 1; c >= 0; c--) stack.push(node.children[c] as number);
      }
    }
    return { rows, matched: null };
  }
  const matched = new Set<number>();
  const keep = new Uint8Array(tree.nodes.length);
  for (let i = tree.nodes.length - 1; i >= 0; i--) {
    const node = tree.nodes[i] as TreeNode;
    if (matches(node, q)) {
      matched.add(i);
      keep[i] = 1;
    }
    if (keep[i] && node.parent >= 0) keep[node.parent] = 1;
  }
  // Pre-order = the layers' own order, so a filter over the list keeps the tree order.
  for (let i = 0; i < tree.nodes.length; i++) if (keep[i]) rows.push(i);
  return { rows, matched };
}

/** Is `path` the selected path or inside its subtree? ("" = the root holds everything.) */
export function inSubtree(path: string, selected: string): boolean {
  return selected === "" || path === selected || path.startsWith(selected + ".");
}

/** What a key press does: select the display row `row`, and/or replace the expanded set. */
export interface KeyAction {
  row?: number;
  expanded?: Set<string>;
}

/**
 * The tree's keyboard (WAI-ARIA tree view pattern, selection follows focus):
 * Up/Down/Home/End move the selection along the displayed rows; Right expands a closed row,
 * or moves to the first child of an open one; Left collapses an open row, or moves to the
 * parent; Enter and Space select the current row (the first one when none is). While a search
 * shows its matches every row on display is open and expansion is fixed: Right and Left only
 * move. Returns null for a key the tree leaves to the page, and an empty action for one it
 * swallows without effect (Right on a leaf, Left on a top-level row).
 */
export function keyAction(
  tree: Tree,
  rows: readonly number[],
  expanded: ReadonlySet<string>,
  query: string,
  selected: string | null,
  key: string,
): KeyAction | null {
  if (!rows.length) return null;
  const current = selected === null ? -1 : rows.indexOf(tree.byPath.get(selected) ?? -2);
  const node = current >= 0 ? (tree.nodes[rows[current] as number] as TreeNode) : null;
  if (key === "ArrowDown") return { row: Math.min(rows.length - 1, current + 1) };
  if (key === "ArrowUp") return { row: Math.max(0, current - 1) };
  if (key === "Home") return { row: 0 };
  if (key === "End") return { row: rows.length - 1 };
  if (key === "Enter" || key === " ") return { row: Math.max(0, current) };
  if ((key !== "ArrowRight" && key !== "ArrowLeft") || !node) return null;
  const path = node.layer.path;
  const open = query ? true : expanded.has(path);
  if (key === "ArrowRight") {
    if (!node.children.length) return {};
    if (!open) return { expanded: new Set(expanded).add(path) };
    const child = node.children.find((c) => rows.includes(c));
    return child === undefined ? {} : { row: rows.indexOf(child) };
  }
  if (open && node.children.length && !query) return { expanded: toggled(expanded, path) };
  const parentRow = node.parent >= 0 ? rows.indexOf(node.parent) : -1;
  return parentRow >= 0 ? { row: parentRow } : {};
}

/** `expanded` with `path` opened if it was closed, closed if it was open. */
export function toggled(expanded: ReadonlySet<string>, path: string): Set<string> {
  const next = new Set(expanded);
  if (next.has(path)) next.delete(path);
  else next.add(path);
  return next;
}

/**
 * The CSS width of the tree's Params column, wide enough for the largest count written in full
 * ("70,553,706,496" for a 70B model) and its share ("100.0%": ~45px at the share's 10px, with
 * its margin), never narrower than the 130px a small model's head needs. `ch` is a digit's width
 * in the row's font, so a comma counts as a digit: a little slack, never a cut.
 */
export function paramsColumnWidth(maxCount: number): string {
  const chars = formatInt(maxCount).length;
  return `max(130px, calc(${chars}ch + 52px))`;
}
