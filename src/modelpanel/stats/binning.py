"""Binning on the tensor's own device: numpy-identical equal-width bins without a host read.

A value ``v`` goes to bin ``i`` where ``edges[i] <= v < edges[i + 1]`` with
``edges = bin_edges(lo, hi, bins)``; values equal to ``hi`` go to the last bin, as in
``numpy.histogram``. See ``stats/histograms.py`` for how the statistics use it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

_INF = float("inf")


def bin_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """The ``bins + 1`` float64 edges used for a histogram with range ``(lo, hi)``.

    ``edges[k] = lo + (hi - lo) * (k / bins)`` with the last edge exactly ``hi``: the same
    arithmetic runs on the device, and the views can repeat it with JS numbers (float64).

    >>> bin_edges(0.0, 1.0, 4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    lo, hi = float(lo), float(hi)
    k = np.arange(bins + 1, dtype=np.float64)
    edges = lo + (hi - lo) * (k / bins)
    edges[0], edges[-1] = lo, hi
    return edges


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    # float16/bfloat16 overflow and round badly in sums: compute in float32. float64 and
    # integer tensors keep float64 so no value is rounded.
    if dtype.is_floating_point and dtype != torch.float64:
        return torch.float32
    return torch.float64


def flat_values(tensor: torch.Tensor) -> torch.Tensor:
    x = tensor.detach()
    if x.is_complex():
        # A histogram of complex values has no order; show their magnitudes.
        x = x.abs()
    return x.reshape(-1)


def _edges_for(edges: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """float64 ``edges`` as ``dtype`` values that bin every ``dtype`` value the same way.

    For a float32 value v, ``v >= e`` holds exactly when ``v >= ceil32(e)``, the smallest
    float32 not below e. Comparing in float32 against those edges gives the float64
    answer without promoting every value to float64 (a copy of the whole batch).
    """
    if dtype == torch.float64:
        return edges
    low = edges.to(dtype)
    return torch.where(
        low.to(edges.dtype) < edges, torch.nextafter(low, torch.full_like(low, _INF)), low
    )


# Above this many bins the float32 estimate below may miss by more than one bin (its
# error is a few bins * 2**-24); such histograms use a binary search instead.
_ESTIMATE_MAX_BINS = 1 << 16
# Values binned per step on the CPU (see _bin_counts).
_CPU_CHUNK_VALUES = 1 << 18


def binner(
    lo: torch.Tensor, hi: torch.Tensor, bins: int, cd: torch.dtype
) -> Callable[[torch.Tensor, torch.Tensor], None]:
    """``add(counts, x)`` adds the bin of each value of ``x`` ``[k, m]`` to ``counts``.

    ``counts``: int64 ``[k, bins + 2]``, the bins at ``1..bins`` and, at ``bins + 1``, the
    +inf values: ``x`` holds +inf in place of every NaN/Inf (nan_to_num).
    ``lo``/``hi``: float64 ``[k]`` bin range of each row, values of dtype ``cd``. numpy's
    method, vectorised: estimate the bin as ``(x - lo) * bins / (hi - lo)``, then move it
    by one where ``x`` lies outside the exact edges ``bin_edges(lo, hi, bins)`` (one
    gather of each neighbouring edge and two comparisons, about 10x faster than
    ``searchsorted`` on a CPU). Nothing is read back to the host.
    """
    dev, f64 = lo.device, torch.float64
    frac = torch.arange(bins + 1, dtype=f64, device=dev) / bins
    width = hi - lo
    edges = lo[:, None] + width[:, None] * frac  # bin_edges(lo, hi, bins), row by row
    edges[:, 0], edges[:, -1] = lo, hi
    edges = _edges_for(edges, cd)
    one = torch.ones((), dtype=torch.int64, device=dev)
    if bins > _ESTIMATE_MAX_BINS:
        inner = edges[:, 1:bins].contiguous()

        def search(counts: torch.Tensor, x: torch.Tensor) -> None:
            idx = torch.searchsorted(inner, x, right=True).add_(1)
            idx = torch.where(x < _INF, idx, bins + 1)
            counts.scatter_add_(1, idx, one.expand_as(idx))

        return search

    # Scale by a power of two (exact) so that neither x - lo nor bins / width leaves the
    # normal range of the compute dtype, even for a range of a few subnormals (its values
    # are then tiny too: |lo| < width * 2**53, so lo * 2**100 stays finite).
    constant = width == 0
    tiny = (width < 2.0**-60) & ~constant
    scale = torch.where(tiny, 2.0**100, torch.where(width > 2.0**100, 2.0**-4, 1.0))
    # A constant row (lo == hi) has every value in the last bin, as its edges say: its
    # estimate is `bins` (clamped to bins - 1); `mult` stays 1 so +inf stays +inf.
    mult = torch.where(constant, 1.0, bins / torch.where(constant, 1.0, width * scale))
    offset = torch.where(constant, float(bins), 0.0)
    shift = (-lo * scale).to(cd)[:, None]
    scale, offset, mult = (v.to(cd)[:, None] for v in (scale, offset, mult))
    # The last bin is closed, so its upper edge becomes +inf below; that also sends +inf
    # (not finite) to index bins + 1.
    upper = torch.cat([edges[:, 1:bins], torch.full_like(edges[:, :1], _INF)], dim=1)

    def add(counts: torch.Tensor, x: torch.Tensor) -> None:
        pos = torch.addcmul(shift, x, scale)  # (x - lo) * scale, one rounding
        pos = torch.addcmul(offset, pos, mult)
        idx = pos.clamp_(0, bins - 1).to(torch.int64)  # floor, as pos >= 0
        del pos
        # idx is the bin or a neighbour of it: x >= edges[idx] (else one lower) and
        # x >= edges[idx + 1] (one higher).
        up = x >= upper.gather(1, idx)
        idx.add_(x >= edges.gather(1, idx)).add_(up)
        # idx is now the bin + 1: index 0 is never used, bins + 1 counts the non-finite.
        # scatter_add_ rather than bincount: CUDA's bincount reads max() back to the host.
        counts.scatter_add_(1, idx, one.expand_as(idx))

    return add


def step_size(x: torch.Tensor) -> int:
    """Columns of ``x`` processed per step.

    On one CPU thread, a few at a time: the temporaries (an int64 index per value) then
    stay in cache instead of page-faulting fresh memory on every pass (binning 4M float32
    values: 157 -> 82 ms). With more threads each small step is a parallel region, which
    cost more than it saved on a loaded 2-core machine (199 -> 398 ms), so they take the
    whole batch in one step, as a GPU does.
    """
    k_rows, m = x.shape
    if x.device.type == "cpu" and torch.get_num_threads() == 1:
        return max(1, _CPU_CHUNK_VALUES // k_rows)
    return max(m, 1)
