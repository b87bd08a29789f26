"""Statistics and histograms of a whole model whose weights are spread over the ranks of a job.

Each rank bins only what it holds (``_core/sharding.contribution``: an FSDP shard, or a DDP
replica on rank 0 only), so no rank ever gathers a full weight. Three small all-reduces over
the job's process group, at refresh time only:

1. sums of finite counts, ``n * mean``, NaN and Inf counts (SUM), with the minima and negated
   maxima (MIN): the whole tensor's mean and the one range every rank bins over;
2. each rank bins its values over that range (the edges are ``bin_edges(lo, hi, bins)``, as in a
   single process) and adds ``n * (std**2 + (mean - global_mean)**2)``, the parallel-variance
   terms (Chan et al.), to its counts: SUM.

So the counts are those of ``numpy.histogram`` of the gathered weight with the same edges, and
mean/std (population), min, max, nan, inf those of the gathered weight. Exact: shards are not
sampled (a shard is 1/world_size of the weight; see ``stats/histograms.py`` for sampling).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._core.gc import gc_paused
from .._core.sharding import contribution, is_dtensor
from .._core.tensors import stat_values
from . import WeightSnapshot, _param_columns
from .histograms import tensor_histograms

__all__ = ["sharded_snapshot"]

#: ``all_reduce(values, op)``: float64 ``values`` reduced over every rank (op "sum" or "min").
AllReduce = Callable[[np.ndarray, str], np.ndarray]

_EMPTY = torch.empty(0)


def sharded_snapshot(model: torch.nn.Module, all_reduce: AllReduce, rank: int,
                     bins: int = 64) -> WeightSnapshot:
    """The :class:`~modelpanel.stats.WeightSnapshot` of the whole model, on every rank.

    Every rank of the group must call it at the same point (it runs collectives). ``rank``:
    this process's rank in the job's default group. Names, shapes (a DTensor's global shape)
    and dtypes are this rank's view of the model, which every rank shares; a DTensor's note
    names its placements (``"DTensor Shard(dim=0)"``).
    """
    with gc_paused(), torch.no_grad():
        names, owners, shapes, numels, dtypes, devices, trainable, tensors, nbytes, notes = _param_columns(model)
        n = len(tensors)
        parts = []
        for i, t in enumerate(tensors):
            mine = contribution(t.detach(), rank)
            values = None if mine is None else stat_values(mine)
            parts.append(_EMPTY if values is None else values)
            if is_dtensor(t) and not notes[i]:
                notes[i] = "DTensor " + ", ".join(str(p) for p in t.placements)
        held = np.array([p.numel() for p in parts], np.float64)
        stats, _, _, _ = tensor_histograms(parts, bins=bins, sample_size=None, binned=[False] * n)
        finite = held - stats[:, 4] - stats[:, 5]
        some = finite > 0
        sums = all_reduce(np.concatenate([finite, np.where(some, finite * stats[:, 0], 0.0),
                                          stats[:, 4], stats[:, 5]]), "sum").reshape(4, n)
        ends = all_reduce(np.concatenate([np.where(some, stats[:, 2], np.inf),
                                          np.where(some, -stats[:, 3], np.inf)]), "min").reshape(2, n)
        total, has = sums[0], sums[0] > 0
        mean = np.where(has, sums[1] / np.where(has, total, 1.0), np.nan)
        ranges = np.where(has[:, None], np.stack([ends[0], -ends[1]], axis=1), 0.0)
        _, counts, _, _ = tensor_histograms(parts, bins=bins, sample_size=None, ranges=ranges)
        spread = np.where(some, finite * (np.nan_to_num(stats[:, 1]) ** 2
                                          + (np.nan_to_num(stats[:, 0]) - np.nan_to_num(mean)) ** 2), 0.0)
        summed = all_reduce(np.concatenate([spread, counts.astype(np.float64).ravel()]), "sum")
    std = np.where(has, np.sqrt(summed[:n] / np.where(has, total, 1.0)), np.nan)
    combined = np.stack([mean, std, np.where(has, ranges[:, 0], np.nan), np.where(has, ranges[:, 1], np.nan),
                         sums[2], sums[3]], axis=1)
    return WeightSnapshot(
        names=names, owners=owners, shapes=[list(s) for s in shapes], numels=numels, dtypes=dtypes,
        devices=devices, trainable=trainable, nbytes=nbytes, notes=notes, stats=combined,
        sampled=np.zeros(n, bool), counts=np.minimum(summed[n:].reshape(n, bins), 2**32 - 1).astype(np.uint32),
        ranges=ranges, bins=bins, binned=np.ones(n, bool),
    )
