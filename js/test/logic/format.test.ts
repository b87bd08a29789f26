import { describe, expect, it } from "vitest";
import { MISSING, formatBytes, formatCompact, formatDims, formatInt, formatShape, formatShare, formatStat } from "../../src/core/format";

describe("formatInt / formatCompact", () => {
  it("groups thousands and abbreviates", () => {
    expect(formatInt(83)).toBe("83");
    expect(formatInt(124_439_808)).toBe("124,439,808");
    expect(formatInt(-1234)).toBe("-1,234");
    expect(formatInt(null)).toBe(MISSING);
    expect(formatCompact(83)).toBe("83");
    expect(formatCompact(999)).toBe("999");
    expect(formatCompact(12_345)).toBe("12.3K");
    expect(formatCompact(544_000)).toBe("544K");
    expect(formatCompact(999_950)).toBe("1.0M"); // not "1000.0K"
    expect(formatCompact(124_439_808)).toBe("124M");
    expect(formatCompact(7_240_000_000)).toBe("7.2B");
    expect(formatCompact(null)).toBe(MISSING);
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(332)).toBe("332 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(2_176_000)).toBe("2.1 MiB");
    expect(formatBytes(497_759_232)).toBe("474.7 MiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.0 GiB");
    expect(formatBytes(undefined)).toBe(MISSING);
  });
});

describe("formatShare", () => {
  it("gives a percentage of the total", () => {
    expect(formatShare(50, 83)).toBe("60.2%");
    expect(formatShare(33, 83)).toBe("39.8%");
    expect(formatShare(0, 83)).toBe("0%");
    expect(formatShare(272, 544_000)).toBe("<0.1%");
    expect(formatShare(5, 0)).toBe("");
  });
});

describe("formatStat", () => {
  it("keeps 4 significant digits and switches to exponents at the extremes", () => {
    expect(formatStat(0.28531)).toBe("0.2853");
    expect(formatStat(-0.0386812)).toBe("-0.03868");
    expect(formatStat(12.0)).toBe("12");
    expect(formatStat(-6.5601e-4)).toBe("-6.56e-4");
    expect(formatStat(123456)).toBe("1.23e+5");
    expect(formatStat(0)).toBe("0");
    expect(formatStat(-0)).toBe("0");
    expect(formatStat(null)).toBe(MISSING);
    expect(formatStat(Number.NaN)).toBe("NaN");
    expect(formatStat(-Infinity)).toBe("-inf");
  });
});

describe("formatShape / formatDims", () => {
  it("formats tensors, tuples, dicts and missing shapes", () => {
    expect(formatShape([1, 10])).toBe("[1, 10]");
    expect(formatShape([])).toBe("[]");
    expect(formatShape([[1, 10], [1, 5]])).toBe("([1, 10], [1, 5])");
    expect(formatShape({ logits: [1, 3], hidden: [[1, 8], null] })).toBe("{logits: [1, 3], hidden: ([1, 8], —)}");
    expect(formatShape(null)).toBe(MISSING);
    expect(formatDims([10, 4])).toBe("10×4");
    expect(formatDims([])).toBe("scalar");
  });
});
