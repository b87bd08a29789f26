"""One hooked forward pass: per-module calls and shapes, with the model restored afterwards.

Hooks are one *global* forward hook (``with_kwargs=True``) rather than
one hook per module: registering 2,000 per-module hook pairs costs more than the forward of a
2,000-layer stack itself, and a global hook is one dict insert (see benchmarks/summary.py).
The hook only records what a module received and returned on its first call and counts calls;
where a failing forward failed is read afterwards from the traceback, so the happy path pays
nothing for it (not even a path lookup table).

torch runs global forward hooks *before* a module's own (``Module._call_impl``), so a hook of
the user's that replaces a module's output (``register_forward_hook`` returning a tensor) would
be invisible to ours. A module that has forward hooks of its own gets one more hook, appended
after them for the pass, which records the output the next layer really receives.
"""

from __future__ import annotations

import contextlib
import dataclasses
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import nn

from .._core.failures import run_forward
from .._core.nested import call_shapes, mirror_shapes, tensor_bytes
from .._core.restore import eval_pass
from .._core.tensors import is_pack_holder
from .._core.walk import ModuleTree
from ..errors import ForwardError

#: ``Layer.status`` of a module that did not run in a pass made in eval mode (``mode="eval"``):
#: a branch only a model in train mode takes (Inception's ``AuxLogits``), or dead code.
NOT_CALLED_IN_EVAL = "not called in eval mode"
#: ``Layer.status`` of a module that did not run in a pass in train or the user's own modes.
NEVER_CALLED = "never called"
#: ``Layer.status`` of a module run by TorchScript code (a submodule of a scripted or traced
#: module): it ran, but inside C++ where no hook sees it, so its calls and shapes are unknown.
IN_TORCHSCRIPT = "inside TorchScript: not traced"
#: ``Layer.status`` of a module a quantized module keeps its packed weights in
#: (``fc._packed_params``): never called by torch, whatever the mode; its owner's row counts them.
PACKED_WEIGHTS = "holds its parent's packed weights: never called"
#: ``Layer.status`` of a module that had not run when the forward raised (a panel's partial
#: summary only: ``summarize`` raises instead).
NOT_REACHED = "not reached: the forward failed before it"


@dataclasses.dataclass
class Capture:
    """What one hooked forward saw, keyed by ``id(module)`` (modules outside the model included).

    Each record is ``[calls, output_bytes, input_shapes, output_shape]``: the shapes are those
    of the first call, ``output_bytes`` sums the module's outputs over all its calls. Forward
    activations are the outputs of leaf modules (a parent's output is a child's tensor):
    ``summarize`` adds those up while it makes the layer rows.
    """

    records: dict[int, list]
    #: The ForwardError the pass raised, when ``capture(keep_partial=True)`` kept it; ``records``
    #: then hold the modules whose forward returned before it (the failing one and its
    #: ancestors never returned, so they have none).
    error: ForwardError | None = None


