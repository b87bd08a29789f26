"""InferenceMixin: eval-mode inference from the panel (Python calls and the view's Run button).

Mixed into the anywidget class ahead of it, e.g.
``class ModelPanel(TrainingMixin, InferenceMixin, BasePanel)``. It needs from that class
``self._model()`` (the module, or ModelPanelError) and ``self._publish(**traits)`` (several
synced traits in one message); the class routes the view's ``{"kind": "evaluate"}`` message to
:meth:`_on_msg_evaluate` and answers with a reply carrying the same id. When the class also
has ``progress`` (the training mixin's tqdm), long evaluations show a bar in the panel.

Traits (docs/widget-state.md, "Inference"): ``_devices``, ``_eval_data``, ``_eval_result``,
``_eval_running``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import traitlets

from .._core.devices import available_devices
from ..errors import InputError, ModelPanelError
from ..inference import EvalResult, check_labels, evaluate, predict
from ..inference.batches import make_batches
from .wire import array_to_wire

__all__ = ["InferenceMixin"]


class InferenceMixin(traitlets.HasTraits):
    """Evaluate the panel's model and show the result in its inference view.

    >>> panel.set_eval_data(X_test, y_test)          # the view's Run button uses it  # doctest: +SKIP
    >>> r = panel.evaluate(X_test, y_test, device="cpu")  # shown in the view too   # doctest: +SKIP
    >>> r.accuracy, r.confusion
    """

    _devices = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _eval_data = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    _eval_result = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    _eval_running = traitlets.Bool(False).tag(sync=True)

    @traitlets.default("_devices")
    def _default_devices(self) -> list[str]:
        return available_devices()

    # -- public API -------------------------------------------------------------------------

    def evaluate(
        self,
        data: Any,
        targets: Any = None,
        *,
        device: str | int | torch.device | None = None,
        batch_size: int = 256,
        amp: bool | torch.dtype = False,
        metric: Callable | None = None,
        loss_fn: Callable | None = None,
        topk: int = 5,
        labels: list[str] | None = None,
    ) -> EvalResult:
        """Evaluate the model on ``data`` (see :func:`modelpanel.inference.evaluate`) and show it.

        The model comes back exactly as it was (modes, grad mode, devices, values), also on error.
        """
        return self._run_evaluate(
            data, targets, device=device, batch_size=batch_size, amp=amp, metric=metric,
            loss_fn=loss_fn, topk=topk, labels=labels,
        )

    def predict(
        self,
        X: Any,
        *,
        device: str | int | torch.device | None = None,
        batch_size: int = 256,
        amp: bool | torch.dtype = False,
    ) -> torch.Tensor:
        """The model's outputs for ``X`` in eval mode (see :func:`modelpanel.inference.predict`)."""
        return predict(
            self._model(), X, device=device, batch_size=batch_size, amp=amp,
            progress=getattr(self, "progress", None), expected_shape=self._expected_shape(),
        )

    def set_eval_data(self, X: Any, y: Any = None, *, labels: list[str] | None = None) -> None:
        """Data for the view's Run button: tensors ``X`` (and targets ``y``), a Dataset or a DataLoader.

        Checked now (lengths, target types), so a mistake shows here rather than at the click.
        ``labels``: class names for the confusion matrix and the per-class table.
        """
        labels = check_labels(labels)
        batches = make_batches(
            X, y, batch_size=1, pin=False, need_targets=False, classification=y is not None
        )
        self._eval_source = (X, y, labels)
        self._publish(
            _eval_data={
                "n": batches.n,
                "x_shape": batches.x_shape,
                "has_targets": bool(batches.has_targets),
                "labels": labels,
            }
        )

    # -- the view's Run button --------------------------------------------------------------

    def _on_msg_evaluate(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """``{"kind": "evaluate", "device": "cpu", "batch_size": 256}`` from the view."""
        source = getattr(self, "_eval_source", None)
        if source is None:
            raise ModelPanelError(
                "no evaluation data: call panel.set_eval_data(X_test, y_test) (or pass "
                "eval_data=(X_test, y_test) to ModelPanel), then press Run again"
            )
        device = content.get("device") or None
        batch_size = content.get("batch_size", 256)
        if isinstance(batch_size, float) and batch_size.is_integer():
            batch_size = int(batch_size)  # JSON numbers from the view may arrive as floats
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch size must be a positive whole number, not {batch_size!r}")
        X, y, labels = source
        result = self._run_evaluate(
            X, y, device=device, batch_size=batch_size, labels=labels, require_targets=False
        )
        return {"n": result.n, "accuracy": result.accuracy, "device": result.device}

    # -- internals ----------------------------------------------------------------------------

    def _expected_shape(self) -> list[int] | None:
        """The first input's shape from the panel's summary, for shape errors; None if unknown."""
        summary = getattr(self, "summary", None)
        shapes = getattr(summary, "input_shapes", None)
        if isinstance(shapes, list | tuple) and shapes:
            first = shapes[0]
            if isinstance(first, list | tuple) and first and all(isinstance(d, int) for d in first):
                return list(first)
        return None

    def _run_evaluate(self, data: Any, targets: Any, *, require_targets: bool = True, **kw: Any) -> EvalResult:
        model = self._model()
        self._publish(_eval_running=True)
        try:
            result = evaluate(
                model, data, targets, progress=getattr(self, "progress", None),
                expected_shape=self._expected_shape(), _require_targets=require_targets, **kw,
            )
        except BaseException:
            self._publish(_eval_running=False)
            raise
        self._publish(_eval_result=eval_state(result), _eval_running=False)
        return result


def eval_state(result: EvalResult) -> dict[str, Any]:
    """The ``_eval_result`` trait (docs/widget-state.md): the confusion matrix as a binary buffer."""
    state = result.to_dict()
    if result.confusion is not None:
        state["confusion"] = array_to_wire(result.confusion, "int32")
    return state
