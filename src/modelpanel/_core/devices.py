"""Devices: which ones this kernel can use, and turning what a user typed into one.

ONE rule set for summarize, evaluate, predict and the panel. :func:`available_devices` feeds
the view's device picker (``_devices``); :func:`parse_device` turns ``"cuda:1"``, ``"mps"``,
``0`` or a ``torch.device`` into a checked ``torch.device`` or raises a :class:`DeviceError`
that lists what is available.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ..errors import DeviceError

# Types torch knows, so a typo ("gpu", "cdua") can be told apart from a real but absent device.
_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _xpu_available() -> bool:
    xpu = getattr(torch, "xpu", None)
    return bool(xpu is not None and xpu.is_available())


def available_devices() -> list[str]:
    """Return the devices this kernel can run on, e.g. ``["cpu", "cuda:0", "cuda:1"]``.

    Each CUDA (and XPU) device is listed with its index so the picker can name one exactly.
    """
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _xpu_available():
        devices += [f"xpu:{i}" for i in range(torch.xpu.device_count())]
    if _mps_available():
        devices.append("mps")
    return devices


def _unavailable(spec: object, why: str) -> DeviceError:
    listed = ", ".join(available_devices())
    return DeviceError(
        f"device {spec!r} {why}; the devices available in this kernel are: {listed}. "
        f"Pass one of them as device=..."
    )


def parse_device(spec: str | int | torch.device, *, allow_meta: bool = False) -> torch.device:
    """Return ``spec`` as a ``torch.device`` that exists in this kernel.

    Accepts ``"cpu"``, ``"cuda"`` (the current CUDA device), ``"cuda:1"``, ``"xpu"``, ``"mps"``,
    an int (a CUDA index) or a ``torch.device``; ``"meta"`` only with ``allow_meta`` (a summary
    of a meta model runs there; an evaluation cannot). Raises :class:`DeviceError` naming the
    device and listing the available ones when it is unknown or not available.

    >>> parse_device("cpu")
    device(type='cpu')
    """
    if isinstance(spec, bool) or not isinstance(spec, str | int | torch.device):
        raise DeviceError(
            f"device must be a string like 'cpu' or 'cuda:0', an int or a torch.device, "
            f"not {type(spec).__name__}; available devices: {', '.join(available_devices())}"
        )
    try:
        device = torch.device(spec)
    except (RuntimeError, ValueError) as exc:
        raise _unavailable(spec, "is not a device torch knows") from exc
    if device.type not in _KNOWN_TYPES:
        raise _unavailable(spec, "is not a device type modelpanel can run on")
    if device.type == "meta" and allow_meta:
        return device
    if device.type == "meta":
        raise _unavailable(spec, "holds no data, so a model cannot be evaluated on it")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise _unavailable(spec, "is not available (this torch has no usable CUDA GPU)")
        index = torch.cuda.current_device() if device.index is None else device.index
        if index >= torch.cuda.device_count():
            raise _unavailable(spec, f"is not available (only {torch.cuda.device_count()} CUDA GPU(s))")
        return torch.device("cuda", index)
    if device.type == "xpu":
        if not _xpu_available():
            raise _unavailable(spec, "is not available (no XPU in this kernel)")
        index = 0 if device.index is None else device.index
        if index >= torch.xpu.device_count():
            raise _unavailable(spec, "is not available")
        return torch.device("xpu", index)
    if device.type == "mps":
        if not _mps_available():
            raise _unavailable(spec, "is not available (no Apple MPS backend in this kernel)")
        return torch.device("mps")
    return torch.device("cpu")


def model_devices(modules: Iterable[tuple[str, torch.nn.Module]], first_only: bool = False) -> list[torch.device]:
    """Devices of the parameters and buffers of ``modules`` (a walk's ``ModuleTree.modules``),
    in first-seen order; just the first with ``first_only`` (the full scan reads every tensor).
    """
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


def same_device(a: torch.device, b: torch.device) -> bool:
    """True when ``a`` and ``b`` name the same device (``cuda`` without index = current)."""
    if a.type != b.type:
        return False
    if a.type == "cuda":
        cur = torch.cuda.current_device() if torch.cuda.is_available() else 0
        return (cur if a.index is None else a.index) == (cur if b.index is None else b.index)
    return (a.index or 0) == (b.index or 0)
