// Metric series: decode with gaps for non-finite values, append `_metrics` messages, detect a
// missed message, replace by the history, bound the kept points, and thin keeping spikes.
import { describe, expect, it } from "vitest";
import { applyDelta, applyHistory, boundSeries, decodeMetrics, emptyAccumulated, flatRange, seriesOf, thinSeries } from "../../src/logic/metrics";
import type { MetricsHistoryReply } from "../../src/model";
import { metricsDelta, wireArray as wire } from "../helpers";

describe("metrics", () => {
  it("decodes series with gaps for non-finite values, step-level first", () => {
    const series = decodeMetrics({
      "val (epoch)": { step: wire([0, 1], "float64", [2]), value: wire([0.5, 0.4], "float64", [2]), epoch_level: true },
      loss: { step: wire([0, 1, 2], "float64", [3]), value: wire([1, Number.NaN, Infinity], "float64", [3]), epoch_level: false },
    });
    expect(series.map((s) => s.name)).toEqual(["loss", "val (epoch)"]);
    expect(series[0]?.y).toEqual([1, null, null]);
    expect(series[1]?.epochLevel).toBe(true);
    expect(decodeMetrics(null)).toEqual([]);
  });

  it("rejects series whose steps and values disagree", () => {
    expect(() => decodeMetrics({ loss: { step: wire([0, 1], "float64", [2]), value: wire([1], "float64", [1]), epoch_level: false } }))
      .toThrow(/2 steps but 1 values/);
  });

  it("thins long series keeping extremes, ends and order", () => {
    const n = 10_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y: (number | null)[] = x.map((i) => Math.sin(i / 100));
    y[4321] = 50; // a spike must survive
    const t = thinSeries(x, y, 500);
    expect(t.x.length).toBeLessThanOrEqual(500);
    expect(t.x[0]).toBe(0);
    expect(t.x[t.x.length - 1]).toBe(n - 1);
    expect(t.y).toContain(50);
    expect(t.x.every((v, i) => i === 0 || v > (t.x[i - 1] as number))).toBe(true);
    const short = thinSeries([1, 2], [3, 4], 500);
    expect(short).toEqual({ x: [1, 2], y: [3, 4] });
  });
});

