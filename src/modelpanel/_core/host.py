"""Reading many device tensors on the host with ONE transfer per device.

Monitoring must not slow training: a ``.item()`` per value is a device sync per value. Every
engine that reads several small device tensors at once (logged metrics, gradient norms,
activation statistics) goes through here: values are stacked per device and read together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def host_rows(tensors: Sequence[torch.Tensor]) -> list[list[float]]:
    """Each tensor's values (flattened, as float64 Python floats), one transfer per device.

    >>> host_rows([torch.tensor([1.0, 2.0]), torch.tensor(3.0)])
    [[1.0, 2.0], [3.0]]
    """
    out: list[list[float]] = [[] for _ in tensors]
    by_device: dict[torch.device, list[int]] = {}
    for i, t in enumerate(tensors):
        by_device.setdefault(t.device, []).append(i)
    for idxs in by_device.values():
        # One cast per dtype group (no per-value cast), then one cat and one transfer.
        flat_parts = [tensors[i].detach().reshape(-1) for i in idxs]
        by_dtype: dict[torch.dtype, list[int]] = {}
        for k, part in enumerate(flat_parts):
            by_dtype.setdefault(part.dtype, []).append(k)
        cast = [None] * len(flat_parts)
        for ks in by_dtype.values():
            joined = torch.cat([flat_parts[k] for k in ks]).to(torch.float64)
            for k, piece in zip(ks, joined.split([flat_parts[k].numel() for k in ks])):
                cast[k] = piece
        values = torch.cat(cast).cpu().tolist()  # type: ignore[arg-type]
        start = 0
        for i, part in zip(idxs, flat_parts):
            n = part.numel()
            out[i] = values[start : start + n]
            start += n
    return out


def host_values(values: Sequence[Any]) -> list[float]:
    """Floats for a mix of Python numbers and one-element tensors, one transfer per device."""
    out: list[float] = [0.0] * len(values)
    idxs = [i for i, v in enumerate(values) if isinstance(v, torch.Tensor)]
    for i, v in enumerate(values):
        if not isinstance(v, torch.Tensor):
            out[i] = float(v)
    if idxs:
        for i, row in zip(idxs, host_rows([values[i] for i in idxs])):
            out[i] = row[0]
    return out
