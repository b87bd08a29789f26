// The column traits decoded into the rows the views read: `_summary.layer_columns` -> Layer[],
// `_params` + `_param_stats` -> ParamRecord[].
import { describe, expect, it } from "vitest";
import { decodeLayers, decodeParams, decodeSummary, paramsOf, summaryOf } from "../../src/core/columns";
import type { LayerColumns, Model, ParamColumns, ParamRecord, ParamStats } from "../../src/model";
import { irisRecords, irisState, layerColumns, nestedSummary, paramColumns, paramStats, summaryWire, wireArray } from "../helpers";

/** Two layers written out by hand, as the kernel sends them. */
function handColumns(): LayerColumns {
  return {
    n: 2,
    path: ["enc", "enc.fc"],
    name: ["enc", "fc"],
    parent: wireArray([-1, 0], "int32", [2]),
    depth: wireArray([1, 2], "int32", [2]),
    calls: wireArray([1, 3], "int32", [2]),
    params: wireArray([50, 50], "float64", [2]),
    own_params: wireArray([0, 50], "float64", [2]),
    trainable_params: wireArray([40, 40], "float64", [2]),
    macs: wireArray([Number.NaN, 120], "float64", [2]),
    shared: [1],
    kind: { values: ["Sequential", "Linear"], index: wireArray([0, 1], "uint32", [2]) },
    param_formula: { values: ["", "weight 10×4 = 40 + bias 10 = 50"], index: wireArray([0, 1], "uint32", [2]) },
    input_shape: { values: [[[1, 4]]], index: wireArray([0, 0], "uint32", [2]) },
    output_shape: { values: [null, { logits: [1, 10] }], index: wireArray([1, 0], "uint32", [2]) },
  };
}

describe("decodeLayers", () => {
  it("turns hand-built columns into rows: -1 parent -> the root, NaN MACs -> null", () => {
    expect(decodeLayers(handColumns())).toEqual([
      {
        path: "enc", name: "enc", kind: "Sequential", depth: 1, parent: "", input_shape: [[1, 4]],
        output_shape: { logits: [1, 10] }, calls: 1, params: 50, own_params: 0, trainable_params: 40,
        macs: null, shared: false, param_formula: "", status: "",
      },
      {
        path: "enc.fc", name: "fc", kind: "Linear", depth: 2, parent: "enc", input_shape: [[1, 4]],
        output_shape: null, calls: 3, params: 50, own_params: 50, trainable_params: 40,
        macs: 120, shared: true, param_formula: "weight 10×4 = 40 + bias 10 = 50", status: "",
      },
    ]);
  });

  it("reads each row's status from its dictionary column (absent from older kernels: \"\")", () => {
    const c = { ...handColumns(), status: { values: ["", "inside TorchScript: not traced"], index: wireArray([1, 0], "uint8", [2]) } };
    expect(decodeLayers(c).map((l) => l.status)).toEqual(["inside TorchScript: not traced", ""]);
    expect(decodeLayers(handColumns()).map((l) => l.status)).toEqual(["", ""]);
  });

  it("round-trips the layers of a nested model through the columns", () => {
    const summary = nestedSummary();
    expect(decodeLayers(layerColumns(summary.layers))).toEqual(summary.layers);
    expect(decodeSummary(summaryWire(summary))).toEqual(summary);
  });

  it("accepts the compact forms: shapes as a per-row JSON text, uint8 indices, uint32 counts", () => {
    const c = handColumns();
    const compact: LayerColumns = {
      ...c,
      params: wireArray([50, 50], "uint32", [2]),
      own_params: wireArray([0, 50], "uint32", [2]),
      trainable_params: wireArray([40, 40], "uint32", [2]),
      kind: { values: ["Sequential", "Linear"], index: wireArray([0, 1], "uint8", [2]) },
      input_shape: JSON.stringify([[[1, 4]], [[1, 4]]]),
      output_shape: [{ logits: [1, 10] }, null],
    };
    expect(decodeLayers(compact)).toEqual(decodeLayers(c));
    expect(() => decodeLayers({ ...c, input_shape: "[[1, 4]]" })).toThrow(/input_shape: 1 values for 2 rows/);
  });

  it("says which column is short, and which dictionary index points nowhere", () => {
    const c = handColumns();
    expect(() => decodeLayers({ ...c, depth: wireArray([1], "int32", [1]) })).toThrow(/depth: 1 values for 2 rows/);
    expect(() => decodeLayers({ ...c, kind: { values: ["A"], index: wireArray([0, 4], "uint32", [2]) } })).toThrow(
      /kind: row 1 points at value 4 of 1/,
    );
  });

  it("summaryOf: null before a summary, once per trait value, null for a malformed one", () => {
    expect(summaryOf({} as Model["_summary"])).toBeNull();
    expect(summaryOf(null)).toBeNull();
    const wire = irisState()._summary as Model["_summary"];
    const s = summaryOf(wire);
    expect(s?.layers.map((l) => [l.path, l.parent, l.params])).toEqual([["fc1", "", 50], ["relu", "", 0], ["fc2", "", 33]]);
    expect(summaryOf(wire)).toBe(s); // the same decode for every view of this update
    const broken = { ...(wire as object), layer_columns: { ...handColumns(), depth: wireArray([1], "int32", [1]) } };
    expect(summaryOf(broken as Model["_summary"])).toBeNull();
  });
});

