"""Parameter statistics and weight histograms: the records behind ``_params`` and ``_hist``.

>>> import torch
>>> snap = weight_snapshot(torch.nn.Linear(4, 3))
>>> [r["names"] for r in snap.records], snap.counts.shape
([['weight'], ['bias']], (2, 64))

The numbers come from :func:`tensor_histograms` (see ``stats/histograms.py`` for the
conventions: population std, finite values only, bin edges, CPU sampling). Shapes of the
records and of the ``_hist`` trait are in docs/widget-state.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._core.gc import gc_paused
from .._core.walk import is_uninitialized, unwrap, walk_modules
from .binning import bin_edges
from .histograms import STAT_COLUMNS, tensor_histograms

__all__ = [
    "STAT_COLUMNS",
    "ParamInfo",
    "WeightSnapshot",
    "bin_edges",
    "collect_params",
    "tensor_histograms",
    "weight_snapshot",
]


@dataclass
class ParamInfo:
    """One parameter tensor of a model, listed once however many names it has (tied weights).

    ``names``: every qualified name it is reachable by, first-seen order;
    ``owners``: paths of the modules that hold it directly (``""`` is the root);
    ``tensor``: the Parameter itself, for computing. Holding a ParamInfo keeps the tensor
    alive: widgets should keep the records of :func:`weight_snapshot`, not these.
    """

    names: list[str]
    owners: list[str]
    shape: tuple[int, ...]
    numel: int
    dtype: str
    device: str
    trainable: bool
    tensor: torch.Tensor = field(repr=False)


def collect_params(model: torch.nn.Module) -> list[ParamInfo]:
    """The parameters of ``model``, one :class:`ParamInfo` per tensor (tied ones once).

    Order: first appearance in ``named_parameters(remove_duplicate=False)``. Wrappers
    (torch.compile, DataParallel, DDP, FSDP) are unwrapped, so owners are tree paths.
    Raises TypeError for a non-Module (e.g. ``model.parameters()``).

    >>> lin = torch.nn.Linear(2, 2)
    >>> [(p.names, p.owners, p.numel) for p in collect_params(lin)]
    [(['weight'], [''], 4), (['bias'], [''], 2)]
    """
    tree = walk_modules(unwrap(model, who="collect_params()"))
    by_id: dict[int, ParamInfo] = {}
    # dtype/device strings are formatted once per kind, not once per tensor.
    labels: dict[tuple[torch.dtype, torch.device], tuple[str, str]] = {}
    # The walk lists each module once; an aliased module (registered under two names) is
    # reached again by its other names here, so its parameters carry every name they have,
    # while the owner is always the tree's path.
    if tree.second_parents:
        entries = [(p, tree.canonical(p) or p, m) for p, m in tree.root.named_modules(remove_duplicate=False)]
    else:
        entries = [(p, p, m) for p, m in tree.modules]
    for path, owner, module in entries:
        prefix = f"{path}." if path else ""
        for pname, p in module._parameters.items():
            if p is None:
                continue
            name = prefix + pname
            info = by_id.get(id(p))
            if info is None:
                key = (p.dtype, p.device)
                label = labels.get(key)
                if label is None:
                    label = labels[key] = (str(key[0]).removeprefix("torch."), str(key[1]))
                # A lazy module's parameter has no shape until its first forward.
                shape = () if is_uninitialized(p) else tuple(p.shape)
                by_id[id(p)] = ParamInfo(
                    names=[name],
                    owners=[owner],
                    shape=shape,
                    numel=0 if is_uninitialized(p) else math.prod(shape),
                    dtype=label[0],
                    device=label[1],
                    trainable=p.requires_grad,
                    tensor=p,
                )
            else:
                if name not in info.names:
                    info.names.append(name)
                if owner not in info.owners:
                    info.owners.append(owner)
    return list(by_id.values())


@dataclass
class WeightSnapshot:
    """Statistics and histograms of every parameter of a model at one moment.

    ``records``: one dict per parameter, exactly the ``_params`` rows of
    docs/widget-state.md; ``counts``: uint32 ``[n_params, bins]``; ``ranges``: float64
    ``[n_params, 2]`` (the bins of row ``i`` are ``bin_edges(*ranges[i], bins)``).
    Holds no reference to the model or its tensors.
    """

    records: list[dict[str, Any]]
    counts: np.ndarray
    ranges: np.ndarray
    bins: int


def weight_snapshot(
    model: torch.nn.Module, bins: int = 64, sample_size: int | None = 65536
) -> WeightSnapshot:
    """Statistics and histograms of all parameters of ``model``, one host read per device.

    ``sample_size``: on the CPU, tensors with more elements are summarised from a strided
    sample of this many (their ``sampled`` flag is set; min/max/nan/inf stay exact);
    ``None`` computes everything exactly. On accelerators it is always exact.

    >>> snap = weight_snapshot(torch.nn.LayerNorm(3), bins=4)
    >>> snap.records[0]["std"], snap.counts[0].tolist(), snap.ranges[0].tolist()
    (0.0, [0, 0, 0, 3], [1.0, 1.0])
    """
    with gc_paused():  # thousands of small records: see _core/gc.py
        return _snapshot(model, bins, sample_size)


def _snapshot(model: torch.nn.Module, bins: int, sample_size: int | None) -> WeightSnapshot:
    infos = collect_params(model)
    # A lazy module's parameter before its first forward, and a meta tensor, hold no values:
    # their rows read "no finite value" (None) instead of failing the whole snapshot.
    no_values = torch.empty(0)
    tensors = [
        no_values if is_uninitialized(p.tensor) or p.tensor.is_meta else p.tensor for p in infos
    ]
    stats, counts, ranges, sampled = tensor_histograms(tensors, bins=bins, sample_size=sample_size)
    # Python floats once for the whole table (JSON has no NaN: "no finite value" is None).
    columns = [
        [None if v != v else v for v in col]  # v != v: NaN
        for col in stats[:, :4].T.tolist()
    ]
    nans, infs = stats[:, 4].astype(np.int64).tolist(), stats[:, 5].astype(np.int64).tolist()
    flags = sampled.tolist()
    records = [
        {
            "id": i,
            "names": list(p.names),
            "owners": list(p.owners),
            "shape": list(p.shape),
            "numel": p.numel,
            "dtype": p.dtype,
            "device": p.device,
            "trainable": p.trainable,
            "mean": mean,
            "std": std,
            "min": lo,
            "max": hi,
            "nan": nan,
            "inf": inf,
            "sampled": flag,
        }
        for i, (p, mean, std, lo, hi, nan, inf, flag) in enumerate(
            zip(infos, *columns, nans, infs, flags)
        )
    ]
    return WeightSnapshot(records=records, counts=counts, ranges=ranges, bins=bins)
