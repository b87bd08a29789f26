// The header's stat cards in a DOM.
import { describe, expect, it } from "vitest";
import { createContext } from "../../src/core/context";
import { mountHeader } from "../../src/views/header";
import { FakeModel, irisState, nextFrame } from "../helpers";

describe("header", () => {
  it("shows the Iris totals, and MACs as a dash until counted", async () => {
    const model = new FakeModel(irisState());
    const ctx = createContext(model.asModel());
    const root = document.createElement("section");
    mountHeader(root, model.asModel(), ctx);
    const value = (k: string) => root.querySelector(`[data-key="${k}"] dd`)?.textContent;
    expect([value("total"), value("trainable"), value("non-trainable"), value("param-bytes"), value("macs"), value("devices"), value("mode")])
      .toEqual(["83", "83", "0", "332 B", "—", "cpu", "train"]);
    model.set("_summary", { ...(irisState()._summary as object), macs: 80 });
    await nextFrame();
    expect(value("macs")).toBe("80");
    ctx.dispose();
  });

  it("says which ops the MAC count leaves out, in the MACs card's tooltip and a note", async () => {
    const model = new FakeModel(irisState());
    const ctx = createContext(model.asModel());
    const root = document.createElement("section");
    mountHeader(root, model.asModel(), ctx);
    const card = () => root.querySelector<HTMLElement>('[data-key="macs"]');
    const summary = irisState()._summary as object;
    model.set("_summary", { ...summary, macs: 70, macs_excluded: [] });
    await nextFrame();
    expect(card()?.title).toBe("70 multiply-accumulates per forward");
    expect(card()?.querySelectorAll("dd").length).toBe(1);
    model.set("_summary", { ...summary, macs: 32, macs_excluded: ["aten._cdist_forward", "my<lib>.fused_linear"] });
    await nextFrame();
    expect(card()?.title).toBe("32 multiply-accumulates per forward\nMACs exclude: aten._cdist_forward, my<lib>.fused_linear (no formula)");
    const note = card()?.querySelector("dd.mp-hint");
    expect(note?.textContent).toBe("excludes 2 ops");
    expect(card()?.querySelector("dd")?.textContent).toBe("32");
    expect(root.querySelector("lib")).toBeNull(); // an op name is text, never markup
    ctx.dispose();
  });
});
