"""Opt-in training diagnostics: gradient norms, activation statistics, NaN/Inf flags.

Everything is computed on the tensors' own device and read with one host transfer per device
per refresh. What each costs (stated here because users turn them on):

- :func:`grad_norms`: no hooks; at each diagnostics refresh one ``torch._foreach_norm`` over the ``.grad``
  tensors and one transfer. Between refreshes it costs nothing.
- :class:`ActivationMonitor`: a forward hook on every leaf module while enabled (attached only
  while a progress loop runs). Statistics are taken from one forward pass per diagnostics
  refresh (the panel's ``diag_every``, 1 s; the first pass after each read): that pass pays ~5 reductions over every leaf's output (sum, sum of
  squares, count of zeros, accumulated on the device, no sync); the other passes pay only the
  hook call (a few microseconds per module). Reducing every pass cost about 2x a small CNN's
  step on a CPU; see benchmarks/training_overhead.py for the current figure.
- :func:`first_nonfinite`: one ``_foreach_norm`` over the weights (or grads) and one transfer;
  the panel runs it on the histogram throttle (every 2 s by default).
- :func:`weight_norms`: the same as :func:`grad_norms` over the weights, for the gradient flags.

:func:`layer_flags` turns those numbers into per-module flags a learner can act on (dead units,
vanishing or exploding gradients, NaN/Inf); its docstring says where each threshold comes from.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import torch
from torch import nn

from .._core.host import host_rows, host_values
from .._core.sharding import local_tensor
from .._core.walk import owned_tensors, unwrap, walk_modules

__all__ = ["ActivationMonitor", "first_nonfinite", "grad_norms", "layer_flags", "weight_norms"]


def _norms(tensors: list[torch.Tensor]) -> list[float]:
    """L2 norm of each tensor (float32 accumulation or better), one host transfer per device."""
    # A DTensor (FSDP2) gradient: the norm of this rank's shard (the job's whole norm is
    # combined over ranks in training/distributed.py).
    tensors = [local_tensor(t) for t in tensors]
    norms: list[torch.Tensor | None] = [None] * len(tensors)
    groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for i, t in enumerate(tensors):
        groups.setdefault((t.device, t.dtype), []).append(i)
    for idxs in groups.values():
        group = [tensors[i] for i in idxs]
        if group[0].dtype in (torch.float16, torch.bfloat16):
            group = [t.float() for t in group]  # fp16's max (65504) would overflow a norm
        for i, v in zip(idxs, torch._foreach_norm(group)):
            norms[i] = v
    return host_values(norms)


def _owned(model: nn.Module, grads: bool) -> tuple[list[str], list[torch.Tensor]]:
    return owned_tensors(walk_modules(unwrap(model, who="modelpanel.training.diagnostics")), grads=grads)


def grad_norms(model: nn.Module) -> tuple[dict[str, float], str | None]:
    """Per-module L2 norm of the gradients of the parameters it holds directly.

    Returns ``({tree_path: norm}, first_nonfinite_path)``; modules without a ``.grad`` are
    left out. The root module's own parameters appear under ``""``. Paths are the layer
    tree's (wrappers such as torch.compile and DataParallel unwrapped).
    """
    owners, tensors = _owned(model, grads=True)
    if not tensors:
        return {}, None
    per_module: dict[str, float] = {}
    first_bad = None
    for owner, norm in zip(owners, _norms(tensors)):
        if not math.isfinite(norm) and first_bad is None:
            first_bad = owner
        per_module[owner] = per_module.get(owner, 0.0) + norm * norm
    return {k: math.sqrt(v) if math.isfinite(v) else None for k, v in per_module.items()}, first_bad


def weight_norms(model: nn.Module) -> dict[str, float]:
    """Per-module L2 norm of the parameters it holds directly (``{tree_path: norm}``).

    The same modules and tensors as :func:`grad_norms` (tied tensors under their first owner,
    the root's own under ``""``); NaN where a weight is not finite.
    """
    owners, tensors = _owned(model, grads=False)
    per_module: dict[str, float] = {}
    for owner, norm in zip(owners, _norms(tensors)):
        per_module[owner] = per_module.get(owner, 0.0) + norm * norm
    return {k: math.sqrt(v) for k, v in per_module.items()}


def first_nonfinite(model: nn.Module, grads: bool = False) -> str | None:
    """Path of the first module (``named_modules`` order) holding a NaN/Inf weight (or grad)."""
    owners, tensors = _owned(model, grads=grads)
    for owner, norm in zip(owners, _norms(tensors)):
        if not math.isfinite(norm):
            return owner
    return None


# The monitor attached to each model, so a re-run cell or a second panel replaces it instead of
# piling up hooks. Weak keys: the registry never keeps a deleted model alive.
_MONITORS: weakref.WeakKeyDictionary[nn.Module, ActivationMonitor] = weakref.WeakKeyDictionary()


class ActivationMonitor:
    """Mean, std and fraction of zeros of each leaf module's output, accumulated on device.

    >>> mon = ActivationMonitor(model); mon.attach()      # doctest: +SKIP
    >>> model(x); mon.read()                              # {"fc1": {"mean":..,"std":..,"zero_frac":..}}
    >>> mon.detach()

    Statistics cover one forward pass of the root module: the first one after the monitor is
    attached or after each :meth:`read` (calls of submodules outside a root forward are all
    counted until the next read). Sampling one pass per refresh keeps the cost off the steps
    in between; at a few refreshes per second it still shows how activations move.
    """

    def __init__(self, model: nn.Module) -> None:
        # The user's module inside any wrapper, so paths are the tree's (not "_orig_mod.0").
        self._model = weakref.ref(unwrap(model, who="ActivationMonitor"))
        self._handles: list[Any] = []
        self._armed = True  # collect until the root's forward ends, then wait for read()
        self._acc: dict[str, torch.Tensor] = {}
        self._count: dict[str, int] = {}
        self._last: dict[str, dict[str, float | None]] = {}

    @property
    def attached(self) -> bool:
        """Whether the hooks are on the model now."""
        return bool(self._handles)

    def attach(self) -> None:
        """Hook every leaf module (idempotent; replaces any other monitor on this model)."""
        model = self._model()
        if model is None or self._handles:
            return
        previous = _MONITORS.get(model)
        if previous is not None and previous is not self:
            previous.detach()
        tree = walk_modules(model)
        for path, module in tree.modules:
            if not module._modules:
                self._handles.append(module.register_forward_hook(self._hook(path)))
        if model._modules:
            self._handles.append(model.register_forward_hook(self._disarm))
        self._armed = True
        _MONITORS[model] = self

    def detach(self) -> None:
        """Remove every hook this monitor added (safe to call twice)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        model = self._model()
        if model is not None and _MONITORS.get(model) is self:
            del _MONITORS[model]

    def _disarm(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if self._count:  # one complete pass collected: skip the rest until the next read
            self._armed = False

    def _hook(self, path: str) -> Any:
        acc, count = self._acc, self._count

        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not self._armed:
                return
            if not isinstance(output, torch.Tensor) or not output.is_floating_point():
                return
            x = output.detach()
            # One float64 triple per module, added on the tensor's device: no host sync.
            stats = torch.stack([x.sum(dtype=torch.float64),
                                 x.square().sum(dtype=torch.float64),
                                 (x == 0).sum().to(torch.float64)])
            held = acc.get(path)
            if held is None or held.device != stats.device:
                acc[path] = stats
            else:
                held.add_(stats)
            count[path] = count.get(path, 0) + x.numel()

        return hook

    def read(self) -> dict[str, dict[str, float | None]]:
        """Statistics since the last read, with one host transfer per device; then reset.

        Modules not called since the last read keep their previous values.
        """
        paths = [p for p in self._acc if self._count.get(p)]
        if paths:
            for p, (s, sq, zeros) in zip(paths, host_rows([self._acc[p] for p in paths])):
                n = self._count[p]
                mean = s / n
                var = max(sq / n - mean * mean, 0.0)  # population variance, clamped for rounding
                self._last[p] = {"mean": _finite(mean), "std": _finite(math.sqrt(var)),
                                 "zero_frac": zeros / n}
        self._acc.clear()
        self._count.clear()
        self._armed = True
        return dict(self._last)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


#: A module's output is "dead" when at least this fraction of its elements is exactly 0.
DEAD_ZERO_FRAC = 0.99
#: Gradients vanish in a module whose relative gradient is below this fraction of the largest.
VANISHING_RATIO = 1e-4
#: Gradients explode in a module whose gradient norm exceeds this multiple of its weights' norm.
EXPLODING_RATIO = 10.0

#: The flag names, as the view keys its badges and sentences.
FLAGS = ("dead", "vanishing", "exploding", "nonfinite_weights", "nonfinite_grads", "nonfinite_activations")


def layer_flags(grads: dict[str, float | None], weights: dict[str, float],
                acts: dict[str, dict[str, float | None]],
                bad_weights: Any = ()) -> dict[str, list[str]]:
    """Per-module flags from the diagnostics' numbers: ``{tree_path: [flag, ...]}`` (FLAGS order).

    ``grads``: :func:`grad_norms`' norms (None = not finite); ``weights``: :func:`weight_norms`;
    ``acts``: :meth:`ActivationMonitor.read` (mean None = not finite); ``bad_weights``: paths of
    modules holding a NaN/Inf weight. Modules without a flag are left out.

    - ``"dead"``: ``zero_frac >= DEAD_ZERO_FRAC`` (0.99) of the module's last sampled output,
      e.g. a ReLU whose inputs all went negative ("dying ReLU", Lu et al. 2019, arXiv:1903.06733).
    - ``"vanishing"`` / ``"exploding"`` compare each module's relative gradient
      ``r = |grad| / max(|w|, 1)`` (L2 norms of the parameters it holds directly; under 1 the
      weights' norm says nothing about scale, so the absolute norm is used: zero-initialised
      layers and small biases). CS231n ("Neural Networks Part 3", babysitting the learning
      process) puts healthy updates at ~1e-3 of the weights. ``"vanishing"``: r below
      ``VANISHING_RATIO`` (1e-4) of the largest r in the model (0 included), so where the best
      layer moves by 1e-3 this one moves by 1e-7, float32's machine epsilon (1.19e-7): its
      updates round away. Comparing layers, not an absolute floor, is how vanishing gradients
      were found (Glorot & Bengio 2010, gradients shrinking layer by layer). ``"exploding"``:
      r above ``EXPLODING_RATIO`` (10), so one SGD step at a common learning rate of 0.1 moves
      the module by more than its own weights; the absolute form is the scale of
      ``clip_grad_norm_`` thresholds in use (1 to 10; Pascanu et al. 2013 clip at a norm
      "from half to ten times" the usual one).
    - ``"nonfinite_weights"`` / ``"nonfinite_grads"`` / ``"nonfinite_activations"``: a NaN or
      Inf in that module's weights, gradients (norm None) or last sampled output (mean None).
    """
    flags: dict[str, set[str]] = {}
    for path in bad_weights:
        flags.setdefault(path, set()).add("nonfinite_weights")
    ratios: dict[str, float] = {}
    for path, norm in grads.items():
        if norm is None or not math.isfinite(norm):
            flags.setdefault(path, set()).add("nonfinite_grads")
            continue
        w = weights.get(path, 0.0)
        if not math.isfinite(w):
            continue  # flagged as nonfinite_weights: no scale to compare with
        ratios[path] = norm / max(w, 1.0)
    top = max(ratios.values(), default=0.0)
    for path, r in ratios.items():
        if r > EXPLODING_RATIO:
            flags.setdefault(path, set()).add("exploding")
        elif len(ratios) > 1 and r < VANISHING_RATIO * top:
            flags.setdefault(path, set()).add("vanishing")
    for path, stats in acts.items():
        if stats.get("mean") is None:
            flags.setdefault(path, set()).add("nonfinite_activations")
        elif (stats.get("zero_frac") or 0.0) >= DEAD_ZERO_FRAC:
            flags.setdefault(path, set()).add("dead")
    return {path: [f for f in FLAGS if f in kinds] for path, kinds in flags.items()}
