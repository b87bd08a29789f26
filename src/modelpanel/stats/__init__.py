"""Parameter statistics and weight histograms: the records behind ``_params`` and ``_hist``.

>>> import torch
>>> snap = weight_snapshot(torch.nn.Linear(4, 3))
>>> [r["names"] for r in snap.records], snap.counts.shape
([['weight'], ['bias']], (2, 64))

The numbers come from :func:`tensor_histograms` (see ``stats/histograms.py`` for the
conventions: population std, finite values only, bin edges, CPU sampling). Shapes of the
records and of the ``_hist`` trait are in docs/widget-state.md.

Tensors that are not plain materialised floats (``_core/tensors.py``) are listed too, each with
a ``note`` saying what it is: the packed weights of quantized modules (their real dtype, e.g.
``qint8``, and bytes; statistics of the dequantized values; not trainable), lazy parameters
before the first forward and meta tensors (no values: statistics None), complex tensors
(statistics of the magnitudes), sparse tensors (of the stored values) and the ``original``
tensors of parametrizations (named as torch names them).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._core.gc import gc_paused
from .._core.tensors import (
    is_parametrization,
    packed_params,
    param_note,
    sparse_nbytes,
    stored_nbytes,
)
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


@dataclass(slots=True)
class ParamInfo:
    """One parameter tensor of a model, listed once however many names it has (tied weights).

    ``names``: every qualified name it is reachable by, first-seen order;
    ``owners``: paths of the modules that hold it directly (``""`` is the root);
    ``tensor``: the Parameter itself, for computing (for a quantized module's packed weight:
    the unpacked quantized tensor, e.g. ``module.weight()``). Holding a ParamInfo keeps the
    tensor alive: widgets should keep the records of :func:`weight_snapshot`, not these.
    ``dtype``: as stored (``"qint8"``, ``"quint4x2"`` for packed weights); ``nbytes``: bytes of
    the elements as stored (0 while lazy; as once materialised on meta; values and indices
    when sparse); ``note``: what the tensor is when not a plain materialised float, else ``""``
    (e.g. ``"quantized qint8, packed: statistics of dequantized values"``).
    """

    names: list[str]
    owners: list[str]
    shape: tuple[int, ...]
    numel: int
    dtype: str
    device: str
    trainable: bool
    tensor: torch.Tensor
    nbytes: int
    note: str


def collect_params(model: torch.nn.Module) -> list[ParamInfo]:
    """The parameters of ``model``, one :class:`ParamInfo` per tensor (tied ones once).

    Order: first appearance in ``named_parameters(remove_duplicate=False)``; the packed
    weights of a quantized module (which ``named_parameters`` never yields) come after its
    own parameters, named as in the float module they were converted from (``fc1.weight``:
    read by ``fc1.weight()``). Wrappers (torch.compile, DataParallel, DDP, FSDP) are unwrapped,
    so owners are tree paths. Raises TypeError for a non-Module (e.g. ``model.parameters()``).

    >>> lin = torch.nn.Linear(2, 2)
    >>> [(p.names, p.owners, p.numel) for p in collect_params(lin)]
    [(['weight'], [''], 4), (['bias'], [''], 2)]
    """
    return [ParamInfo(*row) for row in zip(*_param_columns(model))]


def _param_columns(model: torch.nn.Module) -> tuple[list, ...]:
    """ParamInfo's fields as columns (names, owners, shape, numel, dtype, device, trainable,
    tensor, nbytes, note): the snapshot reads columns, and 4,000 tensors' objects cost more
    than the walk."""
    tree = walk_modules(unwrap(model, who="collect_params()"))
    row_of: dict[object, int] = {}  # id(tensor), or (id(module), name) for a packed tensor
    # One tuple per tensor, in ParamInfo's field order (names and owners as lists, to which
    # other names are added); turned into columns at the end: one append per tensor instead
    # of ten on 4,000-tensor models.
    rows: list[tuple] = []
    # dtype/device strings are formatted once per kind, not once per tensor, with whether the
    # kind needs a note (meta, complex).
    labels: dict[tuple[torch.dtype, torch.device], tuple[str, str, bool]] = {}
    # The walk lists each module once; an aliased module (registered under two names) is
    # reached again by its other names here, so its parameters carry every name they have,
    # while the owner is always the tree's path.
    entries = tree.all_paths()
    parameter_type = torch.nn.Parameter
    strided = torch.strided
    for path, owner, module in entries:
        packed = packed_params(module)
        if not module._parameters and not packed:
            continue
        prefix = f"{path}." if path else ""
        # Parametrizations and the old weight_norm/spectral_norm hooks: notes name the
        # tensor computed from these.
        derived = is_parametrization(module) or bool(module._forward_pre_hooks)
        for pname, p, stored in packed:
            # Unpacked afresh on every call: keyed by (module, name), not by the copy's id.
            key = (id(module), pname)
            row = row_of.get(key)
            if row is None:
                row_of[key] = len(rows)
                rows.append((
                    [prefix + pname], [owner], tuple(p.shape), p.numel(),
                    str(stored).removeprefix("torch."), str(p.device), False, p,
                    stored_nbytes(p.numel(), stored), param_note(p, stored=stored),
                ))  # fmt: skip
            else:
                rows[row][0].append(prefix + pname)
        for pname, p in module._parameters.items():
            if p is None:
                continue
            name = prefix + pname
            row = row_of.get(id(p))
            if row is None:
                row_of[id(p)] = len(rows)
                key = (p.dtype, p.device)
                label = labels.get(key)
                if label is None:
                    odd = key[1].type == "meta" or key[0].is_complex
                    label = labels[key] = (str(key[0]).removeprefix("torch."), str(key[1]), odd)
                # A lazy module's parameter has no shape until its first forward.
                lazy = type(p) is not parameter_type and is_uninitialized(p)
                shape = () if lazy else tuple(p.shape)
                numel = 0 if lazy else math.prod(shape)
                plain = p.layout is strided
                rows.append((
                    [name], [owner], shape, numel, label[0], label[1], p.requires_grad, p,
                    numel * key[0].itemsize if plain else sparse_nbytes(p),
                    param_note(p, module=module, name=pname, path=owner)
                    if lazy or not plain or label[2] or derived else "",
                ))  # fmt: skip
            else:
                held = rows[row]
                if name not in held[0]:
                    held[0].append(name)
                if owner not in held[1]:
                    held[1].append(owner)
    if not rows:
        return ([], [], [], [], [], [], [], [], [], [])
    return tuple(list(column) for column in zip(*rows))


@dataclass
class WeightSnapshot:
    """Statistics and histograms of every parameter of a model at one moment.

    Columns, one entry per parameter tensor (tied tensors once), in ``collect_params`` order:
    ``names``/``owners`` (lists of str), ``shapes``, ``numels``, ``dtypes``, ``devices``,
    ``trainable``, ``nbytes``, ``notes`` (as in :class:`ParamInfo`); ``stats``: float64 ``[n, 6]`` (``STAT_COLUMNS``; NaN where there is no
    finite value); ``sampled``: bool ``[n]``; ``counts``: uint32 ``[n, bins]``; ``ranges``:
    float64 ``[n, 2]`` (the bins of row ``i`` are ``bin_edges(*ranges[i], bins)``).
    ``records`` gives the same as one dict per tensor. Holds no reference to the model or its
    tensors.
    """

    names: list[list[str]]
    owners: list[list[str]]
    shapes: list[list[int]]
    numels: list[int]
    dtypes: list[str]
    devices: list[str]
    trainable: list[bool]
    nbytes: list[int]
    notes: list[str]
    stats: np.ndarray
    sampled: np.ndarray
    counts: np.ndarray
    ranges: np.ndarray
    bins: int
    #: bool ``[n]``: rows whose ``counts`` were computed (``weight_snapshot(histograms=...)``).
    binned: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.names)

    @functools.cached_property
    def records(self) -> list[dict[str, Any]]:
        """One dict per tensor: id (= row), names, owners, shape, numel, dtype, device,
        trainable, mean, std, min, max (None: no finite value), nan, inf, sampled, nbytes, note
        ("" for a plain materialised tensor; see :class:`ParamInfo`)."""
        # Python floats once for the whole table (JSON has no NaN: "no finite value" is None).
        columns = [[None if v != v else v for v in col] for col in self.stats[:, :4].T.tolist()]
        nans = self.stats[:, 4].astype(np.int64).tolist()
        infs = self.stats[:, 5].astype(np.int64).tolist()
        return [
            {"id": i, "names": list(names), "owners": list(owners), "shape": list(shape),
             "numel": numel, "dtype": dtype, "device": device, "trainable": trainable,
             "mean": mean, "std": std, "min": lo, "max": hi, "nan": nan, "inf": inf, "sampled": flag,
             "nbytes": size, "note": note}
            for i, (names, owners, shape, numel, dtype, device, trainable, size, note, mean, std, lo, hi,
                    nan, inf, flag)
            in enumerate(zip(self.names, self.owners, self.shapes, self.numels, self.dtypes, self.devices,
                             self.trainable, self.nbytes, self.notes, *columns, nans, infs,
                             self.sampled.tolist()))
        ]


def weight_snapshot(
    model: torch.nn.Module, bins: int = 64, sample_size: int | None = 65536,
    histograms: int | None = None,
) -> WeightSnapshot:
    """Statistics and histograms of all parameters of ``model``, one host read per device.

    ``sample_size``: on the CPU, tensors with more elements are summarised from a strided
    sample of this many (their ``sampled`` flag is set; min/max/nan/inf stay exact);
    ``None`` computes everything exactly. On accelerators it is always exact.
    ``histograms``: bin only the first this many tensors (``binned`` says which; the others'
    counts are 0), for a first display that shows the first few; None: all.

    >>> snap = weight_snapshot(torch.nn.LayerNorm(3), bins=4)
    >>> snap.records[0]["std"], snap.counts[0].tolist(), snap.ranges[0].tolist()
    (0.0, [0, 0, 0, 3], [1.0, 1.0])
    """
    with gc_paused():  # thousands of small records: see _core/gc.py
        return _snapshot(model, bins, sample_size, histograms)


def _snapshot(model: torch.nn.Module, bins: int, sample_size: int | None,
              histograms: int | None) -> WeightSnapshot:
    names, owners, shapes, numels, dtypes, devices, trainable, tensors, nbytes, notes = _param_columns(model)
    # tensor_histograms reads a quantized tensor dequantized and a sparse one by its stored
    # values; a lazy or meta tensor holds none, and its row reads "no finite value" (None).
    binned = None if histograms is None else [i < histograms for i in range(len(tensors))]
    stats, counts, ranges, sampled = tensor_histograms(tensors, bins=bins, sample_size=sample_size,
                                                       binned=binned)
    return WeightSnapshot(
        names=names, owners=owners, shapes=[list(s) for s in shapes], numels=numels,
        dtypes=dtypes, devices=devices, trainable=trainable, nbytes=nbytes, notes=notes, stats=stats,
        sampled=np.asarray(sampled, bool), counts=counts, ranges=ranges, bins=bins,
        binned=np.ones(len(tensors), bool) if binned is None else np.asarray(binned, bool),
    )
