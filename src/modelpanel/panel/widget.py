"""ModelPanel: the anywidget class that shows a PyTorch model in a notebook.

This module is the thin composition point between the torch side and the views:

- ``summary.py`` turns the model into a :class:`~modelpanel.summary.Summary`;
- ``stats.py`` turns its weights into statistics and binned histograms;
- this class copies both into private synced traits (see ``docs/widget-state.md``),
  batches writes with ``hold_sync`` and routes the view's custom messages to
  ``_on_msg_<kind>`` methods (the training and inference mixins add theirs).

The panel holds the model only by weak reference: deleting the model frees it, and the panel
then says so instead of keeping half a gigabyte of weights alive behind the user's back.
"""

from __future__ import annotations

import os
import pathlib
import weakref
from importlib.resources import files
from typing import Any

import anywidget
import traitlets
from torch import nn

from ..errors import ModelPanelError, format_exception
from ..stats import weight_snapshot
from ..summary import Summary, summarize
from .html import render_page, render_snapshot
from .inference import InferenceMixin
from .training import TrainingMixin, hist_state

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

# Keyword arguments ModelPanel itself understands (besides the model); anything else is a typo
# we would rather report than silently ignore. "layout" is ipywidgets' own sizing hook.
VALID_KWARGS = (
    "input_size",
    "input_data",
    "device",
    "dtypes",
    "bins",
    "eval_data",
    "layout",
)


