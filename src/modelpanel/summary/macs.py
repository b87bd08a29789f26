"""The MAC pass: a second forward under ``torch.utils.flop_counter.FlopCounterMode``.

FlopCounterMode counts aten ops (so functional attention counts too)
and attributes them to every module on the call stack. Two places where it would miss work,
both fixed here for the duration of the pass:

* The fused inference fast paths of ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer``
  (``_native_multi_head_attention``, ``_transformer_encoder_layer_fwd``) have no FLOP formula,
  so a TransformerEncoder in eval mode would count 0. ``_core.restore.eval_pass`` switches
  the fast path off for every pass and restores it.
* On CPU, ``scaled_dot_product_attention`` dispatches to
  ``_scaled_dot_product_flash_attention_for_cpu``, which has no formula either; it gets the
  same formula as the GPU kernels (``sdpa_flop``: 2 matmuls, causal masking not subtracted).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils import flop_counter

from .._core.failures import run_forward
from .._core.restore import eval_pass
from .._core.walk import ModuleTree


def _sdpa_flops(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    # Receives shapes (FlopCounterMode wraps custom formulas); same count as the GPU kernels.
    return flop_counter.sdpa_flop_count(query_shape, key_shape, value_shape)


def _extra_formulas() -> dict[Any, Any]:
    """FLOP formulas for attention kernels that FlopCounterMode's registry lacks."""
    extra: dict[Any, Any] = {}
    registry = flop_counter.flop_registry
    op = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if hasattr(flop_counter, "sdpa_flop_count") and op is not None and op.default not in registry and op not in registry:
        extra[op] = _sdpa_flops
    return extra


def count_macs(tree: ModuleTree, args: tuple, kwargs: dict[str, Any]) -> tuple[int, dict[str, int]]:
    """Total MACs of one forward and MACs per tree path (summed over calls); MACs = FLOPs / 2.

    The model is run under ``_core.restore.eval_pass`` and left as it was. FlopCounterMode
    names a module by the path it reached it through, which for an alias (a module registered
    under two names) is not the tree's: each name is mapped back with ``tree.canonical``, so
    the work lands on the row the tree shows.
    """
    counter = flop_counter.FlopCounterMode(display=False, depth=None, custom_mapping=_extra_formulas())
    with eval_pass(tree, what="the MAC count"), counter:
        run_forward(tree, args, kwargs)
    total = counter.get_total_flops() // 2
    # FlopCounterMode names modules "<RootClass>.<path>" ("Global" is everything).
    root_name = type(tree.root).__name__
    prefix = root_name + "."
    per_path: dict[str, int] = {}
    for name, ops in counter.get_flop_counts().items():
        if name == root_name:
            path: str | None = ""
        elif name.startswith(prefix):
            path = tree.canonical(name[len(prefix) :])
        else:
            continue
        if path is not None:
            # Two names of one module are one module: its work is booked once, not twice.
            per_path[path] = max(per_path.get(path, 0), sum(ops.values()) // 2)
    return total, per_path
