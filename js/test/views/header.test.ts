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
});
