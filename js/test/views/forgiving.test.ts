// Issue 12, points 4 and 5 in a DOM: the model's row, the failing row marked, the shape note,
// the failure banner, and the MACs card's Count MACs button (request, counting…, the count).
import { afterEach, describe, expect, it } from "vitest";
import { createStore } from "../../src/core/store";
import { mountHeader } from "../../src/views/header";
import { mountTree } from "../../src/views/tree";
import type { Summary } from "../../src/model";
import { HOSTILE, irisState, mountView, nestedSummary, nextFrame, resetViews, summaryWire } from "../helpers";

afterEach(resetViews);

/** Iris after a failing forward: fc1 ran ([1, 4] -> [1, 10]), relu raised, fc2 was not reached. */
function failedIris(message: string): Record<string, unknown> {
  const state = irisState();
  const s = state._summary as Record<string, unknown>;
  return { ...state, _summary: { ...s, error: message, failed_path: "relu", macs: null } };
}

describe("tree: the model's row and a failed forward", () => {
  it("puts the model first, marks the failing row and explains the shapes, as text", () => {
    const message = `forward failed in module 'relu' (ReLU) with input shapes [[1, 10]]: ${HOSTILE}`;
    const store = createStore();
    const { root, cleanup, ctx } = mountView((r, m, c) => mountTree(r, m, c, store), failedIris(message));
    const rows = Array.from(root.querySelectorAll<HTMLElement>(".mp-tree-row"));
    expect(rows.map((r) => r.dataset.path)).toEqual(["", "fc1", "relu", "fc2"]);
    expect(rows[0]?.querySelector(".mp-tree-name")?.textContent).toBe("(model)");
    expect(rows[0]?.querySelector(".mp-kind")?.textContent).toBe("IrisMLP");
    expect(rows[0]?.querySelector(".mp-count")?.textContent).toBe("83"); // 4*10+10 + 10*3+3
    expect(rows[0]?.title).toBe("IrisMLP (the model): input [1, 4] → output [1, 3]; 83 parameters");
    expect(root.querySelector(".mp-tree-count")?.textContent).toBe("4 modules");
    const badge = root.querySelector<HTMLElement>('.mp-tree-row[data-path="relu"] .mp-badge-failed');
    expect(badge?.textContent).toBe("failed here");
    expect(badge?.title).toBe(message);
    expect(root.querySelector('.mp-tree-row[data-path="relu"]')?.classList.contains("mp-failed-row")).toBe(true);
    expect(root.querySelectorAll(".mp-badge-failed")).toHaveLength(1);
    expect(root.querySelectorAll("img")).toHaveLength(0); // the message is text
    const note = root.querySelector<HTMLElement>(".mp-tree-note");
    expect(note?.hidden).toBe(false);
    expect(note?.textContent).toContain('raised in "relu"');
    cleanup();
    ctx.dispose();
  });

  it("without an input, says how to get shapes in the note and the shape column's tooltip", () => {
    const s: Summary = { ...nestedSummary(), input_shapes: null };
    const store = createStore();
    const { root, cleanup, ctx } = mountView((r, m, c) => mountTree(r, m, c, store), { _summary: summaryWire(s), _params: {} });
    expect(root.querySelector(".mp-tree-note")?.textContent).toBe(
      "No shapes: pass input_size=(...) or input_data=... to ModelPanel to see shapes.",
    );
    const head = Array.from(root.querySelectorAll<HTMLElement>(".mp-tree-head .mp-cell")).find((c) => c.textContent === "Output shape");
    expect(head?.title).toContain("pass input_size=(...) or input_data=...");
    cleanup();
    ctx.dispose();
  });

  it("hides the note when every shape is there", () => {
    const store = createStore();
    const { root, cleanup, ctx } = mountView((r, m, c) => mountTree(r, m, c, store), irisState());
    expect(root.querySelector<HTMLElement>(".mp-tree-note")?.hidden).toBe(true);
    cleanup();
    ctx.dispose();
  });
});

