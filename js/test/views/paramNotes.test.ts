// Tensors that are not plain materialised floats: the `_params.note` column decoded into
// ParamRecord.note and shown in the table as a badge (the kind) with the whole note as tooltip.
import { afterEach, describe, expect, it } from "vitest";
import { decodeParams } from "../../src/core/columns";
import { createContext } from "../../src/core/context";
import { createStore } from "../../src/core/store";
import { mountParams, noteBadge } from "../../src/views/params";
import type { Model, ParamColumns } from "../../src/model";
import { FakeModel, irisState, nextFrame, paramStats, resetViews, wireArray } from "../helpers";

afterEach(resetViews);

const QUANTIZED = "quantized qint8, packed: statistics of dequantized values";
const LAZY = "lazy: not materialised until the first forward";

/** Iris's `_params` with a note column: fc1.weight quantized, fc2.bias lazy. */
function notedState(): Record<string, unknown> {
  const s = irisState();
  const params = s._params as ParamColumns;
  const note = { values: ["", QUANTIZED, LAZY], index: wireArray([1, 0, 0, 2], "uint8", [4]) };
  return { ...s, _params: { ...params, note } };
}

describe("parameter notes", () => {
  it("decode into ParamRecord.note, absent for plain tensors and for kernels that send no column", () => {
    const s = notedState();
    const rows = decodeParams(s._params as Model["_params"], s._param_stats as Model["_param_stats"]);
    expect(rows.map((r) => r.note)).toEqual([QUANTIZED, undefined, undefined, LAZY]);
    expect(rows.map((r) => "note" in r)).toEqual([true, false, false, true]);
    const { note: _, ...without } = s._params as ParamColumns;
    expect(decodeParams(without, paramStats(rows)).some((r) => "note" in r)).toBe(false);
    const short = { ...(s._params as ParamColumns), note: { values: [""], index: wireArray([0], "uint8", [1]) } };
    expect(() => decodeParams(short, null)).toThrow(/note: 1 values for 4 rows/);
  });

  it("badge the kind before each part's colon", () => {
    expect(noteBadge(QUANTIZED)).toBe("quantized qint8, packed");
    expect(noteBadge(LAZY)).toBe("lazy");
    expect(noteBadge("complex: statistics of magnitudes; parametrized: w is computed from this by _P")).toBe(
      "complex · parametrized",
    );
  });

  it("show as a badge in the name cell, the note as tooltip; plain rows have none", async () => {
    const model = new FakeModel(notedState());
    const ctx = createContext(model.asModel());
    const root = document.createElement("section");
    document.body.appendChild(root);
    const cleanup = mountParams(root, model.asModel(), ctx, createStore());
    await nextFrame();
    const row = (name: string) => root.querySelector<HTMLElement>(`.mp-param-row[data-name="${name}"]`) as HTMLElement;
    const badge = row("fc1.weight").querySelector<HTMLElement>("td .mp-badge-note");
    expect(badge?.textContent).toBe("quantized qint8, packed");
    expect(badge?.title).toBe(QUANTIZED);
    expect(row("fc1.weight").title).toBe(QUANTIZED);
    expect(row("fc2.bias").querySelector(".mp-badge-note")?.textContent).toBe("lazy");
    expect(row("fc1.bias").querySelector(".mp-badge-note")).toBeNull();
    expect(row("fc1.bias").title).toBe("");
    cleanup();
    ctx.dispose();
  });
});
