"""ModelPanel: the one anywidget class that shows a PyTorch model in a notebook.

Every synced trait is declared here, with what it holds (the contract is
docs/widget-state.md, mirrored by js/src/model.ts). The work is delegated:

- ``summary`` turns the model into a :class:`~modelpanel.summary.Summary`;
- ``stats`` turns its weights into statistics and binned histograms;
- :class:`~modelpanel.panel.training.TrainingSession` runs the live training view;
- :class:`~modelpanel.panel.inference.EvalRunner` runs evaluations;
- ``messages.dispatch`` routes the view's ``{kind, id}`` requests.

The panel holds the model only by weak reference: deleting the model frees it, and the panel
then says so instead of keeping half a gigabyte of weights alive behind the user's back.
"""

from __future__ import annotations

import inspect
import os
import pathlib
import weakref
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

import anywidget
import ipywidgets
import torch
import traitlets
from torch import nn

from .._core.devices import available_devices
from .._core.gc import gc_paused
from .._core.walk import unwrap
from ..errors import ForwardError, InputError, ModelPanelError
from ..inference import EvalResult
from ..summary import Summary
from ..summary.partial import summarize_or_partial
from ..training.progress import PanelTqdm
from .html import MAX_PARAM_ROWS, render_page, static_state
from .i18n import normalize_language
from .inference import EvalRunner
from .job import JobLink, worker_for
from .messages import dispatch
from .snapshot import SnapshotOutputs, snapshot_bundle, with_snapshot
from .state import summary_state, weight_records
from .training import TrainingSession

__all__ = ["ModelPanel"]

# The package's static/ folder, wherever the package is installed (a Path for a normal or
# editable install, which anywidget needs to watch the file for hot reload).
_STATIC = pathlib.Path(str(files("modelpanel") / "static"))

# Shown instead of the widget when the bundle was never built (a source checkout without npm):
# anywidget would otherwise fail at import time with a bare FileNotFoundError.
_MISSING_BUNDLE_ESM = """
export default {
  render({ el }) {
    const p = document.createElement("pre");
    p.textContent = "modelpanel: the widget bundle src/modelpanel/static/widget.js is missing. " +
      "Build it with: cd js && npm ci && npm run build (or: bash scripts/dev.sh setup), " +
      "then restart the kernel.";
    el.appendChild(p);
  },
};
"""


