import { describe, expect, it } from "vitest";
import { decodeArray } from "../../src/core/decode";

describe("decodeArray", () => {
  it("reads only its window of a larger buffer (DataView with a non-zero byteOffset)", () => {
    // 3 floats of garbage, then a 2x2 float32 payload, then 2 more of garbage.
    const whole = new Float32Array([9, 9, 9, 1.5, -2, 3, 4.25, 9, 9]);
    const view = new DataView(whole.buffer, 3 * 4, 4 * 4);
    const out = decodeArray({ view, dtype: "float32", shape: [2, 2] });
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data)).toEqual([1.5, -2, 3, 4.25]);
    expect(out.shape).toEqual([2, 2]);
    // No copy when aligned: the result shares the message buffer.
    expect(out.data.buffer).toBe(whole.buffer);
  });

  it("copies when the offset is not aligned to the element size", () => {
    const bytes = new Uint8Array(1 + 2 * 8);
    const f64 = new Float64Array([Math.PI, -1e300]);
    bytes.set(new Uint8Array(f64.buffer), 1);
    const out = decodeArray({ view: new DataView(bytes.buffer, 1, 16), dtype: "float64", shape: [2] });
    expect(Array.from(out.data)).toEqual([Math.PI, -1e300]);
  });

  it("accepts ArrayBuffer and typed arrays, uint32 and int32", () => {
    const u = new Uint32Array([0, 1, 4294967295]);
    expect(Array.from(decodeArray({ view: u.buffer, dtype: "uint32", shape: [3] }).data)).toEqual([0, 1, 4294967295]);
    const i = new Int32Array([7, -3, 5, 1]);
    const sub = i.subarray(1, 3); // typed array window: byteOffset 4
    expect(Array.from(decodeArray({ view: sub, dtype: "int32", shape: [2] }).data)).toEqual([-3, 5]);
  });

  it("reads uint8 at any offset (no alignment to copy for)", () => {
    const bytes = new Uint8Array([9, 1, 0, 255, 9]);
    const out = decodeArray({ view: new DataView(bytes.buffer, 1, 3), dtype: "uint8", shape: [3] });
    expect(out.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.data)).toEqual([1, 0, 255]);
    expect(out.data.buffer).toBe(bytes.buffer);
  });

  it("handles empty arrays", () => {
    const out = decodeArray({ view: new ArrayBuffer(0), dtype: "uint32", shape: [0, 64] });
    expect(out.data.length).toBe(0);
  });

  it("says what is wrong when the bytes do not match the shape or dtype", () => {
    const view = new DataView(new ArrayBuffer(12));
    expect(() => decodeArray({ view, dtype: "float32", shape: [2, 2] })).toThrow(/12 bytes cannot hold float32 of shape \[2, 2\]/);
    expect(() => decodeArray({ view, dtype: "int64" as never, shape: [1] })).toThrow(/unsupported dtype "int64"/);
  });
});
