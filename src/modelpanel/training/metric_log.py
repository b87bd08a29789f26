"""The metric log behind ``panel.log``: bounded histories, read from the device in batches.

:class:`MetricLog` queues logged values (0-d tensors stay on their device) and reads all pending
ones in one stacked transfer per device when the panel refreshes, so logging every step costs no
host sync. :class:`BoundedHistory` keeps the last points exact and thins older ones by halving.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from .._core.host import host_values
from ..errors import InputError

__all__ = ["BoundedHistory", "MetricLog"]


class BoundedHistory:
    """A list that keeps its last ``keep_exact`` items exact and thins older ones by halving.

    Older items are kept in a second list of at most ``keep_exact`` items; when it overflows,
    every other item is dropped, so the far past keeps an even (coarser) resolution and the
    total stays below ``2 * keep_exact`` however long training runs.
    """

    def __init__(self, keep_exact: int = 1000) -> None:
        if keep_exact < 2:
            raise InputError(f"keep_exact must be at least 2, got {keep_exact}")
        self.keep_exact = keep_exact
        self._old: list[Any] = []
        self._recent: list[Any] = []

    def extend(self, items: Iterable[Any]) -> None:
        """Append items (oldest first)."""
        self._recent.extend(items)
        overflow = len(self._recent) - self.keep_exact
        if overflow > 0:
            self._old.extend(self._recent[:overflow])
            del self._recent[:overflow]
            while len(self._old) > self.keep_exact:
                self._old = self._old[::2]

    def replace_last(self, item: Any) -> None:
        """Replace the newest item (e.g. a second snapshot at the same step)."""
        if self._recent:
            self._recent[-1] = item
        else:
            self.extend([item])

    def items(self) -> list[Any]:
        """Every kept item, oldest first."""
        return self._old + self._recent

    def __len__(self) -> int:
        return len(self._old) + len(self._recent)


class MetricLog:
    """Per-metric series of (x, value), bounded, fed without host syncs.

    ``add`` only detaches tensors and queues them; ``drain`` reads every queued tensor with one
    ``torch.stack(...).cpu()`` per device. A metric logged with ``epoch=`` and no ``step=`` is
    epoch-level: its x is the epoch and its series is marked ``epoch_level``.
    """

    def __init__(self, keep_exact: int = 1000) -> None:
        self.keep_exact = keep_exact
        # x and value in two histories fed in lockstep (same lengths -> same thinning): lists of
        # floats turn into numpy arrays far faster than lists of pairs, at every refresh.
        self._series: dict[tuple[str, bool], tuple[BoundedHistory, BoundedHistory]] = {}
        self._pending: list[tuple[str, bool, float, Any]] = []
        self._step = 0  # the implicit step: one per add() without step=
        self.last_step: float | None = None
        self.nonfinite: list[str] = []  # metrics that have held NaN/Inf, first seen first
        # Points drained since the last take_new(): what a refresh appends in the view.
        self._new: dict[tuple[str, bool], tuple[list[float], list[float]]] = {}

    @property
    def pending(self) -> int:
        """Number of values queued since the last drain."""
        return len(self._pending)

    def add(self, step: Any = None, epoch: Any = None, **metrics: Any) -> None:
        """Queue ``metrics`` at ``step`` (or the next implicit step) / ``epoch``."""
        if not metrics:
            raise InputError("log() needs at least one metric, e.g. panel.log(loss=loss)")
        epoch_level = epoch is not None and step is None
        if epoch_level:
            x = _as_float(epoch, "epoch")
        elif step is not None:
            x = _as_float(step, "step")
            self._step = int(x) + 1
        else:
            x = float(self._step)
            self._step += 1
        queued = []
        for name, value in metrics.items():
            # Cheapest checks first: this runs every step (exact type tests, no ABC isinstance).
            kind = type(value)
            if kind is float or kind is int:
                queued.append((name, epoch_level, x, float(value)))
            elif isinstance(value, torch.Tensor):
                if value.dim() != 0 and value.numel() != 1:
                    raise InputError(
                        f"metric {name!r} is a tensor of shape {tuple(value.shape)}; log() takes "
                        f"numbers or 0-d tensors. Reduce it first, e.g. {name}={name}.mean()"
                    )
                if value.dtype.is_complex:
                    raise InputError(f"metric {name!r} is complex; log its .abs() or .real")
                # detach(): the log must not keep the autograd graph alive; no .item(): no sync.
                value = value.detach()
                queued.append((name, epoch_level, x, value if value.dim() == 0 else value.reshape(())))
            elif isinstance(value, numbers.Real) and kind is not bool:
                queued.append((name, epoch_level, x, float(value)))
            else:
                raise InputError(
                    f"metric {name!r} is a {type(value).__name__}; log() takes Python numbers or "
                    f"0-d tensors, e.g. panel.log(loss=loss, acc=0.93)"
                )
        self._pending.extend(queued)
        if not epoch_level:
            self.last_step = x

    def drain(self) -> bool:
        """Move queued values into the series; return True when anything changed."""
        if not self._pending:
            return False
        pending, self._pending = self._pending, []
        values = host_values([v for *_, v in pending])
        grouped: dict[tuple[str, bool], tuple[list[float], list[float]]] = {}
        for (name, epoch_level, x, _), value in zip(pending, values):
            xs, ys = grouped.setdefault((name, epoch_level), ([], []))
            xs.append(x)
            ys.append(value)
            if not math.isfinite(value) and name not in self.nonfinite:
                self.nonfinite.append(name)
        for key, (xs, ys) in grouped.items():
            hx, hy = self._series.setdefault(
                key, (BoundedHistory(self.keep_exact), BoundedHistory(self.keep_exact)))
            hx.extend(xs)
            hy.extend(ys)
            nx, ny = self._new.setdefault(key, ([], []))
            nx.extend(xs)
            ny.extend(ys)
        return True

    @property
    def has_new(self) -> bool:
        """Whether points were drained since the last :meth:`take_new`."""
        return bool(self._new)

    def take_new(self) -> dict[str, tuple[np.ndarray, np.ndarray, bool]]:
        """The points drained since the last call, named as in :meth:`series`; then forget them."""
        new, self._new = self._new, {}
        return {self._label(name, epoch_level): (np.array(xs, np.float64), np.array(ys, np.float64), epoch_level)
                for (name, epoch_level), (xs, ys) in new.items()}

    def take_points(self) -> dict[tuple[str, bool], tuple[list[float], list[float]]]:
        """Like :meth:`take_new`, keyed by ``(name, epoch_level)`` as plain lists (to pickle)."""
        new, self._new = self._new, {}
        return new

    def extend(self, points: dict[tuple[str, bool], tuple[list[float], list[float]]]) -> None:
        """Append points taken elsewhere (``take_points`` of another log, combined), as drained."""
        for (name, epoch_level), (xs, ys) in points.items():
            if not xs:
                continue
            self._pending.extend((name, epoch_level, float(x), float(y)) for x, y in zip(xs, ys))
            if not epoch_level:
                self.last_step = float(xs[-1])
                self._step = int(xs[-1]) + 1
        self.drain()

    def _label(self, name: str, epoch_level: bool) -> str:
        return f"{name} (epoch)" if epoch_level and (name, False) in self._series else name

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray, bool]]:
        """``{name: (x, value, epoch_level)}``; an epoch-level twin of a step metric gets " (epoch)"."""
        out = {}
        for (name, epoch_level), (hx, hy) in self._series.items():
            out[self._label(name, epoch_level)] = (np.array(hx.items(), np.float64), np.array(hy.items(), np.float64), epoch_level)
        return out

    def set_keep_exact(self, keep_exact: int) -> None:
        """Change the bound of every series (applied on each series' next append)."""
        if keep_exact < 2:
            raise InputError(f"keep_exact must be at least 2, got {keep_exact}")
        self.keep_exact = keep_exact
        for hx, hy in self._series.values():
            hx.keep_exact = hy.keep_exact = keep_exact

    def clear(self) -> None:
        """Forget every series and queued value (a fresh training run)."""
        self._series.clear()
        self._pending.clear()
        self._new.clear()
        self._step = 0
        self.last_step = None
        self.nonfinite = []


def _as_float(value: Any, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)  # steps are host-side counters in practice; a rare sync is fine
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise InputError(f"{what}= must be a number, got {type(value).__name__}")
