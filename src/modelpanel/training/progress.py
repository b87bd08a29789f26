"""Training progress for the panel: a tqdm subclass that draws in the widget.

Nothing here knows about widgets. :class:`PanelTqdm` keeps tqdm's own counters, ``format_dict``
and postfix semantics but writes nothing to a terminal; it reports to a :class:`BarBoard`, which
turns the live bars into the ``_progress`` records of docs/widget-state.md. The metric log that
``panel.log`` feeds lives in :mod:`modelpanel.training.metric_log`.
"""

from __future__ import annotations

import io
import math
import numbers
import sys
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import torch
from tqdm.std import tqdm

from ..errors import format_exception

__all__ = ["BarBoard", "PanelTqdm", "in_cell"]


class BarBoard:
    """The panel's live bars, outermost first, as ``_progress`` records.

    A bar that opens takes the level below the bars still running. A *run* is an outermost bar
    and the bars opened while it ran; every record carries its run's id. Within a run, finished
    bars at the new bar's level or deeper give way to it, so an inner bar restarted every epoch
    replaces itself instead of piling up. Finished runs stay listed, as tqdm's ``leave=True``
    bars stay printed: the last :attr:`keep_runs` of them, oldest dropped first; a
    ``leave=False`` bar that ended well goes at once. ``on_change(force)`` is called when
    something should reach the view (``force`` for open/close, which bypass the throttle).
    """

    #: Finished runs kept listed (each: its outermost bar and the last bar of each inner level).
    keep_runs = 20

    def __init__(self, on_change: Callable[[bool], None]) -> None:
        self._on_change = on_change
        self._entries: list[dict[str, Any]] = []
        self._bars: dict[int, weakref.ref[PanelTqdm]] = {}
        self._next_id = 1
        self.dirty = False
        # Called once per loop iteration and update() when set: a distributed job's ranks
        # refresh together at the same count (panel/job.py). None: nothing per iteration.
        self.tick: Callable[[], None] | None = None
        _BOARDS.add(self)
        _install_ipython_hook()

    def running(self) -> int:
        """Number of bars still running."""
        return sum(1 for e in self._entries if e["state"] == "running")

    def open(self, bar: PanelTqdm) -> int:
        """Register a new bar; return its id."""
        cell = _execution_count()
        for e in self._entries:
            # A bar left open by an earlier cell (made without `with`, never closed) would push
            # every later bar one level down; it is over, so say so.
            if e["state"] == "running" and cell is not None and e["cell"] != cell:
                e["state"], e["error"] = "stopped", "not closed by the cell that made it"
        level = self.running()
        bar_id = self._next_id
        self._next_id += 1
        # The run this bar belongs to: that of the outermost bar still running, else a new one.
        running = [e for e in self._entries if e["state"] == "running"]
        run = min(running, key=lambda e: e["level"])["run"] if running else bar_id
        if run == bar_id:
            self._drop_old_runs(keep=self.keep_runs - 1)
        self._entries = [e for e in self._entries
                         if e["run"] != run or e["state"] == "running" or e["level"] < level]
        self._entries.append({"id": bar_id, "level": level, "run": run, "state": "running",
                              "error": "", "cell": cell, "early": False})
        self._bars[bar_id] = weakref.ref(bar)
        self.dirty = True
        return bar_id

    def run_of(self, bar_id: int) -> int | None:
        """The run (id of its outermost bar) that bar ``bar_id`` belongs to; None once dropped."""
        entry = self._entry(bar_id)
        return None if entry is None else entry["run"]

    def _drop_old_runs(self, keep: int) -> None:
        """Forget finished runs beyond the newest ``keep`` (a run with a bar running stays)."""
        live = {e["run"] for e in self._entries if e["state"] == "running"}
        done = sorted({e["run"] for e in self._entries} - live)
        old = set(done[:max(0, len(done) - keep)])
        if old:
            self._entries = [e for e in self._entries if e["run"] not in old]

    def changed(self, force: bool = False) -> None:
        """A bar's counters or text changed."""
        self.dirty = True
        self._on_change(force)

    def close(self, bar: PanelTqdm, state: str, error: str = "", early: bool = False) -> None:
        """Mark the bar finished; a ``leave=False`` bar that ended well disappears."""
        entry = self._entry(bar._board_id)
        if entry is None:
            return
        if entry["state"] == "error":  # the cell's exception already explained it
            state, error, early = "error", entry["error"], False
        entry["record"] = _bar_record(bar, entry)
        entry.update(state=state, error=error, early=early)
        entry["record"].update(state=state, error=error)
        if state == "done" and not bar.leave:
            self._entries.remove(entry)
        self._bars.pop(bar._board_id, None)
        self.changed(force=True)

    def fail_early_bars(self, exc: BaseException, cell: int | None) -> None:
        """Cell ``cell`` raised: bars that stopped early in it stopped because of ``exc``."""
        hit = False
        for e in self._entries:
            if e["cell"] != cell or not (e["early"] or e["state"] == "running"):
                continue
            # A loop's generator may be closed only after the cell (IPython keeps the
            # traceback); a bar of the failed cell still "running" has stopped all the same.
            ref = self._bars.get(e["id"])
            bar = ref() if ref is not None else None
            if bar is not None:
                e["record"] = _bar_record(bar, e)
            e["state"], e["error"], e["early"] = "error", format_exception(exc), False
            if "record" in e:
                e["record"].update(state="error", error=e["error"])
            hit = True
        if hit:
            self.changed(force=True)

    def _entry(self, bar_id: int) -> dict[str, Any] | None:
        return next((e for e in self._entries if e["id"] == bar_id), None)

    def snapshot(self) -> list[dict[str, Any]]:
        """The ``_progress`` records: by run (oldest first), then outermost first, then by age."""
        self.dirty = False
        records = []
        for e in sorted(self._entries, key=lambda e: (e["run"], e["level"], e["id"])):
            ref = self._bars.get(e["id"])
            bar = ref() if ref is not None else None
            if bar is not None:
                e["record"] = _bar_record(bar, e)
            if "record" in e:
                records.append(dict(e["record"], state=e["state"], error=e["error"]))
        return records


