"""Turning ``summarize``'s arguments into a model and forward arguments, with clear errors.

Private to ``summary.py``: unwraps compiled / data-parallel models, checks ``input_size`` /
``input_data`` / ``device`` / ``dtypes``, makes the random inputs, and moves a single-device
model to the asked device for a pass and back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ._summary_capture import mirror_shapes
from .errors import DeviceError, InputError

_ACCEPTED_INPUTS = (
    "input_size=(1, 4) (one shape, batch first) or input_size=[(1, 4), (1, 8)] (several inputs); "
    "input_data=<tensor>, input_data=(tensor, ...) / [tensor, ...] (positional arguments, "
    "nesting allowed) or input_data={'name': tensor, ...} (keyword arguments)"
)


def unwrap(model: Any) -> nn.Module:
    """The user's own module inside torch.compile / DataParallel / DDP wrappers."""
    if not isinstance(model, nn.Module):
        hint = ""
        if isinstance(model, type) and issubclass(model, nn.Module):
            hint = f" (the class {model.__name__} itself: pass an instance, {model.__name__}(...))"
        raise TypeError(
            f"summarize() needs a torch.nn.Module, but got {type(model).__module__}."
            f"{type(model).__qualname__}{hint}"
        )
    while True:
        inner = None
        # Duck-typed: importing torch._dynamo just to isinstance-check costs about a second.
        if type(model).__name__ == "OptimizedModule":
            inner = getattr(model, "_orig_mod", None)
        elif isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            inner = model.module
        if not isinstance(inner, nn.Module):
            return model
        model = inner


def _model_devices(modules: list[tuple[str, nn.Module]], first_only: bool = False) -> list[torch.device]:
    """Devices of the parameters and buffers, in order of appearance (just the first if asked).

    The full scan reads every tensor, so it runs only where the answer matters: a ``device``
    argument, or input data that is not already where the model's first tensor is.
    """
    # Walks the module list already made rather than model.parameters(), which walks again.
    seen: dict[torch.device, None] = {}
    for _, m in modules:
        for tensors in (m._parameters, m._buffers):
            if tensors:
                for t in tensors.values():
                    if t is not None:
                        if first_only:
                            return [t.device]
                        seen[t.device] = None
    return list(seen)


