// NaN/Inf flag (issue 4, point 4): the merge of `_diagnostics.nonfinite` and `_params` into one
// message for the header and the badge on the tree row where it first appeared.
import { describe, expect, it } from "vitest";
import { nonfiniteFlag, nonfiniteMessage } from "../../src/logic/nonfinite";
import type { ParamRecord } from "../../src/model";
import { irisParamsWithNan, irisRecords, nonfiniteReport } from "../helpers";

describe("nonfiniteFlag / nonfiniteMessage", () => {
  const iris = irisRecords();

  it("says nothing while everything is finite", () => {
    expect(nonfiniteFlag({}, iris)).toBeNull();
    expect(nonfiniteFlag(null, null)).toBeNull();
    expect(nonfiniteFlag(nonfiniteReport(false, null, null), iris)).toBeNull();
    expect(nonfiniteMessage(null)).toBe("");
  });

  it("names where and the first layer, as the kernel reported them", () => {
    expect(nonfiniteMessage(nonfiniteFlag(nonfiniteReport(false, "fc2", "grads"), iris))).toBe("NaN/Inf in gradients, first at fc2");
    expect(nonfiniteMessage(nonfiniteFlag(nonfiniteReport(false, "fc1", "weights"), iris))).toBe("NaN/Inf in weights, first at fc1");
    expect(nonfiniteMessage(nonfiniteFlag(nonfiniteReport(true, null, null), iris))).toBe("NaN/Inf in a logged metric");
    expect(nonfiniteMessage(nonfiniteFlag(nonfiniteReport(true, "", "weights"), iris))).toBe(
      "NaN/Inf in a logged metric and in weights, first at the root module",
    );
  });

  it("falls back on _params when the diagnostics do not say where (first tensor wins)", () => {
    const params = irisParamsWithNan("fc2.weight");
    params[3] = { ...(params[3] as ParamRecord), inf: 2 }; // fc2.bias: later in order
    expect(nonfiniteFlag({}, params)).toEqual({ loss: false, where: "weights", firstLayer: "fc2" });
    expect(nonfiniteMessage(nonfiniteFlag(nonfiniteReport(true, null, null), params))).toBe(
      "NaN/Inf in a logged metric and in weights, first at fc2",
    );
    // The kernel's report wins over the table (it saw the gradients first).
    expect(nonfiniteFlag(nonfiniteReport(false, "fc1", "grads"), params)).toEqual({ loss: false, where: "grads", firstLayer: "fc1" });
  });
});