def _bar_record(bar: PanelTqdm, entry: dict[str, Any]) -> dict[str, Any]:
    """One ``_progress`` record from tqdm's own ``format_dict`` (rate/ETA as tqdm computes them)."""
    bar._resolve_postfix()
    fd = bar.format_dict
    n, total, elapsed = fd["n"], fd["total"], fd["elapsed"]
    rate = fd["rate"]
    if rate is None and elapsed:  # tqdm's format_meter falls back to the mean rate the same way
        rate = (n - fd["initial"]) / elapsed
    remaining = (total - n) / rate if rate and total else None
    return {
        "id": entry["id"], "level": entry["level"], "run": entry["run"], "desc": fd["prefix"] or "",
        "n": _plain(n), "total": _plain(total), "unit": fd["unit"] or "it",
        "rate": _plain(rate), "elapsed": float(elapsed), "remaining": _plain(remaining),
        "postfix": fd["postfix"] or "", "state": entry["state"], "error": entry["error"],
    }


def _plain(x: Any) -> Any:
    """JSON-safe number: ints stay ints, non-finite floats become None."""
    if x is None:
        return None
    if isinstance(x, numbers.Integral):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


class PanelTqdm(tqdm):
    """A ``tqdm.std.tqdm`` that draws in a :class:`BarBoard` (the panel) instead of a terminal.

    Counting, ``format_dict``, ``set_postfix``, ``set_description``, ``close`` and the
    ``with`` / ``for`` forms are tqdm's own. ``display`` is tqdm's throttled hook (it runs at
    most every ``mininterval`` seconds from ``update`` / iteration), so that is where the panel
    is told. ``set_postfix`` also takes 0-d tensors and formats them only when the bar is drawn,
    so ``pbar.set_postfix(loss=loss)`` every step does not sync the device.
    """

    # No tqdm monitor thread: it would call display() (and so publish widget state) from a
    # second thread. miniters=1 makes the time check run every iteration instead (one clock
    # read), so a loop that slows down still refreshes on time without the monitor's help.
    monitor_interval = 0

    def __init__(self, *args: Any, board: BarBoard, **kwargs: Any) -> None:
        kwargs.setdefault("file", io.StringIO())  # tqdm's text goes nowhere visible
        kwargs.setdefault("mininterval", 0.1)
        kwargs.setdefault("miniters", 1)
        kwargs.setdefault("dynamic_ncols", False)
        self._board = board
        self._board_id = 0
        self._lazy_postfix: dict[str, Any] | None = None
        self._exhausted = False
        self._exc: BaseException | None = None
        super().__init__(*args, **kwargs)
        if not self.disable:
            self._board_id = board.open(self)
            board.changed(force=True)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """tqdm calls this (throttled) to draw; we forward to the panel's throttle."""
        if self._board_id:
            self._board.changed()
        return True

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        """tqdm's ``set_postfix``; 0-d tensors are formatted lazily, at draw time."""
        items = dict(ordered_dict or {}, **kwargs)
        if any(isinstance(v, torch.Tensor) for v in items.values()):
            self._lazy_postfix = {k: v.detach() if isinstance(v, torch.Tensor) else v
                                  for k, v in items.items()}
            if refresh:
                self.refresh()
            return
        self._lazy_postfix = None
        super().set_postfix(ordered_dict, refresh=refresh, **kwargs)

    def _resolve_postfix(self) -> None:
        """Turn lazily held tensors into tqdm's postfix text (one read per draw, not per step)."""
        if self._lazy_postfix is not None:
            values = {k: float(v) if isinstance(v, torch.Tensor) and v.numel() == 1 else v
                      for k, v in self._lazy_postfix.items()}
            self._lazy_postfix = None
            super().set_postfix(values, refresh=False)

    def __iter__(self) -> Any:
        # Wrap the iterable to learn whether the loop ran to its end: a generator closed early
        # (break, exception, KeyboardInterrupt) cannot see why, so the bar says "stopped" and
        # the IPython hook below upgrades it to "error" with the exception once the cell ends.
        def watched(iterable: Iterable[Any]) -> Any:
            tick = self._board.tick
            if tick is None:
                yield from iterable
            else:
                for item in iterable:
                    yield item
                    tick()  # after the body: the step is done
            self._exhausted = True

        if self.iterable is not None and not self.disable:
            self.iterable = watched(self.iterable)
        return super().__iter__()

    def update(self, n: float | None = 1) -> bool | None:
        """tqdm's ``update``; for a bar without an iterable also one tick of a distributed job's
        refresh count (see BarBoard). tqdm's own iteration calls it on its time throttle, which
        differs between ranks: iterating bars tick in ``__iter__`` instead."""
        displayed = super().update(n)
        tick = self._board.tick
        if tick is not None and self.iterable is None:
            tick()
        return displayed

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
        if exc_value is None and exc_type is not None:
            exc_value = exc_type()
        self._exc = exc_value
        return super().__exit__(exc_type, exc_value, traceback)

    def close(self) -> None:
        """tqdm's ``close``; the panel keeps the bar (``leave=True``) showing how it ended."""
        if self.disable or not self._board_id:
            super().close()
            return
        early = False
        if self._exc is not None:
            state, error = "error", format_exception(self._exc)
        elif self.iterable is not None and not self._exhausted:
            early = True
            state, error = "stopped", f"stopped at {self.n}" + (f"/{self.total}" if self.total else "")
        else:
            state, error = "done", ""
        super().close()
        self._board.close(self, state, error, early)


