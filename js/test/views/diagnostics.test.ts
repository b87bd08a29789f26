// The diagnostics in a DOM: the NaN/Inf line and the per-layer table.
import { afterEach, describe, expect, it } from "vitest";
import { h } from "../../src/core/dom";
import { mountDiagnostics } from "../../src/views/diagnostics";
import type { Layer } from "../../src/model";
import { mountView, nextFrame, resetViews, stackSummary, summaryWire, summaryWith } from "../helpers";

function mount(state: Record<string, unknown>) {
  const flag = h("div", "mp-nonfinite");
  const view = mountView((root, model, ctx) => mountDiagnostics(root, model, ctx, flag), state);
  return { ...view, flag };
}

afterEach(resetViews);

describe("diagnostics", () => {
  it("flags NaN/Inf and lists diagnostics per layer", () => {
    const { root, flag, cleanup } = mount({
      _diagnostics: {
        nonfinite: { loss: true, first_layer: "fc2", where: "grads" },
        grad_norms: { fc1: 0.5, fc2: null },
        activations: { fc1: { mean: 0.1, std: 1, zero_frac: 0.25 } },
      },
    });
    expect(flag.hidden).toBe(false);
    expect(flag.textContent).toBe("NaN/Inf in a logged metric and in gradients, first at fc2");
    const cells = Array.from(root.querySelectorAll("tr[data-path='fc1'] td")).map((td) => td.textContent);
    expect(cells[0]).toBe("fc1");
    expect(cells[4]).toBe("25.0%");
    cleanup();
  });

  it("titles the table, heads its columns and highlights flagged rows with their sentences", () => {
    const { root, cleanup } = mount({
      _diagnostics: {
        nonfinite: { loss: false, first_layer: "fc2", where: "weights" },
        grad_norms: { fc1: 1e-12, fc2: 0.5 },
        activations: { relu: { mean: 0, std: 0, zero_frac: 1 } },
        flags: { fc1: ["vanishing"], relu: ["dead"] },
      },
    });
    expect(root.querySelector("caption")?.textContent).toBe("Per-layer diagnostics");
    const heads = Array.from(root.querySelectorAll("th"));
    expect(heads.map((th) => th.textContent)).toEqual(["layer", "gradient norm", "output mean", "output std", "zeros", "flags"]);
    expect(heads.every((th) => th.title.length > 0)).toBe(true);
    const flagged = Array.from(root.querySelectorAll<HTMLElement>("tr.mp-flagged-row")).map((tr) => tr.dataset.path);
    expect(flagged).toEqual(["fc1", "fc2", "relu"]); // fc2: the NaN/Inf report's first layer
    expect(root.querySelector("tr[data-path='relu'] .mp-badge-dead")?.getAttribute("title")).toMatch(/LeakyReLU/);
    expect(root.querySelector("tr[data-path='fc2'] .mp-badge-nonfinite")?.getAttribute("title")).toMatch(/weights.*first appeared here/);
    const advice = Array.from(root.querySelectorAll<HTMLElement>(".mp-diag-advice li")).map((li) => li.dataset.flag);
    expect(advice).toEqual(["dead", "vanishing", "nonfinite"]);
    expect(root.querySelector(".mp-diag-advice li[data-flag='dead']")?.textContent).toMatch(/^dead Dead units: 99% or more/);
    cleanup();
  });

  it("hides the NaN/Inf flag while the kernel reports nothing non-finite", () => {
    const { flag, cleanup } = mount({ _diagnostics: { nonfinite: { loss: false, first_layer: null, where: null } } });
    expect(flag.textContent).toBe("");
    expect(flag.hidden).toBe(true);
    cleanup();
  });

  it("lists the rows in the tree's order with each module's kind beside its path", () => {
    const layers = ["Linear", "ReLU", "Linear"].map((kind, i) => ({ ...stackSummary(3).layers[i], kind }) as Layer);
    const { root, cleanup, model } = mount({
      _diagnostics: {
        grad_norms: { "0": 0.5, "2": 0.25 },
        activations: { "1": { mean: 0, std: 0, zero_frac: 1 } },
        flags: { "1": ["dead"] },
      },
    });
    const cells = () => Array.from(root.querySelectorAll<HTMLElement>("tr[data-path] td:first-child"), (td) => td.textContent);
    expect(cells()).toEqual(["0", "2", "1"]); // no summary yet: the kernel's order, no kinds
    model.set("_summary", summaryWire(summaryWith(layers)));
    return nextFrame().then(() => {
      expect(cells()).toEqual(["0 Linear", "1 ReLU", "2 Linear"]);
      expect(root.querySelector("tr[data-path='1'] .mp-diag-kind")?.textContent).toBe("ReLU");
      cleanup();
    });
  });
});
