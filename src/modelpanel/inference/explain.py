"""Turn a failed evaluation forward into an error the user can act on.

A batch whose shape cannot fit the model gets an InputError that says what it expected; any
other failure is worded by ``_core.failures.forward_error`` (the same words as summarize),
naming the failing module by its tree path. Out of memory suggests a smaller batch.
"""

from __future__ import annotations

import torch

from .._core.failures import forward_error
from .._core.walk import unwrap, walk_modules
from ..errors import ForwardError, InputError, ModelPanelError, format_exception

_CONV = {torch.nn.Conv1d: 1, torch.nn.Conv2d: 2, torch.nn.Conv3d: 3}


def first_layer_expectation(model: torch.nn.Module) -> tuple[str, list[str | int], int] | None:
    """``(description, expected shape, index of the checked dim)`` from the first Linear/Conv.

    The shape uses "N" for the batch and "*" for free dims, e.g. ``["N", 4]`` or
    ``["N", 3, "H", "W"]``.
    """
    for path, m in walk_modules(unwrap(model, who="evaluate()")).modules:
        if isinstance(m, torch.nn.Linear) and not isinstance(m, torch.nn.LazyLinear):
            return f"its first layer {path or 'model'} = Linear(in_features={m.in_features})", ["N", m.in_features], -1
        for cls, k in _CONV.items():
            if type(m) is cls:
                free = ["L"] if k == 1 else ["H", "W"] if k == 2 else ["D", "H", "W"]
                return (
                    f"its first layer {path or 'model'} = {cls.__name__}(in_channels={m.in_channels})",
                    ["N", m.in_channels, *free],
                    1,
                )
    return None


def _mismatch(model: torch.nn.Module, x: torch.Tensor, expected: list[int] | None) -> str | None:
    """Why ``x`` does not fit, naming the expected and received shapes; None if it seems to."""
    got = list(x.shape)
    if expected:
        want = ["N", *list(expected)[1:]]
        if got[1:] != list(expected)[1:]:
            return (
                f"the input batch has shape {got} but the model expects {_fmt(want)} "
                f"(the input shape in its summary was {list(expected)})"
            )
        return None
    guess = first_layer_expectation(model)
    if guess is None:
        return None
    what, want, dim = guess
    if dim == -1:
        fits = x.ndim >= 2 and got[-1] == want[1]
    else:
        fits = x.ndim == len(want) and got[1] == want[1]
    if fits:
        return None
    return f"the input batch has shape {got} but the model expects {_fmt(want)} ({what})"


def explain_forward_error(
    model: torch.nn.Module, x: torch.Tensor, exc: BaseException, expected: list[int] | None
) -> ModelPanelError:
    """An InputError when the input's shape does not fit, else a ForwardError naming the module."""
    said = format_exception(exc).splitlines()[0]  # "Name: first line", or "Name" alone
    why = _mismatch(model, x, expected)
    if why is not None:
        return InputError(f"{why}. Reshape the input to fit. ({said})")
    root = unwrap(model, who="evaluate()")
    error = forward_error(exc, root, walk_modules(root).path_by_id)
    dtype = str(x.dtype).removeprefix("torch.")
    return ForwardError(
        f"{error} (on an input batch of shape {list(x.shape)}, {dtype})", module_path=error.module_path
    )


def oom_error(device: torch.device, batch_size: int, batches) -> ModelPanelError:
    """Out of memory: suggest a smaller batch size (the user's DataLoader's, if they gave one)."""
    from torch.utils.data import DataLoader

    loader = getattr(batches, "iterable", None)
    users = isinstance(loader, DataLoader) and getattr(batches, "user_loader", False)
    size = loader.batch_size if users and loader.batch_size else batch_size
    smaller = max(1, size // 2)
    how = f"a DataLoader with batch_size={smaller}" if users else f"batch_size={smaller}"
    return ModelPanelError(
        f"{device} ran out of memory evaluating batches of {size} samples; "
        f"try a smaller batch, e.g. {how}"
    )


def _fmt(shape: list) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"
