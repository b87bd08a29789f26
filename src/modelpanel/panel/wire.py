"""Numbers on the wire: numpy arrays as bytes with an explicit dtype and shape.

The views decode them once, at the boundary (js/src/core/decode.ts); see docs/widget-state.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Only dtypes the views can decode into a TypedArray.
WIRE_DTYPES = ("float32", "float64", "uint32", "int32", "uint8")


def array_to_wire(array: Any, dtype: str | None = None) -> dict[str, Any]:
    """Return ``{"view": memoryview, "dtype": str, "shape": list}`` for a numpy-like array.

    The array is made little-endian and C-contiguous; ``dtype`` down-casts on purpose
    (e.g. float64 statistics to float32 where the precision is not needed).
    """
    arr = np.asarray(array)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    name = arr.dtype.name
    if name not in WIRE_DTYPES:
        raise TypeError(f"array dtype {name!r} cannot go on the wire; use one of {WIRE_DTYPES}")
    arr = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False))
    return {"view": memoryview(arr.tobytes()), "dtype": name, "shape": list(arr.shape)}


def wire_to_array(obj: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`array_to_wire` (used by tests and by ``save_html``)."""
    data = obj["view"]
    arr = np.frombuffer(bytes(data), dtype=np.dtype(obj["dtype"]).newbyteorder("<"))
    return arr.reshape(obj["shape"])
