import { describe, expect, it } from "vitest";
import { allExpandable, badgesOf, buildTree, initialExpanded, inSubtree, keyAction, paramsColumnWidth, toggled, visibleRows } from "../../src/logic/tree";
import { nestedSummary, stackSummary } from "../helpers";

const paths = (tree: ReturnType<typeof buildTree>, rows: number[]) => rows.map((i) => tree.nodes[i]?.layer.path);

describe("buildTree", () => {
  it("links children to parents in named_modules order", () => {
    const tree = buildTree(nestedSummary());
    expect(paths(tree, tree.roots)).toEqual(["encoder", "head", "tied", "spare"]);
    const enc = tree.nodes[tree.byPath.get("encoder") as number];
    expect(paths(tree, enc?.children ?? [])).toEqual(["encoder.block0", "encoder.block1"]);
    expect(tree.totalParams).toBe(544 + 272 * 3);
  });
});

describe("visibleRows and expansion", () => {
  it("shows top level and the children of expanded nodes only", () => {
    const tree = buildTree(nestedSummary());
    expect(paths(tree, visibleRows(tree, new Set()).rows)).toEqual(["encoder", "head", "tied", "spare"]);
    expect(paths(tree, visibleRows(tree, new Set(["encoder"])).rows)).toEqual([
      "encoder", "encoder.block0", "encoder.block1", "head", "tied", "spare",
    ]);
    // A collapsed parent hides an expanded child's children.
    expect(paths(tree, visibleRows(tree, new Set(["encoder.block0"])).rows)).toEqual(["encoder", "head", "tied", "spare"]);
    expect(visibleRows(tree, allExpandable(tree)).rows).toHaveLength(tree.nodes.length);
  });

  it("opens to depth 2 at first, and not past ~200 rows", () => {
    const tree = buildTree(nestedSummary());
    expect(Array.from(initialExpanded(tree)).sort()).toEqual(["encoder", "spare"]);
    expect(paths(tree, visibleRows(tree, initialExpanded(tree)).rows)).toContain("encoder.block1");
    expect(paths(tree, visibleRows(tree, initialExpanded(tree)).rows)).not.toContain("encoder.block1.fc");
    // 2,000 top-level modules: nothing to expand, all rows listed (the view virtualises them).
    const big = buildTree(stackSummary(2000));
    expect(initialExpanded(big).size).toBe(0);
    expect(visibleRows(big, new Set()).rows).toHaveLength(2000);
    expect(initialExpanded(tree, 2, 5).size).toBe(0); // 4 roots + 2 children of encoder > 5
  });

  it("search keeps matches and their ancestors, by name or type, case-insensitive", () => {
    const tree = buildTree(nestedSummary());
    const { rows, matched } = visibleRows(tree, new Set(), "gelu");
    expect(paths(tree, rows)).toEqual(["encoder", "encoder.block1", "encoder.block1.act"]);
    expect(paths(tree, Array.from(matched ?? []))).toEqual(["encoder.block1.act"]);
    expect(paths(tree, visibleRows(tree, new Set(), " FC ").rows)).toEqual([
      "encoder", "encoder.block0", "encoder.block0.fc", "encoder.block1", "encoder.block1.fc",
    ]);
    expect(visibleRows(tree, new Set(), "nothing-like-this").rows).toEqual([]);
  });
});

describe("badges", () => {
  it("marks frozen, shared and never-called modules, but not a ModuleList whose children ran", () => {
    const s = nestedSummary();
    s.layers[10] = { ...(s.layers[10] as (typeof s.layers)[number]), calls: 1 }; // spare.0 ran
    const ran = buildTree(s);
    const b = (p: string) => badgesOf(ran, ran.nodes[ran.byPath.get(p) as number] as never);
    expect(b("head")).toEqual({ frozen: true, shared: false, unused: false, status: "" });
    expect(b("tied")).toEqual({ frozen: false, shared: true, unused: false, status: "" });
    expect(b("spare").unused).toBe(false);
    const never = buildTree(nestedSummary());
    expect(badgesOf(never, never.nodes[never.byPath.get("spare") as number] as never).unused).toBe(true);
    expect(badgesOf(never, never.nodes[never.byPath.get("spare.0") as number] as never).unused).toBe(true);
  });

  it("words the not-run badge by the kernel's status when it gives one", () => {
    const s = nestedSummary();
    const at = (p: string) => s.layers.findIndex((l) => l.path === p);
    s.layers[at("spare")] = { ...(s.layers[at("spare")] as (typeof s.layers)[number]), status: "not called in eval mode" };
    // A submodule of a scripted module: it ran, but no hook saw it (calls 0).
    s.layers[at("encoder.block1.act")] = {
      ...(s.layers[at("encoder.block1.act")] as (typeof s.layers)[number]), calls: 0, status: "inside TorchScript: not traced",
    };
    const tree = buildTree(s);
    const b = (p: string) => badgesOf(tree, tree.nodes[tree.byPath.get(p) as number] as never);
    expect(b("spare")).toMatchObject({ unused: true, status: "not called in eval mode" });
    expect(b("spare.0")).toMatchObject({ unused: true, status: "" }); // no status: the view's own word
    expect(b("encoder.block1.act")).toMatchObject({ unused: true, status: "inside TorchScript: not traced" });
    expect(b("encoder.block1")).toMatchObject({ unused: false, status: "" });
  });

  it("calls nothing unused when no forward ran", () => {
    const s = nestedSummary();
    s.input_shapes = null;
    s.layers = s.layers.map((l) => ({ ...l, calls: 0 }));
    const tree = buildTree(s);
    expect(tree.nodes.some((n) => badgesOf(tree, n).unused)).toBe(false);
  });
});

