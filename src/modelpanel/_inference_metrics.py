"""Per-batch accumulation of classification results, kept on the device.

Nothing here reads a value back to the host per batch (no ``.item()``, no ``bincount``, which
syncs on CUDA to size its output): counts are summed on the device and read once at the end,
so the GPU never waits for Python between batches.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import InputError


def logits_of(out: object) -> torch.Tensor:
    """The tensor of scores in a model's output: a tensor, or a dict's ``"logits"``."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict) and isinstance(out.get("logits"), torch.Tensor):
        return out["logits"]
    if hasattr(out, "logits") and isinstance(out.logits, torch.Tensor):
        return out.logits
    raise InputError(
        f"the model returned {type(out).__name__}; evaluate needs one tensor of outputs "
        f"(or a dict with 'logits'). Wrap the model to return that tensor"
    )


class ClassAccumulator:
    """Accuracy, top-k, confusion, loss and predictions for class-score outputs.

    Outputs of shape ``[N, C]`` (C >= 2) are multi-class logits (softmax); ``[N]`` or
    ``[N, 1]`` are binary logits (sigmoid, threshold 0).
    """

    def __init__(self, *, topk: int, loss_fn, keep_outputs: bool) -> None:
        self.topk, self.loss_fn, self.keep_outputs = topk, loss_fn, keep_outputs
        self.classes: int | None = None
        self.binary = False
        self.preds: list[torch.Tensor] = []
        self.probs: list[torch.Tensor] = []
        self.top_idx: list[torch.Tensor] = []
        self.top_val: list[torch.Tensor] = []
        self.confusion: torch.Tensor | None = None
        self.correct = self.topk_correct = self.loss_sum = self.bad_targets = None
        self.n = 0
        self.n_targets = 0

    def _setup(self, scores: torch.Tensor) -> None:
        if scores.ndim == 2 and scores.shape[1] >= 2:
            self.classes = int(scores.shape[1])
        elif scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1):
            self.classes, self.binary = 2, True
        else:
            raise InputError(
                f"the model's outputs have shape {list(scores.shape)}, not class scores [N, classes]; "
                f"pass metric=callable(outputs, targets) to evaluate another kind of model"
            )
        dev = scores.device
        c = self.classes
        self.topk = max(1, min(self.topk, c))
        self.confusion = torch.zeros(c * c, dtype=torch.long, device=dev)
        zero = torch.zeros((), dtype=torch.long, device=dev)
        self.correct, self.topk_correct, self.bad_targets = zero.clone(), zero.clone(), zero.clone()
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=dev)

    def add(self, out: object, y: torch.Tensor | None) -> None:
        """Fold one batch of outputs (and targets, on the same device) into the totals."""
        scores = logits_of(out)
        if self.classes is None:
            self._setup(scores)
        c = self.classes
        scores_f = scores.float()
        if self.binary:
            s = scores_f.reshape(-1)
            p1 = torch.sigmoid(s)
            probs = torch.stack([1 - p1, p1], dim=1)
            pred = (s > 0).long()
        else:
            probs = torch.softmax(scores_f, dim=1)
            pred = scores_f.argmax(dim=1)
        top_val, top_idx = probs.topk(self.topk, dim=1)
        self.preds.append(pred)
        self.probs.append(probs)
        self.top_idx.append(top_idx)
        self.top_val.append(top_val)
        self.n += len(pred)
        if y is None:
            return
        if len(y) != len(pred):
            raise InputError(
                f"a batch has {len(pred)} outputs but {len(y)} targets; each sample needs one target"
            )
        t = y.reshape(-1).long()
        self.n_targets += len(t)
        if y.device.type == "cpu":
            # Host targets: checking costs no device sync, so fail early and skip the clamp.
            if len(t):
                lo, hi = torch.aminmax(t)
                bad = int(hi) if int(hi) >= c else int(lo) if int(lo) < 0 else None
                if bad is not None:
                    raise InputError(
                        f"targets contain class index {bad} but the model outputs scores for "
                        f"{c} classes (0..{c - 1}); check the labels or the output layer"
                    )
            t_safe = t
        else:
            # Device targets: count bad ones on the device (read once at the end) and clamp, so
            # index_add_ cannot write out of bounds (a device-side assert would kill the kernel's GPU).
            self.bad_targets += ((t < 0) | (t >= c)).sum()
            t_safe = t.clamp(0, c - 1)
        self.correct += (pred == t).sum()
        self.topk_correct += (top_idx == t[:, None]).any(dim=1).sum()
        self.confusion.index_add_(0, t_safe * c + pred, torch.ones_like(t_safe))
        if self.loss_fn is not None:
            target = y.to(scores.dtype).reshape(scores.shape) if self.binary else y
            loss = self.loss_fn(scores, target)
            red = getattr(self.loss_fn, "reduction", "mean")
            self.loss_sum += loss.double() * (1 if red == "sum" else len(t))

    def totals(self) -> dict:
        """Read everything back to the host once; call after the last batch."""
        if self.classes is None:
            raise InputError("the data produced no batches: there is nothing to evaluate")
        if int(self.bad_targets):
            raise InputError(
                f"some targets are outside 0..{self.classes - 1}, the classes the model outputs"
            )
        n = self.n
        if 0 < self.n_targets != n:
            raise InputError(
                f"only {self.n_targets} of {n} samples came with targets; give every batch its targets"
            )
        has_targets = self.n_targets == n
        confusion = self.confusion.view(self.classes, self.classes).cpu().numpy()

        def cat(parts: list[torch.Tensor]) -> torch.Tensor:
            # Concatenating outside inference_mode returns ordinary tensors the user can reuse.
            return torch.cat(parts).cpu()

        return {
            "classes": self.classes,
            "predictions": cat(self.preds),
            "probabilities": cat(self.probs) if self.keep_outputs else None,
            "topk": {
                "k": self.topk,
                "indices": cat(self.top_idx),
                "probabilities": cat(self.top_val),
                "accuracy": int(self.topk_correct) / n if has_targets else None,
            },
            "accuracy": int(self.correct) / n if has_targets else None,
            "loss": float(self.loss_sum) / n if has_targets and self.loss_fn is not None else None,
            "confusion": confusion if has_targets else None,
            "per_class": per_class(confusion) if has_targets else None,
        }


def per_class(confusion: np.ndarray) -> list[dict]:
    """Precision, recall and support per class from ``confusion[true, predicted]``.

    Undefined ratios (a class never predicted, or absent from the targets) are ``None``
    rather than a made-up 0.
    """
    tp = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    rows = []
    for i in range(len(confusion)):
        rows.append(
            {
                "precision": float(tp[i] / predicted[i]) if predicted[i] else None,
                "recall": float(tp[i] / support[i]) if support[i] else None,
                "support": int(support[i]),
            }
        )
    return rows
