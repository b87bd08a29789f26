"""Leave the user's model exactly as it was, whatever evaluation does to it.

:class:`ModelSnapshot` records, before evaluation:

- every module's ``training`` flag (restored by assignment, not ``train()``, so a model with
  some submodules in eval mode and others in train mode comes back mixed as it was);
- every module's ``_parameters`` and ``_buffers`` entries (the tensor objects themselves), so
  a forward that re-assigns a buffer (``self.cache = x``) cannot leave an inference tensor
  behind that would break the next training step;
- each parameter's and gradient's storage (``p.data`` aliases), so after ``model.to(other)``
  the original storage is put back by reference: no copy back, bit-exact, parameter objects
  (and so optimizer state keyed by them) unchanged;
- a clone of the buffers when evaluation runs in place, copied back afterwards, so an in-place
  update during evaluation (BatchNorm running statistics of a submodule whose forward forces
  train mode, a step counter) is undone;
- each parameter's version counter, to report a forward that wrote its own weights in place.

Parameters are not cloned: they are often most of the memory, and a forward that writes its
own weights in place is not something we can undo cheaply; :meth:`restore` reports it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch


@dataclass
class ModelSnapshot:
    """What :meth:`restore` needs to put ``model`` back; build it with :meth:`take`."""

    model: torch.nn.Module
    training: list[tuple[torch.nn.Module, bool]] = field(default_factory=list)
    params: list[tuple[torch.nn.Module, dict]] = field(default_factory=list)
    buffers: list[tuple[torch.nn.Module, dict]] = field(default_factory=list)
    param_data: list[tuple[torch.nn.Parameter, torch.Tensor, torch.Tensor | None, int]] = field(
        default_factory=list
    )
    buffer_copies: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    param_names: dict[int, str] = field(default_factory=dict)
    grad_enabled: bool = True

    @classmethod
    def take(cls, model: torch.nn.Module, *, clone_buffers: bool) -> ModelSnapshot:
        """Record ``model``'s state. ``clone_buffers``: also copy buffer values (in-place runs)."""
        snap = cls(model=model, grad_enabled=torch.is_grad_enabled())
        seen: set[int] = set()
        for mod_name, module in model.named_modules(remove_duplicate=False):
            snap.training.append((module, module.training))
            snap.params.append((module, dict(module._parameters)))
            snap.buffers.append((module, dict(module._buffers)))
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                snap.param_names[id(p)] = f"{mod_name}.{name}" if mod_name else name
                grad = p.grad.data if p.grad is not None else None
                snap.param_data.append((p, p.data, grad, p._version))
            if clone_buffers:
                for b in module._buffers.values():
                    if b is None or id(b) in seen:
                        continue
                    seen.add(id(b))
                    snap.buffer_copies.append((b, b.detach().clone()))
        return snap

    def restore(self) -> None:
        """Put everything recorded back. Safe to call after a failure at any point."""
        torch.set_grad_enabled(self.grad_enabled)
        for module, params in self.params:
            module._parameters.clear()
            module._parameters.update(params)
        for module, buffers in self.buffers:
            module._buffers.clear()
            module._buffers.update(buffers)
        changed: list[str] = []
        for p, data, grad, version in self.param_data:
            # Storage swapped by model.to(): put the original back by reference (no copy).
            if p.data.data_ptr() != data.data_ptr() or p.device != data.device:
                p.data = data
                if p.grad is not None and grad is not None:
                    p.grad.data = grad
            elif p._version != version:
                changed.append(self.param_names.get(id(p), "?"))
        # Always copied back: native kernels (BatchNorm's running statistics) update buffers
        # without bumping their version counter, so the counter cannot tell us what changed.
        with torch.no_grad():
            for buf, copy in self.buffer_copies:
                buf.copy_(copy)
        for module, flag in self.training:
            module.training = flag
        if changed:
            warnings.warn(
                f"the model's forward changed parameter(s) {', '.join(changed[:5])} in place "
                f"during evaluation; modelpanel restores buffers and modes but cannot undo that",
                RuntimeWarning,
                stacklevel=3,
            )
