"""Eval-mode batched inference on a device the user picks, leaving the model as it was.

Pure torch, no widget (the panel side is ``panel/inference.py``).

>>> result = evaluate(model, X_test, y_test, device="cpu", batch_size=256)
>>> result.accuracy, result.predictions, result.confusion

The model runs in eval mode under ``torch.inference_mode``. Where inference_mode cannot
serve, it falls back to ``torch.no_grad``: this is decided on the first batch, which is run
again under no_grad when it fails under inference_mode (a forward that turns autograd back on,
e.g. ``torch.autograd.grad`` inside ``torch.enable_grad()`` for input gradients, or one that
needs to modify tensors created outside). ``EvalResult.mode`` says which one ran.

Afterwards (also after any error) every module's train/eval flag, the grad mode, the device of
every parameter and buffer, and their values are as before; see ``_core/restore.py``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._core.devices import model_devices, parse_device, same_device
from .._core.restore import restored
from .._core.walk import ModuleTree, unwrap, walk_modules
from ..errors import DeviceError, InputError, ModelPanelError
from . import display
from .batches import make_batches, on_device
from .classification import ClassAccumulator, logits_of
from .explain import explain_forward_error, oom_error

# A progress bar appears only for runs that last longer than this: short evaluations
# (the course's 30-sample test set) should not flash a bar.
PROGRESS_AFTER_S = 0.5


@dataclass
class EvalResult:
    """What :func:`evaluate` measured. Tensors are on the CPU; ``None`` where not applicable.

    accuracy: fraction of correct top-1 predictions (None with ``metric=`` or without targets).
    metric: the value of the custom ``metric`` callable, when one was given.
    loss: mean of ``loss_fn`` over the samples, when one was given.
    predictions: class indices [N] (classification) or the raw outputs (with ``metric=``).
    probabilities: softmax (or sigmoid, binary) of the outputs [N, classes].
    topk: ``{"k", "indices" [N, k], "probabilities" [N, k], "accuracy"}``.
    confusion: ``confusion[true, predicted]`` counts, int64 [classes, classes].
    per_class: one ``{"label", "precision", "recall", "support"}`` per class.

    ``repr()`` is one line of the headline numbers; in a notebook the result shows as a table
    with the confusion matrix (``inference/display.py``).
    """

    n: int
    device: str
    seconds: float
    samples_per_s: float
    mode: str = "inference_mode"
    accuracy: float | None = None
    metric: float | None = None
    metric_name: str | None = None
    loss: float | None = None
    predictions: torch.Tensor | None = None
    probabilities: torch.Tensor | None = None
    topk: dict[str, Any] | None = None
    confusion: np.ndarray | None = None
    per_class: list[dict[str, Any]] | None = None
    labels: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return display.eval_repr(self)

    def _repr_html_(self) -> str:
        return display.eval_html(self)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe data, without per-sample tensors (the panel's ``_eval_result``
        sends ``confusion`` as a binary buffer; here it is a list of rows)."""
        confusion = None if self.confusion is None else np.asarray(self.confusion).tolist()
        return {
            "n": self.n,
            "device": self.device,
            "seconds": self.seconds,
            "samples_per_s": self.samples_per_s,
            "mode": self.mode,
            "accuracy": self.accuracy,
            "topk_accuracy": None if self.topk is None else self.topk["accuracy"],
            "topk_k": None if self.topk is None else self.topk["k"],
            "metric": self.metric,
            "metric_name": self.metric_name,
            "loss": self.loss,
            "classes": list(self.labels),
            "confusion": confusion,
            "per_class": self.per_class,
        }


def check_labels(labels: Any) -> list[str] | None:
    """``labels`` as a list of class-name strings; a bare string (``"abc"``) is refused.

    A string is iterable, so ``list("abc")`` would quietly name three classes a, b and c.
    """
    if labels is None:
        return None
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise InputError(
            f"labels must be a list of class names, e.g. labels=['setosa', 'versicolor', "
            f"'virginica'], not {labels!r}"
        )
    return [str(label) for label in labels]


def _target_device(tree: ModuleTree, device: object) -> tuple[torch.device, bool]:
    """Where to run, and whether the model must be moved there."""
    held = model_devices(tree.modules)
    if device is None:
        # Run where the model is; a model split over devices takes inputs on its first one.
        return (held[0] if held else torch.device("cpu")), False
    target = parse_device(device)
    if len(held) > 1:
        if same_device(held[0], target):
            return held[0], False
        raise DeviceError(
            f"the model is spread over {', '.join(map(str, held))} and evaluate will not move it "
            f"(that would undo its placement); run it where it is with device=None"
        )
    if held and same_device(held[0], target):
        return held[0], False
    return target, bool(held)


