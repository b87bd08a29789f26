"""Leave the user's model exactly as it was, whatever a pass over it does: ONE capture/restore.

summarize (the capture and the MAC pass), evaluate and predict all run the model inside
:func:`restored` or :func:`eval_pass`. :class:`ModelState` records, before the pass:

- every module's ``training`` flag (restored by assignment, not ``train()``, so a model with
  some submodules in eval mode and others in train mode comes back mixed as it was, and no
  user override of ``train()`` runs);
- every module's ``_parameters`` and ``_buffers`` entries (the tensor objects themselves), so
  a forward that re-assigns a buffer (``self.cache = x``) cannot leave a tensor behind;
- with ``track_storage`` (a pass that moves the model), each parameter's and gradient's storage
  (``p.data`` aliases), so after ``model.to(other)`` the original storage is put back by
  reference: no copy back, bit-exact, parameter objects (and optimizer state keyed by them)
  unchanged;
- with ``clone_buffers`` (a pass that runs in place), a clone of the buffers, copied back
  afterwards, so an in-place update (BatchNorm running statistics of a submodule whose forward
  forces train mode, a step counter) is undone;
- the grad mode, and each parameter's version counter, to report a forward that wrote its own
  weights in place;
- the global random number generators (CPU, and every initialised CUDA device): a pass in
  train mode draws Dropout masks from them, and a seeded notebook must not notice the pass.

TorchScript modules (``torch.jit.script`` / ``trace``) keep their parameters, buffers and
``training`` flag in C++: their ``_parameters`` is a read-through view without ``clear()``, and
an ``object.__setattr__`` of ``training`` would only shadow the flag the scripted code reads.
They are written through their own ``__setattr__`` instead.

Parameters are not cloned: they are often most of the memory, and a forward that writes its
own weights in place is not something we can undo cheaply; :meth:`ModelState.restore` warns.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from .walk import ModuleTree, is_uninitialized


@dataclass
class ModelState:
    """What :meth:`restore` needs to put a model back; build it with :meth:`take`.

    Lists are aligned with ``tree.modules`` (flags, parameter and buffer dicts) or with
    ``params`` (every parameter entry, tied ones repeated: harmless, and cheaper than a set).
    """

    tree: ModuleTree
    training: list[bool] = field(default_factory=list)
    param_dicts: list[dict] = field(default_factory=list)
    buffer_dicts: list[dict] = field(default_factory=list)
    params: list[nn.Parameter] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    param_data: list[tuple[nn.Parameter, torch.Tensor, torch.Tensor | None]] = field(default_factory=list)
    buffer_copies: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    grad_enabled: bool = True
    scripted: list[int] = field(default_factory=list)  # indices of TorchScript modules
    rng: tuple[torch.Tensor, list[torch.Tensor]] | None = None  # CPU state, CUDA states

    @classmethod
    def take(cls, tree: ModuleTree, *, clone_buffers: bool, track_storage: bool = False) -> ModelState:
        """Record the state of the walked model ``tree``.

        ``clone_buffers``: also copy buffer values (a pass that runs in place);
        ``track_storage``: also record parameter storages (a pass that moves the model).
        Written for 2,000-module models: list comprehensions, no per-parameter tuples.
        """
        modules = [m for _, m in tree.modules]
        parameter_type = nn.Parameter
        script_type = torch.jit.ScriptModule
        params = [
            p for m in modules if m._parameters for p in m._parameters.values()
            if p is not None and (type(p) is parameter_type or not is_uninitialized(p))
        ]
        state = cls(
            tree=tree,
            training=[m.training for m in modules],
            param_dicts=[dict(m._parameters) if m._parameters else {} for m in modules],
            buffer_dicts=[dict(m._buffers) if m._buffers else {} for m in modules],
            params=params,
            versions=[p._version for p in params],
            grad_enabled=torch.is_grad_enabled(),
            scripted=[i for i, m in enumerate(modules) if isinstance(m, script_type)],
            rng=(torch.get_rng_state(),
                 torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []),
        )
        if track_storage:
            seen: set[int] = set()
            for p in params:
                if id(p) not in seen:
                    seen.add(id(p))
                    state.param_data.append((p, p.data, p.grad.data if p.grad is not None else None))
        if clone_buffers:
            seen = set()
            for buffers in state.buffer_dicts:
                for b in buffers.values():
                    if b is None or id(b) in seen or is_uninitialized(b):
                        continue
                    seen.add(id(b))
                    state.buffer_copies.append((b, b.detach().clone()))
        return state

    def restore(self, *, what: str = "the pass") -> None:
        """Put everything recorded back. Safe to call after a failure at any point.

        Warns (RuntimeWarning) when the forward wrote a parameter in place; ``what`` names
        the pass in that warning ("evaluation", "summarize").
        """
        torch.set_grad_enabled(self.grad_enabled)
        if self.rng is not None:
            cpu, cuda = self.rng
            torch.set_rng_state(cpu)
            if cuda:
                torch.cuda.set_rng_state_all(cuda)
        scripted = set(self.scripted)
        for i, ((_, module), params, buffers) in enumerate(zip(self.tree.modules, self.param_dicts, self.buffer_dicts)):
            if i in scripted:
                _restore_scripted(module, params, buffers)
                continue
            # Put back whole (dict == would compare tensors by value): cheap, and it also
            # drops a tensor the forward added under a new name.
            if params or module._parameters:
                module._parameters.clear()
                module._parameters.update(params)
            if buffers or module._buffers:
                module._buffers.clear()
                module._buffers.update(buffers)
        moved: set[int] = set()
        for p, data, grad in self.param_data:
            # Storage swapped by model.to(): put the original back by reference (no copy).
            if p.data.data_ptr() != data.data_ptr() or p.device != data.device:
                moved.add(id(p))
                p.data = data
                if p.grad is not None and grad is not None:
                    p.grad.data = grad
        changed = {id(p) for p, v in zip(self.params, self.versions) if p._version != v} - moved
        # Always copied back: native kernels (BatchNorm's running statistics) update buffers
        # without bumping their version counter, so the counter cannot tell us what changed.
        if self.buffer_copies:
            with torch.no_grad():
                for buf, copy in self.buffer_copies:
                    buf.copy_(copy)
        set_training(self.tree, self.training, scripted)
        if changed:
            names = [f"{path}.{name}" if path else name
                     for (path, _), params in zip(self.tree.modules, self.param_dicts)
                     for name, p in params.items() if p is not None and id(p) in changed]
            warnings.warn(
                f"the model's forward changed parameter(s) {', '.join(dict.fromkeys(names[:5]))} in "
                f"place during {what}; modelpanel restores buffers and modes but cannot undo that",
                RuntimeWarning,
                stacklevel=3,
            )


def _restore_scripted(module: nn.Module, params: dict, buffers: dict) -> None:
    """Put a TorchScript module's tensors back: its dicts are views of the C++ module
    (no ``clear()``, no new names), so only entries that now hold another tensor are set."""
    for saved, current in ((params, module._parameters), (buffers, module._buffers)):
        for name, tensor in saved.items():
            if name in current and current[name] is not tensor:
                current[name] = tensor


def set_training(tree: ModuleTree, flags: list[bool], scripted: set[int]) -> None:
    """Set each module's ``training`` flag (aligned with ``tree.modules``), writing only changes.

    ``scripted``: indices of TorchScript modules, whose flag lives in C++ (see the module doc).
    """
    for i, ((_, module), flag) in enumerate(zip(tree.modules, flags)):
        if module.training is not flag:
            if i in scripted:
                module.training = flag
            else:
                # object.__setattr__: nn.Module.__setattr__ costs ~5 µs a call on big models.
                object.__setattr__(module, "training", flag)


@contextlib.contextmanager
def restored(tree: ModuleTree, *, clone_buffers: bool = True, track_storage: bool = False,
             what: str = "the pass") -> Iterator[ModelState]:
    """The model's state recorded on entry and put back on exit, also when the body raises."""
    state = ModelState.take(tree, clone_buffers=clone_buffers, track_storage=track_storage)
    try:
        yield state
    finally:
        state.restore(what=what)


