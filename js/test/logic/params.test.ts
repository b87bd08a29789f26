import { describe, expect, it } from "vitest";
import { COLUMNS, filterBySubtree, hasNoStatistics, hasNoValues, histogramIds, naturalCompare, nextSort, sortRecords, valuelessNote } from "../../src/logic/params";
import type { ParamRecord } from "../../src/model";

function rec(id: number, name: string, over: Partial<ParamRecord> = {}): ParamRecord {
  const owner = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : "";
  return {
    id, names: [name], owners: [owner], shape: [4], numel: 4, dtype: "float32", device: "cpu",
    trainable: true, mean: 0, std: 1, min: -1, max: 1, nan: 0, inf: 0, sampled: false, ...over,
  };
}

const records = [
  rec(0, "layers.10.weight", { numel: 100, mean: 0.5 }),
  rec(1, "layers.2.weight", { numel: 30, mean: null, std: null, min: null, max: null, nan: 30 }),
  rec(2, "layers.2.bias", { numel: 3, mean: -0.25, trainable: false }),
  rec(3, "head.weight", { numel: 30, mean: 0.1, inf: 2, names: ["head.weight", "embed.weight"], owners: ["head", "embed"] }),
];
const ids = (rs: ParamRecord[]) => rs.map((r) => r.id);

describe("sortRecords", () => {
  it("sorts names naturally (layers.2 before layers.10)", () => {
    expect(ids(sortRecords(records, "name", "asc"))).toEqual([3, 2, 1, 0]);
    expect(ids(sortRecords(records, "name", "desc"))).toEqual([0, 1, 2, 3]);
    expect(naturalCompare("layers.2.weight", "layers.10.weight")).toBeLessThan(0);
  });

  it("sorts numbers, keeps ties in kernel order, and puts missing values last both ways", () => {
    expect(ids(sortRecords(records, "numel", "asc"))).toEqual([2, 1, 3, 0]);
    expect(ids(sortRecords(records, "numel", "desc"))).toEqual([0, 1, 3, 2]); // 1 and 3 tie: kernel order
    expect(ids(sortRecords(records, "mean", "asc"))).toEqual([2, 3, 0, 1]);
    expect(ids(sortRecords(records, "mean", "desc"))).toEqual([0, 3, 2, 1]);
    expect(ids(sortRecords(records, "nonfinite", "desc"))).toEqual([1, 3, 0, 2]);
    expect(ids(sortRecords(records, "trainable", "asc"))).toEqual([2, 0, 1, 3]);
  });

  it("does not mutate its input", () => {
    const before = ids(records);
    sortRecords(records, "numel", "desc");
    expect(ids(records)).toEqual(before);
  });
});

describe("nextSort", () => {
  it("sorts a new column ascending and flips the same one", () => {
    expect(nextSort(null, "mean")).toEqual({ key: "mean", dir: "asc" });
    expect(nextSort({ key: "mean", dir: "asc" }, "mean")).toEqual({ key: "mean", dir: "desc" });
    expect(nextSort({ key: "mean", dir: "desc" }, "mean")).toEqual({ key: "mean", dir: "asc" });
    expect(nextSort({ key: "mean", dir: "desc" }, "std")).toEqual({ key: "std", dir: "asc" });
  });
});

describe("filterBySubtree", () => {
  it("keeps tensors held by the selected module or its descendants (any owner of a tied tensor)", () => {
    expect(ids(filterBySubtree(records, null))).toEqual([0, 1, 2, 3]);
    expect(ids(filterBySubtree(records, "layers.2"))).toEqual([1, 2]);
    expect(ids(filterBySubtree(records, "layers"))).toEqual([0, 1, 2]);
    expect(ids(filterBySubtree(records, "embed"))).toEqual([3]);
    expect(ids(filterBySubtree(records, "layers.1"))).toEqual([]); // not layers.10
  });
});

describe("histogramIds", () => {
  it("draws the user's picks still in the table, else the first rows", () => {
    expect(histogramIds(records, new Set())).toEqual([0, 1, 2, 3]);
    expect(histogramIds(records.slice(0, 2), new Set())).toEqual([0, 1]);
    expect(histogramIds(records, new Set([3, 1]))).toEqual([1, 3]); // table order
    expect(histogramIds(records.slice(0, 2), new Set([3]))).toEqual([0, 1]); // pick filtered out
  });
});

describe("COLUMNS", () => {
  it("renders every column of a record as text", () => {
    const texts = COLUMNS.map((c) => c.text(records[3] as ParamRecord));
    expect(texts).toEqual(["head.weight, embed.weight", "4", "30", "float32", "cpu", "yes", "0.1", "1", "-1", "1", "0 / 2"]);
    expect(COLUMNS.map((c) => c.text(records[1] as ParamRecord)).slice(6)).toEqual(["—", "—", "—", "—", "30 / 0"]);
  });
});

describe("hasNoValues / valuelessNote", () => {
  const meta = rec(4, "fc.weight", { device: "meta", note: "meta: no values", mean: null, std: null, min: null, max: null });
  const lazy = rec(5, "lazy.weight", { shape: [], numel: 0, note: "lazy: not materialised until the first forward" });
  it("knows meta and lazy tensors hold no values, and nothing else", () => {
    expect([meta, lazy, ...records].map(hasNoValues)).toEqual([true, true, false, false, false, false]);
  });
  it("says why histograms are left out, for all or some of the tensors", () => {
    expect(valuelessNote(records)).toBe("");
    expect(valuelessNote([meta])).toBe("No histograms or statistics: on the meta device, tensors have shapes and dtypes but no values.");
    expect(valuelessNote([records[0] as ParamRecord, lazy])).toBe(
      "1 tensor left out: lazy parameters have no values until the model's first forward.",
    );
  });
});

describe("tensors without values (meta, lazy, empty)", () => {
  // As the kernel sends them (stats/histograms.py: NaN statistics, NaN/Inf counts 0):
  // torch.nn.Linear(4, 2) built on the meta device, a LazyLinear before its first forward, and
  // the weight of Linear(0, 2), which has no elements.
  const none = { mean: null, std: null, min: null, max: null, nan: 0, inf: 0 };
  const meta = rec(0, "weight", { ...none, shape: [2, 4], numel: 8, device: "meta", note: "meta: no values" });
  const lazy = rec(1, "0.weight", { ...none, shape: [], numel: 0, note: "lazy: not materialised until the first forward" });
  const empty = rec(2, "1.weight", { ...none, shape: [2, 0], numel: 0 });
  const stats = ["mean", "std", "min", "max", "nonfinite"];

  it("read '—' in every statistic, the NaN/Inf count included", () => {
    for (const r of [meta, lazy, empty]) {
      expect(hasNoStatistics(r)).toBe(true);
      expect(COLUMNS.filter((c) => stats.includes(c.key)).map((c) => c.text(r))).toEqual(["—", "—", "—", "—", "—"]);
    }
    expect(COLUMNS.find((c) => c.key === "numel")?.text(meta)).toBe("8"); // counted by shape
    expect(records.map(hasNoStatistics)).toEqual([false, false, false, false]);
  });

  it("sort last by any statistic, in both directions", () => {
    const rows = [meta, rec(3, "b", { nan: 1 }), lazy, rec(4, "c")];
    for (const dir of ["asc", "desc"] as const) {
      expect(ids(sortRecords(rows, "nonfinite", dir)).slice(2)).toEqual([0, 1]);
      expect(ids(sortRecords(rows, "mean", dir)).slice(2)).toEqual([0, 1]);
    }
  });
});