function rec(id: number, over: Partial<ParamRecord> = {}): ParamRecord {
  return {
    id, names: [`l${id}.weight`], owners: [`l${id}`], shape: [2, 2], numel: 4, dtype: "float32", device: "cpu",
    trainable: true, mean: 0.5, std: 0.25, min: -1, max: 1, nan: 0, inf: 0, sampled: false, ...over,
  };
}

describe("decodeParams", () => {
  it("reads a missing nonfinite buffer as zero NaN/Inf counts (the kernel omits it then)", () => {
    const records = irisRecords();
    const stats = { ...paramStats(records), nonfinite: null } as unknown as ParamStats;
    const out = decodeParams(paramColumns(records), stats);
    expect(out.map((r) => [r.nan, r.inf])).toEqual(records.map(() => [0, 0]));
    expect(out.map((r) => r.mean)).toEqual(records.map((r) => r.mean));
  });

  const records = [
    rec(0),
    rec(1, { names: ["head.weight", "embed.weight"], owners: ["head", "embed"], dtype: "bfloat16", trainable: false }),
    rec(2, { mean: null, std: null, min: null, max: null, nan: 4, inf: 0, sampled: true, device: "cuda:0", shape: [] }),
  ];

  it("joins the static columns and the statistics into records (NaN -> null)", () => {
    expect(decodeParams(paramColumns(records), paramStats(records))).toEqual(records);
  });

  it("decodes hand-built columns: frozen and sampled ids, dictionary dtypes", () => {
    const columns: ParamColumns = {
      n: 2, names: [["a"], ["b"]], owners: [[""], ["m"]], shape: [[3], [1, 1]],
      numel: wireArray([3, 1], "float64", [2]),
      dtype: { values: ["float16"], index: wireArray([0, 0], "uint32", [2]) },
      device: { values: ["cpu", "mps"], index: wireArray([1, 0], "uint32", [2]) },
      frozen: [0],
    };
    const stats: ParamStats = {
      version: 3,
      stats: wireArray([Number.NaN, Number.NaN, Number.NaN, Number.NaN, 0.5, 0, 0.5, 0.5], "float32", [2, 4]),
      nonfinite: wireArray([3, 0, 0, 1], "uint32", [2, 2]),
      sampled: [1],
    };
    const out = decodeParams(columns, stats);
    expect(out.map((r) => [r.id, r.dtype, r.device, r.trainable, r.sampled, r.nan, r.inf])).toEqual([
      [0, "float16", "mps", false, false, 3, 0],
      [1, "float16", "cpu", true, true, 0, 1],
    ]);
    expect([out[0]?.mean, out[0]?.max, out[1]?.mean, out[1]?.std]).toEqual([null, null, 0.5, 0]);
  });

  it("accepts names, owners and shapes as JSON text", () => {
    const columns = paramColumns(records);
    const compact = {
      ...columns,
      names: JSON.stringify(columns.names),
      owners: JSON.stringify(columns.owners),
      shape: JSON.stringify(columns.shape),
      numel: wireArray([4, 4, 4], "uint32", [3]),
    };
    expect(decodeParams(compact, paramStats(records))).toEqual(records);
  });

  it("reads statistics of another row count as missing, never as another tensor's numbers", () => {
    const out = decodeParams(paramColumns(records), paramStats(records.slice(0, 2)));
    expect(out.map((r) => [r.mean, r.std, r.min, r.max, r.nan, r.inf, r.sampled])).toEqual(
      records.map(() => [null, null, null, null, 0, 0, false]),
    );
    expect(decodeParams(paramColumns(records), {}).map((r) => r.mean)).toEqual([null, null, null]);
    expect(decodeParams({}, null)).toEqual([]);
  });

  it("paramsOf decodes once per (_params, _param_stats) pair", () => {
    const p = paramColumns(records);
    const s1 = paramStats(records, 1);
    const first = paramsOf(p, s1);
    expect(paramsOf(p, s1)).toBe(first);
    const s2 = paramStats(records.map((r) => ({ ...r, nan: 9 })), 2);
    expect(paramsOf(p, s2).map((r) => r.nan)).toEqual([9, 9, 9]);
    expect(irisRecords().map((r) => r.names[0])).toEqual(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
  });
});