describe("inSubtree", () => {
  it("matches the path and its descendants only", () => {
    expect(inSubtree("encoder.block0.fc", "encoder")).toBe(true);
    expect(inSubtree("encoder", "encoder")).toBe(true);
    expect(inSubtree("encoder2.fc", "encoder")).toBe(false);
    expect(inSubtree("anything", "")).toBe(true);
  });
});

describe("keyAction", () => {
  const tree = buildTree(nestedSummary());
  const expanded = new Set(["encoder"]);
  const rows = visibleRows(tree, expanded).rows; // encoder, block0, block1, head, tied, spare
  const press = (key: string, selected: string | null, query = "") => keyAction(tree, rows, expanded, query, selected, key);

  it("moves along the displayed rows, from no selection to the first row", () => {
    expect(press("ArrowDown", null)).toEqual({ row: 0 });
    expect(press("ArrowUp", null)).toEqual({ row: 0 });
    expect(press("ArrowDown", "spare")).toEqual({ row: 5 }); // stays on the last row
    expect(press("ArrowUp", "encoder.block1")).toEqual({ row: 1 });
    expect(press("End", "encoder")).toEqual({ row: 5 });
    expect(press("Home", "spare")).toEqual({ row: 0 });
  });

  it("expands, collapses, goes to the parent, and leaves other keys to the page", () => {
    expect(press("ArrowRight", "encoder.block0")?.expanded).toEqual(new Set(["encoder", "encoder.block0"]));
    expect(press("ArrowLeft", "encoder")?.expanded).toEqual(new Set());
    expect(press("ArrowLeft", "encoder.block0")).toEqual({ row: 0 });
    expect(press("ArrowRight", "head")).toEqual({}); // a leaf: swallowed, nothing to do
    expect(press("ArrowLeft", "head")).toEqual({}); // top level, closed: nowhere to go
    expect(press("ArrowRight", null)).toBeNull();
    expect(press("a", "encoder")).toBeNull();
    expect(keyAction(tree, [], expanded, "", null, "ArrowDown")).toBeNull();
    expect(toggled(toggled(expanded, "head"), "head")).toEqual(expanded);
  });

  it("Right on an open row goes to its first child; Left on a closed child goes to its parent", () => {
    expect(press("ArrowRight", "encoder")).toEqual({ row: 1 }); // encoder is open: to block0
    const deeper = new Set(["encoder", "encoder.block1"]);
    const deepRows = visibleRows(tree, deeper).rows; // encoder, block0, block1, block1.fc, block1.act, head, ...
    expect(paths(tree, deepRows).slice(0, 5)).toEqual([
      "encoder", "encoder.block0", "encoder.block1", "encoder.block1.fc", "encoder.block1.act",
    ]);
    expect(keyAction(tree, deepRows, deeper, "", "encoder.block1", "ArrowRight")).toEqual({ row: 3 });
    expect(keyAction(tree, deepRows, deeper, "", "encoder.block1.act", "ArrowLeft")).toEqual({ row: 2 });
  });

  it("Enter and Space select the current row, or the first when none is", () => {
    expect(press("Enter", "tied")).toEqual({ row: 4 });
    expect(press(" ", "encoder.block1")).toEqual({ row: 2 });
    expect(press("Enter", null)).toEqual({ row: 0 });
  });

  it("while searching, Right and Left only move: every displayed row is open", () => {
    const found = visibleRows(tree, new Set(), "fc").rows; // encoder, block0, block0.fc, block1, block1.fc
    expect(paths(tree, found)).toEqual(["encoder", "encoder.block0", "encoder.block0.fc", "encoder.block1", "encoder.block1.fc"]);
    const during = (key: string, selected: string) => keyAction(tree, found, new Set(), "fc", selected, key);
    expect(during("ArrowRight", "encoder.block1")).toEqual({ row: 4 });
    expect(during("ArrowLeft", "encoder.block1")).toEqual({ row: 0 }); // not a collapse: to encoder
    expect(during("ArrowLeft", "encoder.block0.fc")).toEqual({ row: 1 });
    expect(during("ArrowRight", "encoder.block0.fc")).toEqual({}); // a leaf
  });
});

describe("paramsColumnWidth", () => {
  it("widens the Params column to the largest count written in full, never below 130px", () => {
    // LlamaForCausalLM at 70B: 70,553,706,496 parameters, 14 characters with the commas.
    expect(paramsColumnWidth(70_553_706_496)).toBe("max(130px, calc(14ch + 52px))");
    expect(paramsColumnWidth(83)).toBe("max(130px, calc(2ch + 52px))");
  });
});
