// The MACs card's text (pure: no DOM).
import { describe, expect, it } from "vitest";
import { headerItems, trainingItem } from "../../src/logic/header";
import { stackSummary } from "../helpers";

const macsCard = (macs: number | null, excluded: string[] | null) =>
  headerItems({ ...stackSummary(2), macs, macs_excluded: excluded }).find((item) => item.key === "macs");

describe("headerItems: MACs", () => {
  it("is a dash until counted, and says nothing left out when nothing is", () => {
    expect(macsCard(null, null)).toEqual({
      key: "macs", label: "MACs", value: "—", action: "Count MACs",
      title: "Not counted yet: press Count MACs, or read panel.summary.macs in Python (one more forward pass)",
    });
    expect(macsCard(7680, [])?.note).toBeUndefined();
  });

  it("names the ops a count leaves out", () => {
    const card = macsCard(7680, ["aten._cudnn_attention_forward"]);
    expect(card?.title).toBe("7,680 multiply-accumulates per forward\nMACs exclude: aten._cudnn_attention_forward (no formula)");
    expect(card?.note).toBe("excludes 1 op");
  });

  it("counts the pass's progress, clamped, and without a total says only counting…", () => {
    const card = (progress: { done: number; total: number } | null, counting = false) =>
      headerItems({ ...stackSummary(2), macs: null, macs_excluded: null }, { counting, error: "", progress }).find((i) => i.key === "macs");
    expect(card({ done: 3, total: 4 })?.value).toBe("counting… 75%");
    expect(card({ done: 9, total: 4 })?.value).toBe("counting… 100%");
    expect(card({ done: 0, total: 0 })?.value).toBe("counting…");
    expect(card(null, true)?.value).toBe("counting…");
    expect(card(null)?.action).toBe("Count MACs");
  });
});

describe("headerItems: training memory and a fake trace", () => {
  it("shows what a training step needs, once a forward ran", () => {
    expect(trainingItem({ training_memory: null })).toEqual([]);
    expect(trainingItem({})).toEqual([]);
    const memory = { optimizer: "AdamW", inference: 2048, training: 5120, gradients: 1024, optimizer_states: 2048 };
    expect(trainingItem({ training_memory: memory })).toEqual([{
      key: "train-memory", label: "to train (AdamW)", value: "5.0 KiB",
      title: "One training step at this input with AdamW: parameters, buffers, input and activations 2.0 KiB + " +
        "gradients 1.0 KiB + AdamW state 2.0 KiB (panel.summary.memory(optimizer=...) for another optimizer)",
    }]);
  });

  it("says when the MACs came from the fake trace", () => {
    const card = headerItems({ ...stackSummary(2), macs: 80, macs_excluded: [], trace: "fake" }).find((i) => i.key === "macs");
    expect(card?.title).toBe("80 multiply-accumulates per forward (counted in the summary's own pass, traced with fake tensors: no values computed)");
    expect(card?.action).toBeUndefined();
  });
});
