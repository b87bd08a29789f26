"""Classification results from batches of outputs, kept on the device until the end.

Nothing here reads a value back to the host per batch (no ``.item()``, no ``bincount``, which
syncs on CUDA to size its output): batches are kept on the device and counted once at the
end, so the GPU never waits for Python between batches.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import InputError


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
    ``[N, 1]`` are binary logits (sigmoid, threshold 0). Per batch only the predictions,
    probabilities, top-k and targets are kept (and the loss summed) on the device; counting
    happens once in :meth:`totals`, which is both fewer operations for the many small batches
    of a notebook and a single device sync at the end on a GPU.
    """

    def __init__(self, *, topk: int, loss_fn, keep_outputs: bool) -> None:
        self.topk, self.loss_fn, self.keep_outputs = topk, loss_fn, keep_outputs
        self.classes: int | None = None
        self.binary = False
        self.preds: list[torch.Tensor] = []
        self.probs: list[torch.Tensor] = []
        self.top_idx: list[torch.Tensor] = []
        self.top_val: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []
        self.loss_sum: torch.Tensor | None = None
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
        self.topk = max(1, min(self.topk, self.classes))

    def add(self, out: object, y: torch.Tensor | None) -> None:
        """Keep one batch of outputs (and targets, on the same device)."""
        scores = logits_of(out)
        if self.classes is None:
            self._setup(scores)
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
        if t.device.type == "cpu" and len(t):
            # Host targets: checking costs no device sync, so a bad label fails early.
            self._check_range(*torch.aminmax(t))
        self.targets.append(t)
        if self.loss_fn is not None:
            target = y.to(scores.dtype).reshape(scores.shape) if self.binary else y
            loss = self.loss_fn(scores, target).double()
            red = getattr(self.loss_fn, "reduction", "mean")
            loss = loss * (1 if red == "sum" else len(t))
            self.loss_sum = loss if self.loss_sum is None else self.loss_sum + loss

    def _check_range(self, lo: torch.Tensor, hi: torch.Tensor) -> None:
        c = self.classes
        bad = int(hi) if int(hi) >= c else int(lo) if int(lo) < 0 else None
        if bad is not None:
            raise InputError(
                f"targets contain class index {bad} but the model outputs scores for "
                f"{c} classes (0..{c - 1}); check the labels or the output layer"
            )

    def totals(self) -> dict:
        """Count and read everything back to the host once; call after the last batch."""
        if self.classes is None:
            raise InputError("the data produced no batches: there is nothing to evaluate")
        n, c = self.n, self.classes
        if 0 < self.n_targets != n:
            raise InputError(
                f"only {self.n_targets} of {n} samples came with targets; give every batch its targets"
            )
        has_targets = n > 0 and self.n_targets == n
        # Concatenating outside inference_mode returns ordinary tensors the user can reuse.
        pred = torch.cat(self.preds)
        top_idx = torch.cat(self.top_idx)
        out = {
            "classes": c,
            "predictions": pred.cpu(),
            "probabilities": torch.cat(self.probs).cpu() if self.keep_outputs else None,
            "topk": {"k": self.topk, "indices": top_idx.cpu(),
                     "probabilities": torch.cat(self.top_val).cpu(), "accuracy": None},
            "accuracy": None, "loss": None, "confusion": None, "per_class": None,
        }
        if not has_targets:
            return out
        t = torch.cat(self.targets)
        if t.device.type != "cpu":
            self._check_range(*torch.aminmax(t))  # before bincount: it must not index past c*c
        counts = torch.stack([(pred == t).sum(), (top_idx == t[:, None]).any(dim=1).sum()]).tolist()
        confusion = torch.bincount(t * c + pred, minlength=c * c).view(c, c).cpu().numpy()
        out["accuracy"] = counts[0] / n
        out["topk"]["accuracy"] = counts[1] / n
        if self.loss_fn is not None and self.loss_sum is not None:
            out["loss"] = float(self.loss_sum) / n
        out["confusion"] = confusion
        out["per_class"] = per_class(confusion)
        return out


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
