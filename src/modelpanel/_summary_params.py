"""Parameter counting without running the model: each tensor once, tied weights included.

Private to ``summary.py``. A parameter tensor is *held* by every module that registers it
directly (tied weights: several). A module's subtree count adds each tensor held anywhere
below it once; the work is one pass over (tensor, holder's ancestors), not a per-module walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.parameter import UninitializedTensorMixin

_LAZY_TYPES: dict[type, bool] = {}


def is_uninitialized(t: torch.Tensor) -> bool:
    """A lazy module's not-yet-materialised parameter or buffer."""
    # Cached per type: isinstance against Parameter's metaclass is slow on 2,000-layer models.
    kind = type(t)
    lazy = _LAZY_TYPES.get(kind)
    if lazy is None:
        lazy = _LAZY_TYPES[kind] = issubclass(kind, UninitializedTensorMixin)
    return lazy


def numel(t: torch.Tensor) -> int:
    """Element count; 0 for a lazy module's not-yet-materialised parameter."""
    return 0 if is_uninitialized(t) else t.numel()


def nbytes(t: torch.Tensor) -> int:
    """Bytes a tensor's elements take (0 while uninitialised)."""
    return numel(t) * t.element_size()


def ancestors(path: str) -> list[str]:
    """The path itself and every enclosing path, root ("") last: "a.b" -> ["a.b", "a", ""]."""
    out = [path]
    while path:
        path = path.rpartition(".")[0]
        out.append(path)
    return out


@dataclass
class ParamCounts:
    """Per-path counts plus the model's totals (all in elements unless named ``*_bytes``)."""

    subtree: dict[str, int] = field(default_factory=dict)
    subtree_trainable: dict[str, int] = field(default_factory=dict)
    own: dict[str, int] = field(default_factory=dict)
    shared: set[str] = field(default_factory=set)
    formula: dict[str, str] = field(default_factory=dict)
    total: int = 0
    trainable: int = 0
    param_bytes: int = 0
    buffer_bytes: int = 0
    devices: list[str] = field(default_factory=list)
    dtypes: list[str] = field(default_factory=list)


def _dims(t: torch.Tensor) -> str:
    if is_uninitialized(t):
        return "uninitialized (lazy)"
    if t.dim() == 0:
        return "scalar"
    return "×".join(str(d) for d in t.shape)


def _formula(
    own: list[tuple[str, torch.Tensor]], sizes: dict[int, int], holders: dict[int, list[str]], path: str
) -> str:
    """'weight 10×4 = 40 + bias 10 = 50': the module's own tensors, their shapes and the sum."""
    if not own:
        return ""
    parts = []
    for name, t in own:
        part = f"{name} {_dims(t)}"
        if not is_uninitialized(t) and t.dim() > 1:
            part += f" = {sizes[id(t)]:,}"
        tensor_holders = holders.get(id(t), ())
        if len(tensor_holders) > 1:
            others = [h or "<root>" for h in tensor_holders if h != path]
            part += " (shared with " + ", ".join(others) + ")"
        parts.append(part)
    text = " + ".join(parts)
    if len(parts) > 1:
        text += f" = {sum(sizes[k] for k in {id(t): None for _, t in own}):,}"
    elif not is_uninitialized(own[0][1]) and own[0][1].dim() == 0:
        text += " = 1"
    return text


def count_params(modules: list[tuple[str, nn.Module]]) -> ParamCounts:
    """Count parameters and buffers of ``named_modules()`` (root first, as "").

    One pass over the modules reads each tensor once; subtree counts are then summed
    bottom-up and corrected for tensors held by several modules (tied weights), which would
    otherwise count once per holder in their common ancestors. This runs on every summary,
    so it is written for 2,000-module models: one loop, few tensor attribute reads.
    """
    counts = ParamCounts()
    seen: dict[int, tuple[int, bool, str]] = {}  # id -> (numel, trainable, first holder)
    holders: dict[int, list[str]] = {}  # only tensors held by more than one module
    own_lists: dict[str, list[tuple[str, torch.Tensor]]] = {}
    signatures: dict[str, tuple | None] = {}  # path -> formula cache key (None: don't cache)
    subtree, trainable, own_counts = counts.subtree, counts.subtree_trainable, counts.own
    buffers: dict[int, torch.Tensor] = {}
    devices: dict[torch.device, None] = {}
    dtypes: dict[torch.dtype, None] = {}
    total = n_trainable = param_bytes = 0
    for path, module in modules:
        params = module._parameters
        if not params:
            own_counts[path] = subtree[path] = trainable[path] = 0
        else:
            n_own = n_train = 0
            own: list[tuple[str, torch.Tensor]] = []
            sig: list | None = []
            for name, p in params.items():
                if p is None:
                    continue
                key = id(p)
                info = seen.get(key)
                if info is None:
                    lazy = is_uninitialized(p)
                    n = 0 if lazy else p.numel()
                    grad = p.requires_grad
                    dtype = p.dtype
                    seen[key] = (n, grad, path)
                    total += n
                    param_bytes += n * dtype.itemsize
                    if grad:
                        n_trainable += n
                    devices[p.device] = None
                    dtypes[dtype] = None
                    if sig is not None:
                        sig = None if lazy else sig + [(name, p.shape)]
                else:
                    n, grad, first = info
                    sig = None
                    if any(q is p for _, q in own):  # one module, one tensor, two names
                        own.append((name, p))
                        continue
                    if first != path:
                        holders.setdefault(key, [first]).append(path)
                own.append((name, p))
                n_own += n
                if grad:
                    n_train += n
            own_lists[path] = own
            signatures[path] = None if sig is None else tuple(sig)
            own_counts[path] = subtree[path] = n_own
            trainable[path] = n_train
        if module._buffers:
            for b in module._buffers.values():
                if b is not None:
                    buffers[id(b)] = b

    # Bottom-up: named_modules() lists a parent before its children.
    for path, _ in reversed(modules):
        if path:
            parent = path.rpartition(".")[0]
            subtree[parent] += subtree[path]
            trainable[parent] += trainable[path]
    for key, paths in holders.items():
        n, grad, _ = seen[key]
        counts.shared.update(paths)
        reach: dict[str, int] = {}  # through how many of its holders each ancestor reaches it
        for h in paths:
            for a in ancestors(h):
                reach[a] = reach.get(a, 0) + 1
        for a, k in reach.items():
            subtree[a] -= (k - 1) * n
            if grad:
                trainable[a] -= (k - 1) * n
    # A module holding a tied tensor is not cacheable either (its formula names the others).
    for paths in holders.values():
        for h in paths:
            signatures[h] = None

    for b in buffers.values():
        counts.buffer_bytes += nbytes(b)
        devices[b.device] = None
        dtypes[b.dtype] = None
    counts.total, counts.trainable, counts.param_bytes = total, n_trainable, param_bytes
    counts.devices = [str(d) for d in devices]
    counts.dtypes = [str(d).removeprefix("torch.") for d in dtypes]

    # Many modules share parameter names and shapes (a stack of Linear(16, 16)): format
    # each distinct signature once.
    sizes = {key: info[0] for key, info in seen.items()}
    cache: dict[tuple, str] = {}
    formula = counts.formula
    for path, _ in modules:
        own = own_lists.get(path)
        if not own:
            formula[path] = ""
            continue
        sig = signatures[path]
        text = None if sig is None else cache.get(sig)
        if text is None:
            text = _formula(own, sizes, holders, path)
            if sig is not None:
                cache[sig] = text
        formula[path] = text
    return counts
