"""Statistics and histograms of many tensors, computed on each tensor's own device.

The job of this module is :func:`tensor_histograms`; ``stats/__init__.py`` builds the widget's
records from it. Everything per tensor stays on the tensor's device: no Python value is
read while the tensors are being processed, so an accelerator runs the whole refresh
without waiting for the host. Each device's results are stacked into one tensor and read
with a single transfer at the end.

Conventions (tests in tests/stats/ check them against numpy):

* ``std`` is the population standard deviation (``numpy.std`` default, ``ddof=0``), not
  ``torch.std``'s default unbiased estimate (``correction=1``): it is defined for a
  one-element tensor (0.0) and it is what numpy users compare against. It is a standard
  deviation, never a variance.
* mean, std, min, max and the bins use the finite values only; NaN and +/-Inf are counted
  apart (``nan``, ``inf``) and kept out of the bins.
* Tensors that are not plain values (``_core/tensors.py``: ``stat_values``): a quantized
  tensor is read dequantized, a sparse one by its stored values, a complex one by its
  magnitudes; a lazy (uninitialised) or meta tensor has no values (NaN statistics).
* Bin edges are ``bin_edges(lo, hi, bins)`` (float64). A value ``v`` goes to bin ``i``
  where ``edges[i] <= v < edges[i + 1]``; values equal to ``hi`` go to the last bin, as
  in ``numpy.histogram``. A constant tensor has ``lo == hi`` and all its values in the
  last bin.
* Sampling (CPU only, ``numel > sample_size``): a strided sample of exactly
  ``sample_size`` elements, ``stride = numel // sample_size``, gives mean, std and the
  histogram. min and max stay exact (one vectorized ``aminmax`` pass over all elements,
  about 8 ms for GPT-2's 38.6M-element embedding on an idle 2-core CPU), so the
  histogram's range covers every value, and so do ``nan``/``inf``: that ``aminmax`` also
  reveals whether the tensor holds any NaN/Inf, and a tensor that does is recomputed
  exactly (not sampled) so its NaN/Inf counts are exact.
* Binning: numpy's own method for equal bins, vectorised (see ``_bin_counts``): an
  estimate ``(v - lo) * bins / (hi - lo)`` corrected by one bin against the exact edges,
  so the counts equal ``numpy.histogram(v, bin_edges(lo, hi, bins))`` without a binary
  search (``searchsorted`` only above 2**16 bins).
* Memory: tensors of one length are processed as one stacked batch of at most 16M values
  (or one larger tensor alone); the temporaries peak at about 23 bytes per value of the
  batch, on the tensor's device; on one CPU thread, which goes by steps of 2**18 values
  (``step_size``), at about 1.3 (peak RSS, one 16M-value float32 tensor).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from .._core.tensors import stat_values
from ..errors import InputError
from .binning import binner, compute_dtype, flat_values, step_size

#: Columns of the ``stats`` array returned by :func:`tensor_histograms`.
STAT_COLUMNS = ("mean", "std", "min", "max", "nan", "inf")

# Layout of one device row before the single transfer: the six statistics, then the
# histogram range (lo, hi), then a "dirty" flag (sampled tensor that holds NaN/Inf).
_ROW = len(STAT_COLUMNS) + 3
_INF = float("inf")


def _rows(
    x: torch.Tensor, bins: int, full_minmax: tuple[torch.Tensor, torch.Tensor] | None,
    bin_values: bool = True, bin_range: torch.Tensor | None = None,
) -> torch.Tensor:
    """Device tensor float64 ``[k, _ROW + bins]`` for ``k`` rows of values ``x`` ``[k, m]``.

    Row by row: the statistics, the bin range, the dirty flag, then the bin counts.
    ``full_minmax`` is ``aminmax`` of each whole tensor when the rows are samples of them.
    ``bin_range``: float64 ``[k, 2]`` bin ranges to use instead of each row's own (min, max).
    Nothing here reads a value back to the host.
    """
    k_rows, m = x.shape
    dev = x.device
    f64 = torch.float64
    parts = [x[:, start : start + step_size(x)] for start in range(0, m, step_size(x))]
    # Pass 1: range, NaN/non-finite counts, sum. nan_to_num replaces NaN and +/-Inf in
    # one pass (a mask and a where take two). Sums stay in the compute dtype within a
    # step (torch sums float32 by cascade on CPU and by tree on CUDA, both accurate);
    # asking for float64 sums would copy every value to float64 first on the CPU.
    lo = hi = total = n_nan = n_bad = None
    for part in parts:
        above = part.nan_to_num(_INF, _INF, _INF)
        step = (
            above.amin(1).to(f64),
            part.nan_to_num(-_INF, -_INF, -_INF).amax(1).to(f64),
            part.nan_to_num(0.0, 0.0, 0.0).sum(1).to(f64),
            torch.isnan(part).sum(1),
            (above == _INF).sum(1),  # NaN and +/-Inf
        )
        del above
        if lo is None:
            lo, hi, total, n_nan, n_bad = step
        else:
            lo, hi = torch.minimum(lo, step[0]), torch.maximum(hi, step[1])
            total, n_nan, n_bad = total + step[2], n_nan + step[3], n_bad + step[4]
    has = lo < _INF  # some finite value
    n_inf = n_bad - n_nan
    denom = (m - n_bad).clamp(min=1).to(f64)
    mean = total / denom

    dirty = torch.zeros(k_rows, dtype=f64, device=dev)
    if full_minmax is not None:
        fmin, fmax = (v.to(f64) for v in full_minmax)
        clean = torch.isfinite(fmin) & torch.isfinite(fmax)
        lo = torch.where(clean, fmin, lo)
        hi = torch.where(clean, fmax, hi)
        dirty = (~clean).to(f64)

    nothing = torch.full((), float("nan"), dtype=f64, device=dev)
    lo_bins = torch.where(has, lo, 0.0)
    hi_bins = torch.where(has, hi, 0.0)
    if bin_range is not None:
        lo_bins, hi_bins = bin_range[:, 0], bin_range[:, 1]
    # Pass 2: bins and squared deviations from the mean (two passes in all: a one-pass
    # E[x^2] - mean^2 loses the spread of LayerNorm weights near 1).
    add_bins = binner(lo_bins, hi_bins, bins, x.dtype) if bin_values else None
    counts = torch.zeros(k_rows, bins + 2, dtype=torch.int64, device=dev)
    mean_x = mean.to(x.dtype)[:, None]
    squares = None
    for part in parts:
        # +inf where part is NaN/Inf: the binning counts those apart.
        if add_bins is not None:  # (else the counts stay 0: statistics only, see tensor_histograms)
            add_bins(counts, part.nan_to_num(_INF, _INF, _INF))
        diff = (part - mean_x).nan_to_num_(0.0, 0.0, 0.0)
        sq = diff.mul_(diff).sum(1).to(f64)
        squares = sq if squares is None else squares + sq
    std = (squares / denom).sqrt()

    stats = torch.stack(
        [
            torch.where(has, mean, nothing),
            torch.where(has, std, nothing),
            torch.where(has, lo, nothing),
            torch.where(has, hi, nothing),
            n_nan.to(f64),
            n_inf.to(f64),
            lo_bins,
            hi_bins,
            dirty,
        ],
        dim=1,
    )
    # float64 holds the counts exactly below 2**53 values per bin.
    return torch.cat([stats, counts[:, 1 : bins + 1].to(f64)], dim=1)


def _empty_row(bins: int) -> np.ndarray:
    row = np.zeros(_ROW + bins, dtype=np.float64)
    row[:4] = np.nan
    return row


_PLAIN_TYPES = frozenset({torch.Tensor, torch.nn.Parameter})
_NO_VALUES = torch.empty(0)

# Tensors of one length are stacked and processed together (a few dozen kernels per
# batch instead of per tensor); a batch holds at most this many values, so stacking
# never copies more than ~64 MB (float32) at once.
_BATCH_VALUES = 1 << 24


# CPU batches up to this many values run on one thread (see _one_thread_if_small).
_SMALL_BATCH_VALUES = 1 << 20


@contextmanager
def _one_thread_if_small(x: torch.Tensor) -> Iterator[None]:
    """Run a small CPU batch's few dozen ops on the calling thread only.

    torch splits every op over 32K values between its threads: on busy cores each
    parallel region waits for a descheduled thread (2,000 16x16 weights: 170-230 ms on 2
    threads, 27 ms on one; 2-core box, load ~4.5). Per calling thread under OpenMP.
    """
    threads = torch.get_num_threads()
    if x.device.type != "cpu" or threads == 1 or x.numel() > _SMALL_BATCH_VALUES:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _device_block(
    tensors: Sequence[torch.Tensor], bins: int, sample_size: int | None,
    binned: Sequence[bool] | None = None, ranges: np.ndarray | None = None,
) -> tuple[torch.Tensor, list[int], list[bool]]:
    """Rows for tensors that share one device, still on that device (nothing read back).

    Returns the block ``[k, _ROW + bins]`` in processing order, the input index of each
    block row, and which inputs were sampled.
    """
    # Per-tensor Python work is what a model of thousands of tiny tensors pays for, so
    # each tensor is looked at once here and batches are stacked without flattening
    # (or converting) the tensors one by one.
    can_sample = sample_size is not None and tensors[0].device.type == "cpu"
    groups: dict[tuple[bool, int, torch.dtype, bool], list[int]] = {}
    for i, t in enumerate(tensors):
        numel = t.numel()
        sampled = can_sample and numel > sample_size
        key = (sampled, sample_size if sampled else numel, t.dtype, True if binned is None else binned[i])
        groups.setdefault(key, []).append(i)

    order: list[int] = []
    parts: list[torch.Tensor] = []
    flags = [False] * len(tensors)
    for (sampled, length, dtype, bin_values), members in groups.items():
        cdtype = compute_dtype(dtype.to_real())  # complex: magnitudes (see flat_values)
        per_batch = max(1, _BATCH_VALUES // max(length, 1))
        for start in range(0, len(members), per_batch):
            batch = [tensors[i] for i in members[start : start + per_batch]]
            minmax = None
            if sampled:
                flats = [flat_values(t) for t in batch]
                # Strided sample of exactly `length` values: deterministic, and the
                # aminmax over all values keeps min/max exact (one vectorized pass).
                views = [f[:: f.numel() // length][:length] for f in flats]
                full = [torch.aminmax(f) for f in flats]
                minmax = (torch.stack([f.min for f in full]), torch.stack([f.max for f in full]))
            elif dtype.is_complex or len({t.shape for t in batch}) > 1:
                views = [flat_values(t) for t in batch]
            else:
                views = batch  # one shape: stack as they are, then view as rows
            x = torch.stack(views) if len(views) > 1 else views[0][None]
            x = x.reshape(len(batch), -1).to(cdtype).contiguous()
            fixed = None
            if ranges is not None:
                fixed = torch.as_tensor(ranges[members[start : start + per_batch]], dtype=torch.float64,
                                        device=x.device)
            with _one_thread_if_small(x):
                parts.append(_rows(x, bins, minmax, bin_values, fixed))
            order.extend(members[start : start + per_batch])
            if sampled:
                for i in members[start : start + per_batch]:
                    flags[i] = True
    return torch.cat(parts), order, flags


def _device_rows(
    tensors: Sequence[torch.Tensor], bins: int, sample_size: int | None,
    binned: Sequence[bool] | None = None, ranges: np.ndarray | None = None,
) -> tuple[np.ndarray, list[bool]]:
    """Rows for tensors that share one device: ``[k, _ROW + bins]`` read in one transfer."""
    block, order, flags = _device_block(tensors, bins, sample_size, binned, ranges)
    out = np.empty((len(order), block.shape[1]), dtype=np.float64)
    out[order] = block.cpu().numpy()  # the one device -> host read for this device
    return out, flags


def _check(tensors: Sequence[torch.Tensor], bins: int, sample_size: int | None) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InputError(f"bins must be a positive int, got {bins!r}; try bins=64")
    if sample_size is not None and (
        isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1
    ):
        raise InputError(
            f"sample_size must be a positive int or None (exact), got {sample_size!r}; "
            "try sample_size=65536"
        )
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise InputError(
                f"tensors[{i}] is {type(t).__name__}, not a torch.Tensor; pass tensors only "
                "(filter out parameters whose .grad is None)"
            )


def tensor_histograms(
    tensors: Sequence[torch.Tensor], bins: int = 64, sample_size: int | None = 65536,
    binned: Sequence[bool] | None = None, ranges: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Statistics and histograms of ``tensors``, each computed on its own device.

    Returns ``(stats, counts, ranges, sampled)``:

    * ``stats``: float64 ``[n, 6]``, columns :data:`STAT_COLUMNS` (mean, std, min, max,
      nan, inf) over the finite values; mean/std/min/max are NaN when a tensor has no
      finite value (empty, all NaN/Inf, on the meta device, or lazy and not yet
      materialised). Quantized tensors: of the dequantized values; sparse: of the stored
      values; complex: of the magnitudes.
    * ``counts``: uint32 ``[n, bins]``, finite values only.
    * ``ranges``: float64 ``[n, 2]``, ``(lo, hi)`` of the bins (``bin_edges``); ``(0, 0)``
      when there is no finite value.
    * ``sampled``: bool ``[n]``, True where mean/std/histogram come from a strided sample.

    ``sample_size=None`` computes everything exactly. ``binned`` (one flag per tensor; all
    by default): where False, only the statistics and the range are computed and the counts
    stay 0 (binning is about half the cost on models of thousands of small tensors).
    ``ranges``: float64 ``[n, 2]``, the ``(lo, hi)`` to bin each tensor over instead of its
    own (min, max), e.g. the range of the whole weight agreed by the ranks of a distributed
    job; it must hold the tensor's finite values. Returned in ``ranges``. One host read per device per call
    (plus, on the CPU only, an exact recount of sampled tensors that hold NaN/Inf).

    >>> stats, counts, ranges, sampled = tensor_histograms([torch.arange(4.0)], bins=2)
    >>> counts.tolist(), ranges.tolist(), stats[0, :2].round(4).tolist()
    ([[2, 2]], [[0.0, 3.0]], [1.5, 1.118])
    """
    tensors = list(tensors)
    _check(tensors, bins, sample_size)
    n = len(tensors)
    block = np.zeros((n, _ROW + bins), dtype=np.float64)
    sampled = np.zeros(n, dtype=bool)

    groups: dict[torch.device, list[int]] = {}
    plain, strided = _PLAIN_TYPES, torch.strided
    for i, t in enumerate(tensors):
        if type(t) not in plain or t.layout is not strided or t.is_quantized:
            # Lazy, quantized, sparse or a tensor subclass (rare): its values, or none.
            values = stat_values(t)
            t = tensors[i] = _NO_VALUES if values is None else values
        device = t.device
        if device.type == "meta" or t.numel() == 0:
            block[i] = _empty_row(bins)
        else:
            groups.setdefault(device, []).append(i)
    with torch.no_grad():
        for idxs in groups.values():
            rows, flags = _device_rows([tensors[i] for i in idxs], bins, sample_size,
                                       None if binned is None else [binned[i] for i in idxs],
                                       None if ranges is None else ranges[idxs])
            block[idxs] = rows
            sampled[idxs] = flags
        # A sampled tensor with NaN/Inf somewhere: count them exactly (CPU only, rare).
        dirty = np.flatnonzero(block[:, _ROW - 1] > 0)
        if dirty.size:
            rows, _ = _device_rows([tensors[i] for i in dirty], bins, None,
                                   None if binned is None else [binned[i] for i in dirty],
                                   None if ranges is None else ranges[dirty])
            block[dirty] = rows
            sampled[dirty] = False

    stats = block[:, : len(STAT_COLUMNS)].copy()
    ranges = block[:, len(STAT_COLUMNS) : len(STAT_COLUMNS) + 2].copy()
    # uint32 on the wire; a bin over 2**32 - 1 values would need a >4G-element tensor.
    counts = np.minimum(block[:, _ROW:], 2**32 - 1).astype(np.uint32)
    return stats, counts, ranges, sampled
