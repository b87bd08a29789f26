"""The MAC pass: a second forward under ``torch.utils.flop_counter.FlopCounterMode``.

FlopCounterMode counts aten ops (so functional attention counts too) and attributes them to
every module on the call stack. Where it would miss work:

* The fused inference fast paths of ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer``
  (``_native_multi_head_attention``, ``_transformer_encoder_layer_fwd``) have no FLOP formula,
  so a TransformerEncoder in eval mode would count 0. ``_core.restore.eval_pass`` switches
  the fast path off for every pass and restores it.
* Fused kernels it has no formula for (the oneDNN/cuDNN RNN kernels, quantized linear and
  convolution, CPU flash attention, ``mv``...) get one from ``mac_formulas``.
* Whatever still runs without a formula and does multiply-adds (``mac_formulas.uncounted``)
  is named in ``MacCount.excluded``, so a count that misses work says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from torch.utils import flop_counter

from .._core.failures import run_forward
from .._core.restore import eval_pass
from .._core.walk import ModuleTree
from .mac_formulas import extra_formulas, uncounted


class MacCount(NamedTuple):
    """What the MAC pass found: ``total`` MACs, MACs per tree path, ops left out of both."""

    total: int
    per_path: dict[str, int]
    excluded: list[str]


class _Counter(flop_counter.FlopCounterMode):
    """FlopCounterMode that also notes every op it ran without a formula."""

    def __init__(self) -> None:
        super().__init__(display=False, depth=None, custom_mapping=extra_formulas())
        self.unformulated: set[Any] = set()

    # FlopCounterMode calls this for every op it runs rather than decomposes (torch >= 2.4;
    # on older torch nothing is noted and ``excluded`` stays empty).
    def _count_flops(self, func_packet: Any, out: Any, args: Any, kwargs: Any) -> Any:
        if func_packet not in self.flop_registry:
            self.unformulated.add(func_packet)
        return super()._count_flops(func_packet, out, args, kwargs)


#: Seconds between two progress reports of the MAC pass (a 2,000-module pass takes seconds).
PROGRESS_EVERY = 0.1


def _progress_hooks(tree: ModuleTree, progress: Callable[[int, int], None], expected: int) -> list[Any]:
    """A forward hook on every module that reports ``progress(done, expected)`` (module calls
    finished), at most every PROGRESS_EVERY seconds; the handles, to remove."""
    done = 0
    last = time.monotonic()
    progress(0, expected)

    def hook(*_: Any) -> None:
        nonlocal done, last
        done += 1
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY:
            last = now
            progress(min(done, expected), expected)

    return [module.register_forward_hook(hook) for _, module in tree.modules]


def count_macs(tree: ModuleTree, args: tuple, kwargs: dict[str, Any], *, mode: str = "eval",
               progress: Callable[[int, int], None] | None = None, expected_calls: int = 0) -> MacCount:
    """Total MACs of one forward, MACs per tree path (summed over calls), and uncounted ops.

    MACs = FLOPs / 2. ``excluded``: sorted names (``"aten.mkldnn_rnn_layer"``) of the ops that
    ran, do multiply-adds and have no formula (``mac_formulas.uncounted``); their work is in
    no figure.

    The model is run under ``_core.restore.eval_pass`` in ``mode`` (the summary's: "eval",
    "train" or "same", so a train-only branch is counted when the capture saw it) and left as
    it was. ``progress(done, expected_calls)``, when given, is called as the pass starts and
    then at most every PROGRESS_EVERY seconds with the number of module calls finished (the
    capture's call count is ``expected_calls``); its hooks are removed after the pass, also when
    it raises. FlopCounterMode
    names a module by the path it reached it through, which for an alias (a module registered
    under two names) is not the tree's: each name is mapped back with ``tree.canonical``, so
    the work lands on the row the tree shows.
    """
    counter = mac_counter()
    handles = [] if progress is None else _progress_hooks(tree, progress, max(expected_calls, 1))
    try:
        with eval_pass(tree, what="the MAC count", mode=mode), counter:
            run_forward(tree, args, kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return counted(counter, tree)


def mac_counter() -> _Counter:
    """The FlopCounterMode a MAC count runs under (our formulas added; ops without one noted)."""
    return _Counter()


def counted(counter: _Counter, tree: ModuleTree) -> MacCount:
    """What ``counter`` (from :func:`mac_counter`) counted over a forward of ``tree``'s root."""
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
    excluded = sorted(name for name in map(str, counter.unformulated) if uncounted(name))
    return MacCount(total, per_path, excluded)
