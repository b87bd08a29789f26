// The diagnostics' flags as badges and table rows: merging the kernel's flags with the NaN/Inf
// report, one NaN/Inf badge per row, the sentences once each.
import { describe, expect, it } from "vitest";
import { diagnosticsRows, flagBadges, flagLegend, flagsByPath } from "../../src/logic/flags";
import type { Diagnostics } from "../../src/model";

const DIAG: Diagnostics = {
  nonfinite: { loss: false, first_layer: "fc2", where: "grads" },
  grad_norms: { "0": 1e-9, fc2: null },
  activations: { relu: { mean: 0, std: 0, zero_frac: 1 }, fc2: { mean: null, std: null, zero_frac: 0 } },
  flags: { "0": ["vanishing"], relu: ["dead"], fc2: ["nonfinite_activations"] },
};

describe("flagsByPath", () => {
  it("adds the NaN/Inf report's first layer to the kernel's flags, once", () => {
    const m = flagsByPath(DIAG, { loss: false, where: "grads", firstLayer: "fc2" });
    expect(m.get("fc2")).toEqual(["nonfinite_activations", "nonfinite_grads"]);
    expect(m.get("relu")).toEqual(["dead"]);
    const again = flagsByPath({ flags: { fc2: ["nonfinite_grads"] } }, { loss: false, where: "grads", firstLayer: "fc2" });
    expect(again.get("fc2")).toEqual(["nonfinite_grads"]);
  });

  it("flags every owner of a tensor with NaN/Inf values, tied tensors' owners all", () => {
    const params = [
      { owners: ["fc1"], nan: 1, inf: 0 },
      { owners: ["fc1"], nan: 0, inf: 0 },
      { owners: ["head", "embed"], nan: 0, inf: 5 },
      { owners: ["fc2"], nan: 0, inf: 0 },
    ];
    const m = flagsByPath({ flags: { fc1: ["nonfinite_grads"] } }, { loss: false, where: "grads", firstLayer: "fc1" }, params);
    expect(Array.from(m)).toEqual([
      ["fc1", ["nonfinite_grads", "nonfinite_weights"]],
      ["head", ["nonfinite_weights"]],
      ["embed", ["nonfinite_weights"]],
    ]);
  });

  it("flags the root ('') and nothing when nothing is reported", () => {
    expect(flagsByPath({}, { loss: false, where: "weights", firstLayer: "" }).get("")).toEqual(["nonfinite_weights"]);
    expect(flagsByPath(null, null).size).toBe(0);
    expect(flagsByPath({ flags: { a: [] } }, { loss: true, where: null, firstLayer: null }).size).toBe(0);
  });
});

describe("flagBadges", () => {
  it("gives each flag a label and a sentence on what it means and what helps", () => {
    const [dead] = flagBadges(["dead"]);
    expect(dead?.key).toBe("dead");
    expect(dead?.title).toMatch(/99%.*exactly 0/);
    expect(dead?.title).toMatch(/lower learning rate.*LeakyReLU or GELU.*initialisation/);
    expect(flagBadges(["vanishing"])[0]?.title).toMatch(/residual connections/);
    expect(flagBadges(["exploding"])[0]?.title).toMatch(/clip_grad_norm_/);
  });

  it("merges the NaN/Inf kinds into one badge naming where, and says where it first appeared", () => {
    const badges = flagBadges(["exploding", "nonfinite_weights", "nonfinite_activations"], true);
    expect(badges.map((b) => b.key)).toEqual(["exploding", "nonfinite"]);
    expect(badges[1]?.text).toBe("NaN/Inf");
    expect(badges[1]?.title).toMatch(/^NaN\/Inf in this module's weights and outputs:/);
    expect(badges[1]?.title).toMatch(/first appeared here/);
    expect(flagBadges([])).toEqual([]);
  });
});

describe("diagnosticsRows", () => {
  it("lists every module measured or flagged, with undefined for what was not measured", () => {
    const rows = diagnosticsRows(DIAG, flagsByPath(DIAG, null));
    expect(rows.map((r) => r.path)).toEqual(["0", "fc2", "relu"]);
    const fc2 = rows[1];
    expect(fc2?.gradNorm).toBeNull(); // measured, not finite
    expect(fc2?.mean).toBeNull();
    expect(rows[0]?.mean).toBeUndefined(); // no activations for "0"
    expect(rows[2]?.zeroFrac).toBe(1);
    const only = diagnosticsRows({}, new Map([["fc1", ["nonfinite_weights"]]]));
    expect(only).toEqual([{ path: "fc1", kind: null, gradNorm: undefined, mean: undefined, std: undefined, zeroFrac: undefined, flags: ["nonfinite_weights"] }]);
  });

  it("orders the rows as the model's modules (not gradients first, then activations), each with its kind", () => {
    // nn.Sequential(Linear, ReLU, Linear, ReLU, Linear): named_modules() gives "", 0, 1, 2, 3, 4;
    // the kernel reports gradient norms (modules with weights) before activations.
    const kinds = ["Sequential", "Linear", "ReLU", "Linear", "ReLU", "Linear"];
    const layers = ["", "0", "1", "2", "3", "4"].map((path, i) => ({ path, kind: kinds[i] as string }));
    const d: Diagnostics = {
      grad_norms: { "0": 0, "2": 0.0028, "4": 0.0037 },
      activations: { "0": { mean: -100, std: 2, zero_frac: 0 }, "1": { mean: 0, std: 0, zero_frac: 1 }, "3": { mean: 0.05, std: 0.07, zero_frac: 0.6 } },
      flags: { "0": ["vanishing"], "1": ["dead"] },
    };
    const rows = diagnosticsRows(d, flagsByPath(d, null, [{ owners: [""], nan: 1, inf: 0 }]), layers);
    expect(rows.map((r) => [r.path, r.kind])).toEqual([
      ["", "Sequential"], ["0", "Linear"], ["1", "ReLU"], ["2", "Linear"], ["3", "ReLU"], ["4", "Linear"],
    ]);
    expect(diagnosticsRows(d, new Map()).map((r) => r.path)).toEqual(["0", "2", "4", "1", "3"]); // what it was
    // Paths the summary does not hold (none yet) follow in the kernel's order, without a kind.
    expect(diagnosticsRows(d, new Map(), layers.slice(0, 3)).map((r) => [r.path, r.kind])).toEqual([
      ["0", "Linear"], ["1", "ReLU"], ["2", null], ["4", null], ["3", null],
    ]);
  });

  it("writes each flag's sentence once under the table", () => {
    const rows = diagnosticsRows(
      { flags: { a: ["dead"], b: ["dead", "nonfinite_grads"], c: ["nonfinite_weights"] } },
      flagsByPath({ flags: { a: ["dead"], b: ["dead", "nonfinite_grads"], c: ["nonfinite_weights"] } }, null),
    );
    const legend = flagLegend(rows);
    expect(legend.map((b) => b.key)).toEqual(["dead", "nonfinite"]);
    expect(legend[1]?.title).toMatch(/weights and gradients/);
  });
});
