"""Turning ``summarize``'s arguments into a model and forward arguments, with clear errors.

Checks ``input_size`` / ``input_data`` / ``device`` / ``dtypes`` and makes the random inputs
(from a private generator: torch's global random state is never touched).
Devices are parsed by ``_core.devices`` (the same rules and errors as evaluate), nested
inputs moved by ``_core.nested``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .._core.devices import model_devices, parse_device, same_device
from .._core.nested import already_on, mirror_shapes, to_device
from .._core.restore import restored
from .._core.walk import ModuleTree
from ..errors import DeviceError, InputError

_ACCEPTED_INPUTS = (
    "input_size=(1, 4) (one shape, batch first) or input_size=[(1, 4), (1, 8)] (several inputs); "
    "input_data=<tensor>, input_data=(tensor, ...) / [tensor, ...] (positional arguments, "
    "nesting allowed) or input_data={'name': tensor, ...} (keyword arguments)"
)



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


#: Seed of the private generator the example inputs are drawn from: the same input every time.
INPUT_SEED = 0


def random_inputs(shapes: list[tuple[int, ...]], dtypes: list[torch.dtype], device: torch.device) -> tuple:
    """The example inputs for ``input_size``: standard normal values for floating and complex
    dtypes, zeros for integer and bool ones (valid indices for any embedding).

    Drawn from a private generator on ``device`` seeded with INPUT_SEED, never from torch's
    global one: a seeded notebook gets the same random numbers after ``summarize`` as without
    it, and the same ``input_size`` gives the same input every time.
    """
    draw_on, generator = device, None
    if device.type != "meta":  # meta tensors hold no values: nothing is drawn
        try:
            generator = torch.Generator(device=device)
        except (RuntimeError, TypeError):  # a backend without its own generators
            draw_on, generator = torch.device("cpu"), torch.Generator()
        generator.manual_seed(INPUT_SEED)
    out = []
    for shape, dtype in zip(shapes, dtypes):
        if dtype.is_floating_point or dtype.is_complex:
            x = torch.randn(shape, dtype=dtype, device=draw_on, generator=generator)
        else:
            x = torch.zeros(shape, dtype=dtype, device=draw_on)
        out.append(x if draw_on is device else x.to(device))
    return tuple(out)


def model_dtype(tree: ModuleTree) -> torch.dtype:
    """The dtype an example input takes by default: the first floating or complex parameter's
    (a half model gets half, a complex one complex), else the first such buffer's, else
    torch's default dtype."""
    for attr in ("_parameters", "_buffers"):
        for _, module in tree.modules:
            for t in getattr(module, attr).values():
                if t is not None and (t.is_floating_point() or t.is_complex()):
                    return t.dtype
    return torch.get_default_dtype()


@dataclass
class PreparedInputs:
    """Forward arguments, where the pass runs, and the shapes of what the user passed.

    For ``input_size`` the random tensors are drawn the first time ``args`` is read: a fake
    trace makes FakeTensors of ``random``'s shapes and dtypes instead, and allocates nothing.
    """

    given_args: tuple | None  # None: drawn from ``random`` on first read of ``args``
    kwargs: dict[str, Any]
    device: torch.device
    input_shapes: Any
    move_from: torch.device | None = None  # set when the model must be moved for the pass
    random: tuple[list[tuple[int, ...]], list[torch.dtype]] | None = None  # input_size's shapes, dtypes

    @property
    def args(self) -> tuple:
        """The positional arguments (``input_size``'s random tensors drawn now if not yet)."""
        if self.given_args is None:
            assert self.random is not None
            self.given_args = random_inputs(*self.random, self.device)
        return self.given_args

    def fake(self, mode: Any) -> tuple[tuple, dict[str, Any]]:
        """The arguments as FakeTensors of ``mode`` (a ``FakeTensorMode``); nothing real drawn."""
        from .._core.fake import fake_inputs

        if self.given_args is None and self.random is not None:
            with mode:
                args = tuple(torch.empty(s, dtype=d, device=self.device) for s, d in zip(*self.random))
            return args, fake_inputs(mode, self.kwargs)
        return fake_inputs(mode, self.args), fake_inputs(mode, self.kwargs)

    @contextlib.contextmanager
    def placed(self, tree: ModuleTree) -> Iterator[None]:
        """The model on ``device`` inside (moved only if it sits on one other device).

        Put back by ``_core.restore`` (original storages by reference, bit-exact), also when
        the move fails half way or the pass raises.
        """
        if self.move_from is None:
            yield
            return
        with restored(tree, clone_buffers=False, track_storage=True, what="summarize"):
            tree.root.to(self.device)
            yield


def prepare_inputs(
    tree: ModuleTree,
    input_size: Any,
    input_data: Any,
    device: str | torch.device | None,
    dtypes: torch.dtype | Sequence[torch.dtype] | None,
) -> PreparedInputs | None:
    """Check the arguments and build the forward's inputs; None when no input was given."""
    modules = tree.modules
    if input_size is not None and input_data is not None:
        raise InputError("pass input_size or input_data, not both")
    target = parse_device(device, allow_meta=True) if device is not None else None
    held = model_devices(modules, first_only=target is None)
    move_from = None
    if target is not None and held and not all(same_device(d, target) for d in held):
        if len(held) > 1:
            names = ", ".join(str(d) for d in held)
            raise DeviceError(
                f"the model spans several devices ({names}); modelpanel never moves such a model. "
                "Leave device=None to run it where it is"
            )
        move_from = held[0]
        if "meta" in (move_from.type, target.type):
            raise DeviceError(
                f"cannot run a model on {move_from} on device {str(target)!r}: moving to the meta "
                "device discards the weights, and meta tensors hold none to move. Leave device=None"
            )
    if target is None:
        target = held[0] if held else torch.device("cpu")
    if input_size is None and input_data is None:
        if dtypes is not None:
            raise InputError("dtypes= applies to input_size=, which was not given")
        return None

    if input_size is not None:
        shapes = _shapes(input_size)
        if dtypes is None:
            dts = [model_dtype(tree)] * len(shapes)
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
        return PreparedInputs(None, {}, target, [list(s) for s in shapes], move_from, random=(shapes, dts))

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
        not already_on((args, kwargs), target) and len(model_devices(modules)) == 1
    ):
        args = to_device(args, target)
        kwargs = to_device(kwargs, target)
    return PreparedInputs(args, kwargs, target, shapes, move_from)