# -- IPython: learn why a loop stopped --------------------------------------------------------------

_BOARDS: weakref.WeakSet[BarBoard] = weakref.WeakSet()
_HOOKED: list[Any] = []  # the shells we registered with (at most one in practice)
_CELL = [0]  # cells started since the hook was installed
_IN_CELL: list[Any] = [None]  # the shell whose cell is running now, None between cells


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None) if ipython is not None else None
    return get() if get is not None else None


def _execution_count() -> int | None:
    """Which cell is running: our own count of IPython's pre_run_cell events (None outside)."""
    shell = _shell()
    return _CELL[0] if shell is not None and any(s is shell for s in _HOOKED) else None


def in_cell() -> bool:
    """True while an IPython cell runs (its output is where a display goes), else False.

    False in plain Python and between cells, e.g. in a widget's message handler (the Run
    button): a display made there belongs to no cell.
    """
    shell = _shell()
    return shell is not None and _IN_CELL[0] is shell


def _pre_run_cell(info: Any) -> None:
    # Our own counter: IPython's execution_count moves at different points across versions and
    # not at all for store_history=False runs.
    _CELL[0] += 1
    _IN_CELL[0] = _shell()


def _post_run_cell(result: Any) -> None:
    _IN_CELL[0] = None
    exc = getattr(result, "error_in_exec", None)
    if exc is None:
        return
    for board in list(_BOARDS):
        board.fail_early_bars(exc, _CELL[0])


def _install_ipython_hook() -> None:
    shell = _shell()
    if shell is None or any(s is shell for s in _HOOKED):
        return
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", _post_run_cell)
    _HOOKED.append(shell)
    # Installed from a cell (the one making the panel), whose pre_run_cell has already passed.
    _IN_CELL[0] = shell
