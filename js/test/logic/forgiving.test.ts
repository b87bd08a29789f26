// Issue 12, points 4 and 5 without a DOM: the model's own row, a failed forward marked in the
// tree, what the shape column says without an input, and the MACs card's states.
import { describe, expect, it } from "vitest";
import { forwardFailure, macsItem } from "../../src/logic/header";
import {
  badgesOf,
  buildTree,
  collapsedAll,
  detailText,
  initialExpanded,
  keyAction,
  moduleCount,
  rowName,
  shapeColumnTitle,
  shapeNote,
  visibleRows,
} from "../../src/logic/tree";
import type { Layer, Summary } from "../../src/model";
import { nestedSummary, stackSummary } from "../helpers";

/** The kernel's `root` record for a summary: the model as a row (panel/state.py root_record). */
function withRoot(s: Summary, extra: Partial<Layer> = {}): Summary {
  const root: Layer = {
    path: "", name: "", kind: s.model_kind, depth: 0, parent: "", input_shape: s.input_shapes,
    output_shape: [1, 16], calls: 1, params: s.total_params, own_params: s.root_params,
    trainable_params: s.trainable_params, macs: null, shared: false, param_formula: "", status: "", ...extra,
  };
  return { ...s, root };
}

const paths = (tree: ReturnType<typeof buildTree>, rows: number[]) => rows.map((i) => tree.nodes[i]?.layer.path);

describe("the model's own row", () => {
  it("is the first row, parent of the top level, open at first; collapse all keeps the top level", () => {
    const tree = buildTree(withRoot(nestedSummary()));
    expect(tree.hasRoot).toBe(true);
    expect(tree.roots).toEqual([0]);
    expect(paths(tree, tree.nodes[0]?.children ?? [])).toEqual(["encoder", "head", "tied", "spare"]);
    const open = initialExpanded(tree);
    expect(Array.from(open).sort()).toEqual(["", "encoder", "spare"]);
    expect(paths(tree, visibleRows(tree, open).rows).slice(0, 4)).toEqual(["", "encoder", "encoder.block0", "encoder.block1"]);
    expect(paths(tree, visibleRows(tree, collapsedAll(tree)).rows)).toEqual(["", "encoder", "head", "tied", "spare"]);
    // Left on a top-level row goes up to the model's row.
    const rows = visibleRows(tree, open).rows;
    expect(keyAction(tree, rows, open, "", "head", "ArrowLeft")).toEqual({ row: 0 });
    // A search keeps it as the ancestor of every match.
    expect(paths(tree, visibleRows(tree, open, "gelu").rows)).toEqual(["", "encoder", "encoder.block1", "encoder.block1.act"]);
  });

  it("makes a model without submodules one row, not an empty tree", () => {
    // nn.LSTM(4, 8) with input_size=(1, 4): 4*8*4 + 8*8*4 + 2 * 32 = 448 parameters, all its own.
    const lstm: Summary = {
      ...stackSummary(0), model_kind: "LSTM", total_params: 448, trainable_params: 448, root_params: 448, input_shapes: [[1, 4]],
    };
    const tree = buildTree(withRoot(lstm, { output_shape: [[1, 8], [[1, 8], [1, 8]]], param_formula: "weight_ih_l0 32×4 = 128 + …" }));
    expect(tree.nodes).toHaveLength(1);
    expect(visibleRows(tree, initialExpanded(tree)).rows).toEqual([0]);
    expect(initialExpanded(tree).size).toBe(0);
    expect(collapsedAll(tree).size).toBe(0);
    expect(rowName(tree.nodes[0] as never)).toBe("(model)");
    expect(moduleCount(1, "", 0)).toBe("1 module");
    expect(detailText(tree.nodes[0] as never)).toBe(
      "LSTM (the model): input [1, 4] → output ([1, 8], ([1, 8], [1, 8])); 448 parameters; held by the model itself: weight_ih_l0 32×4 = 128 + …",
    );
  });

  it("is absent when the kernel sends no root (the top level are the roots, as before)", () => {
    const tree = buildTree(nestedSummary());
    expect(tree.hasRoot).toBe(false);
    expect(paths(tree, tree.roots)).toEqual(["encoder", "head", "tied", "spare"]);
    expect(collapsedAll(tree).size).toBe(0);
    expect(moduleCount(11, "fc", 2)).toBe("2 of 11 modules match");
  });
});