describe("header: the failure banner and Count MACs", () => {
  it("shows the kernel's message under the cards, with no button on the MACs card", () => {
    const { root, cleanup, ctx } = mountView(mountHeader, failedIris(`boom ${HOSTILE}`));
    const banner = root.querySelector<HTMLElement>(".mp-forward-error");
    expect(banner?.getAttribute("role")).toBe("alert");
    expect(banner?.querySelector(".mp-forward-error-message")?.textContent).toBe(`boom ${HOSTILE}`);
    expect(banner?.querySelector(".mp-forward-error-heading")?.textContent).toContain('module "relu"');
    expect(root.querySelector(".mp-count-macs")).toBeNull();
    expect(root.querySelectorAll("img")).toHaveLength(0);
    cleanup();
    ctx.dispose();
  });

  it("sends count_macs, shows counting… until the count arrives, then the number", async () => {
    const { root, model, cleanup, ctx } = mountView(mountHeader, irisState());
    const card = () => root.querySelector<HTMLElement>('[data-key="macs"]') as HTMLElement;
    expect(root.querySelector(".mp-forward-error")).toBeNull();
    expect(card().title).toContain("press Count MACs, or read panel.summary.macs");
    root.querySelector<HTMLButtonElement>(".mp-count-macs")?.click();
    expect(model.sent).toHaveLength(1);
    const sent = model.sent[0] as { kind: string; id: string };
    expect(sent.kind).toBe("count_macs");
    expect(card().querySelector("dd")?.textContent).toBe("counting…");
    expect(root.querySelector(".mp-count-macs")).toBeNull(); // no second request meanwhile
    // The kernel publishes _summary (Iris: 4*10 + 10*3 = 70 MACs), then replies.
    model.set("_summary", { ...(irisState()._summary as object), macs: 70, macs_excluded: [] });
    model.emit("msg:custom", { kind: "count_macs_reply", id: sent.id, ok: true, macs: 70 });
    await nextFrame();
    expect(card().querySelector("dd")?.textContent).toBe("70");
    expect(card().title).toBe("70 multiply-accumulates per forward");
    cleanup();
    ctx.dispose();
  });

  it("shows the kernel's progress while the pass runs, also for a count started from code", async () => {
    const { root, model, cleanup, ctx } = mountView(mountHeader, irisState());
    const card = () => root.querySelector<HTMLElement>('[data-key="macs"]') as HTMLElement;
    model.set("_macs_progress", { done: 0, total: 201 }); // panel.summary.macs in a cell
    await nextFrame();
    expect(card().querySelector("dd")?.textContent).toBe("counting… 0%");
    expect(root.querySelector(".mp-count-macs")).toBeNull();
    model.set("_macs_progress", { done: 100, total: 201 });
    await nextFrame();
    expect(card().querySelector("dd")?.textContent).toBe("counting… 49%");
    expect(card().title).toContain("100 of 201 module calls done");
    model.set("_macs_progress", null); // the pass raised: the button comes back
    await nextFrame();
    expect(root.querySelector(".mp-count-macs")).not.toBeNull();
    cleanup();
    ctx.dispose();
  });

  it("offers the button again, with the error, when the count fails", async () => {
    const { root, model, cleanup, ctx } = mountView(mountHeader, irisState());
    root.querySelector<HTMLButtonElement>(".mp-count-macs")?.click();
    const sent = model.sent[0] as { id: string };
    model.emit("msg:custom", { kind: "count_macs_reply", id: sent.id, ok: false, error: "ModelPanelError: the model was deleted" });
    await nextFrame();
    expect(root.querySelector(".mp-count-macs")).not.toBeNull();
    expect(root.querySelector('[data-key="macs"]')?.getAttribute("title")).toContain("The last count failed: ModelPanelError");
    cleanup();
    ctx.dispose();
  });
});