def capture(tree: ModuleTree, args: tuple, kwargs: dict[str, Any], *, track_storage: bool = False,
            mode: str = "eval", keep_partial: bool = False,
            within: AbstractContextManager | None = None, tensor_type: type = torch.Tensor) -> Capture:
    """Run one forward of the tree's root with a global forward hook; restore the model after.

    The pass runs under ``_core.restore.eval_pass`` (``mode``: "eval", "train" or "same";
    no_grad; the model's whole state put back; ``track_storage`` when the model was moved for
    the pass). Raises ForwardError if the forward raises, unless ``keep_partial``: then the
    records made before it are returned with the error in ``Capture.error``. Every hook is
    removed and the state restored either way.

    ``within``: a context entered inside the restored pass, around the forward (the fake
    trace's swap to FakeTensors, its mode and its MAC counter: see ``summary/trace.py``); the
    real buffers are then not copied, as nothing can write them. ``tensor_type``: the exact type
    of the tensors the forward makes (``FakeTensor`` there), for the hook's fast path.
    """
    records: dict[int, list] = {}
    get = records.get
    # Modules with forward hooks of their own are recorded by a hook that runs after those.
    late = {id(m): m for _, m in tree.modules if m._forward_hooks}

    # Runs once per module call, so it is kept to dict lookups: no path, no ownership test
    # (a module outside the model gets a record nobody reads), shapes only on a first call.
    def record(module: nn.Module, h_args: tuple, h_kwargs: dict, output: Any) -> None:
        rec = get(id(module))
        is_tensor = type(output) is tensor_type
        if is_tensor:
            try:
                size = output.nbytes  # one read instead of numel() * element_size()
            except RuntimeError:  # sparse: no nbytes
                size = tensor_bytes(output)  # sparse tensors count as dense
        else:
            size = tensor_bytes(output)
        if rec is not None:
            rec[0] += 1
            rec[1] += size
            return
        if not h_kwargs and len(h_args) == 1 and type(h_args[0]) is tensor_type:
            in_shapes = [list(h_args[0].shape)]  # the common case, cheaply
        else:
            in_shapes = call_shapes(h_args, h_kwargs)
        records[id(module)] = [1, size, in_shapes, list(output.shape) if is_tensor else mirror_shapes(output)]

    if late:
        def hook(module: nn.Module, h_args: tuple, h_kwargs: dict, output: Any) -> None:
            if id(module) not in late:
                record(module, h_args, h_kwargs, output)
    else:
        hook = record

    error: ForwardError | None = None
    clone_buffers = within is None
    with eval_pass(tree, what="summarize", track_storage=track_storage, mode=mode, clone_buffers=clone_buffers), \
            within if within is not None else contextlib.nullcontext():
        handles = [m.register_forward_hook(record, with_kwargs=True) for m in late.values()]
        handle = nn.modules.module.register_module_forward_hook(hook, with_kwargs=True)
        try:
            run_forward(tree, args, kwargs)
        except ForwardError as exc:
            if not keep_partial:
                raise
            error = exc
        finally:
            handle.remove()
            # torch's handle does not clear the with_kwargs flag of a *global* hook; left
            # behind, it makes torch.compile warn that global hooks exist (torch 2.13).
            nn.modules.module._global_forward_hooks_with_kwargs.pop(handle.id, None)
            for h in handles:
                h.remove()
    return Capture(records, error)


def layer_statuses(tree: ModuleTree, records: dict[int, list], mode: str,
                   failed_path: str | None = None) -> list[str]:
    """``Layer.status`` of every module of the tree (aligned with ``tree.modules``), after a pass.

    A module "ran" when it or a module of its subtree was called (a ModuleList's own forward
    never runs). One that did not: ``IN_TORCHSCRIPT`` when its parent is a TorchScript module
    whose code ran (called from Python, or itself inside TorchScript); else by the pass's mode,
    or ``NOT_REACHED`` when the pass raised in the module at ``failed_path`` (that module and
    its ancestors were running: they count as run).
    """
    modules, parents = tree.modules, tree.parents
    calls = [records[id(m)][0] if id(m) in records else 0 for _, m in modules]
    ran = [c > 0 for c in calls]
    if failed_path is not None:
        failed = next((i for i, (path, _) in enumerate(modules) if path == failed_path), 0)
        ran[failed] = True  # carried up to its ancestors below
    for i in range(len(modules) - 1, 0, -1):  # children come after parents: one pass upwards
        if ran[i]:
            ran[parents[i]] = True
    if failed_path is not None:
        idle = NOT_REACHED
    else:
        idle = NOT_CALLED_IN_EVAL if mode == "eval" else NEVER_CALLED
    script = torch.jit.ScriptModule
    statuses = [""] * len(modules)
    for i in range(1, len(modules)):
        if ran[i]:
            continue
        p = parents[i]
        if is_pack_holder(modules[i][1]):
            statuses[i] = PACKED_WEIGHTS
        elif isinstance(modules[p][1], script) and (calls[p] > 0 or statuses[p] == IN_TORCHSCRIPT):
            statuses[i] = IN_TORCHSCRIPT
        else:
            statuses[i] = idle
    return statuses
