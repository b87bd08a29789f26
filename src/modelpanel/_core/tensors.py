"""What a module's parameter tensors really are, when they are not plain materialised floats.

summary/params.py (counts, bytes, formulas) and stats/ (the parameter table, histograms) both
ask here, so a tensor reads the same in every place it appears:

* **packed** (quantized modules, ``torch.ao.nn.quantized``): the weights live in a packed
  object (``module._packed_params``), not in ``_parameters``, so ``parameters()`` never yields
  them. :func:`packed_params` unpacks them through torch's own accessors (``_weight_bias()``,
  ``weight()``) under the names of the float module they came from (``weight``, ``bias``,
  ``weight_ih_l0``, ...). They are held by the quantized module itself (its
  ``LinearPackedParams`` child holds none, so nothing counts twice), never trainable
  (``requires_grad`` False), and their statistics are those of the dequantized values.
* **lazy** (``nn.LazyLinear`` before its first forward): no shape, counted as 0.
* **meta**: a shape and a dtype, no values: counted, bytes as once materialised, no statistics.
* **complex**: one count per complex element; statistics of the magnitudes.
* **sparse**: counted by shape; statistics of the stored values.
* **parametrized** (``torch.nn.utils.parametrize``, the new ``weight_norm`` /
  ``spectral_norm``): the ``parametrizations.<name>.original*`` tensors are the parameters
  (counted once); the computed ``<name>`` is not a parameter. The old ``weight_norm`` /
  ``spectral_norm`` hooks likewise keep ``weight_g``/``weight_v`` or ``weight_orig``.

:func:`param_note` says which of these a tensor is, in words for the table; :func:`kind_label`
says it in a word or two for the parameter formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.utils.parametrize import ParametrizationList

from .sharding import local_tensor
from .walk import is_uninitialized

#: (name, tensor, stored dtype) of one packed tensor: the tensor as torch unpacks it (a
#: quantized tensor, or floats), and the dtype the pack stores it in (``quint4x2`` unpacks to
#: ``quint8`` values; it is the stored dtype that says the bytes).
Packed = tuple[str, torch.Tensor, torch.dtype]

# Quantized modules are torch's own: only their types are asked how they unpack.
_QUANTIZED_MODULES = ("torch.ao.nn.", "torch.nn.quantized", "torch.nn.intrinsic")
_UNPACKERS: dict[type, Callable[[nn.Module], list[Packed]] | None] = {}
# Bits per element of the sub-byte dtypes (torch reports an itemsize of 1 for them).
_SUB_BYTE_BITS = {torch.quint4x2: 4, torch.quint2x4: 2}


def _declared_dtype(module: nn.Module) -> torch.dtype | None:
    """The dtype a quantized module says it packs its weights in (qint8, float16, quint4x2)."""
    holders = (getattr(module, "_packed_params", None), module)
    for holder in holders:
        for attr in ("dtype", "weight_dtype"):
            value = getattr(holder, attr, None)
            if isinstance(value, torch.dtype):
                return value
    return None


def _stored(module: nn.Module, named: list[tuple[str, torch.Tensor | None]]) -> list[Packed]:
    declared = _declared_dtype(module)
    out: list[Packed] = []
    for name, t in named:
        if t is None:
            continue
        dtype = t.dtype
        if declared is not None and not name.startswith("bias"):
            if declared.is_floating_point and t.is_floating_point() and declared != dtype:
                # float16 dynamic quantization unpacks to float32: its values are float16.
                t = t.to(declared)
            dtype = declared
        out.append((name, t.detach(), dtype))
    return out


def _from_weight_bias(module: nn.Module) -> list[Packed]:
    found = module._weight_bias()
    if isinstance(found, dict):  # dynamic RNNs: {"weight": {name: t}, "bias": {name: t}}
        items = [item for group in found.values() for item in group.items()]
        # The float RNN's order: per layer (and direction), weights then biases.
        suffixes: dict[str, int] = {}
        for name, _ in items:
            suffixes.setdefault(name.split("_", 2)[2] if name.count("_") > 1 else "", len(suffixes))
        items.sort(key=lambda item: suffixes[item[0].split("_", 2)[2] if item[0].count("_") > 1 else ""])
        return _stored(module, items)
    weight, bias = found
    return _stored(module, [("weight", weight), ("bias", bias)])


def _from_weight_method(module: nn.Module) -> list[Packed]:
    return _stored(module, [("weight", module.weight())])


def is_pack_holder(module: nn.Module) -> bool:
    """True for the modules a quantized module keeps its packed weights in
    (``LinearPackedParams``, ``EmbeddingPackedParams``, an RNN's ``PackedParameter`` and the
    ``ModuleList`` of them): torch never calls them, their owner reads the pack directly."""
    kind = type(module)
    if kind.__module__.startswith(_QUANTIZED_MODULES):
        return kind.__name__.endswith(("PackedParams", "PackedParameter"))
    children = list(module.children()) if isinstance(module, nn.ModuleList) else []
    return bool(children) and all(is_pack_holder(c) for c in children)


def _unpacker(kind: type) -> Callable[[nn.Module], list[Packed]] | None:
    if not kind.__module__.startswith(_QUANTIZED_MODULES):
        return None
    if kind.__name__.endswith(("PackedParams", "PackedParameter")):
        return None  # the quantized module that owns this pack unpacks it
    if callable(getattr(kind, "_weight_bias", None)):
        return _from_weight_bias
    # Quantized Embedding/EmbeddingBag: ``weight`` is a method, not a Parameter.
    if callable(getattr(kind, "weight", None)):
        return _from_weight_method
    return None


def packed_params(module: nn.Module) -> list[Packed]:
    """The packed tensors ``module`` holds itself: ``[(name, tensor, stored dtype)]``.

    Empty for every module but torch's quantized ones (``torch.ao.nn.quantized`` Linear,
    Conv*, ConvTranspose*, Embedding*, the dynamic Linear / LSTM / GRU / cells and the fused
    intrinsic modules), which unpack through their own ``_weight_bias()`` / ``weight()``.
    The tensors are fresh copies each call, detached: hold them while ``id()`` keys matter.
    A pack that cannot be read (an unsupported backend) gives nothing rather than raise.
    """
    kind = type(module)
    try:
        unpack = _UNPACKERS[kind]
    except KeyError:
        unpack = _UNPACKERS[kind] = _unpacker(kind)
    if unpack is None:
        return []
    try:
        return unpack(module)
    except (RuntimeError, TypeError, AttributeError):
        return []


def is_parametrization(module: nn.Module) -> bool:
    """A ``ParametrizationList``: its ``original*`` parameters stand for a computed tensor."""
    return isinstance(module, ParametrizationList)


def stored_nbytes(numel: int, dtype: torch.dtype) -> int:
    """Bytes ``numel`` elements of ``dtype`` take (4-bit and 2-bit packed dtypes included).

    Quantization scales and zero points are not included: they are a few bytes per tensor or
    per channel.
    """
    bits = _SUB_BYTE_BITS.get(dtype)
    if bits is None:
        return numel * dtype.itemsize
    return math.ceil(numel * bits / 8)


# The index tensors of each sparse layout (besides values()).
_SPARSE_INDICES = {
    torch.sparse_coo: ("indices",),
    torch.sparse_csr: ("crow_indices", "col_indices"),
    torch.sparse_bsr: ("crow_indices", "col_indices"),
    torch.sparse_csc: ("ccol_indices", "row_indices"),
    torch.sparse_bsc: ("ccol_indices", "row_indices"),
}


def sparse_nbytes(t: torch.Tensor) -> int:
    """Bytes a sparse tensor stores: its values and its index tensors."""
    if t.layout == torch.sparse_coo:
        t = t.coalesce()
    parts = [t.values(), *(getattr(t, f)() for f in _SPARSE_INDICES[t.layout])]
    return sum(x.numel() * x.element_size() for x in parts)


def stat_values(t: torch.Tensor) -> torch.Tensor | None:
    """The values the statistics read, or None when a tensor has none (lazy, meta).

    A DTensor (FSDP2): the local shard (whole-model statistics: ``stats/sharded.py``).

    Quantized: dequantized floats. Sparse: the stored values. Complex stays complex (the
    histograms take magnitudes).
    """
    if is_uninitialized(t) or t.is_meta:
        return None
    t = local_tensor(t.detach())  # a DTensor: this process's shard
    if t.is_quantized:
        return t.dequantize()
    if t.layout == torch.sparse_coo:
        return t.coalesce().values()
    if t.layout != torch.strided:  # CSR, CSC, BSR, BSC
        return t.values()
    return t


def kind_label(t: torch.Tensor, stored: torch.dtype | None = None) -> str:
    """A word or two for the parameter formula: '' for a plain tensor; 'qint8, packed',
    'packed', 'meta', 'complex64', 'sparse'. (Lazy tensors are named by their shape text.)"""
    if stored is not None:
        return "packed" if stored == torch.float32 else f"{_dtype_name(stored)}, packed"
    if is_uninitialized(t):
        return ""
    if t.is_meta:
        return "meta"
    if t.is_complex():
        return _dtype_name(t.dtype)
    if t.layout != torch.strided:
        return "sparse"
    return ""


def param_note(
    t: torch.Tensor, *, stored: torch.dtype | None = None, module: nn.Module | None = None,
    name: str = "", path: str = "",
) -> str:
    """What a parameter tensor is, in words for the table; '' for a plain materialised tensor.

    ``stored``: the stored dtype of a packed tensor (from :func:`packed_params`); ``module``,
    ``name`` and ``path``: the module holding it, its name there and the module's tree path,
    for parametrizations.

    Each part reads "<kind>: <what it means>", parts joined by "; " (the views show the kinds
    as a badge and the whole note as its tooltip).

    >>> param_note(torch.nn.LazyLinear(3).weight)
    'lazy: not materialised until the first forward'
    """
    if is_uninitialized(t):
        return "lazy: not materialised until the first forward"
    notes = []
    if t.is_meta:
        notes.append("meta: no values")
    elif stored is not None:
        if t.is_quantized:
            notes.append(f"quantized {_dtype_name(stored)}, packed: statistics of dequantized values")
        else:
            notes.append(f"packed: {_dtype_name(stored)}, held by a quantized module, not a Parameter")
    elif t.is_complex():
        notes.append("complex: statistics of magnitudes")
    if t.layout != torch.strided and not t.is_meta:
        nnz = t._nnz() if t.layout == torch.sparse_coo else t.values().numel()
        notes.append(f"sparse ({str(t.layout).removeprefix('torch.')}): statistics of the "
                     f"{nnz:,} stored values")
    if module is not None:
        derived = _derived_note(module, name, path)
        if derived:
            notes.append(derived)
    return "; ".join(notes)


def _derived_note(module: nn.Module, name: str, path: str) -> str:
    """For a tensor that stands for a computed one (parametrization, old weight/spectral norm)."""
    if is_parametrization(module):
        # path is "<owner>.parametrizations.<tensor>"
        owner, _, tensor = path.rpartition(".")
        owner = owner.removesuffix("parametrizations").removesuffix(".")
        target = f"{owner}.{tensor}" if owner else tensor
        how = ", ".join(type(p).__name__ for p in module)
        return f"parametrized: {target} is computed from this by {how}, and not counted itself"
    if not module._forward_pre_hooks:
        return ""
    for hook in module._forward_pre_hooks.values():
        base = getattr(hook, "name", None)
        kind = type(hook).__name__
        if kind == "WeightNorm" and name in (f"{base}_g", f"{base}_v"):
            return f"weight_norm: {_qualified(path, base)} is computed from this before each forward"
        if kind == "SpectralNorm" and name == f"{base}_orig":
            return f"spectral_norm: {_qualified(path, base)} is computed from this before each forward"
    return ""


def _qualified(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