describe("accumulated metrics", () => {
  const xy = (acc: ReturnType<typeof emptyAccumulated>, name: string) => {
    const s = acc.series.get(name);
    return s ? [s.x, s.y] : null;
  };

  it("appends each message's new points, and starts a new series when a name appears", () => {
    const acc = emptyAccumulated();
    // The kernel numbers each reset's messages from 1.
    expect(applyDelta(acc, metricsDelta(0, 1, { loss: [[0, 1], [2, 1.5]] }))).toBe("appended");
    expect(applyDelta(acc, metricsDelta(0, 2, { loss: [[2], [Number.NaN]], "val (epoch)": [[0], [0.4], true] }))).toBe("appended");
    expect(applyDelta(acc, metricsDelta(0, 3, {}))).toBe("appended");
    expect(xy(acc, "loss")).toEqual([[0, 1, 2], [2, 1.5, null]]);
    expect(seriesOf(acc).map((s) => [s.name, s.epochLevel])).toEqual([["loss", false], ["val (epoch)", true]]);
    expect(acc.seq).toBe(3);
  });

  it("ignores a message already applied, and reports a gap for a missed one or a late first one", () => {
    const acc = emptyAccumulated();
    applyDelta(acc, metricsDelta(0, 1, { loss: [[0], [1]] }));
    expect(applyDelta(acc, metricsDelta(0, 1, { loss: [[0], [1]] }))).toBe("stale");
    expect(applyDelta(acc, metricsDelta(0, 3, { loss: [[5], [1]] }))).toBe("gap");
    expect(xy(acc, "loss")).toEqual([[0], [1]]); // nothing appended across the gap
    expect(applyDelta(emptyAccumulated(), metricsDelta(0, 7, { loss: [[9], [1]] }))).toBe("gap"); // mounted late
  });

  it("drops everything on a new reset (the user cleared the history), then appends from seq 1", () => {
    const acc = emptyAccumulated();
    applyDelta(acc, metricsDelta(0, 1, { loss: [[0, 1], [3, 2]] }));
    applyDelta(acc, metricsDelta(0, 2, { acc: [[1], [0.5]] }));
    expect(applyDelta(acc, metricsDelta(1, 1, { loss: [[0], [9]] }))).toBe("appended");
    expect(seriesOf(acc).map((s) => s.name)).toEqual(["loss"]);
    expect(xy(acc, "loss")).toEqual([[0], [9]]);
    // A new reset seen late: emptied, and the history must be asked for.
    expect(applyDelta(acc, metricsDelta(2, 3, { loss: [[4], [1]] }))).toBe("gap");
    expect(acc.series.size).toBe(0);
  });

  it("replaces everything by a history reply and appends again from its seq", () => {
    const acc = emptyAccumulated();
    applyDelta(acc, metricsDelta(0, 0, { old: [[0], [1]] }));
    const reply: MetricsHistoryReply = {
      kind: "metrics_history_reply", id: "r", ok: true, reset: 1, seq: 5,
      series: { loss: { step: [0, 1, 2], value: [3, null as unknown as number, 1], epoch_level: false } },
    };
    applyHistory(acc, reply);
    expect(seriesOf(acc).map((s) => s.name)).toEqual(["loss"]);
    expect(xy(acc, "loss")).toEqual([[0, 1, 2], [3, null, 1]]);
    expect(applyDelta(acc, metricsDelta(1, 5, { loss: [[2], [1]] }))).toBe("stale");
    expect(applyDelta(acc, metricsDelta(1, 6, { loss: [[3], [0.5]] }))).toBe("appended");
    expect(xy(acc, "loss")?.[0]).toEqual([0, 1, 2, 3]);
  });

  it("keeps at most MAX_KEPT points per series: the newest exact, the older thinned", () => {
    const acc = emptyAccumulated();
    let seq = 1;
    for (let chunk = 0; chunk < 50; chunk++) {
      const x = Array.from({ length: 100 }, (_, i) => chunk * 100 + i);
      applyDelta(acc, metricsDelta(0, seq++, { loss: [x, x.map((v) => (v === 1234 ? 1e6 : Math.sin(v)))] }), 2000);
      expect((acc.series.get("loss")?.x.length ?? 0) <= 2000).toBe(true);
    }
    const s = acc.series.get("loss");
    expect(s?.x.slice(-500)).toEqual(Array.from({ length: 500 }, (_, i) => 4500 + i));
    expect(s?.y).toContain(1e6); // the spike survives thinning
    expect(s?.x.every((v, i) => i === 0 || v > (s.x[i - 1] as number))).toBe(true);
    const short = { name: "a", x: [1], y: [2], epochLevel: false };
    expect(boundSeries(short, 2000)).toBe(short);
  });
});

describe("flatRange", () => {
  it("gives a flat series a range of its value plus or minus its order of magnitude", () => {
    expect(flatRange(new Array(50).fill(1e4))).toEqual([0, 20000]); // lr=1e4 logged every step
    expect(flatRange([0.5, 0.5, null, 0.5])).toEqual([0.4, 0.6]);
    expect(flatRange([-3, -3])).toEqual([-4, -2]);
    expect(flatRange([0, 0, Number.NaN])).toEqual([-1, 1]);
    const r = flatRange([0.001, 0.001]) as [number, number];
    expect(r[0]).toBeCloseTo(0, 12);
    expect(r[1]).toBeCloseTo(0.002, 12);
    // Flat up to float64 rounding (1e-9 relative); a change in the 8th digit is a real change.
    expect(flatRange([1e4, 1e4 * (1 + 1e-12)])).not.toBeNull();
    expect(flatRange([0.1, Math.fround(0.1)])).toBeNull();
  });

  it("leaves a varying series, or one with no finite value, to Plotly's autorange", () => {
    expect(flatRange([1, 0.9, 0.8])).toBeNull();
    expect(flatRange([null, Number.POSITIVE_INFINITY])).toBeNull();
    expect(flatRange([])).toBeNull();
  });
});
