"""Nested inputs and outputs: the one walker over tensors inside tuples, lists, dicts, objects.

Every engine that looks inside a module's arguments or results goes through here, so the
containers covered are the same everywhere: tuples, lists, mappings (HF ``ModelOutput`` is
one), dataclasses, named tuples and plain objects that hold tensors in their attributes (a
``torch.distributions`` object), to a depth of ``_MAX_NESTING`` (which also stops cycles).
Moving (``to_device``) covers tuples (not named tuples), lists and dicts only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import torch

#: How deep nested inputs/outputs are mirrored; deeper parts show as None (guards cycles).
_MAX_NESTING = 8


def named_fields(value: Any) -> list[tuple[str, Any]] | None:
    """``(name, value)`` of a named tuple (``_fields``, or torch.return_types' ``__match_args__``)
    or of a plain object's public attributes (``__dict__``, names without a leading ``_``);
    None for anything else (tensors, numbers, strings, plain tuples, lists, dicts, classes).

    Dataclasses are not covered here: they keep their own form (a dict of their fields).
    """
    if isinstance(value, tuple):
        names = getattr(type(value), "_fields", None) or getattr(type(value), "__match_args__", None)
        if not names or not all(isinstance(n, str) for n in names):
            return None
        return list(zip(names, value))
    if isinstance(value, (type, torch.Tensor, str, bytes, list, Mapping)) or dataclasses.is_dataclass(value):
        return None
    attrs = getattr(value, "__dict__", None)
    if not isinstance(attrs, dict):
        return None
    return [(k, v) for k, v in attrs.items() if isinstance(k, str) and not k.startswith("_")]


def mirror_shapes(value: Any, _depth: int = 0, _within: tuple[int, ...] = ()) -> Any:
    """JSON-safe mirror of a nested value: tensor -> [ints], tuple/list -> [..], dict -> {str: ..}.

    Dataclasses become dicts of their fields (HF ``ModelOutput`` is a dict already). A named
    tuple, or an object holding tensors in its public attributes, becomes
    ``{type name: {field: mirror, ...}}`` with only the fields that hold a tensor, e.g.
    ``Normal(loc, scale)`` -> ``{"Normal": {"loc": [2, 3], "scale": [2, 3]}}``. Anything else,
    anything deeper than ``_MAX_NESTING`` and an object met again inside itself (a cycle)
    becomes None.
    """
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if _depth >= _MAX_NESTING:
        return None
    fields = named_fields(value)
    if fields is not None:
        if id(value) in _within:
            return None
        within = (*_within, id(value))
        inner = {}
        for name, v in fields:
            m = mirror_shapes(v, _depth + 2, within)  # two levels: the type and the field names
            if m is not None and any(True for _ in iter_tensors(v, _depth + 2, within)):
                inner[name] = m
        return {type(value).__name__: inner} if inner else None
    if isinstance(value, (tuple, list)):
        return [mirror_shapes(v, _depth + 1, _within) for v in value]
    if isinstance(value, Mapping):
        return {str(k): mirror_shapes(v, _depth + 1, _within) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: mirror_shapes(getattr(value, f.name, None), _depth + 1, _within)
            for f in dataclasses.fields(value)
        }
    return None


def iter_tensors(value: Any, _depth: int = 0, _within: tuple[int, ...] = ()) -> Iterator[torch.Tensor]:
    """Every tensor inside a nested value (the same containers ``mirror_shapes`` walks)."""
    if isinstance(value, torch.Tensor):
        yield value
    elif _depth >= _MAX_NESTING:
        return
    elif (fields := named_fields(value)) is not None:
        if id(value) not in _within:
            within = (*_within, id(value))
            for _, v in fields:
                yield from iter_tensors(v, _depth + 2, within)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from iter_tensors(v, _depth + 1, _within)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from iter_tensors(v, _depth + 1, _within)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from iter_tensors(getattr(value, f.name, None), _depth + 1, _within)


def tensor_bytes(value: Any) -> int:
    """Bytes held by the tensors inside a nested value."""
    return sum(t.numel() * t.element_size() for t in iter_tensors(value))


def call_shapes(args: tuple, kwargs: Mapping[str, Any] | None) -> list:
    """A module call's input as the contract shows it: positional shapes, then a kwargs dict."""
    shapes = [mirror_shapes(a) for a in args]
    if kwargs:
        shapes.append({str(k): mirror_shapes(v) for k, v in kwargs.items()})
    return shapes


def output_bytes(value: Any) -> int:
    """Bytes of the tensors a module returned (one call)."""
    if type(value) is torch.Tensor:
        try:
            return value.nbytes  # one read instead of numel() * element_size()
        except RuntimeError:  # a sparse tensor has no nbytes: count it as dense, like numel()
            return value.numel() * value.element_size()
    return tensor_bytes(value)


def to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(to_device(v, device) for v in value)
    if isinstance(value, list):
        return [to_device(v, device) for v in value]
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def already_on(value: Any, device: torch.device) -> bool:
    """Whether ``to_device(value, device)`` would move nothing (the same walk)."""
    if isinstance(value, torch.Tensor):
        return value.device == device
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return all(already_on(v, device) for v in value)
    if isinstance(value, list):
        return all(already_on(v, device) for v in value)
    if isinstance(value, dict):
        return all(already_on(v, device) for v in value.values())
    return True
