"""TrainingSession: live training in the panel (progress bars, metrics, weight histograms, diagnostics).

Owned by :class:`~modelpanel.panel.widget.ModelPanel`, which declares the traits and hands
the session two callables: ``publish(**traits)`` (several synced traits in one message) and
``get_model()`` (the module, or ModelPanelError once it was deleted). The session writes
``_progress``, ``_metrics`` (new points only), ``_diagnostics`` and, on the histogram
throttle, ``_param_stats`` / ``_hist`` (the watched tensors only); whole histories go to a
view only when it asks (``metrics_history``, ``hist_history`` requests). The outermost bar of
each loop run from a notebook cell also gets a :class:`~.progress_line.ProgressLine` in that
cell, written with its run's ``_progress`` records in the same flush. It keeps the latest
weight records, layer statistics and metric series for the panel's public read-only views.

Everything the view sees goes through one throttled :meth:`TrainingSession.flush`: at most
every ``mininterval`` seconds (0.1 s) it reads queued metrics (one stacked transfer), the bars'
``format_dict``, the opt-in diagnostics and, every ``hist_every`` seconds, the weight
histograms, and publishes whatever changed in one message.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from .._core.walk import unwrap
from ..errors import InputError, format_exception
from ..stats import WeightSnapshot, weight_snapshot
from ..training.diagnostics import (
    ActivationMonitor,
    first_nonfinite,
    grad_norms,
    layer_flags,
    weight_norms,
)
from ..training.metric_log import BoundedHistory, MetricLog
from ..training.progress import BarBoard, PanelTqdm
from .progress_line import ProgressLine, display_line
from .state import hist_state, param_stats_state, params_state
from .wire import array_to_wire

__all__ = ["TrainingSession"]

#: Tensors whose histograms are sent before any view said which it shows (the view's default).
DEFAULT_WATCHED = 4


class TrainingSession:
    """Per-panel training bookkeeping and the one throttled flush to the view.

    Settings (copied in by the panel from its traits): ``hist_every`` (seconds, or None),
    ``grad_norms``, ``activations``, ``diag_every`` (seconds), ``bins``.
    """

    def __init__(self, publish: Callable[..., None], get_model: Callable[[], nn.Module], *,
                 bins: int, metric_points: int, hist_snapshots: int) -> None:
        self._publish = publish
        self._model = get_model
        self.bins = bins
        self.hist_every: float | None = 2.0
        self.grad_norms = False
        self.activations = False
        self.diag_every = 1.0
        self.board = BarBoard(self.flush)
        self.log = MetricLog(keep_exact=metric_points)
        self.hist = BoundedHistory(keep_exact=max(2, hist_snapshots // 2))
        self.monitor: ActivationMonitor | None = None
        self.mininterval = 0.1
        self.last_flush = -math.inf
        self.last_hist = -math.inf
        self.last_diag = -math.inf
        self.bad_weights: str | None = None
        self.bad_weight_paths: list[str] = []  # every module holding a NaN/Inf weight (latest snapshot)
        self.weight_norm: dict[str, float] = {}  # per module, with the grad norms (for the flags)
        self.nonfinite: dict[str, Any] = {"loss": False, "first_layer": None, "where": None}
        self.grad: dict[str, float | None] = {}
        self.acts: dict[str, Any] = {}
        self.snapshot: WeightSnapshot | None = None  # the latest weight statistics (panel.weights)
        self.hist_version = -1  # the first snapshot (at construction) is version 0
        self.error = ""
        self.watched: dict[str, list[int]] = {}  # view token -> tensor ids it draws
        self.lines: list[ProgressLine] = []  # the cells' lines of runs still running
        self.language = ""  # the panel's _language, which each new line speaks too
        self.last_records: list[dict[str, Any]] = []  # the latest _progress sent
        self.metrics_reset = 0  # bumped by clear(): the view drops what it accumulated
        self.metrics_seq = 0  # one per _metrics message: a view that missed one asks for all
        # In a rank of a forked torch.distributed job (panel/job.py): refreshes go through it.
        self.worker: Any = None

    # -- what the panel's public methods call ----------------------------------------------

    def progress(self, iterable: Any, desc: str | None, total: Any, leave: bool, unit: str,
                 tqdm_kwargs: dict[str, Any]) -> PanelTqdm:
        """A PanelTqdm on this session's board (arguments checked here; see ModelPanel.progress)."""
        for bad in ("file", "gui"):
            if bad in tqdm_kwargs:
                raise InputError(f"progress() draws in the panel, so {bad}= is not accepted; drop it")
        if desc is not None and not isinstance(desc, str):
            raise InputError(f"desc must be a string (tqdm's label), got {type(desc).__name__}")
        mininterval = tqdm_kwargs.get("mininterval", 0.1)
        if isinstance(mininterval, bool) or not isinstance(mininterval, (int, float)) or mininterval < 0:
            raise InputError(f"mininterval must be a number of seconds >= 0, got {mininterval!r}")
        if self.board.running() == 0:
            self.lines = []  # a new run: no earlier line is written to again (see _feed_lines)
            self.mininterval = float(mininterval)
            # The panel shows the weights as they are now; the first live refresh is due one
            # period into the loop (and one more when the loop ends).
            self.last_hist = time.monotonic()
            self.start_watching()
            if self.hist_every is not None and not len(self.hist):
                # The first column of "weights over time": the weights before any step, so the
                # heatmap shows where training started from.
                self._publish(**self._hist_traits(self._model(), before_training=True))
        bar = PanelTqdm(iterable, desc=desc, total=total, leave=leave, unit=unit,
                        board=self.board, **tqdm_kwargs)
        # (A rank of a distributed job draws no line: nothing it displays reaches the kernel.)
        if bar._board_id and self.worker is None and self.board.run_of(bar._board_id) == bar._board_id:
            # The outermost bar of a new run: its compact copy goes into this cell's output.
            line = display_line(bar._board_id, self.language)
            if line is not None:
                self.lines.append(line)
                self._feed_lines(self.last_records)
        return bar

    def record(self, step: Any, epoch: Any, metrics: dict[str, Any]) -> None:
        """Queue metrics (no device sync) and flush when the throttle allows."""
        self.log.add(step=step, epoch=epoch, **metrics)
        if self.worker is not None:
            self.worker.tick()
            return
        if time.monotonic() - self.last_flush >= self.mininterval:  # the throttle, checked inline
            self.flush(force=False)

    def clear(self) -> None:
        """Forget logged metrics and histogram history (a new training run's charts)."""
        self.log.clear()
        self.hist = BoundedHistory(keep_exact=self.hist.keep_exact)
        self.nonfinite = {"loss": False, "first_layer": None, "where": None}
        self.grad, self.acts, self.weight_norm, self.bad_weight_paths = {}, {}, {}, []
        self.metrics_reset += 1
        self.metrics_seq = 0
        self._publish(_metrics=self._metrics_delta({}), _diagnostics={})

    def start_watching(self) -> None:
        """Attach the activation hooks when activations are watched (while a loop runs)."""
        if not self.activations:
            return
        model = self._model()
        if self.monitor is None or self.monitor._model() is not unwrap(model):
            self.stop_watching()
            self.monitor = ActivationMonitor(model)
        self.monitor.attach()

    def stop_watching(self) -> None:
        """Remove the activation hooks (safe to call twice)."""
        if self.monitor is not None:
            self.monitor.detach()

    def layer_stats(self) -> dict[str, dict[str, Any]]:
        """Tree path -> latest ``grad_norm`` and activation ``mean``/``std``/``zero_frac``.

        A value that was NaN or infinite reads ``nan`` here (the view's state says None, as
        JSON has no NaN): never None, which would read as "not measured".
        """
        nan = float("nan")
        out: dict[str, dict[str, Any]] = {}
        if self.grad_norms:
            for path, norm in self.grad.items():
                out.setdefault(path, {})["grad_norm"] = nan if norm is None else norm
        if self.activations:
            for path, stats in self.acts.items():
                out.setdefault(path, {}).update({k: nan if v is None else v for k, v in stats.items()})
        return out

    # -- the one flush ---------------------------------------------------------------------

    def flush(self, force: bool = False) -> None:
        """Publish what changed, at most every ``mininterval`` seconds unless ``force``."""
        if self.worker is not None:
            self.worker.flush(force)
            return
        now = time.monotonic()
        if not force and now - self.last_flush < self.mininterval:
            return
        self.last_flush = now
        traits: dict[str, Any] = {}
        if self.board.dirty:
            traits["_progress"] = self.last_records = self.board.snapshot()
            self._feed_lines(self.last_records)
        if self.log.drain():
            traits["_metrics"] = self._metrics_delta(self.log.take_new())
            if self.log.nonfinite and not self.nonfinite["loss"]:
                self.nonfinite["loss"] = True
                traits["_diagnostics"] = None
        running = self.board.running() > 0
        try:
            model = self._model()
        except Exception:  # noqa: BLE001 - a deleted model must not break the user's loop
            model = None
        try:
            self._read_model_state(model, traits, now, running, force)
        except Exception as exc:  # noqa: BLE001 - monitoring must never break the user's loop
            # Shown next to the widget (the panel's _error trait) instead of raising into the
            # training loop, or worse, replacing the user's own exception while it unwinds.
            self.error = f"training monitor: {format_exception(exc)}"
            traits["_error"] = self.error
        if not running:
            self.stop_watching()  # the loop is over (or failed): no hook outlives it
        if "_diagnostics" in traits:
            traits["_diagnostics"] = self._diagnostics_state()
        if traits:
            self._publish(**traits)

    def _feed_lines(self, records: list[dict[str, Any]]) -> None:
        """Give each cell's line its run's records; a line whose run ended is left as it is,
        its static output written once (what a saved notebook shows, panel/line_snapshot.py)."""
        running = {r["run"] for r in records if r["state"] == "running"}
        # A loop stopped early (break, or an exception that closed its generator) may yet turn
        # out to have failed: the cell's exception reaches its bars when the cell ends
        # (BarBoard.fail_early_bars). Its line is fed until the next run begins.
        stopped = {r["run"] for r in records if r["state"] == "stopped"}
        for line in self.lines:
            try:
                line._progress = [r for r in records if r["run"] == line.run]
            except Exception:  # noqa: BLE001 - a closed line must not break the user's loop
                line.run = -1
        ended = [line for line in self.lines if line.run not in running]
        self.lines = [line for line in self.lines if line.run in running or line.run in stopped]
        for line in ended:
            line.finished()
            if line.snapshot_error:  # shown next to the panel; the loop goes on
                self._publish(_error=line.snapshot_error)

    def _read_model_state(self, model: Any, traits: dict[str, Any], now: float,
                          running: bool, force: bool) -> None:
        """Diagnostics and histograms that are due, added to ``traits`` (reads the model)."""
        # Diagnostics on their own, slower throttle: a sampled activation pass costs a good
        # part of a small model's step, so at 10 Hz a slow loop would pay it every other step.
        diag_due = force or now - self.last_diag >= self.diag_every
        if diag_due:
            self.last_diag = now
        if diag_due and model is not None and self.monitor is not None and self.monitor.attached:
            self.acts = self.monitor.read()
            traits["_diagnostics"] = None
        if model is not None and (running or force):
            if self.grad_norms and diag_due:
                self.grad, bad = grad_norms(model)
                self.weight_norm = weight_norms(model)
                self._flag(bad, "grads")
                traits["_diagnostics"] = None
            # While running: on the time throttle. When the outermost bar closes: once more, so
            # the panel ends on the final weights.
            due = now - self.last_hist >= self.hist_every if self.hist_every is not None else False
            if self.hist_every is not None and (due or not running):
                self.last_hist = now
                flagged = self.bad_weight_paths
                traits.update(self._hist_traits(model))
                if flagged != self.bad_weight_paths:  # the flags of the tree's rows changed
                    traits["_diagnostics"] = None
                if self._flag(self.bad_weights, "weights") or (
                        not self.grad_norms and self._flag(first_nonfinite(model, grads=True), "grads")):
                    traits["_diagnostics"] = None

    def _flag(self, path: str | None, where: str) -> bool:
        """Remember the first layer where NaN/Inf appeared (the first report wins)."""
        if path is None or self.nonfinite["where"] is not None:
            return False
        self.nonfinite.update(first_layer=path, where=where)
        return True

    def _diagnostics_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"nonfinite": dict(self.nonfinite)}
        if self.grad_norms:
            state["grad_norms"] = dict(self.grad)
        if self.activations:
            state["activations"] = dict(self.acts)
        state["flags"] = layer_flags(self.grad if self.grad_norms else {}, self.weight_norm,
                                     self.acts if self.activations else {}, self.bad_weight_paths)
        return state

    def weight_traits(self, model: nn.Module, *, full: bool = False, step: float | None = None,
                      histograms: int | None = None) -> dict[str, Any]:
        """A fresh weight snapshot as ``_param_stats`` and ``_hist`` (kept for panel.weights).

        ``_params`` (names, shapes: what does not change while training) is added when
        ``full`` or when the model's tensors changed since the last snapshot.
        """
        return self.snapshot_traits(weight_snapshot(model, bins=self.bins, histograms=histograms),
                                    full=full, step=step)

    def snapshot_traits(self, snapshot: WeightSnapshot, *, full: bool = False,
                        step: float | None = None) -> dict[str, Any]:
        """``weight_traits`` of a snapshot made elsewhere (a distributed job's, combined)."""
        previous, self.snapshot = self.snapshot, snapshot
        self.hist_version += 1
        traits = {
            "_param_stats": param_stats_state(snapshot, self.hist_version),
            "_hist": hist_state(snapshot, self.watched_ids(), self.hist_version, step),
        }
        if full or previous is None or _structure(previous) != _structure(snapshot):
            traits["_params"] = params_state(snapshot)
        return traits

    def watched_ids(self) -> list[int]:
        """The tensors some view draws (their union), or the first few before any view said."""
        if not self.watched:
            return list(range(DEFAULT_WATCHED))
        return sorted({i for ids in self.watched.values() for i in ids})

    def _hist_traits(self, model: nn.Module, before_training: bool = False) -> dict[str, Any]:
        """Fresh weight statistics and watched histograms (on device, one sync); the history
        of every tensor is kept here, bounded, and sent only on request.

        ``before_training``: the snapshot taken as the first loop starts, at the last logged
        step, or at step -1 when nothing was logged yet (the implicit steps start at 0, and the
        weights at step s are those after it).
        """
        return self.history_traits(weight_snapshot(model, bins=self.bins), before_training=before_training)

    def history_traits(self, snapshot: WeightSnapshot, before_training: bool = False) -> dict[str, Any]:
        """``snapshot``'s traits, its histograms kept in the bounded history (see _hist_traits)."""
        x = self.log.last_step if self.log.last_step is not None else float(len(self.hist))
        if before_training and self.log.last_step is None:
            x = -1.0
        traits = self.snapshot_traits(snapshot, step=x)
        # NaN/Inf weights: the snapshot counted them already (no second pass over the weights).
        bad = np.flatnonzero(snapshot.stats[:, 4] + snapshot.stats[:, 5])
        self.bad_weight_paths = list(dict.fromkeys((snapshot.owners[i] or [""])[0] for i in bad))
        self.bad_weights = self.bad_weight_paths[0] if self.bad_weight_paths else None
        items = self.hist.items()
        if items and items[-1][1].shape != tuple(snapshot.counts.shape):
            self.hist = BoundedHistory(keep_exact=self.hist.keep_exact)  # the model's tensors changed
            items = []
        item = (x, np.asarray(snapshot.counts, np.uint32), np.asarray(snapshot.ranges, np.float64))
        if items and items[-1][0] == x and self.log.last_step is not None:
            self.hist.replace_last(item)  # no step since the last snapshot: one column per step
        else:
            self.hist.extend([item])
        return traits

    # -- requests from the views ----------------------------------------------------------------

    def on_hist_watch(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """``{"kind": "hist_watch", "view": token, "ids": [...]}``: the tensors a view draws.

        Replies with their current counts and ranges, so the view draws them at once.
        """
        view, ids = content.get("view"), content.get("ids")
        if not isinstance(view, str) or not isinstance(ids, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InputError("hist_watch needs a view token (str) and ids (a list of ints)")
        n = 0 if self.snapshot is None else len(self.snapshot)
        self.watched[view] = [i for i in ids if 0 <= i < n][:256]
        if self.snapshot is None:
            return {"bins": self.bins, "ids": [], "counts": [], "range": []}
        binned = self.snapshot.binned
        if binned is not None and not all(binned[i] for i in self.watched[view]):
            # The first display binned only the first tensors: bin them all now (once).
            self.snapshot = weight_snapshot(self._model(), bins=self.bins)
        mine = self.watched[view]
        return {"bins": self.snapshot.bins, "ids": mine,
                "counts": self.snapshot.counts[mine].tolist(), "range": self.snapshot.ranges[mine].tolist()}

    def on_hist_history(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """``{"kind": "hist_history", "tensor": id}``: that tensor's kept histograms over steps."""
        tensor = content.get("tensor")
        n = 0 if self.snapshot is None else len(self.snapshot)
        if isinstance(tensor, bool) or not isinstance(tensor, int) or not 0 <= tensor < n:
            raise InputError(f"hist_history needs a tensor id in 0..{n - 1}, got {tensor!r}")
        items = self.hist.items()
        return {
            "tensor": tensor, "bins": self.bins,
            "steps": [i[0] for i in items],
            "counts": [i[1][tensor].tolist() for i in items],
            "range": [i[2][tensor].tolist() for i in items],
        }

    def on_metrics_history(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """``{"kind": "metrics_history"}``: every series as kept, for a view that missed appends."""
        self.log.drain()
        if self.log.has_new:
            # Points drained here would otherwise be sent again as "new": publish them now, so
            # the reply's seq is the one they carry.
            self._publish(_metrics=self._metrics_delta(self.log.take_new()))
        return {
            "reset": self.metrics_reset, "seq": self.metrics_seq,
            "series": {name: {"step": x.tolist(), "value": y.tolist(), "epoch_level": level}
                       for name, (x, y, level) in self.log.series().items()},
        }

    def _metrics_delta(self, new: dict[str, tuple[np.ndarray, np.ndarray, bool]]) -> dict[str, Any]:
        """The ``_metrics`` trait: only the points new since the last one, numbered by ``seq``."""
        self.metrics_seq += 1
        return {
            "reset": self.metrics_reset,
            "seq": self.metrics_seq,
            "series": {name: {"step": array_to_wire(x, "float64"), "value": array_to_wire(y, "float64"),
                              "epoch_level": level} for name, (x, y, level) in new.items()},
        }


def _structure(snapshot: WeightSnapshot) -> list[list]:
    """What ``_params`` holds: when it differs, the table's static columns are resent."""
    return [snapshot.names, snapshot.shapes, snapshot.dtypes, snapshot.devices, snapshot.trainable]

