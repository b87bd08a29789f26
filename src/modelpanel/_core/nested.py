"""Nested inputs and outputs: the one walker over tensors inside tuples, lists, dicts, dataclasses.

Every engine that looks inside a module's arguments or results goes through here, so the
containers covered are the same everywhere: tuples (not namedtuples when moving), lists,
mappings (HF ``ModelOutput`` is one) and dataclasses, to a depth of ``_MAX_NESTING``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import torch

#: How deep nested inputs/outputs are mirrored; deeper parts show as None (guards cycles).
_MAX_NESTING = 8


def mirror_shapes(value: Any, _depth: int = 0) -> Any:
    """JSON-safe mirror of a nested value: tensor -> [ints], tuple/list -> [..], dict -> {str: ..}.

    Dataclasses (and HF ``ModelOutput``, a dict) become dicts; anything else becomes None.
    """
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if _depth >= _MAX_NESTING:
        return None
    if isinstance(value, (tuple, list)):
        return [mirror_shapes(v, _depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {str(k): mirror_shapes(v, _depth + 1) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: mirror_shapes(getattr(value, f.name, None), _depth + 1)
            for f in dataclasses.fields(value)
        }
    return None


def iter_tensors(value: Any, _depth: int = 0) -> Iterator[torch.Tensor]:
    """Every tensor inside a nested value (the same containers ``mirror_shapes`` walks)."""
    if isinstance(value, torch.Tensor):
        yield value
    elif _depth >= _MAX_NESTING:
        return
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from iter_tensors(v, _depth + 1)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from iter_tensors(v, _depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from iter_tensors(getattr(value, f.name, None), _depth + 1)


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
