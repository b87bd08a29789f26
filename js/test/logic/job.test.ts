// The distributed job's figures, rank rows and failure line (pure: no DOM).
import { describe, expect, it } from "vitest";
import { jobFailure, jobItems, jobTable } from "../../src/logic/job";
import { jobState as job } from "../helpers";


describe("jobItems", () => {
  it("gives world size, backend, state, the global step and the global gradient norm", () => {
    expect(jobItems(job()).map((i) => [i.key, i.label, i.value])).toEqual([
      ["world", "Processes", "2"],
      ["backend", "Backend", "gloo"],
      ["state", "State", "running"],
      ["step", "Global step", "29"],
      ["grad_norm", "Global gradient norm", "0.236"],
    ]);
  });

  it("leaves out the gradient norm when none is watched, and dashes what a failure left unknown", () => {
    const items = jobItems(job({ world_size: null, backend: null, step: null, grad_norm: null, state: "failed" }));
    expect(items.map((i) => i.value)).toEqual(["—", "—", "failed", "—"]);
    expect(items.map((i) => i.key)).not.toContain("grad_norm");
    expect(jobItems(job({ step: 2.5 })).find((i) => i.key === "step")?.value).toBe("2.5");
  });
});

describe("jobTable", () => {
  it("has a row per rank: tqdm's rate text, the bar relative to the fastest, the slowest marked", () => {
    const t = jobTable(job());
    expect(t.metrics).toEqual(["loss", "acc"]);
    expect(t.rows.map((r) => [r.rank, r.rate, r.slowest, r.metrics])).toEqual([
      [0, "74.90it/s", false, ["0.31", "0.5"]],
      [1, "71.20it/s", true, ["0.29", "—"]],
    ]);
    expect(t.rows.map((r) => r.fraction)).toEqual([1, 71.2 / 74.9]);
  });

  it("below one step per second reads seconds per step, as tqdm does; a rank without a rate has no bar", () => {
    const t = jobTable(job({ rates: [0.5, null, 2], world_size: 3, slowest: 0, unit: "batch" }));
    expect(t.rows.map((r) => [r.rate, r.fraction])).toEqual([["2.00s/batch", 0.25], ["—", 0], ["2.00batch/s", 1]]);
  });

  it("names no slowest rank before two ranks have ticked (tqdm's rate is 0 at n = 0)", () => {
    expect(jobTable(job({ rates: [0, 0], slowest: 0 })).rows.map((r) => [r.rate, r.slowest])).toEqual([["—", false], ["—", false]]);
    expect(jobTable(job({ rates: [3, null], slowest: 0 })).rows.map((r) => r.slowest)).toEqual([false, false]);
  });

  it("lists every rank of the world even before its first rate arrived", () => {
    expect(jobTable(job({ world_size: 4, rates: [], slowest: null })).rows.map((r) => r.rank)).toEqual([0, 1, 2, 3]);
  });
});

describe("jobFailure", () => {
  it("names the rank, the exception and its message; nothing while all is well", () => {
    expect(jobFailure(job())).toBe("");
    const failed = job({ state: "failed", failure: { rank: 1, type: "ValueError", message: "rank one failed on purpose" } });
    expect(jobFailure(failed)).toBe("Rank 1 failed: ValueError: rank one failed on purpose");
    expect(jobFailure(job({ failure: { rank: 0, type: "KeyboardInterrupt", message: "" } }))).toBe("Rank 0 failed: KeyboardInterrupt");
  });
});
