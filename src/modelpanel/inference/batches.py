"""Turn what a user passes to ``evaluate`` into batches, checking it before any work runs.

Accepted: a tensor (or numpy array) with ``targets``; an ``(X, y)`` pair; a torch
``Dataset`` whose items are ``x`` or ``(x, y)``; a ``DataLoader`` yielding the same. Tensor
inputs are sliced (no copy); a Dataset gets a DataLoader with ``pin_memory`` when the target is
CUDA; a user's DataLoader is used as it is (its own ``batch_size`` wins). :func:`on_device`
moves the batches to the device, overlapping host-to-GPU copies with compute on CUDA.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..errors import InputError


@dataclass
class Batches:
    """A checked source of ``(x, y_or_None)`` batches."""

    iterable: Iterable
    n: int | None  # samples, when known up front
    n_batches: int | None
    has_targets: bool
    x_shape: list[int] | None  # the whole input's shape, when it is one tensor
    user_loader: bool = False  # the user's own DataLoader: its batch_size is theirs to change

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        for batch in self.iterable:
            yield split_batch(batch, self.has_targets)


def as_tensor(value: object, what: str) -> torch.Tensor:
    """``value`` as a tensor, or an InputError naming ``what`` and the accepted types."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise InputError(f"{what} is a numpy array of Python objects; convert it to numbers first")
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, list | tuple) and value:
        try:
            # Numbers, or lists of them of one shape (rows of features): torch's own rules.
            tensor = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            tensor = None
        if tensor is not None and tensor.dtype != torch.bool:
            return tensor
        raise InputError(
            f"{what} is a {type(value).__name__} that is not numbers, nor rows of numbers of one "
            f"length (e.g. [[5.1, 3.5, 1.4, 0.2], ...]); convert it with torch.tensor(...) first"
        )
    raise InputError(
        f"{what} must be a torch.Tensor, a numpy array, or a list of numbers or of rows of numbers, "
        f"not {type(value).__name__}"
    )


def check_targets(y: torch.Tensor, n: int, *, classification: bool) -> None:
    """Length and type checks on targets, before any forward runs."""
    if y.ndim == 0:
        raise InputError("targets is a single number; pass one target per sample")
    if len(y) != n:
        raise InputError(
            f"targets has {len(y)} entries but the data has {n} samples; "
            f"pass one target per sample (same first dimension)"
        )
    if not classification:
        return
    if y.dtype == torch.bool:
        return
    if y.is_floating_point() or y.is_complex():
        if y.ndim == 2 and y.shape[1] > 1:
            raise InputError(
                f"targets of shape {list(y.shape)} look one-hot; evaluate needs class indices: "
                f"pass y.argmax(dim=1), or metric=... for another kind of target"
            )
        if y.is_complex() or not torch.equal(y, y.round()):
            raise InputError(
                f"targets are {str(y.dtype).removeprefix('torch.')} with fractional values, so they "
                f"are not class indices; pass metric=callable(outputs, targets) for regression"
            )
        return
    if y.ndim != 1:
        raise InputError(
            f"targets of shape {list(y.shape)}: class indices must be one per sample (shape [{n}])"
        )
    if len(y) and int(y.min()) < 0:
        raise InputError(f"targets contain the negative class index {int(y.min())}; classes count from 0")