@contextlib.contextmanager
def mha_fastpath_disabled() -> Iterator[None]:
    """Route MultiheadAttention/TransformerEncoder through countable ops; restore the setting."""
    mha = getattr(torch.backends, "mha", None)
    if mha is None or not hasattr(mha, "set_fastpath_enabled"):
        yield
        return
    was = mha.get_fastpath_enabled()
    mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        mha.set_fastpath_enabled(was)


#: The ``mode=`` values of a pass: every module in eval, every module in train, or as they are.
PASS_MODES = ("eval", "train", "same")


@contextlib.contextmanager
def eval_pass(tree: ModuleTree, *, what: str = "the pass", track_storage: bool = False,
              mode: str = "eval", clone_buffers: bool = True) -> Iterator[None]:
    """A pass in ``mode``, no_grad and no fused MHA fast path inside; the whole state put back after.

    ``mode``: ``"eval"`` (every module in eval mode, the default), ``"train"`` (every module in
    train mode: Dropout draws masks, BatchNorm normalises by the batch and updates its running
    statistics) or ``"same"`` (the flags as the user left them). Whatever the mode, buffers
    (BatchNorm statistics, ``num_batches_tracked``), flags and the global RNG are put back.
    Only flags that differ are written: a model already in the mode costs one read each.
    A forward that switches modes itself (``self.bn.train()``) or updates a buffer is undone
    by the restore, like everything in :class:`ModelState`. Raises ValueError for another mode.
    ``clone_buffers=False``: a pass that cannot write the real buffers (a fake pass, whose
    buffers are swapped for FakeTensors) skips their copy.
    """
    if mode not in PASS_MODES:
        raise ValueError(f"mode={mode!r} is not one of {', '.join(map(repr, PASS_MODES))}")
    with restored(tree, what=what, track_storage=track_storage, clone_buffers=clone_buffers) as state:
        if mode != "same":
            flag = mode == "train"
            set_training(tree, [flag] * len(tree.modules), set(state.scripted))
        # The fused fast path skips the submodules' hooks (no shapes) and FLOP formulas.
        with torch.no_grad(), mha_fastpath_disabled():
            yield
