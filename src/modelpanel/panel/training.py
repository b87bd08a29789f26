"""TrainingMixin: live training in the panel (progress bars, metrics, weight histograms, diagnostics).

Mixed into the anywidget class ahead of it, e.g.
``class ModelPanel(TrainingMixin, InferenceMixin, BasePanel)``. It needs two things from the
class it is mixed into: ``self._model()`` (the module, or ModelPanelError) and
``self._publish(**traits)`` (several synced traits in one message). It owns the traits
``_progress``, ``_metrics``, ``_hist_history`` and ``_diagnostics`` (docs/widget-state.md) and,
on the histogram throttle, also rewrites ``_params`` / ``_hist`` when the class has them.

Everything the view sees goes through one throttled :meth:`_training_flush`: at most every
``mininterval`` seconds (0.1 s) it reads queued metrics (one stacked transfer), the bars'
``format_dict``, the opt-in diagnostics and, every ``hist_every`` seconds, the weight
histograms, and publishes whatever changed in one message.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import traitlets

from ..errors import InputError, format_exception
from ..training.diagnostics import ActivationMonitor, first_nonfinite, grad_norms
from ..training.metric_log import BoundedHistory, MetricLog
from ..training.progress import BarBoard, PanelTqdm
from .wire import array_to_wire

__all__ = ["TrainingMixin"]

_UNSET: Any = object()


class _TrainingState:
    """Per-panel bookkeeping that is not a trait (created on first use)."""

    def __init__(self, panel: TrainingMixin) -> None:
        self.board = BarBoard(panel._training_flush)
        self.log = MetricLog(keep_exact=panel.metric_points)
        self.hist = BoundedHistory(keep_exact=max(2, panel.hist_snapshots // 2))
        self.monitor: ActivationMonitor | None = None
        self.mininterval = 0.1
        self.last_flush = -math.inf
        self.last_hist = -math.inf
        self.last_diag = -math.inf
        self.bad_weights: str | None = None
        self.nonfinite: dict[str, Any] = {"loss": False, "first_layer": None, "where": None}
        self.grad: dict[str, float | None] = {}
        self.acts: dict[str, Any] = {}


class TrainingMixin(traitlets.HasTraits):
    """Watch training in the panel the tqdm way.

    >>> for epoch in panel.progress(range(5), desc="epoch"):            # doctest: +SKIP
    ...     for xb, yb in panel.progress(loader, desc="batch", leave=False):
    ...         loss = loss_fn(model(xb), yb); ...
    ...         panel.log(loss=loss)          # a tensor: no device sync per step
    >>> panel.watch(grad_norms=True, activations=True, hist_every=5.0)  # doctest: +SKIP

    Configuration (constructor keywords or :meth:`watch`): ``hist_every`` seconds between weight
    histogram refreshes during a progress loop (``None`` turns them off), ``grad_norms`` and
    ``activations`` (opt-in diagnostics, see modelpanel.diagnostics for their cost), refreshed
    every ``diag_every`` seconds (default 1.0; a plain trait: ``panel.diag_every = 0.5``).
    """

    _progress = traitlets.List().tag(sync=True)
    _metrics = traitlets.Dict().tag(sync=True)
    _hist_history = traitlets.Dict().tag(sync=True)
    _diagnostics = traitlets.Dict().tag(sync=True)

    hist_every = traitlets.Float(2.0, allow_none=True, help="seconds between weight histograms; None: off")
    grad_norms = traitlets.Bool(False, help="per-layer gradient norms at each refresh")
    activations = traitlets.Bool(False, help="per-layer activation mean/std/zero fraction")
    diag_every = traitlets.Float(1.0, help="seconds between diagnostics refreshes (grad norms, activations)")
    metric_points = traitlets.Int(1000, help="points kept exact per metric (older ones thinned)")
    hist_snapshots = traitlets.Int(64, help="weight-histogram snapshots kept for _hist_history")

    _TRAINING_KWARGS = ("hist_every", "grad_norms", "activations")

    @traitlets.validate("metric_points")
    def _valid_metric_points(self, proposal: Any) -> int:
        # Checked here, before the trait changes: a bad value would otherwise be kept and then
        # fail every later log() with an error about an internal "keep_exact".
        if proposal["value"] < 2:
            raise InputError(f"metric_points must be at least 2, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("metric_points", "hist_snapshots")
    def _bounds_changed(self, change: Any) -> None:
        # Applied to the histories already kept: they shrink on their next append.
        st = self.__dict__.get("_training_st")
        if st is None:
            return
        if change["name"] == "metric_points":
            st.log.set_keep_exact(self.metric_points)
        else:
            st.hist.keep_exact = max(2, self.hist_snapshots // 2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Taken out before the base class sees them: it rejects keywords it does not know.
        mine = {k: kwargs.pop(k) for k in self._TRAINING_KWARGS if k in kwargs}
        super().__init__(*args, **kwargs)
        if mine:
            self.watch(**mine)

    # -- public API -----------------------------------------------------------------------------

    def progress(
        self,
        iterable: Any = None,
        total: Any = None,
        desc: str | None = None,
        unit: str = "it",
        leave: bool = True,
        **tqdm_kwargs: Any,
    ) -> PanelTqdm:
        """A ``tqdm`` progress bar drawn inside the panel; use it exactly like ``tqdm``.

        ``update(n)``, ``set_postfix`` (0-d tensors allowed, read only when drawn),
        ``set_description``, ``close``, ``with ... as pbar`` and ``for x in ...`` behave as
        tqdm documents. Nested bars show one per level; an inner bar restarted every epoch
        replaces the finished one. ``leave=False`` bars disappear when they finish. The widget
        is updated at most every ``mininterval`` seconds (tqdm's keyword, default 0.1).
        """
        for bad in ("file", "gui"):
            if bad in tqdm_kwargs:
                raise InputError(f"progress() draws in the panel, so {bad}= is not accepted; drop it")
        mininterval = tqdm_kwargs.get("mininterval", 0.1)
        if isinstance(mininterval, bool) or not isinstance(mininterval, (int, float)) or mininterval < 0:
            raise InputError(f"mininterval must be a number of seconds >= 0, got {mininterval!r}")
        st = self._training_state()
        if st.board.running() == 0:
            st.mininterval = float(mininterval)
            # The panel shows the weights as they are now; the first live refresh is due one
            # period into the loop (and one more when the loop ends).
            st.last_hist = time.monotonic()
            self._start_watching()
        return PanelTqdm(iterable, total=total, desc=desc, unit=unit, leave=leave,
                         board=st.board, **tqdm_kwargs)

    def log(self, step: Any = None, epoch: Any = None, **metrics: Any) -> None:
        """Record metrics: ``panel.log(loss=loss, acc=0.9)``, optionally at ``step=`` / ``epoch=``.

        Values are Python numbers or 0-d tensors. Tensors are detached and kept on their device
        until the next refresh, which reads all pending values in one transfer: logging every
        step costs no device sync. Without ``step=`` each call is the next step. A call with
        ``epoch=`` and no ``step=`` goes to an epoch-level series (x = epoch).
        """
        st = self._training_state()
        st.log.add(step=step, epoch=epoch, **metrics)
        if time.monotonic() - st.last_flush >= st.mininterval:  # the throttle, checked inline
            self._training_flush(force=False)

    def watch(self, *, hist_every: Any = _UNSET, grad_norms: Any = _UNSET,
              activations: Any = _UNSET) -> TrainingMixin:
        """Configure what is watched during training; returns the panel.

        ``hist_every``: seconds between weight-histogram refreshes during progress (``None``:
        off). ``grad_norms``: per-layer gradient norms read from ``.grad`` at each refresh.
        ``activations``: per-layer activation statistics via forward hooks, attached only while
        a progress loop runs.
        """
        if hist_every is not _UNSET:
            if hist_every is not None and (isinstance(hist_every, bool)
                                           or not isinstance(hist_every, (int, float))
                                           or hist_every <= 0):
                raise InputError(f"hist_every must be a positive number of seconds or None, got {hist_every!r}")
            self.hist_every = None if hist_every is None else float(hist_every)
        for name, value in (("grad_norms", grad_norms), ("activations", activations)):
            if value is not _UNSET:
                if not isinstance(value, bool):
                    raise InputError(f"{name} must be True or False, got {value!r}")
                setattr(self, name, value)
        st = self._training_state()
        if not self.activations:
            self._stop_activation_hooks()
        elif st.board.running():
            self._start_watching()
        return self

    def clear_history(self) -> None:
        """Forget logged metrics and histogram history (start a new training run's charts)."""
        st = self._training_state()
        st.log.clear()
        st.hist = BoundedHistory(keep_exact=st.hist.keep_exact)
        st.nonfinite = {"loss": False, "first_layer": None, "where": None}
        self._publish(_metrics={}, _hist_history={}, _diagnostics={})

    def close(self) -> None:
        """Remove every hook this panel added, then close the widget."""
        self._stop_activation_hooks()
        super().close()

    # -- internals --------------------------------------------------------------------------------

    def _training_state(self) -> _TrainingState:
        st = self.__dict__.get("_training_st")
        if st is None:
            st = self.__dict__["_training_st"] = _TrainingState(self)
        return st

    def _start_watching(self) -> None:
        if not self.activations:
            return
        st = self._training_state()
        model = self._model()
        if st.monitor is None or st.monitor._model() is not model:
            self._stop_activation_hooks()
            st.monitor = ActivationMonitor(model)
        st.monitor.attach()

    def _stop_activation_hooks(self) -> None:
        st = self.__dict__.get("_training_st")
        if st is not None and st.monitor is not None:
            st.monitor.detach()

    def _training_flush(self, force: bool = False) -> None:
        """Publish what changed, at most every ``mininterval`` seconds unless ``force``."""
        st = self._training_state()
        now = time.monotonic()
        if not force and now - st.last_flush < st.mininterval:
            return
        st.last_flush = now
        traits: dict[str, Any] = {}
        if st.board.dirty:
            traits["_progress"] = st.board.snapshot()
        if st.log.drain():
            traits["_metrics"] = metrics_state(st.log)
            if st.log.nonfinite and not st.nonfinite["loss"]:
                st.nonfinite["loss"] = True
                traits["_diagnostics"] = None
        running = st.board.running() > 0
        try:
            model = self._model()
        except Exception:  # noqa: BLE001 - a deleted model must not break the user's loop
            model = None
        try:
            self._read_model_state(st, model, traits, now, running, force)
        except Exception as exc:  # noqa: BLE001 - monitoring must never break the user's loop
            # Shown next to the widget (the panel's _error trait) instead of raising into the
            # training loop, or worse, replacing the user's own exception while it unwinds.
            if self.has_trait("_error"):
                traits["_error"] = f"training monitor: {format_exception(exc)}"
        if not running:
            self._stop_activation_hooks()  # the loop is over (or failed): no hook outlives it
        if "_diagnostics" in traits:
            traits["_diagnostics"] = self._diagnostics_state(st)
        if traits:
            self._publish(**traits)

    def _read_model_state(self, st: _TrainingState, model: Any, traits: dict[str, Any], now: float,
                          running: bool, force: bool) -> None:
        """Diagnostics and histograms that are due, added to ``traits`` (reads the model)."""
        # Diagnostics on their own, slower throttle: a sampled activation pass costs a good
        # part of a small model's step, so at 10 Hz a slow loop would pay it every other step.
        diag_due = force or now - st.last_diag >= self.diag_every
        if diag_due:
            st.last_diag = now
        if diag_due and model is not None and st.monitor is not None and st.monitor.attached:
            st.acts = st.monitor.read()
            traits["_diagnostics"] = None
        if model is not None and (running or force):
            if self.grad_norms and diag_due:
                st.grad, bad = grad_norms(model)
                self._flag(st, bad, "grads")
                traits["_diagnostics"] = None
            # While running: on the time throttle. When the outermost bar closes: once more, so
            # the panel ends on the final weights.
            due = now - st.last_hist >= self.hist_every if self.hist_every is not None else False
            if self.hist_every is not None and (due or not running):
                st.last_hist = now
                traits.update(self._hist_traits(model, st))
                if self._flag(st, st.bad_weights, "weights") or (
                        not self.grad_norms and self._flag(st, first_nonfinite(model, grads=True), "grads")):
                    traits["_diagnostics"] = None

    @staticmethod
    def _flag(st: _TrainingState, path: str | None, where: str) -> bool:
        """Remember the first layer where NaN/Inf appeared (the first report wins)."""
        if path is None or st.nonfinite["where"] is not None:
            return False
        st.nonfinite.update(first_layer=path, where=where)
        return True

    def _diagnostics_state(self, st: _TrainingState) -> dict[str, Any]:
        state: dict[str, Any] = {"nonfinite": dict(st.nonfinite)}
        if self.grad_norms:
            state["grad_norms"] = dict(st.grad)
        if self.activations:
            state["activations"] = dict(st.acts)
        return state

    def _hist_traits(self, model: Any, st: _TrainingState) -> dict[str, Any]:
        """Fresh weight histograms (on device, one sync) plus the bounded history."""
        from ..stats import weight_snapshot

        snapshot = weight_snapshot(model, bins=getattr(self, "_bins", 64))
        # NaN/Inf weights: the snapshot counted them already (no second pass over the weights).
        st.bad_weights = next((r["owners"][0] if r["owners"] else "" for r in snapshot.records
                               if r["nan"] or r["inf"]), None)
        x = st.log.last_step if st.log.last_step is not None else float(len(st.hist))
        items = st.hist.items()
        if items and items[-1][1].shape != tuple(snapshot.counts.shape):
            st.hist = BoundedHistory(keep_exact=st.hist.keep_exact)  # the model's tensors changed
            items = []
        item = (x, np.asarray(snapshot.counts, np.uint32), np.asarray(snapshot.ranges, np.float64))
        if items and items[-1][0] == x and st.log.last_step is not None:
            st.hist.replace_last(item)  # no step since the last snapshot: one column per step
        else:
            st.hist.extend([item])
        items = st.hist.items()
        traits: dict[str, Any] = {"_hist_history": {
            "steps": array_to_wire(np.array([i[0] for i in items], np.float64)),
            "counts": array_to_wire(np.stack([i[1] for i in items], axis=1)),
            "range": array_to_wire(np.stack([i[2] for i in items], axis=1)),
        }}
        if self.has_trait("_hist") and self.has_trait("_params"):
            version = getattr(self, "_hist_version", 0) + 1
            self._hist_version = version
            traits["_hist"] = hist_state(snapshot, version)
            traits["_params"] = snapshot.records
        return traits


def metrics_state(log: MetricLog) -> dict[str, Any]:
    """The ``_metrics`` trait: ``{name: {"step", "value", "epoch_level"}}``."""
    return {
        name: {
            "step": array_to_wire(x, "float64"),
            "value": array_to_wire(y, "float64"),
            "epoch_level": epoch_level,
        }
        for name, (x, y, epoch_level) in log.series().items()
    }


def hist_state(snapshot: Any, version: int) -> dict[str, Any]:
    """The ``_hist`` trait: counts and ranges as binary buffers, never raw weights."""
    return {
        "bins": snapshot.bins,
        "counts": array_to_wire(snapshot.counts, "uint32"),
        "range": array_to_wire(snapshot.ranges, "float64"),
        "version": int(version),
    }
