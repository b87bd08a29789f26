"""Parameter counting without running the model: each tensor once, tied weights included.

Private to ``summary.py``. A parameter tensor is *held* by every module that registers it
directly (tied weights: several). A module's subtree count adds each tensor held anywhere
below it once; the work is one pass over (tensor, holder's ancestors), not a per-module walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter


def numel(t: torch.Tensor) -> int:
    """Element count; 0 for a lazy module's not-yet-materialised parameter."""
    return 0 if isinstance(t, UninitializedParameter) else t.numel()


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
    if isinstance(t, UninitializedParameter):
        return "uninitialized (lazy)"
    if t.dim() == 0:
        return "scalar"
    return "×".join(str(d) for d in t.shape)


def _formula(own: list[tuple[str, torch.Tensor]], holders: dict[int, list[str]], path: str) -> str:
    """'weight 10×4 = 40 + bias 10 = 50': the module's own tensors, their shapes and the sum."""
    if not own:
        return ""
    parts = []
    for name, t in own:
        part = f"{name} {_dims(t)}"
        if t.dim() > 1 and not isinstance(t, UninitializedParameter):
            part += f" = {numel(t):,}"
        others = [h for h in holders[id(t)] if h != path]
        if others:
            part += " (shared with " + ", ".join(o or "<root>" for o in others) + ")"
        parts.append(part)
    text = " + ".join(parts)
    if len(parts) > 1:
        text += f" = {sum(numel(t) for _, t in own):,}"
    elif own[0][1].dim() == 0:
        text += " = 1"
    return text


def count_params(modules: list[tuple[str, nn.Module]]) -> ParamCounts:
    """Count parameters and buffers of ``named_modules()`` (root first, as "")."""
    counts = ParamCounts()
    holders: dict[int, list[str]] = {}
    tensors: dict[int, torch.Tensor] = {}
    own_lists: dict[str, list[tuple[str, torch.Tensor]]] = {}
    buffers: dict[int, torch.Tensor] = {}
    devices: dict[str, None] = {}
    dtypes: dict[str, None] = {}
    for path, module in modules:
        own = [(n, p) for n, p in module._parameters.items() if p is not None]
        own_lists[path] = own
        seen_here: set[int] = set()
        for _, p in own:
            if id(p) in seen_here:  # one module registering a tensor under two names
                continue
            seen_here.add(id(p))
            holders.setdefault(id(p), []).append(path)
            tensors[id(p)] = p
        for b in module._buffers.values():
            if b is not None:
                buffers[id(b)] = b

    for key, t in tensors.items():
        n = numel(t)
        counts.total += n
        counts.param_bytes += nbytes(t)
        if t.requires_grad:
            counts.trainable += n
        devices[str(t.device)] = None
        dtypes[str(t.dtype).removeprefix("torch.")] = None
        reached: set[str] = set()
        for holder in holders[key]:
            reached.update(ancestors(holder))
        for path in reached:
            counts.subtree[path] = counts.subtree.get(path, 0) + n
            if t.requires_grad:
                counts.subtree_trainable[path] = counts.subtree_trainable.get(path, 0) + n
        if len(holders[key]) > 1:
            counts.shared.update(holders[key])
    for b in buffers.values():
        counts.buffer_bytes += nbytes(b)
        devices[str(b.device)] = None
        dtypes[str(b.dtype).removeprefix("torch.")] = None

    for path, own in own_lists.items():
        unique = {id(p): p for _, p in own}
        counts.own[path] = sum(numel(p) for p in unique.values())
        counts.formula[path] = _formula(own, holders, path)
    counts.devices = list(devices)
    counts.dtypes = list(dtypes)
    return counts