def _amp_context(device: torch.device, amp: bool | torch.dtype):
    if not amp:
        return contextlib.nullcontext()
    if isinstance(amp, torch.dtype):
        dtype = amp
    elif device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


class _LazyBar:
    """A progress bar that appears only once a run has lasted PROGRESS_AFTER_S."""

    def __init__(self, factory: Callable | None, total: int | None) -> None:
        self.factory, self.total, self.bar, self.done = factory, total, None, 0
        self.start = time.perf_counter()

    def step(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.factory is not None and time.perf_counter() - self.start > PROGRESS_AFTER_S:
            # leave=False: the bar goes once done; the result shows in the inference view.
            self.bar = self.factory(total=self.total, desc="evaluate", unit="batch", leave=False)
            self.bar.update(self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run(model, tree, batches, *, device, amp, consume, progress, expected, batch_size) -> tuple[str, float]:
    """Run every batch through ``model`` (already in eval mode, on ``device``); return mode and seconds."""
    mode = "inference_mode"
    bar = _LazyBar(progress, batches.n_batches)
    # Inputs take the model's floating dtype when it has one (a half model gets half inputs).
    floating = tree.floating_dtypes()
    dtype = floating[0] if len(floating) == 1 else None
    start = time.perf_counter()
    try:
        for i, (x, y) in enumerate(on_device(batches, device, dtype)):
            ctx = torch.inference_mode() if mode == "inference_mode" else torch.no_grad()
            try:
                with ctx, _amp_context(device, amp):
                    consume(model(x), y)
            except (ModelPanelError, torch.OutOfMemoryError):
                raise
            except Exception as exc:
                if i or mode != "inference_mode":
                    raise explain_forward_error(model, x, exc, expected) from exc
                # inference_mode could not serve this model: try the first batch under no_grad.
                try:
                    with torch.no_grad(), _amp_context(device, amp):
                        out = model(x)
                except (ModelPanelError, torch.OutOfMemoryError):
                    raise
                except Exception as exc2:
                    raise explain_forward_error(model, x, exc2, expected) from exc2
                mode = "no_grad"
                consume.reset()
                with torch.no_grad():
                    consume(out, y)
            bar.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    except torch.OutOfMemoryError as exc:
        raise oom_error(device, batch_size, batches) from exc
    finally:
        bar.close()
    return mode, time.perf_counter() - start


class _Consumer:
    """Folds each batch into a ClassAccumulator, or keeps outputs for ``metric``/``predict``."""

    def __init__(self, *, classification: bool, topk: int, loss_fn, keep_outputs: bool = True):
        self.kw = {"topk": topk, "loss_fn": loss_fn, "keep_outputs": keep_outputs}
        self.classification = classification
        self.reset()

    def reset(self) -> None:
        self.acc = ClassAccumulator(**self.kw) if self.classification else None
        self.outputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def __call__(self, out: object, y: torch.Tensor | None) -> None:
        if self.acc is not None:
            self.acc.add(out, y)
            return
        self.outputs.append(logits_of(out))
        if y is not None:
            self.targets.append(y)


def evaluate(
    model: torch.nn.Module,
    data: Any,
    targets: Any = None,
    *,
    device: str | int | torch.device | None = None,
    batch_size: int = 256,
    amp: bool | torch.dtype = False,
    metric: Callable[[torch.Tensor, torch.Tensor], Any] | None = None,
    loss_fn: Callable | None = None,
    topk: int = 5,
    labels: list[str] | None = None,
    progress: Callable | None = None,
    expected_shape: list[int] | None = None,
    _require_targets: bool = True,
) -> EvalResult:
    """Evaluate ``model`` in eval mode on ``data``, batch by batch, on ``device``.

    ``data``: a tensor (or numpy array) with ``targets``; an ``(X, y)`` pair; a ``Dataset`` of
    ``(x, y)`` items; or a ``DataLoader`` (its own batch size wins). ``device``: ``None`` (where
    the model is), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a ``torch.device``; the
    model is moved there for the run and put back after. ``amp``: autocast (bf16 where
    supported, or the dtype given). ``metric(outputs, targets)``: replaces accuracy for models
    that are not classifiers; it gets all outputs and targets at once. ``loss_fn``: e.g.
    ``nn.CrossEntropyLoss()``. ``topk``: k of the top-k accuracy. ``labels``: class names.
    ``progress``: a tqdm-like factory shown for runs longer than half a second.
    ``expected_shape``: the input shape the model expects (e.g. the summary's), named in errors.

    Raises:
        InputError: ``data``/``targets`` of the wrong kind, length or shape (the message says
            what the model expects), labels that do not match the classes, bad options.
        DeviceError: ``device`` is unknown or unavailable (the message lists what is), or
            would move a model spread over several devices.
        ForwardError: the forward raised; names the module (its tree path) and the batch.
        ModelPanelError: the device ran out of memory (the message suggests a batch size).

    >>> r = evaluate(model, X_test, y_test)
    >>> r.accuracy, r.confusion, r.per_class[0]["recall"]
    """
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    if metric is not None and not callable(metric):
        raise InputError(f"metric must be a callable(outputs, targets), not {type(metric).__name__}")
    if isinstance(topk, bool) or not isinstance(topk, int) or topk < 1:
        raise InputError(f"topk must be a positive int, not {topk!r}")
    labels = check_labels(labels)
    tree = walk_modules(unwrap(model, who="evaluate()"))
    target, move = _target_device(tree, device)
    classification = metric is None
    batches = make_batches(
        data, targets, batch_size=batch_size, pin=target.type == "cuda",
        need_targets=_require_targets or not classification, classification=classification,
    )
    consume = _Consumer(classification=classification, topk=topk, loss_fn=loss_fn)
    with _in_eval(model, tree, target, move):
        mode, seconds = _run(
            model, tree, batches, device=target, amp=amp, consume=consume, progress=progress,
            expected=expected_shape, batch_size=batch_size,
        )
        return _finish(consume, metric, loss_fn, target, seconds, mode, labels)


@contextlib.contextmanager
def _in_eval(model: torch.nn.Module, tree: ModuleTree, target: torch.device, move: bool):
    """The model on ``target`` in eval mode inside; everything put back by ``_core.restore``."""
    # In place, buffers are cloned (a forward may update them); after a move the originals
    # are untouched and come back by reference.
    with restored(tree, clone_buffers=not move, track_storage=move, what="evaluation"):
        if move:
            model.to(target)
        model.eval()
        yield


def _finish(consume: _Consumer, metric, loss_fn, device, seconds, mode, labels) -> EvalResult:
    if consume.acc is not None:
        t = consume.acc.totals()
        n = len(t["predictions"])
        names = list(labels) if labels is not None else [str(i) for i in range(t["classes"])]
        if len(names) != t["classes"]:
            raise InputError(f"labels has {len(names)} names but the model outputs {t['classes']} classes")
        per_class = t["per_class"]
        if per_class is not None:
            per_class = [{"label": lab, **row} for lab, row in zip(names, per_class)]
        return EvalResult(
            n=n, device=str(device), seconds=seconds, samples_per_s=n / max(seconds, 1e-12),
            mode=mode, accuracy=t["accuracy"], loss=t["loss"], predictions=t["predictions"],
            probabilities=t["probabilities"], topk=t["topk"], confusion=t["confusion"],
            per_class=per_class, labels=names,
        )
    if not consume.outputs:
        raise InputError("the data produced no batches: there is nothing to evaluate")
    outputs = torch.cat(consume.outputs)
    if len(consume.targets) != len(consume.outputs):
        raise InputError("metric= needs targets with every batch: pass (X, y) or a loader of (x, y)")
    y = torch.cat(consume.targets).to(outputs.device)
    value = metric(outputs, y)
    loss = None
    if loss_fn is not None:
        loss = float(loss_fn(outputs, y.to(outputs.dtype) if y.is_floating_point() else y))
    n = len(outputs)
    return EvalResult(
        n=n, device=str(device), seconds=seconds, samples_per_s=n / max(seconds, 1e-12), mode=mode,
        metric=float(value), metric_name=getattr(metric, "__name__", type(metric).__name__),
        loss=loss, predictions=outputs.cpu(),
    )


def predict(
    model: torch.nn.Module,
    X: Any,
    *,
    device: str | int | torch.device | None = None,
    batch_size: int = 256,
    amp: bool | torch.dtype = False,
    progress: Callable | None = None,
    expected_shape: list[int] | None = None,
) -> torch.Tensor:
    """The model's outputs for ``X`` (eval mode, batched, on ``device``), as one CPU tensor.

    Same inputs, devices and guarantees as :func:`evaluate`; targets, if ``X`` carries them
    (a pair, a Dataset or a DataLoader), are ignored. Raises as :func:`evaluate` does.
    """
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    tree = walk_modules(unwrap(model, who="predict()"))
    target, move = _target_device(tree, device)
    batches = make_batches(
        X, None, batch_size=batch_size, pin=target.type == "cuda",
        need_targets=False, classification=False,
    )
    consume = _Consumer(classification=False, topk=1, loss_fn=None)
    with _in_eval(model, tree, target, move):
        _run(model, tree, batches, device=target, amp=amp, consume=consume, progress=progress,
             expected=expected_shape, batch_size=batch_size)
        if not consume.outputs:
            raise InputError("the data produced no batches: there is nothing to predict")
        # Outside inference_mode, cat gives an ordinary tensor the user can modify or train on.
        return torch.cat(consume.outputs).cpu()