class ModelPanel(anywidget.AnyWidget):
    """An interactive view of a PyTorch model you can explore and watch.

    The layer tree, parameter table and weight histograms; live training (:meth:`progress`,
    :meth:`log`, :meth:`watch`); eval-mode inference (:meth:`evaluate`, :meth:`predict`,
    :meth:`set_eval_data`). The last expression of a cell shows it.

    >>> panel = ModelPanel(model, input_size=(1, 4))            # doctest: +SKIP
    >>> for epoch in panel.progress(range(20), desc="epoch"):   # doctest: +SKIP
    ...     panel.log(loss=loss)
    >>> panel.evaluate(X_test, y_test, device="cpu").accuracy   # doctest: +SKIP

    Args:
        model: the ``torch.nn.Module`` to show, held by weak reference only. torch.compile,
            DataParallel, DDP and FSDP wrappers are shown as the model inside them.
        input_size: shape(s) of a random input for the one shape-capturing forward pass, batch
            first, e.g. ``(1, 4)``, or a list of shapes for several inputs. Without
            ``input_size``/``input_data`` no forward runs and shapes are unknown.
        input_data: a real input instead: a tensor, a tuple/list of positional arguments, or a
            dict of keyword arguments.
        device: where that forward runs. None: where the model is. A model on one other device
            is moved there for the pass and put back (its original storage, bit-exact); a
            model spread over several devices is never moved.
        dtypes: dtypes of the ``input_size`` tensors (one, or one per shape); by default the
            model's floating dtype. ``[torch.long]`` for token ids.
        mode: the train/eval mode of that forward: ``"eval"`` (default; every module in eval
            mode), ``"train"`` (every module in train mode, so train-only branches such as
            Inception's ``AuxLogits`` show their shapes) or ``"same"`` (the model's own flags).
            Flags, BatchNorm statistics and the global random state are put back after it;
            the tree marks a module that did not run "not called in eval mode" or "never
            called" (see :func:`~modelpanel.summarize`).
        trace: how that forward runs: ``"auto"`` (default), ``"fake"`` (shapes and MACs from
            a FakeTensorMode forward that computes no value) or ``"real"``, as in
            :func:`~modelpanel.summarize`; ``panel.summary.trace`` says which ran. Fake-traced
            panels show MACs at once.
        bins: histogram bins per parameter tensor (default 64).
        eval_data: ``X`` or ``(X, y)`` for the inference view's Run button (see
            :meth:`set_eval_data`).
        hist_every, grad_norms, activations: what is watched during training (see :meth:`watch`).
        language: the language of the panel's words: ``"en"`` or ``"zh-CN"`` (Simplified
            Chinese; also spelt ``"zh"``, ``"zh_CN"``). None (default): JupyterLab's or
            Notebook 7's display language (Settings > Language, with a language pack such as
            jupyterlab-language-pack-zh-CN), English elsewhere. Error messages stay English.
            Changeable later: ``panel.language = "zh-CN"``.
        layout: ipywidgets ``Layout`` for the widget's outer box.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``, ``bins`` is not a positive int, or
            ``eval_data`` is not ``X`` or ``(X, y)``.
        InputError: the input has the wrong form (the message lists the accepted ones),
            ``mode`` is not "eval", "train" or "same", ``trace`` is not "auto", "fake" or
            "real", or ``language`` is not supported (the
            message lists the supported ones).
        DeviceError: ``device`` is unknown or unavailable (the message lists what is).

    These are mistakes in the call, found before any forward. A forward that raises (a wrong
    ``input_size``, a bug in the model) does not: the panel shows the tree with every
    parameter count, the shapes of the modules that ran before the failure, the failing module
    marked "failed here" and the ForwardError's message (what the module got, what it expects);
    :attr:`error` holds the exception. (``summarize`` raises it instead.)

    The model is left exactly as it was found (modes, grad mode, parameters, buffers,
    devices), also when the forward raises.
    """

    if (_STATIC / "widget.js").is_file():
        # A Path, not its text: anywidget then watches the file (hot reload with ANYWIDGET_HMR=1).
        _esm = _STATIC / "widget.js"
    else:
        _esm = _MISSING_BUNDLE_ESM
    if (_STATIC / "widget.css").is_file():
        _css = _STATIC / "widget.css"

    # -- synced traits: written by the kernel only (docs/widget-state.md) ----------------------
    _summary = traitlets.Dict(help="Summary.totals() with the live train flag, and the layers as columns").tag(sync=True)
    _params = traitlets.Dict(help="the static facts of each parameter tensor, as columns").tag(sync=True)
    _param_stats = traitlets.Dict(help="mean/std/min/max and NaN/Inf counts of every tensor, as buffers").tag(sync=True)
    _hist = traitlets.Dict(help="binned counts and ranges of the tensors the views draw, as buffers").tag(sync=True)
    _error = traitlets.Unicode("", help="the last failure to show next to the widget").tag(sync=True)
    _language = traitlets.Unicode("", help='"en", "zh-CN", or "": the front end\'s display language').tag(sync=True)
    _progress = traitlets.List(help="the live progress bars (tqdm format_dict records)").tag(sync=True)
    _metrics = traitlets.Dict(help="metric points new since the last message (appends, numbered)").tag(sync=True)
    _diagnostics = traitlets.Dict(help="grad norms, activation statistics, first NaN/Inf").tag(sync=True)
    _devices = traitlets.List(traitlets.Unicode(), help="devices the Run button offers").tag(sync=True)
    _eval_data = traitlets.Dict(allow_none=True, default_value=None, help="what set_eval_data holds").tag(sync=True)
    _eval_result = traitlets.Dict(allow_none=True, default_value=None, help="the last EvalResult").tag(sync=True)
    _eval_running = traitlets.Bool(False, help="an evaluation is running").tag(sync=True)
    _macs_progress = traitlets.Dict(allow_none=True, default_value=None,
                                    help="the MAC pass's module calls done / total while it runs").tag(sync=True)
    _job = traitlets.Dict(allow_none=True, default_value=None,
                          help="the distributed job as last reported (panel.job); None: one process").tag(sync=True)

    # -- public settings (not synced) -------------------------------------------------------------
    hist_every = traitlets.Float(2.0, allow_none=True, help="seconds between weight histograms while a loop runs; None: off")
    grad_norms = traitlets.Bool(False, help="per-layer gradient norms at each diagnostics refresh")
    activations = traitlets.Bool(False, help="per-layer activation mean/std/zero fraction (forward hooks while a loop runs)")
    diag_every = traitlets.Float(1.0, help="seconds between diagnostics refreshes (grad norms, activations)")
    metric_points = traitlets.Int(1000, help="points kept exact per metric (older ones thinned)")
    hist_snapshots = traitlets.Int(64, help="weight-histogram snapshots kept (served on request)")
    job_timeout = traitlets.Float(60.0, help="seconds the ranks of a distributed job wait for each other at a refresh")

    def __new__(cls, *args: Any, **kwargs: Any) -> ModelPanel:
        # Python's own error for a misspelt keyword names only the bad one: name the valid ones
        # too (``input_shape=`` -> input_size, input_data, ...).
        valid = list(_SIGNATURE.parameters)
        unknown = sorted(k for k in kwargs if k not in valid)
        if unknown:
            raise TypeError(
                f"ModelPanel() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                f"valid ones are: {', '.join(valid[1:])}"
            )
        return super().__new__(cls, *args, **kwargs)

    def __init__(
        self,
        model: nn.Module,
        input_size: Any = None,
        input_data: Any = None,
        *,
        device: str | int | torch.device | None = None,
        dtypes: torch.dtype | Iterable[torch.dtype] | None = None,
        mode: str = "eval",
        trace: str = "auto",
        bins: int = 64,
        eval_data: Any = None,
        hist_every: float | None = 2.0,
        grad_norms: bool = False,
        activations: bool = False,
        language: str | None = None,
        layout: ipywidgets.Layout | None = None,
    ) -> None:
        """Build the panel; the arguments and errors are in the class docstring (help(ModelPanel))."""
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"ModelPanel expects a torch.nn.Module, got {type(model).__name__}. "
                "Pass the model object itself, e.g. ModelPanel(model, input_size=(1, 4))."
            )
        if isinstance(bins, bool) or not isinstance(bins, int):
            raise TypeError(f"bins must be a positive int, got {bins!r}")
        if bins < 1:
            raise InputError(f"bins must be a positive int, got {bins}; try bins=64")
        language = normalize_language(language)
        if isinstance(eval_data, (tuple, list)) and len(eval_data) not in (1, 2):
            raise TypeError(
                f"eval_data must be X or (X, y), got a {type(eval_data).__name__} of "
                f"{len(eval_data)} items; call panel.set_eval_data(X, y, labels=...) for labels"
            )

        # Thousands of small objects (rows, columns): see _core/gc.py.
        with gc_paused():
            # Everything that can fail on bad input runs before the widget opens its comm, so a
            # mistake leaves neither a half-built widget in the front end nor a changed model.
            summary, self._forward_error = summarize_or_partial(model, input_size, input_data, device=device,
                                                                dtypes=dtypes, mode=mode, trace=trace)
            summary._hold_weakly()
            # Weak references: the panel must not keep a deleted model (and its GPU memory)
            # alive. The module inside any wrapper is what the user keeps; the wrapper (a
            # torch.compile'd model runs faster) is used while it lives.
            self._model_ref = weakref.ref(unwrap(model))
            self._wrapper_ref = weakref.ref(model)
            self._summary_obj = summary
            self._snapshots = SnapshotOutputs(lambda: snapshot_bundle(self), self._set_error)
            self._training = TrainingSession(self._publish, self._model, bins=bins,
                                             metric_points=1000, hist_snapshots=64)
            self._link = JobLink(self)
            self._runner = EvalRunner(self._publish, self._model, summary, self.progress)
            self._handlers = {
                "refresh": self._on_refresh,
                "evaluate": self._runner.on_run,
                "count_macs": self._on_count_macs,
                "hist_watch": self._training.on_hist_watch,
                "hist_history": self._training.on_hist_history,
                "metrics_history": self._training.on_metrics_history,
            }
            # The first display draws the first few histograms (and the static snapshot the
            # first MAX_PARAM_ROWS): the others are binned when a view asks, or at the first
            # training refresh. Binning is half the cost of the statistics of 4,000 tensors.
            weights = self._training.weight_traits(model, full=True, histograms=MAX_PARAM_ROWS)
            kwargs: dict[str, Any] = {} if layout is None else {"layout": layout}
            # Initial values go through the constructor so the comm_open message carries them:
            # one message for the whole first state.
            super().__init__(_summary=self._summary_state(model), _devices=available_devices(),
                             _language=language or "", **weights, **kwargs)
            self._training.language = self._language
        self.on_msg(self._on_msg)
        # MACs counted from code (panel.summary.macs, print(panel.summary)) reach the header too.
        summary._macs_listener = weakref.WeakMethod(self._on_macs_counted)
        summary._macs_progress = weakref.WeakMethod(self._on_macs_progress)
        self.watch(hist_every=hist_every, grad_norms=grad_norms, activations=activations)
        if eval_data is not None:
            try:
                if isinstance(eval_data, (tuple, list)):
                    self.set_eval_data(*eval_data)
                else:
                    self.set_eval_data(eval_data)
            except BaseException:
                # The comms are open by now: close them, or every failed attempt leaves widgets
                # registered in the kernel that nobody can reach (the default Layout is one;
                # a Layout the user passed stays theirs).
                own_layout = self.layout
                self.close()
                if layout is None:
                    own_layout.close()
                raise

    # -- what the panel shows, for code ----------------------------------------------------------

    @property
    def summary(self) -> Summary:
        """The :class:`~modelpanel.summary.Summary` the panel shows (as ``summarize`` returns)."""
        return self._summary_obj

    @property
    def error(self) -> ForwardError | None:
        """The ForwardError the shape-capturing forward raised; None when it ran (or no input).

        The panel shows the model up to the failure instead of raising; ``str(panel.error)``
        is the message it shows, ``panel.error.module_path`` the failing module's tree path
        (``""``: the root), ``panel.error.__cause__`` the model's own exception. It carries no
        traceback, whose frames would keep the model and its input alive: ``summarize`` with
        the same arguments raises it with one. Read-only: make a new panel with a corrected
        input to clear it.
        """
        return self._forward_error

    @property
    def language(self) -> str | None:
        """The language of the panel's words, ``"en"`` or ``"zh-CN"``; None: the front end's
        display language. Set it to switch: the views redraw in the new language (a spelling
        such as ``"zh"`` is normalised; InputError lists the supported ones)."""
        return self._language or None

    @language.setter
    def language(self, value: str | None) -> None:
        self._language = normalize_language(value) or ""
        self._training.language = self._language

    @property
    def weights(self) -> list[dict[str, Any]]:
        """One record per parameter tensor (tied tensors once), as last refreshed.

        Keys: ``name`` (first qualified name), ``layer`` (tree path of the module that holds
        it; ``""`` for the root), ``shape`` (list of ints), ``numel``, ``dtype``, ``device``,
        ``trainable``, ``mean``, ``std`` (population, numpy's ddof=0), ``min``, ``max`` (over the
        finite values; None when there is none) and ``nan``, ``inf`` (counts; None for a
        tensor that holds no values: on the meta device, or lazy), ``nbytes``
        (as stored) and ``note`` ("" for a plain tensor; otherwise what it is: quantized and
        packed (statistics of the dequantized values), complex (statistics of magnitudes),
        meta (no values), lazy (not materialised until the first forward: shape ``[]``,
        numel 0), parametrized). Read-only copies: refreshed by :meth:`refresh` and, during
        training, every ``hist_every`` s.
        """
        return weight_records(self._training.snapshot)

    @property
    def layer_stats(self) -> dict[str, dict[str, Any]]:
        """Tree path -> the latest ``grad_norm`` (L2, of the parameters the module holds) and
        activation ``mean``, ``std`` and ``zero_frac`` (of its output), for the statistics
        :meth:`watch` turned on; empty otherwise. Updated every ``diag_every`` s during a loop.
        """
        return self._training.layer_stats()

    @property
    def history(self) -> dict[str, list[tuple[float, float]]]:
        """Metric name -> ``[(step, value), ...]`` as the charts show them (older points thinned
        beyond ``metric_points``); epoch-level twins of a step metric are named ``"<name> (epoch)"``.
        Reading it reads any values still queued on the device (one transfer).
        """
        self._training.log.drain()
        return {name: list(zip(x.tolist(), y.tolist()))
                for name, (x, y, _) in self._training.log.series().items()}

    @property
    def job(self) -> dict[str, Any] | None:
        """The torch.distributed job this panel follows, as last reported; None for one process.

        Set once ranks forked from this kernel (``torch.multiprocessing.start_processes(...,
        start_method="fork")``, accelerate's ``notebook_launcher``) use the panel: keys
        ``world_size``, ``backend``, ``state`` ("running", "done", "failed"), ``step`` (the
        last logged step), ``unit`` and ``rates`` (each rank's steps/s, its innermost bar's
        tqdm rate; None before it has one), ``slowest`` (rank with the lowest rate),
        ``metrics`` (name -> each rank's latest value; :attr:`history` holds the means over
        ranks), ``grad_norm`` (the global L2 norm of the full gradients at the last
        diagnostics refresh, with ``grad_norms`` watched) and ``failure`` (None, or ``rank``,
        ``type`` and ``message`` of the rank's exception). :attr:`weights` then holds the whole
        model's statistics, combined over ranks. A copy.
        """
        return None if self._link.job is None else dict(self._link.job)

    def refresh(self) -> None:
        """Re-read the weights (and the train/eval flag and devices) and update every view.

        All traits change in one message, so the views never show new histograms next to old
        statistics. In a rank of a distributed job: a combined refresh, which every rank must
        call.
        """
        worker = self._worker()
        if worker is not None:
            worker.sync(final=True)
            return
        model = self._model()
        self._publish(_summary=self._summary_state(model), **self._training.weight_traits(model, full=True))

    # -- training ------------------------------------------------------------------------------

    def progress(self, iterable: Iterable[Any] | None = None, desc: str | None = None, *,
                 total: float | None = None, leave: bool = True, unit: str = "it",
                 **tqdm_kwargs: Any) -> PanelTqdm:
        """A ``tqdm`` progress bar drawn inside the panel; use it exactly like ``tqdm``.

        Arguments in tqdm's order (``iterable``, ``desc``, then keywords): ``total``, ``leave``,
        ``unit`` and tqdm's other keywords (``mininterval``, ``postfix``, ...), except ``file``
        and ``gui``. ``update(n)``, ``set_postfix`` (0-d tensors allowed, read only when
        drawn), ``set_description``, ``close``, ``with ... as pbar`` and ``for x in ...``
        behave as tqdm documents. Nested bars show one per level. The widget is updated at
        most every ``mininterval`` seconds (tqdm's keyword, default 0.1).

        Raises InputError for ``file=``/``gui=``, a non-string ``desc`` or a bad ``mininterval``.
        """
        self._worker()
        return self._training.progress(iterable, desc, total, leave, unit, tqdm_kwargs)

    def log(self, step: int | None = None, epoch: int | None = None, **metrics: Any) -> None:
        """Record metrics: ``panel.log(loss=loss, acc=0.9)``, optionally at ``step=`` / ``epoch=``.

        Values are Python numbers or one-element tensors. Tensors are detached and kept on
        their device until the next refresh, which reads all pending values in one transfer:
        logging every step costs no device sync. Without ``step=`` each call is the next
        step. A call with ``epoch=`` and no ``step=`` goes to an epoch-level series.
        Raises InputError for a value that is not a number.
        """
        if self._training.worker is None:
            self._worker()
        self._training.record(step, epoch, metrics)

    class _Unchanged:
        def __repr__(self) -> str:
            return "unchanged"

    _UNSET: Any = _Unchanged()

    def watch(self, *, hist_every: Any = _UNSET, grad_norms: Any = _UNSET,
              activations: Any = _UNSET) -> ModelPanel:
        """Configure what is watched during training; returns the panel.

        ``hist_every``: seconds between weight-histogram refreshes during progress (``None``:
        off). ``grad_norms``: per-layer gradient norms read from ``.grad`` at each
        diagnostics refresh. ``activations``: per-layer activation statistics via forward
        hooks, attached only while a progress loop runs. Raises InputError for bad values.
        """
        if hist_every is not self._UNSET:
            if hist_every is not None and (isinstance(hist_every, bool)
                                           or not isinstance(hist_every, (int, float))
                                           or hist_every <= 0):
                raise InputError(f"hist_every must be a positive number of seconds or None, got {hist_every!r}")
            self.hist_every = None if hist_every is None else float(hist_every)
        self._worker()
        for name, value in (("grad_norms", grad_norms), ("activations", activations)):
            if value is not self._UNSET:
                if not isinstance(value, bool):
                    raise InputError(f"{name} must be True or False, got {value!r}")
                setattr(self, name, value)
        if not self.activations:
            self._training.stop_watching()
        elif self._training.board.running():
            self._training.start_watching()
        return self

    @traitlets.observe("hist_every", "grad_norms", "activations", "diag_every")
    def _settings_changed(self, change: Any) -> None:
        setattr(self._training, change["name"], change["new"])

    @traitlets.validate("metric_points")
    def _valid_metric_points(self, proposal: Any) -> int:
        # Checked before the trait changes: a bad value would otherwise be kept and then fail
        # every later log() with an error about an internal "keep_exact".
        if proposal["value"] < 2:
            raise InputError(f"metric_points must be at least 2, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("metric_points", "hist_snapshots")
    def _bounds_changed(self, change: Any) -> None:
        # Applied to the histories already kept: they shrink on their next append.
        if change["name"] == "metric_points":
            self._training.log.set_keep_exact(self.metric_points)
        else:
            self._training.hist.keep_exact = max(2, self.hist_snapshots // 2)

    def clear_history(self) -> None:
        """Forget logged metrics and histogram history (start a new training run's charts)."""
        self._training.clear()

    # -- inference -----------------------------------------------------------------------------

    def evaluate(self, data: Any, targets: Any = None, *, device: str | int | torch.device | None = None,
                 batch_size: int = 256, amp: bool | torch.dtype = False, metric: Any = None,
                 loss_fn: Any = None, topk: int = 5, labels: list[str] | None = None) -> EvalResult:
        """Evaluate the model on ``data`` and show the result in the inference view.

        The same arguments, result and errors as :func:`modelpanel.inference.evaluate`
        (InputError for data of the wrong form or shape, DeviceError, ForwardError). The model
        comes back exactly as it was (modes, grad mode, devices, values), also on error.
        """
        return self._runner.evaluate(data, targets, device=device, batch_size=batch_size, amp=amp,
                                     metric=metric, loss_fn=loss_fn, topk=topk, labels=labels)

    def predict(self, X: Any, *, device: str | int | torch.device | None = None,
                batch_size: int = 256, amp: bool | torch.dtype = False) -> torch.Tensor:
        """The model's outputs for ``X`` in eval mode, as one CPU tensor
        (see :func:`modelpanel.inference.predict`; the same errors as :meth:`evaluate`)."""
        return self._runner.predict(X, device=device, batch_size=batch_size, amp=amp)

    def set_eval_data(self, X: Any, y: Any = None, *, labels: list[str] | None = None) -> None:
        """Data for the view's Run button: tensors ``X`` (and targets ``y``), a Dataset or a
        DataLoader. Checked now (lengths, target types; InputError), so a mistake shows here
        rather than at the click. ``labels``: class names for the confusion matrix."""
        self._runner.set_data(X, y, labels)

    # -- the model and its state -----------------------------------------------------------------

    def _model(self) -> nn.Module:
        """The model (its wrapper while that lives), or a clear error once it was deleted."""
        model = self._wrapper_ref()
        if model is None:  # (not `or`: an empty nn.Sequential is falsy)
            model = self._model_ref()
        if model is None:
            raise ModelPanelError(
                "the model was deleted (nothing else refers to it): the panel holds it by weak "
                "reference only, so it never keeps a deleted model in memory. Keep it in a "
                "variable, e.g. model = IrisMLP(); panel = ModelPanel(model, ...), rather than "
                "ModelPanel(IrisMLP(), ...)."
            )
        return model

    def _summary_state(self, model: nn.Module) -> dict[str, Any]:
        """The ``_summary`` trait: the captured summary with the live train/eval flag.

        Shapes and call counts come from the capture; whether the model is in train or eval
        mode can change later, so it is read now.
        """
        return summary_state(self._summary_obj, bool(unwrap(model).training), self._forward_error)

    def _on_macs_counted(self) -> None:
        """The summary's MAC pass ran (from the view's button or from code): show the count."""
        try:
            model = self._model()
        except ModelPanelError:
            return
        self._publish(_summary=self._summary_state(model))

    def _on_macs_progress(self, done: int | None, total: int) -> None:
        """The MAC pass is running (module calls ``done`` of ``total``), or is over (None)."""
        self._publish(_macs_progress=None if done is None else {"done": done, "total": total})

    def _worker(self) -> Any:
        """This panel's worker role in a rank of a forked distributed job, else None (panel/job.py)."""
        return worker_for(self._training, self._link, self.job_timeout)

    def _publish(self, **traits: Any) -> None:
        """Write several synced traits as one update message (none from a forked rank: its
        records reach the kernel's panel through the job's channel)."""
        if self._training.worker is not None:
            return
        for name in traits:
            if not self.has_trait(name):
                raise AttributeError(f"ModelPanel has no trait {name!r}")
        with self.hold_sync():
            for name, value in traits.items():
                setattr(self, name, value)
        self._snapshots.published(traits)  # the saved notebook's copy follows (panel/snapshot.py)

    def close(self) -> None:
        """Remove every hook this panel added, then close the widget."""
        training = self.__dict__.get("_training")
        if training is not None:
            training.stop_watching()
        link = self.__dict__.get("_link")
        if link is not None:
            link.close()
        super().close()

    # -- messages in and views out -----------------------------------------------------------------

    def _on_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        dispatch(content, buffers, self._handlers, self.send, self._set_error)

    def _set_error(self, message: str) -> None:
        self._error = message

    def _on_count_macs(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """The MACs card's button: run the MAC pass; the count reaches ``_summary`` through
        ``_on_macs_counted`` before this reply does."""
        if self._forward_error is not None:
            raise ModelPanelError(
                "MACs cannot be counted: the model's forward fails (the message is above the tree); "
                "fix the input or the model, then make a new panel"
            )
        macs = self._summary_obj.macs
        if macs is None:
            raise InputError("MACs need an input: make the panel with input_size=(...) or input_data=...")
        return {"macs": macs}

    def _on_refresh(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """The view's refresh button: re-read the weights."""
        self.refresh()
        return {"version": self._training.hist_version}

    def _static_state(self) -> dict[str, Any]:
        """The widget's state as plain data, for a static rendering (see ``html.static_state``)."""
        return {**static_state(self._summary_obj, self._summary, self._training.snapshot,
                                self._training.log, self._eval_result), "language": self._language or "en"}

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget view, plus the static snapshot's ``text/plain`` and ``text/html``."""
        return with_snapshot(super()._repr_mimebundle_(**kwargs), lambda: snapshot_bundle(self))

    def _ipython_display_(self) -> None:
        """Two outputs: the view, and the snapshot a saved notebook keeps (panel/snapshot.py)."""
        self._snapshots.display(super()._repr_mimebundle_())

    def save_html(self, path: str | os.PathLike[str], *, title: str | None = None) -> pathlib.Path:
        """Write the current panel (tree, table, histograms, curves, evaluation) as one HTML file.

        The page is self-contained: no scripts, no network, so it opens offline in any browser
        and can be attached to a report or handed to students. Returns the path written.
        """
        target = pathlib.Path(path)
        name = title or f"modelpanel: {self._summary_obj.model_kind}"
        target.write_text(render_page(self._static_state(), title=name), encoding="utf-8")
        return target


# __new__ above takes (*args, **kwargs); Shift+Tab and inspect.signature show __init__'s.
_SIGNATURE = inspect.signature(ModelPanel.__init__)
_SIGNATURE = _SIGNATURE.replace(parameters=list(_SIGNATURE.parameters.values())[1:])
ModelPanel.__signature__ = _SIGNATURE  # type: ignore[attr-defined]
