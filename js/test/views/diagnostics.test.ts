// The diagnostics in a DOM: the NaN/Inf line and the per-layer table.
import { afterEach, describe, expect, it } from "vitest";
import { h } from "../../src/core/dom";
import { mountDiagnostics } from "../../src/views/diagnostics";
import { mountView, resetViews } from "../helpers";

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

  it("hides the NaN/Inf flag while the kernel reports nothing non-finite", () => {
    const { flag, cleanup } = mount({ _diagnostics: { nonfinite: { loss: false, first_layer: null, where: null } } });
    expect(flag.textContent).toBe("");
    expect(flag.hidden).toBe(true);
    cleanup();
  });
});
