"""One hooked forward pass: per-module calls and shapes, with the model restored afterwards.

Hooks are one *global* forward hook (``with_kwargs=True``) rather than
one hook per module: registering 2,000 per-module hook pairs costs more than the forward of a
2,000-layer stack itself, and a global hook is one dict insert (see benchmarks/summary.py).
The hook only records what a module received and returned on its first call and counts calls;
where a failing forward failed is read afterwards from the traceback, so the happy path pays
nothing for it (not even a path lookup table).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from .._core.failures import run_forward
from .._core.nested import call_shapes, mirror_shapes, tensor_bytes
from .._core.restore import eval_pass
from .._core.walk import ModuleTree


@dataclasses.dataclass
class Capture:
    """What one hooked forward saw, keyed by ``id(module)`` (modules outside the model included).

    Each record is ``[calls, output_bytes, input_shapes, output_shape]``: the shapes are those
    of the first call, ``output_bytes`` sums the module's outputs over all its calls. Forward
    activations are the outputs of leaf modules (a parent's output is a child's tensor):
    ``summarize`` adds those up while it makes the layer rows.
    """

    records: dict[int, list]


def capture(tree: ModuleTree, args: tuple, kwargs: dict[str, Any], *, track_storage: bool = False) -> Capture:
    """Run one forward of the tree's root with a global forward hook; restore the model after.

    The pass runs under ``_core.restore.eval_pass`` (eval mode, no_grad, the model's whole
    state put back; ``track_storage`` when the model was moved for the pass). Raises
    ForwardError if the forward raises; the hook is removed and the state restored either way.
    """
    records: dict[int, list] = {}
    get = records.get
    tensor_type = torch.Tensor

    # Runs once per module call, so it is kept to dict lookups: no path, no ownership test
    # (a module outside the model gets a record nobody reads), shapes only on a first call.
    def hook(module: nn.Module, h_args: tuple, h_kwargs: dict, output: Any) -> None:
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

    with eval_pass(tree, what="summarize", track_storage=track_storage):
        handle = nn.modules.module.register_module_forward_hook(hook, with_kwargs=True)
        try:
            run_forward(tree, args, kwargs)
        finally:
            handle.remove()
            # torch's handle does not clear the with_kwargs flag of a *global* hook; left
            # behind, it makes torch.compile warn that global hooks exist (torch 2.13).
            nn.modules.module._global_forward_hooks_with_kwargs.pop(handle.id, None)
    return Capture(records)


