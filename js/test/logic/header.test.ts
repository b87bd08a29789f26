// The MACs card's text (pure: no DOM).
import { describe, expect, it } from "vitest";
import { headerItems } from "../../src/logic/header";
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
