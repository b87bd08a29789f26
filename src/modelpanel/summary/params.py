"""Parameter counting without running the model: each tensor once, tied weights included.

A parameter tensor is *held* by every module that registers it
directly (tied weights: several). A module's subtree count adds each tensor held anywhere
below it once; the work is one pass over (tensor, holder's ancestors), not a per-module walk.

Tensors that are not plain materialised floats (see ``_core/tensors.py``) are counted so:
packed weights of quantized modules count (not trainable), bytes at their stored size (int8:
one byte each); a lazy module's parameter counts 0 until its first forward; a meta tensor
counts by its shape, bytes as once materialised; a complex tensor counts one per complex
element; a sparse tensor counts by its shape, bytes as stored (values and indices); a
parametrization's ``original`` tensors count, the tensor computed from them does not.
``ParamCounts.notes`` says which of these a model has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .._core.tensors import (
    Packed,
    is_parametrization,
    kind_label,
    packed_params,
    sparse_nbytes,
    stored_nbytes,
)
from .._core.walk import ModuleTree, is_uninitialized, nbytes, numel


@dataclass
class ParamCounts:
    """Per-module counts, as lists aligned with ``modules``, plus the model's totals.

    All in elements unless named ``*_bytes``; ``shared`` holds the indices of modules that
    hold a tensor another module holds too. ``notes``: one sentence per kind of tensor that
    is not a plain materialised float (packed, lazy, meta, complex, sparse, parametrized),
    saying how it was counted; empty for most models.
    """

    subtree: list[int]
    subtree_trainable: list[int]
    own: list[int]
    formula: list[str]
    shared: set[int] = field(default_factory=set)
    total: int = 0
    trainable: int = 0
    param_bytes: int = 0
    buffer_bytes: int = 0
    devices: list[str] = field(default_factory=list)
    dtypes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _dims(t: torch.Tensor) -> str:
    if is_uninitialized(t):
        return "uninitialized (lazy)"
    if t.dim() == 0:
        return "scalar"
    return "×".join(str(d) for d in t.shape)


def _formula(
    own: list[tuple[str, torch.Tensor, str]], sizes: dict[int, int], holders: dict[int, list[str]], path: str
) -> str:
    """'weight 10×4 = 40 + bias 10 = 50': the module's own tensors, their shapes and the sum.

    Each entry of ``own`` is (name, tensor, kind label): 'weight 8×4 = 32 (qint8, packed)'.
    """
    if not own:
        return ""
    parts = []
    lazy = False
    for name, t, label in own:
        part = f"{name} {_dims(t)}"
        if is_uninitialized(t):
            lazy = True
        elif t.dim() > 1:
            part += f" = {sizes[id(t)]:,}"
        if label:
            part += f" ({label})"
        tensor_holders = holders.get(id(t), ())
        if len(tensor_holders) > 1:
            others = [h or "<root>" for h in tensor_holders if h != path]
            part += " (shared with " + ", ".join(others) + ")"
        parts.append(part)
    text = " + ".join(parts)
    if len(parts) > 1:
        text += f" = {sum(sizes[k] for k in {id(t): None for _, t, _ in own}):,}"
    elif not is_uninitialized(own[0][1]) and own[0][1].dim() == 0:
        text += " = 1"
    if lazy:
        text += " (not materialised until the first forward)"
    return text


def count_params(tree: ModuleTree) -> ParamCounts:
    """Count the parameters and buffers of a walked model (see ``walk_modules``).

    One pass over the modules reads each tensor once; subtree counts are then summed
    bottom-up over ``parents`` (see ``parent_indices``) and corrected for tensors held by
    several modules (tied weights), which would otherwise count once per holder in their
    common ancestors. This runs on every summary, so it is written for 2,000-module models:
    one loop, five attribute reads per tensor (shape, requires_grad, dtype, device, layout),
    one type lookup per module (packed weights: see ``_core/tensors.py``), and a parameter
    formula formatted once per distinct (names, shapes) signature. Models holding packed,
    meta, complex, sparse or parametrized tensors take a slower path for their formulas and
    notes only.
    """
    modules, parents = tree.modules, tree.parents
    n_modules = len(modules)
    own_counts = [0] * n_modules
    own_trainable = [0] * n_modules
    formula = [""] * n_modules
    seen: dict[int, int] = {}  # id -> index of the first module holding it
    holders: dict[int, list[int]] = {}  # only tensors held by more than one module
    tied: dict[int, torch.Tensor] = {}  # those tensors
    uncached: set[int] = set()  # modules whose formula is not a pure function of names and shapes
    cache: dict[tuple, str] = {}
    buffers: dict[int, torch.Tensor] = {}
    devices: dict[torch.device, None] = {}
    numel_by_dtype: dict[torch.dtype, int] = {}
    # Elements of the current run of one dtype: most models are one dtype throughout, so a
    # run is summed with one ``is`` test per tensor instead of a dict update.
    run_dtype: torch.dtype | None = None
    run = 0
    parameter_type = nn.Parameter
    strided = torch.strided
    packed_of: dict[int, list[Packed]] = {}  # id(module) -> its packed tensors (kept alive)
    packed_numel: dict[torch.dtype, int] = {}  # by stored dtype
    parametrized = lazy = 0
    sparse = False
    for i, (_, module) in enumerate(modules):
        if module._buffers:
            for b in module._buffers.values():
                if b is not None:
                    buffers[id(b)] = b
        params = module._parameters
        packed = packed_params(module)
        if packed:
            # Fresh tensors, one module each: never tied, never trainable (requires_grad False).
            packed_of[id(module)] = packed
            uncached.add(i)
            for _, t, stored in packed:
                n = t.numel()
                own_counts[i] += n
                packed_numel[stored] = packed_numel.get(stored, 0) + n
                devices[t.device] = None
        if not params:
            continue
        if is_parametrization(module):
            parametrized += 1
            uncached.add(i)
        n_own = n_train = 0
        sig: list | None = []
        for name, p in params.items():
            if p is None:
                continue
            key = id(p)
            if key in seen:
                sig = None
                first = seen[key]
                held_by = holders.get(key)
                if first == i or (held_by is not None and held_by[-1] == i):
                    continue  # one module, one tensor, two names: counted once
                if held_by is None:
                    holders[key] = [first, i]
                    tied[key] = p
                else:
                    held_by.append(i)
                n = numel(p)
            else:
                seen[key] = i
                if type(p) is not parameter_type and is_uninitialized(p):
                    n = 0
                    sig = None
                    lazy += 1
                else:
                    shape = p.shape
                    n = shape.numel()
                    if sig is not None:
                        sig.append((name, shape))
                dtype = p.dtype
                if dtype is run_dtype:
                    run += n
                else:
                    if run_dtype is not None:
                        numel_by_dtype[run_dtype] = numel_by_dtype.get(run_dtype, 0) + run
                    run_dtype, run = dtype, n
                devices[p.device] = None
                if p.layout is not strided:
                    sparse = True
            n_own += n
            if p.requires_grad:
                n_train += n
        own_counts[i] += n_own
        own_trainable[i] = n_train
        if sig is None:
            uncached.add(i)
        elif sig:
            sig_key = tuple(sig)
            text = cache.get(sig_key)
            if text is None:
                text = cache[sig_key] = _formula_of(modules[i], {}, None, False)
            formula[i] = text
    if run_dtype is not None:
        numel_by_dtype[run_dtype] = numel_by_dtype.get(run_dtype, 0) + run

    # Bottom-up: named_modules() lists a parent before its children.
    subtree = own_counts.copy()
    trainable = own_trainable.copy()
    for i in range(n_modules - 1, 0, -1):
        parent = parents[i]
        subtree[parent] += subtree[i]
        trainable[parent] += trainable[i]
    counts = ParamCounts(subtree, trainable, own_counts, formula)
    # Each holder of a tied tensor counted it: the root counted it once per holder, and so did
    # every ancestor that several holders sit under.
    for key, idx in holders.items():
        p = tied[key]
        n, grad = numel(p), p.requires_grad
        counts.shared.update(idx)
        reach: dict[int, int] = {}  # through how many of its holders each ancestor reaches it
        for h in idx:
            while h >= 0:
                reach[h] = reach.get(h, 0) + 1
                h = parents[h]
        for a, k in reach.items():
            subtree[a] -= (k - 1) * n
            if grad:
                trainable[a] -= (k - 1) * n
    # A child registered under a second parent is listed (and summed) under its first one
    # only. The second parent and its ancestors are recounted from their own parameters(),
    # which dedups by identity: rare, so the slow path costs nothing on ordinary models.
    recount: set[int] = set()
    for h in tree.second_parents:
        while h >= 0 and h not in recount:
            recount.add(h)
            h = parents[h]
    for a in recount:
        unique = {id(p): p for p in modules[a][1].parameters()}.values()
        subtree[a] = sum(numel(p) for p in unique)
        trainable[a] = sum(numel(p) for p in unique if p.requires_grad)
        if packed_of:
            subtree[a] += sum(t.numel() for m in modules[a][1].modules()
                              for _, t, _ in packed_of.get(id(m), ()))
    # A module holding a tied tensor names the others in its formula: never from the cache.
    if holders:
        uncached.update(counts.shared)
        by_path = {key: [modules[h][0] for h in idx] for key, idx in holders.items()}
    else:
        by_path = {}
    # A meta, complex or sparse tensor is labelled in its formula, which (name, shape) does not
    # say: such models (rare) format every formula.
    labelled = sparse or any(d.type == "meta" for d in devices) or any(t.is_complex for t in numel_by_dtype)
    if labelled:
        uncached.update(i for i, (_, m) in enumerate(modules) if m._parameters)
    for i in uncached:
        formula[i] = _formula_of(modules[i], by_path, packed_of.get(id(modules[i][1])), labelled)

    for dtype, n in packed_numel.items():
        numel_by_dtype[dtype] = numel_by_dtype.get(dtype, 0) + n
    dtypes: dict[torch.dtype, None] = dict.fromkeys(numel_by_dtype)
    for b in buffers.values():
        counts.buffer_bytes += nbytes(b)
        devices[b.device] = None
        # Integer and bool buffers are bookkeeping (BatchNorm's int64 num_batches_tracked, a
        # mask): "float32, int64" would read as int64 weights. Listed only without parameters.
        if b.dtype.is_floating_point or b.dtype.is_complex or not numel_by_dtype:
            dtypes[b.dtype] = None
    # The root's subtree holds every tensor once (the tied ones corrected just above).
    counts.total, counts.trainable = subtree[0], trainable[0]
    counts.param_bytes = sum(stored_nbytes(n, dtype) for dtype, n in numel_by_dtype.items())
    counts.devices = [str(d) for d in devices]
    counts.dtypes = [str(d).removeprefix("torch.") for d in dtypes]
    if labelled or packed_numel or lazy or parametrized:
        counts.notes = _notes(tree, packed_numel, lazy, parametrized, counts)
    return counts


def _notes(tree: ModuleTree, packed: dict[torch.dtype, int], lazy: int, parametrized: int,
           counts: ParamCounts) -> list[str]:
    """How the tensors that are not plain materialised floats were counted (one line each);
    corrects ``counts.param_bytes`` for sparse tensors (counted above as if dense)."""
    notes = []
    if packed:
        kinds = ", ".join(str(d).removeprefix("torch.") for d in packed)
        notes.append(f"{sum(packed.values()):,} params packed by quantized modules ({kinds}): "
                     "counted as non-trainable, bytes as stored")
    if lazy:
        notes.append(f"{lazy} parameter tensor{'s' if lazy > 1 else ''} not materialised until "
                     "the first forward: counted as 0")
    meta = complex_ = sparse = 0
    for p in {id(p): p for _, m in tree.modules for p in m._parameters.values() if p is not None}.values():
        if is_uninitialized(p):
            continue
        n = p.numel()
        if p.is_meta:
            meta += n
        if p.is_complex():
            complex_ += n
        if p.layout != torch.strided and not p.is_meta:
            sparse += n
            counts.param_bytes += sparse_nbytes(p) - nbytes(p)
    if meta:
        notes.append(f"{meta:,} params on the meta device: counted by shape, no values; bytes "
                     "as once materialised")
    if complex_:
        notes.append(f"{complex_:,} complex params: one per complex element")
    if sparse:
        notes.append(f"{sparse:,} params in sparse tensors: counted by shape, bytes as stored")
    if parametrized:
        notes.append(f"{parametrized} parametrized tensor{'s' if parametrized > 1 else ''}: the "
                     "original tensors are counted, not the ones computed from them")
    return notes


def _formula_of(entry: tuple[str, nn.Module], holders: dict[int, list[str]],
                packed: list[Packed] | None, labelled: bool) -> str:
    """The formula of one module; ``labelled``: name meta/complex/sparse tensors as such."""
    path, module = entry
    own = [(name, p, kind_label(p) if labelled else "") for name, p in module._parameters.items()
           if p is not None]
    own += [(name, t, kind_label(t, stored)) for name, t, stored in packed or ()]
    text = _formula(own, {id(p): numel(p) for _, p, _ in own}, holders, path)
    if text and is_parametrization(module):
        how = ", ".join(type(p).__name__ for p in module)
        text += f"; computes {path.rpartition('.')[2]} by {how}"
    return text
