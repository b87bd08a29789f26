// tqdm-like text of the progress bars: the same meter tqdm prints in a terminal.
import { describe, expect, it } from "vitest";
import {
  barText,
  formatInterval,
  formatRate,
  fractionDone,
  meterLine,
  orderBars,
  pyFixed,
  runSummary,
  splitRuns,
} from "../../src/logic/progress";
import type { ProgressBar } from "../../src/model";
import meters from "../fixtures/tqdm_meter.json";

function bar(over: Partial<ProgressBar> = {}): ProgressBar {
  return { id: 1, level: 0, desc: "epoch", n: 9, total: 20, unit: "it", rate: 2.5, elapsed: 3.6, remaining: 4.4,
    postfix: "loss=0.31", state: "running", error: "", ...over };
}

describe("tqdm-like text", () => {
  it("formats intervals as tqdm.format_interval", () => {
    expect(formatInterval(0)).toBe("00:00");
    expect(formatInterval(65.9)).toBe("01:05");
    expect(formatInterval(3725)).toBe("1:02:05");
    expect(formatInterval(null)).toBe("?");
    expect(formatInterval(Number.NaN)).toBe("?");
  });

  it("formats rates, inverting below one per second", () => {
    expect(formatRate(12.5, "it")).toBe("12.50it/s");
    expect(formatRate(2.5, "it")).toBe(" 2.50it/s"); // tqdm's {rate:5.2f}
    expect(formatRate(0.3125, "epoch")).toBe(" 3.20s/epoch");
    expect(formatRate(null, "it")).toBe("?it/s");
  });

  it("builds the meter parts from a record", () => {
    expect(barText(bar())).toEqual({ desc: "epoch", percent: " 45%", count: "9/20", meta: "[00:03<00:04,  2.50it/s, loss=0.31]" });
    // tqdm's prefix arrives with ": " from set_description; no total: count with unit, no ETA.
    expect(barText(bar({ desc: "train: ", total: null, n: 7, unit: "batch", postfix: "" }))).toEqual({
      desc: "train", percent: "", count: "7batch", meta: "[00:03,  2.50batch/s]" });
    // A finished bar shows no time left, whatever the last estimate said.
    expect(barText(bar({ n: 20, state: "done", remaining: 12 })).meta).toBe("[00:03<00:00,  2.50it/s, loss=0.31]");
  });

  it("clamps the fraction and orders bars by level, then age", () => {
    expect(fractionDone({ n: 30, total: 20 })).toBe(1);
    expect(fractionDone({ n: 3, total: null })).toBeNull();
    expect(fractionDone({ n: 3, total: 0 })).toBeNull();
    const ordered = orderBars([bar({ id: 5, level: 1 }), bar({ id: 2, level: 0 }), bar({ id: 3, level: 1 })]);
    expect(ordered.map((b) => b.id)).toEqual([2, 3, 5]);
    expect(orderBars(null)).toEqual([]);
  });
});

describe("the meter as tqdm prints it", () => {
  it("matches tqdm.format_meter(..., ncols=0) for every sample (fixture made by tqdm itself)", () => {
    // js/test/fixtures/tqdm_meter.json: tests/support/make_tqdm_meter.py
    expect(meters.length).toBeGreaterThan(5);
    for (const { record, meter } of meters) expect(meterLine(record as ProgressBar)).toBe(meter);
  });

  it("rounds exact ties to even, as Python's format does", () => {
    expect(pyFixed(12.5, 0)).toBe("12");
    expect(pyFixed(13.5, 0)).toBe("14");
    expect(pyFixed(0.125, 2)).toBe("0.12");
    expect(pyFixed(2 / 3, 2)).toBe("0.67");
  });
});

describe("runs", () => {
  it("keeps the latest run in full and summarises the earlier ones, newest first", () => {
    const bars = [
      bar({ id: 7, run: 7, n: 1, total: 3 }),
      bar({ id: 1, run: 1, n: 3, total: 3, state: "done" }),
      bar({ id: 2, run: 1, level: 1, n: 5, total: 5, state: "done" }),
      bar({ id: 4, run: 4, n: 2, total: 3, state: "stopped", error: "stopped at 2/3" }),
      bar({ id: 8, run: 7, level: 1, n: 2, total: 5 }),
    ];
    const { current, earlier } = splitRuns(bars);
    expect(current.map((b) => b.id)).toEqual([7, 8]);
    expect(earlier.map((r) => r.map((b) => b.id))).toEqual([[4], [1, 2]]);
    expect(runSummary(earlier[1] ?? [])).toBe("epoch: 100% 3/3 [00:03<00:00,  2.50it/s, loss=0.31]");
    expect(runSummary(earlier[0] ?? [])).toBe("epoch:  67% 2/3 [00:03<00:04,  2.50it/s, loss=0.31] (stopped at 2/3)");
    // Records without a run (older kernels) are one run.
    expect(splitRuns([bar({ id: 2 }), bar({ id: 3, level: 1 })]).earlier).toEqual([]);
  });
});

describe("the running line above the tabs", () => {
  it("lists running bars outermost first, with n/total and percent", async () => {
    const { runningLine } = await import("../../src/logic/progress");
    const epoch = bar({ id: 1, level: 0, desc: "epoch", n: 2, total: 3 }); // 2/3 = 66.7% -> 67, as tqdm rounds
    const batch = bar({ id: 2, level: 1, desc: "batch: ", n: 40, total: 150 }); // 26.7% -> 27
    expect(runningLine([batch, epoch])).toBe("epoch 2/3 67% · batch 40/150 27%");
    // No total: the count with its unit; no desc: "loop".
    expect(runningLine([bar({ desc: "", total: null, n: 7, unit: "batch" })])).toBe("loop 7batch");
    // Finished, stopped and failed bars are not running: nothing to show.
    expect(runningLine([bar({ state: "done" }), bar({ id: 2, state: "stopped" }), bar({ id: 3, state: "error" })])).toBe("");
    expect(runningLine(null)).toBe("");
  });
});
