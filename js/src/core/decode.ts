// The one place that reads the binary wire format of docs/widget-state.md:
// {view: <bytes>, dtype, shape}, little-endian and C-contiguous. Views call decodeArray once
// per update and never see the wire format.

export type WireDtype = "float32" | "float64" | "uint32" | "int32" | "uint8";

/**
 * An array as the kernel sends it. In the browser `view` is a DataView (ipywidgets turns each
 * binary buffer into one); it can also be an ArrayBuffer or a typed array (tests, other hosts).
 */
export interface WireArray {
  view: DataView | ArrayBuffer | ArrayBufferView;
  dtype: WireDtype;
  shape: number[];
}

export type NumericArray = Float32Array | Float64Array | Uint32Array | Int32Array | Uint8Array;

export interface Decoded<T extends NumericArray = NumericArray> {
  data: T;
  shape: number[];
}

type Ctor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): NumericArray; BYTES_PER_ELEMENT: number };

const CTORS: Record<WireDtype, Ctor> = {
  float32: Float32Array,
  float64: Float64Array,
  uint32: Uint32Array,
  int32: Int32Array,
  uint8: Uint8Array,
};

function product(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Decode a wire array into a typed array over the same bytes (no copy when aligned).
 *
 * Always honours the view's byteOffset and byteLength: a DataView is often a window into a
 * larger message buffer, and reading `.buffer` whole would pick up the neighbours' bytes.
 *
 * @example decodeArray({view: dv, dtype: "uint32", shape: [3, 64]}).data[64] // row 1, bin 0
 */
export function decodeArray(obj: WireArray): Decoded {
  if (!obj || typeof obj !== "object" || obj.view == null) {
    throw new TypeError("decodeArray: expected {view, dtype, shape} from the kernel, got " + String(obj));
  }
  const ctor = CTORS[obj.dtype];
  if (!ctor) {
    throw new TypeError(
      `decodeArray: unsupported dtype ${JSON.stringify(obj.dtype)}; expected one of ${Object.keys(CTORS).join(", ")}`,
    );
  }
  const shape = Array.isArray(obj.shape) ? obj.shape.map(Number) : [];
  const view = obj.view;
  let buffer: ArrayBuffer;
  let byteOffset: number;
  let byteLength: number;
  if (view instanceof ArrayBuffer) {
    buffer = view;
    byteOffset = 0;
    byteLength = view.byteLength;
  } else if (ArrayBuffer.isView(view)) {
    // DataView and every TypedArray: a window [byteOffset, byteOffset + byteLength) of buffer.
    buffer = view.buffer as ArrayBuffer;
    byteOffset = view.byteOffset;
    byteLength = view.byteLength;
  } else {
    throw new TypeError("decodeArray: `view` must be a DataView, ArrayBuffer or typed array");
  }
  const width = ctor.BYTES_PER_ELEMENT;
  const expected = product(shape) * width;
  if (byteLength !== expected) {
    throw new RangeError(
      `decodeArray: ${byteLength} bytes cannot hold ${obj.dtype} of shape [${shape.join(", ")}] (${expected} bytes expected)`,
    );
  }
  if (byteOffset % width !== 0) {
    // Typed arrays need an aligned offset; copy the window into a fresh buffer instead.
    buffer = buffer.slice(byteOffset, byteOffset + byteLength);
    byteOffset = 0;
  }
  return { data: new ctor(buffer, byteOffset, byteLength / width), shape };
}