class PanelCore(anywidget.AnyWidget):
    """The core of :class:`ModelPanel`: layer tree, parameter table, weight histograms.

    The training and inference mixins are composed on top of it below; use ``ModelPanel``.

    >>> panel = ModelPanel(model, input_size=(1, 4))   # doctest: +SKIP
    >>> panel                                           # last expression in a cell: the widget
    >>> panel.summary.total_params                      # the same Summary as summarize()
    >>> panel.refresh()                                 # re-read the weights after training

    Args:
        model: the ``torch.nn.Module`` to show. Held by weak reference only.
        input_size: shape(s) of a random input for the shape-capturing forward pass.
        input_data: a real input instead (tensor, tuple/list of tensors, or dict of kwargs).
        device: device of the tensors built from ``input_size``. The model is not moved.
        dtypes: dtypes of the tensors built from ``input_size`` (default float32).
        bins: number of histogram bins per parameter tensor.
        eval_data: ``(X, y)`` or ``X`` for the inference view (needs the inference mixin).
        layout: ipywidgets ``Layout`` for the widget's outer box.
    """

    if (_STATIC / "widget.js").is_file():
        # A Path, not its text: anywidget then watches the file (hot reload with ANYWIDGET_HMR=1).
        _esm = _STATIC / "widget.js"
    else:
        _esm = _MISSING_BUNDLE_ESM
    if (_STATIC / "widget.css").is_file():
        _css = _STATIC / "widget.css"

    _summary = traitlets.Dict().tag(sync=True)
    _params = traitlets.List().tag(sync=True)
    _hist = traitlets.Dict().tag(sync=True)
    _error = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        model: nn.Module,
        input_size: Any = None,
        input_data: Any = None,
        *,
        device: Any = None,
        dtypes: Any = None,
        bins: int = 64,
        eval_data: Any = None,
        **kwargs: Any,
    ) -> None:
        valid = self._valid_kwargs()
        unknown = sorted(k for k in kwargs if k not in valid)
        if unknown:
            raise TypeError(
                f"ModelPanel() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                f"valid ones are: {', '.join(valid)}"
            )
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"ModelPanel expects a torch.nn.Module, got {type(model).__name__}. "
                "Pass the model object itself, e.g. ModelPanel(model, input_size=(1, 4))."
            )
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise TypeError(f"bins must be a positive int, got {bins!r}")
        if isinstance(eval_data, (tuple, list)) and len(eval_data) not in (1, 2):
            raise TypeError(
                f"eval_data must be X or (X, y), got a {type(eval_data).__name__} of "
                f"{len(eval_data)} items; call panel.set_eval_data(X, y, labels=...) for labels"
            )

        # Everything that can fail on bad input runs before the widget opens its comm, so a
        # mistake leaves neither a half-built widget in the front end nor a changed model.
        summary = summarize(model, input_size, input_data, device=device, dtypes=dtypes)
        snapshot = weight_snapshot(model, bins=bins)

        self._model_ref = weakref.ref(model)
        self._summary_obj = summary
        self._bins = bins
        self._hist_version = 0
        # Initial values go through the constructor so the comm_open message carries them:
        # one message for the whole first state.
        super().__init__(
            _summary=self._summary_state(model),
            _params=snapshot.records,
            _hist=hist_state(snapshot, self._hist_version),
            **kwargs,
        )
        self.on_msg(self._dispatch_msg)
        if eval_data is not None:
            set_eval_data = getattr(self, "set_eval_data", None)
            try:
                if set_eval_data is None:
                    raise TypeError(
                        "eval_data needs ModelPanel's inference support, which is not installed"
                    )
                if isinstance(eval_data, (tuple, list)):
                    set_eval_data(*eval_data)
                else:
                    set_eval_data(eval_data)
            except BaseException:
                # The comms are open by now: close them, or every failed attempt leaves widgets
                # registered in the kernel that nobody can reach (the default Layout is one;
                # a Layout the user passed stays theirs).
                layout = self.layout
                self.close()
                if "layout" not in kwargs:
                    layout.close()
                raise

    @classmethod
    def _valid_kwargs(cls) -> tuple[str, ...]:
        """Our keywords plus those the mixins take out before us (their ``_*_KWARGS`` tuples).

        The mixins pop their own keywords in their ``__init__``, so they never reach the check
        above; listing them keeps the error message complete for the composed class.
        """
        extra: list[str] = []
        for klass in cls.__mro__:
            for name, value in vars(klass).items():
                if name.startswith("_") and name.endswith("_KWARGS") and isinstance(value, tuple):
                    extra.extend(v for v in value if isinstance(v, str))
        return tuple(dict.fromkeys((*VALID_KWARGS, *extra)))

    # -- the model and its summary -------------------------------------------------------------

    @property
    def summary(self) -> Summary:
        """The :class:`~modelpanel.summary.Summary` the panel shows (as ``summarize`` returns)."""
        return self._summary_obj

    def _model(self) -> nn.Module:
        """The model, or a clear error when the user has deleted it since."""
        model = self._model_ref()
        if model is None:
            raise ModelPanelError(
                "the model was deleted, so this panel can no longer read it. Keep a reference "
                "to the model while you use the panel, or create a new ModelPanel(model, ...)."
            )
        return model

    def _summary_state(self, model: nn.Module) -> dict[str, Any]:
        """The ``_summary`` trait: the captured summary with the live mode, devices and dtypes.

        Shapes and call counts come from the capture; whether the model is in train or eval
        mode, and where its tensors live, can change later, so those are read now.
        """
        state = dict(self._summary_obj.to_dict())
        state["training"] = bool(model.training)
        tensors = [*model.parameters(), *model.buffers()]
        if tensors:
            state["devices"] = sorted({str(t.device) for t in tensors})
            state["dtypes"] = sorted({str(t.dtype).removeprefix("torch.") for t in tensors})
        return state

    def refresh(self) -> None:
        """Re-read the weights (and the train/eval flag and devices) and update every view.

        All traits change in one message, so the views never show new histograms next to old
        statistics.
        """
        model = self._model()
        snapshot = weight_snapshot(model, bins=self._bins)
        self._hist_version += 1
        self._publish(
            _summary=self._summary_state(model),
            _params=snapshot.records,
            _hist=hist_state(snapshot, self._hist_version),
        )

    # -- state out --------------------------------------------------------------------------------

    def _publish(self, **traits: Any) -> None:
        """Write several synced traits as one update message (mixins use this too)."""
        for name in traits:
            if not self.has_trait(name):
                raise AttributeError(f"ModelPanel has no trait {name!r}")
        with self.hold_sync():
            for name, value in traits.items():
                setattr(self, name, value)

    def _static_state(self) -> dict[str, Any]:
        """The widget's state as plain data, for a static (kernel-less) rendering.

        Keys: summary, params, hist, metrics, eval_result; see ``snapshot.render_snapshot``.
        Traits the training / inference mixins add are read only when present.
        """
        return {
            "summary": self._summary,
            "params": self._params,
            "hist": self._hist,
            "metrics": getattr(self, "_metrics", {}) or {},
            "eval_result": getattr(self, "_eval_result", None),
        }

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget view, plus text for ``text/plain`` (consoles, logs, nbconvert)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        # Beside the widget view: text for consoles and CI logs, and a static HTML snapshot for
        # GitHub, nbviewer and nbconvert, where widgets do not render. Neither may hide the widget.
        try:
            data["text/plain"] = self._plain_text()
        except Exception:  # noqa: BLE001
            pass
        try:
            data["text/html"] = render_snapshot(self._static_state())
        except Exception:  # noqa: BLE001
            pass
        return data, metadata

    def save_html(self, path: str | os.PathLike[str], *, title: str | None = None) -> pathlib.Path:
        """Write the current panel (tree, table, histograms, curves, evaluation) as one HTML file.

        The page is self-contained: no scripts, no network, so it opens offline in any browser
        and can be attached to a report or handed to students. Returns the path written.
        """
        target = pathlib.Path(path)
        name = title or f"modelpanel: {self._summary.get('model_kind', 'model')}"
        target.write_text(render_page(self._static_state(), title=name), encoding="utf-8")
        return target

    def _plain_text(self) -> str:
        """The text table when it is free, else a one-line summary.

        ``str(Summary)`` counts MACs first, which is a second forward pass: 4 s for the
        2,000-layer stack. Displaying the widget must not run the user's model, so the table
        is used only once the MACs are known (``panel.summary.macs`` was read).
        """
        summary = self._summary_obj
        if summary.macs_counted:
            return str(summary)
        return f"{summary!r}\nprint(panel.summary) for the layer table (it counts MACs with one more forward)"

    # -- messages in ------------------------------------------------------------------------------

    def _dispatch_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        """Route ``{"kind": k, "id": ..}`` from the view to ``self._on_msg_<k>`` and reply.

        The reply carries the same id: ``{"kind": "<k>_reply", "id": .., "ok": True, **result}``,
        or ``ok: False`` with a readable ``error``, which also goes to the ``_error`` trait so
        the view can show it next to the widget instead of losing it in the kernel log.
        """
        if not isinstance(content, dict) or not isinstance(content.get("kind"), str):
            return  # not one of ours (anywidget's own commands use other shapes)
        kind = content["kind"]
        if kind.startswith("anywidget-") or kind.endswith("_reply"):
            return
        reply: dict[str, Any] = {"kind": f"{kind}_reply", "id": content.get("id")}
        handler = getattr(self, f"_on_msg_{kind}", None) if kind.isidentifier() else None
        if handler is None:
            known = sorted(
                n.removeprefix("_on_msg_") for n in dir(self) if n.startswith("_on_msg_")
            )
            message = f"unknown message kind {kind!r}; this panel understands: {', '.join(known) or 'none'}"
            self._error = message
            self.send({**reply, "ok": False, "error": message})
            return
        try:
            result = handler(content, buffers) or {}
        except Exception as exc:  # noqa: BLE001 - every failure must reach the view, not the log
            message = format_exception(exc)
            self._error = message
            self.send({**reply, "ok": False, "error": message})
            return
        self._error = ""
        self.send({**result, **reply, "ok": True})  # the id cannot be clobbered

    def _on_msg_refresh(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """The view's refresh button: re-read the weights."""
        self.refresh()
        return {"version": self._hist_version}


class ModelPanel(TrainingMixin, InferenceMixin, PanelCore):
    """An interactive view of a PyTorch model you can explore and watch.

    The layer tree, parameter table and weight histograms (:class:`PanelCore`), live training
    (:class:`~modelpanel.panel_training.TrainingMixin`: ``progress``, ``log``, ``watch``) and
    eval-mode inference (:class:`~modelpanel.panel_inference.InferenceMixin`: ``evaluate``,
    ``predict``, ``set_eval_data``). TrainingMixin comes first: its ``__init__`` takes its own
    keywords out before the core rejects unknown ones, and its ``close`` removes hooks first.

    >>> panel = ModelPanel(model, input_size=(1, 4))            # doctest: +SKIP
    >>> for epoch in panel.progress(range(20), desc="epoch"):   # doctest: +SKIP
    ...     panel.log(loss=loss)
    >>> panel.evaluate(X_test, y_test, device="cpu").accuracy   # doctest: +SKIP
    """