describe("a failed forward in the tree", () => {
  // The kernel's state for a forward that raised in encoder.block1.fc: block0 ran, the failing
  // module and its ancestors never returned (no calls), the rest were not reached.
  function failed(path: string): Summary {
    const s = withRoot(nestedSummary(), { calls: 0, output_shape: null });
    const ran = new Set(["encoder.block0", "encoder.block0.fc", "encoder.block0.act"]);
    const reached = new Set(["", "encoder", "encoder.block1", path, ...ran]);
    s.layers = s.layers.map((l) => ({
      ...l,
      calls: ran.has(l.path) ? 1 : 0,
      status: reached.has(l.path) ? "" : "not reached: the forward failed before it",
    }));
    return { ...s, error: "forward failed in module 'encoder.block1.fc' (Linear) …", failed_path: path };
  }

  it("counts the failing module and its ancestors as run, the others by the kernel's status", () => {
    const tree = buildTree(failed("encoder.block1.fc"));
    expect(tree.failedPath).toBe("encoder.block1.fc");
    const b = (p: string) => badgesOf(tree, tree.nodes[tree.byPath.get(p) as number] as never);
    expect(b("encoder.block1.fc").unused).toBe(false);
    expect(b("encoder.block1").unused).toBe(false);
    expect(b("encoder").unused).toBe(false);
    expect(b("encoder.block1.act")).toMatchObject({ unused: true, status: "not reached: the forward failed before it" });
    expect(b("head").unused).toBe(true);
  });

  it("explains the shapes: up to the failure, or how to get them without an input", () => {
    const s = failed("encoder.block1.fc");
    expect(shapeNote(s)).toBe(
      'Shapes up to the failure: the forward raised in "encoder.block1.fc" (marked "failed here"); the modules after it did not run.',
    );
    expect(shapeNote({ ...s, failed_path: "" })).toContain("raised in the model's own forward");
    expect(shapeColumnTitle(s)).toContain("before the forward failed");
    const none = { ...stackSummary(2), input_shapes: null };
    expect(shapeNote(none)).toBe("No shapes: pass input_size=(...) or input_data=... to ModelPanel to see shapes.");
    expect(shapeColumnTitle(none)).toBe("No input, so no forward ran: pass input_size=(...) or input_data=... to ModelPanel to see shapes");
    expect(shapeNote(stackSummary(2))).toBe("");
  });

  it("gives the header a banner with the kernel's message", () => {
    expect(forwardFailure(stackSummary(2))).toBeNull();
    const f = forwardFailure(failed("encoder.block1.fc"));
    expect(f?.heading).toBe(
      'The forward pass failed in module "encoder.block1.fc": the panel shows the model up to there (panel.error holds the exception)',
    );
    expect(f?.message).toBe("forward failed in module 'encoder.block1.fc' (Linear) …");
  });
});

describe("the MACs card", () => {
  const card = (s: Summary, counting = false, error = "") => macsItem(s, { counting, error });

  it("offers Count MACs with an input, shows counting… meanwhile, the number after", () => {
    const s = stackSummary(2);
    expect(card(s).action).toBe("Count MACs");
    expect(card(s).title).toContain("read panel.summary.macs");
    expect(card(s, true)).toMatchObject({ value: "counting…" });
    expect(card(s, true).action).toBeUndefined();
    // 2 Linear(16, 16) on a batch of one: 2 * 16 * 16 = 512 multiply-accumulates.
    expect(card({ ...s, macs: 512, macs_excluded: [] }, true)).toEqual({
      key: "macs", label: "MACs", value: "512", title: "512 multiply-accumulates per forward",
    });
    const failedCount = card(s, false, "ModelPanelError: the model was deleted");
    expect(failedCount).toMatchObject({ action: "Count MACs", note: "count failed" });
    expect(failedCount.title).toContain("The last count failed: ModelPanelError: the model was deleted");
  });

  it("says how to count them without an input, and offers nothing after a failed forward", () => {
    const none = card({ ...stackSummary(2), input_shapes: null });
    expect(none.action).toBeUndefined();
    expect(none.title).toContain("MACs need an input: pass input_size=(...) or input_data=...");
    const failedForward = card({ ...stackSummary(2), error: "forward failed …", failed_path: "0" });
    expect(failedForward.action).toBeUndefined();
    expect(failedForward.title).toContain("the model's forward fails");
  });
});
