// @vitest-environment happy-dom
// NaN/Inf flag (issue 4, point 4): the merge of `_diagnostics.nonfinite` and `_params` into one
// message for the header, and the badge on the tree row where it first appeared.
import { describe, expect, it } from "vitest";

import { createContext } from "../src/core/context";
import { mountHeader } from "../src/views/header";
import { nonfiniteFlag, nonfiniteMessage } from "../src/logic/nonfinite";
import type { Diagnostics, ParamRecord } from "../src/model";
import { createStore } from "../src/core/store";
import { mountTree } from "../src/views/tree";
import { FakeModel, irisState, nextFrame } from "./helpers";

const nf = (loss: boolean, first_layer: string | null, where: "weights" | "grads" | null): Diagnostics => ({
  nonfinite: { loss, first_layer, where },
});

/** The Iris parameters with `nan` NaNs in the tensor named `name`. */
function paramsWithNan(name: string, nan = 1): ParamRecord[] {
  const params = irisState()._params as ParamRecord[];
  return params.map((r) => (r.names[0] === name ? { ...r, nan } : r));
}

describe("nonfiniteFlag / nonfiniteMessage", () => {
  const iris = irisState()._params as ParamRecord[];

  it("says nothing while everything is finite", () => {
    expect(nonfiniteFlag({}, iris)).toBeNull();
    expect(nonfiniteFlag(null, null)).toBeNull();
    expect(nonfiniteFlag(nf(false, null, null), iris)).toBeNull();
    expect(nonfiniteMessage(null)).toBe("");
  });

  it("names where and the first layer, as the kernel reported them", () => {
    expect(nonfiniteMessage(nonfiniteFlag(nf(false, "fc2", "grads"), iris))).toBe("NaN/Inf in gradients, first at fc2");
    expect(nonfiniteMessage(nonfiniteFlag(nf(false, "fc1", "weights"), iris))).toBe("NaN/Inf in weights, first at fc1");
    expect(nonfiniteMessage(nonfiniteFlag(nf(true, null, null), iris))).toBe("NaN/Inf in a logged metric");
    expect(nonfiniteMessage(nonfiniteFlag(nf(true, "", "weights"), iris))).toBe(
      "NaN/Inf in a logged metric and in weights, first at the root module",
    );
  });

  it("falls back on _params when the diagnostics do not say where (first tensor wins)", () => {
    const params = paramsWithNan("fc2.weight");
    params[3] = { ...(params[3] as ParamRecord), inf: 2 }; // fc2.bias: later in order
    expect(nonfiniteFlag({}, params)).toEqual({ loss: false, where: "weights", firstLayer: "fc2" });
    expect(nonfiniteMessage(nonfiniteFlag(nf(true, null, null), params))).toBe(
      "NaN/Inf in a logged metric and in weights, first at fc2",
    );
    // The kernel's report wins over the table (it saw the gradients first).
    expect(nonfiniteFlag(nf(false, "fc1", "grads"), params)).toEqual({ loss: false, where: "grads", firstLayer: "fc1" });
  });
});

describe("header warning and tree badge", () => {
  function mount(state: Record<string, unknown>) {
    const model = new FakeModel(state);
    const ctx = createContext(model.asModel());
    const header = document.createElement("section");
    const tree = document.createElement("section");
    document.body.append(header, tree);
    const cleanups = [mountHeader(header, model.asModel(), ctx), mountTree(tree, model.asModel(), ctx, createStore())];
    const badged = () =>
      Array.from(tree.querySelectorAll<HTMLElement>(".mp-tree-row"))
        .filter((r) => r.querySelector(".mp-badge-nonfinite"))
        .map((r) => r.dataset.path);
    const warning = () => header.querySelector<HTMLElement>(".mp-nonfinite") as HTMLElement;
    const done = () => {
      for (const fn of cleanups) fn();
      ctx.dispose();
      header.remove();
      tree.remove();
      expect(model.listenerCount()).toBe(0);
    };
    return { model, badged, warning, done };
  }

  it("appear when the kernel reports a NaN, on the row it names, and go when it is cleared", async () => {
    const v = mount({ ...irisState(), _diagnostics: {} });
    expect(v.warning().hidden).toBe(true);
    expect(v.badged()).toEqual([]);
    v.model.set("_diagnostics", nf(false, "fc2", "grads"));
    await nextFrame();
    expect(v.warning().hidden).toBe(false);
    expect(v.warning().textContent).toBe("NaN/Inf in gradients, first at fc2");
    expect(v.badged()).toEqual(["fc2"]);
    const badge = document.querySelector<HTMLElement>(".mp-badge-nonfinite");
    expect(badge?.textContent).toBe("NaN/Inf");
    expect(badge?.title).toContain("gradients");
    // The summary cards are still there next to the warning.
    expect(document.querySelector('[data-key="total"] dd')?.textContent).toBe("83");
    v.model.set("_diagnostics", {}); // panel.clear_history()
    await nextFrame();
    expect(v.warning().hidden).toBe(true);
    expect(v.badged()).toEqual([]);
    v.done();
  });

  it("flag a NaN weight found by a refresh outside training, from _params", async () => {
    const v = mount({ ...irisState(), _diagnostics: {} });
    v.model.set("_params", paramsWithNan("fc1.bias", 3));
    await nextFrame();
    expect(v.warning().textContent).toBe("NaN/Inf in weights, first at fc1");
    expect(v.badged()).toEqual(["fc1"]);
    v.done();
  });

  it("put the root's NaN in the header only (the root has no row)", async () => {
    const v = mount({ ...irisState(), _diagnostics: nf(false, "", "weights") });
    expect(v.warning().textContent).toBe("NaN/Inf in weights, first at the root module");
    expect(v.badged()).toEqual([]);
    v.done();
  });

  it("keep a hostile layer name as text", async () => {
    const name = "<img src=x onerror=alert(1)>";
    const v = mount({ ...irisState(), _diagnostics: nf(false, name, "weights") });
    expect(v.warning().textContent).toBe(`NaN/Inf in weights, first at ${name}`);
    expect(document.querySelector("img")).toBeNull();
    v.done();
  });
});
