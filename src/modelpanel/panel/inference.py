"""EvalRunner: eval-mode inference from the panel (Python calls and the view's Run button).

Owned by :class:`~modelpanel.panel.widget.ModelPanel`, which declares the traits
(docs/widget-state.md, "Inference": ``_devices``, ``_eval_data``, ``_eval_result``,
``_eval_running``) and hands the runner ``publish(**traits)``, ``get_model()``, the panel's
summary (for the expected input shape named in errors) and its ``progress`` factory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..errors import InputError, ModelPanelError
from ..inference import EvalResult, check_labels, evaluate, predict
from ..inference.batches import make_batches
from ..summary import Summary
from .wire import array_to_wire

__all__ = ["EvalRunner", "eval_state"]


class EvalRunner:
    """Runs evaluate/predict for the panel and publishes what the inference view shows."""

    def __init__(self, publish: Callable[..., None], get_model: Callable[[], nn.Module],
                 summary: Summary, progress: Callable[..., Any]) -> None:
        self._publish = publish
        self._model = get_model
        self._summary = summary
        self._progress = progress
        self._source: tuple[Any, Any, list[str] | None] | None = None

    def set_data(self, X: Any, y: Any, labels: Any) -> None:
        """Check the Run button's data now (lengths, target types) and describe it to the view."""
        labels = check_labels(labels)
        batches = make_batches(
            X, y, batch_size=1, pin=False, need_targets=False, classification=y is not None
        )
        self._source = (X, y, labels)
        self._publish(
            _eval_data={
                "n": batches.n,
                "x_shape": batches.x_shape,
                "has_targets": bool(batches.has_targets),
                "labels": labels,
            }
        )

    def evaluate(self, data: Any, targets: Any, *, require_targets: bool = True,
                 source: str = "panel.evaluate", **kw: Any) -> EvalResult:
        model = self._model()
        self._publish(_eval_running=True)
        try:
            result = evaluate(
                model, data, targets, progress=self._progress,
                expected_shape=self.expected_shape(), _require_targets=require_targets, **kw,
            )
        except BaseException:
            self._publish(_eval_running=False)
            raise
        # A user's DataLoader keeps its own batch size (inference/batches.py); report that one.
        batch_size = data.batch_size if isinstance(data, DataLoader) else kw.get("batch_size", 256)
        state = eval_state(result, batch_size=batch_size, source=source)
        self._publish(_eval_result=state, _eval_running=False)
        return result

    def predict(self, X: Any, **kw: Any) -> torch.Tensor:
        return predict(self._model(), X, progress=self._progress,
                       expected_shape=self.expected_shape(), **kw)

    def on_run(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        """``{"kind": "evaluate", "device": "cpu", "batch_size": 256}`` from the view's Run button."""
        if self._source is None:
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
        X, y, labels = self._source
        result = self.evaluate(
            X, y, device=device, batch_size=batch_size, labels=labels, require_targets=False,
            source="run",
        )
        return {"n": result.n, "accuracy": result.accuracy, "device": result.device}

    def expected_shape(self) -> list[int] | None:
        """The first input's shape from the panel's summary, for shape errors; None if unknown."""
        shapes = self._summary.input_shapes
        if isinstance(shapes, list | tuple) and shapes:
            first = shapes[0]
            if isinstance(first, list | tuple) and first and all(isinstance(d, int) for d in first):
                return list(first)
        return None


def eval_state(result: EvalResult, *, batch_size: int | None = None, source: str = "panel.evaluate",
               finished_at: datetime | None = None) -> dict[str, Any]:
    """The ``_eval_result`` trait (docs/widget-state.md): the confusion matrix as a binary buffer.

    Adds what the view shows about the run itself: ``batch_size`` (None when unknown: a
    DataLoader without one), ``source`` (``"panel.evaluate"`` from code, ``"run"`` from the
    Run button) and ``finished_at``, the kernel's local time as ISO 8601 with its UTC offset
    (``"2024-05-01T14:02:31+02:00"``), so two runs with equal numbers still read apart.
    """
    state = result.to_dict()
    when = finished_at if finished_at is not None else datetime.now().astimezone()
    state.update(batch_size=batch_size, source=source, finished_at=when.isoformat(timespec="seconds"))
    if result.confusion is not None:
        state["confusion"] = array_to_wire(result.confusion, "int32")
    return state