def split_batch(batch: object, has_targets: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(x, y)`` from a loader batch: a tensor, or a 2-sequence / dict with ``x`` and ``y``."""
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, list | tuple):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
    raise InputError(
        f"each batch must be an input tensor or an (inputs, targets) pair, got "
        f"{type(batch).__name__}{f' of length {len(batch)}' if isinstance(batch, list | tuple) else ''}"
    )


class _Slices:
    """Batches of ``X`` (and ``y``) by slicing: views, no copy."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None, batch_size: int) -> None:
        self.x, self.y, self.batch_size = x, y, batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        for i in range(0, len(self.x), self.batch_size):
            j = i + self.batch_size
            yield self.x[i:j], None if self.y is None else self.y[i:j]


def make_batches(
    data: object,
    targets: object,
    *,
    batch_size: int,
    pin: bool,
    need_targets: bool,
    classification: bool,
) -> Batches:
    """Check ``data``/``targets`` and return the batches to run, or raise InputError."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive int, not {batch_size!r}")
    if isinstance(data, DataLoader | Dataset) and targets is not None:
        raise InputError(
            f"targets were given with a {type(data).__name__}; its items already carry them, "
            f"so pass only the {type(data).__name__} (or pass X and y as tensors)"
        )
    if isinstance(data, DataLoader):
        n = _len_or_none(data.dataset)
        nb = _len_or_none(data)
        return Batches(data, n, nb, has_targets=True, x_shape=None, user_loader=True)
    if isinstance(data, Dataset):
        n = _len_or_none(data)
        if n == 0:
            raise InputError("the Dataset is empty: there is nothing to evaluate")
        loader = DataLoader(data, batch_size=batch_size, shuffle=False, pin_memory=pin)
        return Batches(loader, n, _len_or_none(loader), has_targets=True, x_shape=None)
    if isinstance(data, tuple | list) and len(data) == 2 and targets is None:
        data, targets = data
    x = as_tensor(data, "data")
    if x.ndim == 0 or len(x) == 0:
        raise InputError(f"data of shape {list(x.shape)} holds no samples; pass at least one")
    y = None
    if targets is not None:
        y = as_tensor(targets, "targets")
        check_targets(y, len(x), classification=classification)
    elif need_targets:
        raise InputError(
            "evaluate needs targets: pass evaluate(X, y), evaluate((X, y)), a Dataset or a "
            "DataLoader of (x, y) pairs; use predict(X) for outputs only"
        )
    nb = -(-len(x) // batch_size)
    return Batches(_Slices(x, y, batch_size), len(x), nb, has_targets=y is not None, x_shape=list(x.shape))


def _len_or_none(obj: object) -> int | None:
    try:
        return len(obj)  # type: ignore[arg-type]
    except TypeError:  # iterable datasets have no length
        return None


def on_device(
    batches: Batches, device: torch.device, dtype: torch.dtype | None
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Batches moved to ``device``; on CUDA one batch ahead on a side stream from pinned memory.

    While the GPU computes batch i, the host copies batch i+1 into page-locked memory and a
    second stream transfers it, so transfers hide behind compute.
    """

    def cast(x: torch.Tensor) -> torch.Tensor:
        # Floating inputs take the model's dtype (numpy gives float64; the model is float32).
        if dtype is not None and x.is_floating_point() and x.dtype != dtype:
            return x.to(dtype)
        return x

    if device.type != "cuda":
        for x, y in batches:
            yield cast(x.to(device)), None if y is None else y.to(device)
        return

    copy_stream = torch.cuda.Stream(device)
    main = torch.cuda.current_stream(device)
    # Inputs already on the GPU (or the model just moved there) may still be being written by
    # queued work on the main stream: the side stream must not read them before it is done.
    copy_stream.wait_stream(main)

    def stage(x: torch.Tensor, y: torch.Tensor | None):
        with torch.cuda.stream(copy_stream):
            out = []
            for t in (x, y):
                if t is None or t.device == device:
                    out.append(t)
                    continue
                if t.device.type == "cpu" and not t.is_pinned():
                    t = t.pin_memory()
                out.append(t.to(device, non_blocking=True))
            out[0] = cast(out[0])
        return out

    it = iter(batches)
    first = next(it, None)
    if first is None:
        return
    ready = stage(*first)
    for batch in it:
        main.wait_stream(copy_stream)
        for t in ready:
            if t is not None:
                t.record_stream(main)
        current, ready = ready, None
        yield current[0], current[1]
        ready = stage(*batch)
    main.wait_stream(copy_stream)
    for t in ready:
        if t is not None:
            t.record_stream(main)
    yield ready[0], ready[1]
