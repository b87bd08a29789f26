"""The MAC pass: a second forward under ``torch.utils.flop_counter.FlopCounterMode``.

Private to ``summary.py``. FlopCounterMode counts aten ops (so functional attention counts too)
and attributes them to every module on the call stack. Two places where it would miss work,
both fixed here for the duration of the pass:

* The fused inference fast paths of ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer``
  (``_native_multi_head_attention``, ``_transformer_encoder_layer_fwd``) have no FLOP formula,
  so a TransformerEncoder in eval mode would count 0. ``model_state_restored`` switches the
  fast path off for every pass and restores it.
* On CPU, ``scaled_dot_product_attention`` dispatches to
  ``_scaled_dot_product_flash_attention_for_cpu``, which has no formula either; it gets the
  same formula as the GPU kernels (``sdpa_flop``: 2 matmuls, causal masking not subtracted).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils import flop_counter

from ._summary_capture import model_state_restored, run_forward


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


def count_macs(
    model: nn.Module, args: tuple, kwargs: dict[str, Any], modules: list[tuple[str, nn.Module]]
) -> tuple[int, dict[str, int]]:
    """Total MACs of one forward and MACs per module path (summed over calls); MACs = FLOPs / 2.

    The model is run in eval mode under no_grad and left as it was (see ``capture``).
    """
    counter = flop_counter.FlopCounterMode(display=False, depth=None, custom_mapping=_extra_formulas())
    with model_state_restored(modules), counter:
        run_forward(model, args, kwargs, modules)
    total = counter.get_total_flops() // 2
    # FlopCounterMode names modules "<RootClass>.<path>" ("Global" is everything).
    root_name = type(model).__name__
    prefix = root_name + "."
    per_path: dict[str, int] = {}
    for name, ops in counter.get_flop_counts().items():
        if name == root_name:
            path = ""
        elif name.startswith(prefix):
            path = name[len(prefix) :]
        else:
            continue
        per_path[path] = sum(ops.values()) // 2
    return total, per_path
