// NaN/Inf in a DOM: the header's warning line and the tree's badge follow the kernel's report.
import { describe, expect, it } from "vitest";
import { createContext } from "../../src/core/context";
import { createStore } from "../../src/core/store";
import { mountHeader } from "../../src/views/header";
import { mountTree } from "../../src/views/tree";
import { FakeModel, irisParamsWithNan, irisState, nextFrame, nonfiniteReport, paramStats } from "../helpers";

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
    v.model.set("_diagnostics", nonfiniteReport(false, "fc2", "grads"));
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

  it("flag a NaN weight found by a refresh outside training, from _param_stats", async () => {
    const v = mount({ ...irisState(), _diagnostics: {} });
    v.model.set("_param_stats", paramStats(irisParamsWithNan("fc1.bias", 3), 2));
    await nextFrame();
    expect(v.warning().textContent).toBe("NaN/Inf in weights, first at fc1");
    expect(v.badged()).toEqual(["fc1"]);
    v.done();
  });

  it("badge every module that holds a NaN/Inf tensor, not only the first, with or without a loop's report", async () => {
    // One NaN in fc1.weight and fc2.bias all +Inf (its 3 values).
    const bad = irisParamsWithNan("fc1.weight", 1).map((r) => (r.names[0] === "fc2.bias" ? { ...r, inf: 3 } : r));
    const v = mount({ ...irisState(), _diagnostics: {} });
    v.model.set("_param_stats", paramStats(bad, 2));
    await nextFrame();
    expect(v.warning().textContent).toBe("NaN/Inf in weights, first at fc1");
    expect(v.badged()).toEqual(["fc1", "fc2"]);
    // A loop that reported only the first one (its gradients) leaves fc2's weights badged too.
    v.model.set("_diagnostics", nonfiniteReport(false, "fc1", "grads"));
    await nextFrame();
    expect(v.badged()).toEqual(["fc1", "fc2"]);
    const title = (path: string) => document.querySelector<HTMLElement>(`.mp-tree-row[data-path="${path}"] .mp-badge-nonfinite`)?.title;
    expect(title("fc1")).toMatch(/first appeared here/);
    expect(title("fc2")).toMatch(/weights/);
    expect(title("fc2")).not.toMatch(/first appeared here/);
    v.done();
  });

  it("badge the model's own row for a NaN the root module holds itself", async () => {
    const v = mount({ ...irisState(), _diagnostics: nonfiniteReport(false, "", "weights") });
    expect(v.warning().textContent).toBe("NaN/Inf in weights, first at the root module");
    expect(v.badged()).toEqual([""]);
    v.done();
  });

  it("badge every row the diagnostics flag, with what it means and what helps", async () => {
    const v = mount({ ...irisState(), _diagnostics: {} });
    v.model.set("_diagnostics", { flags: { relu: ["dead"], fc1: ["vanishing", "nonfinite_grads"] } });
    await nextFrame();
    const row = (path: string) => document.querySelector<HTMLElement>(`.mp-tree-row[data-path="${path}"]`) as HTMLElement;
    expect(row("relu").classList.contains("mp-flagged-row")).toBe(true);
    expect(row("relu").querySelector(".mp-badge-dead")?.getAttribute("title")).toMatch(/^Dead units.*He\/Kaiming/);
    const badges = Array.from(row("fc1").querySelectorAll<HTMLElement>(".mp-badge")).map((b) => b.textContent);
    expect(badges).toEqual(["vanishing grad", "NaN/Inf"]);
    expect(row("fc2").classList.contains("mp-flagged-row")).toBe(false);
    expect(v.warning().hidden).toBe(true); // the flags alone say nothing in the header
    v.model.set("_diagnostics", {});
    await nextFrame();
    expect(document.querySelectorAll(".mp-flagged-row")).toHaveLength(0);
    v.done();
  });

  it("keep a hostile layer name as text", async () => {
    const name = "<img src=x onerror=alert(1)>";
    const v = mount({ ...irisState(), _diagnostics: nonfiniteReport(false, name, "weights") });
    expect(v.warning().textContent).toBe(`NaN/Inf in weights, first at ${name}`);
    expect(document.querySelector("img")).toBeNull();
    v.done();
  });
});
