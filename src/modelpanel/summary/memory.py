"""``Summary.memory(optimizer=...)``: what running, and training, the model would take, in bytes.

Read off the summary (no pass runs), so it works as well for a model on the meta device or
one too big to hold: parameters and buffers as stored (meta: as once materialised), the input
and the forward activations of the summary's input, and for a training step one gradient per
trainable parameter plus the optimizer's state.

The optimizer's state: parameter-sized tensors per parameter, in the parameter's dtype
(torch.optim makes them with ``torch.zeros_like(p)``), as the torch.optim documentation's
algorithms and sources name them: Adam/AdamW 2 (``exp_avg``, ``exp_avg_sq``; 3 with
``amsgrad=True``), SGD 0 (1 with ``momentum``: ``momentum_buffer``), RMSprop 1 (``square_avg``;
+1 with ``momentum``, +1 when ``centered``), Adagrad 1 (``sum``), Adadelta 2, Adamax 2, NAdam 2,
RAdam 2, Rprop 2 (``prev``, ``step_size``), ASGD 1 (``ax``); scalar state (``step``) is left
out. tests/summary/test_trace_meta.py checks each against what a real step allocates. Any other
Optimizer subclass is measured: built on a 3-element probe parameter and stepped once (the
first step of an optimizer in a process can take seconds: torch imports its compiler then).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from ..errors import InputError

if TYPE_CHECKING:
    from . import Summary


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a model needs, by part. ``inputs`` and ``activations`` are None without an input.

    ``activations`` are the outputs of the leaf modules for the summary's input (what a
    forward holds at most, and roughly what autograd saves for the backward); ``gradients``
    one per trainable parameter element, in its dtype; ``optimizer_states`` the optimizer's
    per-parameter state (``states_per_param`` tensors the size of each trainable parameter),
    for an optimizer given the trainable parameters (Adagrad, given frozen ones too, makes
    their state as well, at construction).
    """

    params: int
    buffers: int
    inputs: int | None
    activations: int | None
    gradients: int
    optimizer_states: int
    optimizer: str | None
    states_per_param: int

    @property
    def inference(self) -> int:
        """Parameters + buffers + input + activations: a forward (no_grad keeps less)."""
        return self.params + self.buffers + (self.inputs or 0) + (self.activations or 0)

    @property
    def training(self) -> int:
        """``inference`` + gradients + optimizer state: one training step at the summary's input."""
        return self.inference + self.gradients + self.optimizer_states


def memory(summary: Summary, optimizer: str | type | None = "AdamW", **options: Any) -> MemoryEstimate:
    """What running and training the summarised model takes (see :class:`MemoryEstimate`).

    Args:
        optimizer: a ``torch.optim`` optimizer, by name (``"AdamW"``, ``"SGD"``) or class;
            None for no optimizer (gradients only).
        **options: its keyword arguments where they change its state (``momentum=0.9`` for
            SGD, ``amsgrad=True`` for Adam).

    Raises:
        InputError: ``optimizer`` is not a torch.optim optimizer, rejects ``options``, or is
            LBFGS (whose state is a history of past steps, not a per-parameter tensor).
    """
    name, per_param = (None, 0) if optimizer is None else _states_per_param(optimizer, **options)
    trainable = _trainable_bytes(summary)
    return MemoryEstimate(
        params=summary.param_bytes, buffers=summary.buffer_bytes, inputs=summary.input_bytes,
        activations=summary.activation_bytes, gradients=trainable,
        optimizer_states=per_param * trainable, optimizer=name, states_per_param=per_param,
    )  # fmt: skip


def _trainable_bytes(summary: Summary) -> int:
    """Bytes of the trainable parameters, each tensor once: read from the model while it
    exists; after it is deleted, the parameter bytes scaled by the trainable share."""
    if summary._trainable_bytes is not None:
        return summary._trainable_bytes
    model = summary._model_ref()
    if model is None:
        return summary.param_bytes * summary.trainable_params // max(summary.total_params, 1)
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if p.requires_grad and id(p) not in seen:
            seen.add(id(p))
            total += p.numel() * p.element_size()
    summary._trainable_bytes = total
    return total


def _states_per_param(optimizer: str | type, **options: Any) -> tuple[str, int]:
    if isinstance(optimizer, str):
        cls = getattr(torch.optim, optimizer, None)
    else:
        cls = optimizer
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)) or cls is torch.optim.Optimizer:
        names = sorted(n for n, c in vars(torch.optim).items()
                       if isinstance(c, type) and issubclass(c, torch.optim.Optimizer) and c is not torch.optim.Optimizer)
        raise InputError(f"optimizer={optimizer!r} is not a torch.optim optimizer: use one of {', '.join(names)}, "
                         "a subclass of torch.optim.Optimizer, or None")  # fmt: skip
    if cls is torch.optim.LBFGS:
        raise InputError("optimizer='LBFGS' keeps a history of past steps (history_size pairs of "
                         "parameter-sized vectors), not a per-parameter state: not estimated")  # fmt: skip
    if cls is getattr(torch.optim, "Adafactor", None):
        raise InputError("optimizer='Adafactor' keeps factored statistics (a row and a column vector "
                         "per matrix), not parameter-sized state: not estimated")  # fmt: skip
    try:
        if options:  # checked by torch itself (constructing is cheap once torch.optim is loaded)
            cls([torch.zeros(3, requires_grad=True)], **options)
        known = _known_states(cls, options)
        return cls.__name__, known if known is not None else _probe(cls, tuple(sorted(options.items())))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"could not measure {cls.__name__}'s state with options {options}: {exc}") from exc


_FIXED = {"Adagrad": 1, "Adadelta": 2, "Adamax": 2, "NAdam": 2, "RAdam": 2, "Rprop": 2, "ASGD": 1}


def _known_states(cls: type, options: dict[str, Any]) -> int | None:
    """The module doc's table for torch.optim's own classes; None for any other class."""
    name = cls.__name__
    if getattr(torch.optim, name, None) is not cls:
        return None
    if name in ("Adam", "AdamW"):
        return 3 if options.get("amsgrad") else 2
    if name == "SGD":
        return 1 if options.get("momentum") else 0
    if name == "RMSprop":
        return 1 + bool(options.get("momentum")) + bool(options.get("centered"))
    return _FIXED.get(name)


@functools.lru_cache(maxsize=64)
def _probe(cls: type, options: tuple) -> int:
    """Parameter-sized state tensors ``cls`` keeps after one step on a probe parameter."""
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.ones(3)
    opt = cls([p], **dict(options))
    opt.step()
    return sum(1 for t in opt.state[p].values() if isinstance(t, torch.Tensor) and t.shape == p.shape)


def training_memory(summary: Summary) -> dict[str, Any] | None:
    """``summary.memory("AdamW")`` as ``to_dict()``'s ``"training_memory"`` (the panel's header):
    optimizer, inference, training, gradients, optimizer_states; None without activations."""
    if summary.activation_bytes is None:
        return None
    m = memory(summary, "AdamW")
    return {"optimizer": m.optimizer, "inference": m.inference, "training": m.training,
            "gradients": m.gradients, "optimizer_states": m.optimizer_states}  # fmt: skip