def _parse_device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise DeviceError(f"unknown device {device!r}: use e.g. 'cpu', 'cuda', 'cuda:0' or 'mps'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {device!r} was asked for, but CUDA is not available here: use device='cpu'")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise DeviceError(f"device {device!r} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"device {device!r} was asked for, but MPS is not available here: use device='cpu'")
    return dev


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    return a.index is None or b.index is None or a.index == b.index


def _default_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def _shapes(input_size: Any) -> list[tuple[int, ...]]:
    def is_shape(x: Any) -> bool:
        return isinstance(x, (tuple, list, torch.Size)) and all(
            isinstance(d, int) and not isinstance(d, bool) for d in x
        )

    if is_shape(input_size):
        shapes = [tuple(input_size)]
    elif isinstance(input_size, (tuple, list)) and input_size and all(is_shape(s) for s in input_size):
        shapes = [tuple(s) for s in input_size]
    else:
        raise InputError(f"input_size={input_size!r} is not a shape or a list of shapes. Accepted: {_ACCEPTED_INPUTS}")
    for s in shapes:
        if any(d < 0 for d in s):
            raise InputError(f"input_size has a negative dimension: {s}; every dimension must be >= 0")
    return shapes


def _random_input(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if dtype.is_floating_point or dtype.is_complex:
        return torch.randn(shape, dtype=dtype, device=device)
    # Integer inputs are usually indices (token ids): zeros are valid for any embedding.
    return torch.zeros(shape, dtype=dtype, device=device)


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_to_device(v, device) for v in value)
    if isinstance(value, list):
        return [_to_device(v, device) for v in value]
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def _already_on(value: Any, device: torch.device) -> bool:
    """Whether ``_to_device(value, device)`` would move nothing (the same walk)."""
    if isinstance(value, torch.Tensor):
        return value.device == device
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return all(_already_on(v, device) for v in value)
    if isinstance(value, list):
        return all(_already_on(v, device) for v in value)
    if isinstance(value, dict):
        return all(_already_on(v, device) for v in value.values())
    return True


@dataclass
class PreparedInputs:
    """Forward arguments, where the pass runs, and the shapes of what the user passed."""

    args: tuple
    kwargs: dict[str, Any]
    device: torch.device
    input_shapes: Any
    move_from: torch.device | None = None  # set when the model must be moved for the pass

    @contextlib.contextmanager
    def placed(self, model: nn.Module) -> Iterator[None]:
        """The model on ``device`` inside (moved only if it sits on one other device)."""
        if self.move_from is None:
            yield
            return
        try:
            model.to(self.device)  # inside try: a move that fails half way is undone too
            yield
        finally:
            model.to(self.move_from)


def prepare_inputs(
    model: nn.Module,
    modules: list[tuple[str, nn.Module]],
    input_size: Any,
    input_data: Any,
    device: str | torch.device | None,
    dtypes: torch.dtype | Sequence[torch.dtype] | None,
) -> PreparedInputs | None:
    """Check the arguments and build the forward's inputs; None when no input was given."""
    if input_size is not None and input_data is not None:
        raise InputError("pass input_size or input_data, not both")
    target = _parse_device(device) if device is not None else None
    model_devices = _model_devices(modules, first_only=target is None)
    move_from = None
    if target is not None and model_devices and not all(_same_device(d, target) for d in model_devices):
        if len(model_devices) > 1:
            names = ", ".join(str(d) for d in model_devices)
            raise DeviceError(
                f"the model spans several devices ({names}); modelpanel never moves such a model. "
                "Leave device=None to run it where it is"
            )
        move_from = model_devices[0]
        if "meta" in (move_from.type, target.type):
            raise DeviceError(
                f"cannot run a model on {move_from} on device {str(target)!r}: moving to the meta "
                "device discards the weights, and meta tensors hold none to move. Leave device=None"
            )
    if target is None:
        target = model_devices[0] if model_devices else torch.device("cpu")
    if input_size is None and input_data is None:
        if dtypes is not None:
            raise InputError("dtypes= applies to input_size=, which was not given")
        return None

    if input_size is not None:
        shapes = _shapes(input_size)
        if dtypes is None:
            dts = [_default_dtype(model)] * len(shapes)
        elif isinstance(dtypes, torch.dtype):
            dts = [dtypes] * len(shapes)
        elif isinstance(dtypes, (list, tuple)) and all(isinstance(d, torch.dtype) for d in dtypes):
            if len(dtypes) == 1:
                dts = list(dtypes) * len(shapes)
            elif len(dtypes) == len(shapes):
                dts = list(dtypes)
            else:
                raise InputError(f"dtypes has {len(dtypes)} entries for {len(shapes)} input shapes: give one, or one per shape")
        else:
            raise InputError(f"dtypes={dtypes!r} is not a torch.dtype or a list of them (e.g. [torch.long])")
        args = tuple(_random_input(s, dt, target) for s, dt in zip(shapes, dts))
        return PreparedInputs(args, {}, target, [list(s) for s in shapes], move_from)

    if dtypes is not None:
        raise InputError("dtypes= applies to input_size=; input_data keeps its own dtypes")
    if isinstance(input_data, torch.Tensor):
        args, kwargs = (input_data,), {}
    elif isinstance(input_data, (tuple, list)):
        args, kwargs = tuple(input_data), {}
    elif isinstance(input_data, Mapping):
        bad = [k for k in input_data if not isinstance(k, str)]
        if bad:
            raise InputError(f"input_data dict keys become keyword arguments and must be str, got {bad[:3]!r}")
        args, kwargs = (), dict(input_data)
    else:
        raise InputError(f"input_data of type {type(input_data).__name__} is not accepted. Accepted: {_ACCEPTED_INPUTS}")
    shapes = mirror_shapes(kwargs if kwargs else list(args))
    # Data goes where the model is; a model spread over devices places its inputs itself.
    # (Inputs already there need no move, and no full scan of the model's devices to decide.)
    if device is not None or (
        not _already_on((args, kwargs), target) and len(_model_devices(modules)) == 1
    ):
        args = _to_device(args, target)
        kwargs = _to_device(kwargs, target)
    return PreparedInputs(args, kwargs, target, shapes, move_from)
