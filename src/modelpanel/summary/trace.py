"""Which forward a summary runs: ``trace="fake"`` (shapes and MACs without values) or ``"real"``.

The fake trace is ONE forward under ``FakeTensorMode`` with the capture's hook and the MAC
counter's ``FlopCounterMode`` both active: the layers, shapes, calls and MACs of the real
path, with no value computed and nothing allocated (``_core/fake.py`` swaps the model's
tensors for fakes and back). ``"auto"`` picks by :func:`prefers_fake` and falls back to the
real forward wherever the fake one raises; the reason is kept for ``Summary.trace_fallback``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from torch._subclasses.fake_tensor import FakeTensor

from .._core.fake import cannot_fake, fake_failure, fake_limitation, fake_mode, faked
from .._core.nested import iter_tensors
from .._core.walk import ModuleTree, module_kind
from ..errors import ForwardError, InputError
from .capture import Capture, capture
from .inputs import PreparedInputs
from .macs import MacCount, counted, mac_counter

#: The ``trace=`` values of ``summarize``.
TRACES = ("auto", "fake", "real")

#: ``"auto"`` traces fake when (parameter elements / modules) x input elements, a rough
#: measure of the math per op, reaches this; see prefers_fake for the measurements.
FAKE_FROM_WORK = 100_000_000


def check_trace(trace: Any) -> str:
    """``trace`` if it is one of TRACES; InputError naming them otherwise."""
    if not isinstance(trace, str) or trace not in TRACES:
        raise InputError(
            f"trace={trace!r} is not accepted: use trace='auto' (fake where it is cheaper, real "
            "where fake cannot run), 'fake' (shapes and MACs without computing values) or 'real' "
            "(the model's real forward)"
        )
    return trace


def prefers_fake(tree: ModuleTree, prepared: PreparedInputs, params: int) -> bool:
    """``trace="auto"``'s rule: fake for a model on the meta device, or where ``params`` (its
    parameter elements) per module times the input's elements reach FAKE_FROM_WORK.

    Why that product: a fake pass costs a fixed ~0.2-0.5 ms per op and per parameter tensor
    it converts (torch 2.13, one CPU thread), whatever the sizes; the real math grows with the
    weights each op applies and the data it applies them to. Measured (summarize with MACs,
    fake vs real, one thread, wall-clock medians on a shared machine): 2,000 x Linear(16, 16)
    at (1, 16): product 4e3, fake 1,500 ms vs real 390 ms; the Iris MLP: 83, 4.9 vs 2.3 ms;
    GPT-2-like with 1 M parameters at 64 tokens: 1.3e6, 38 vs 17 ms; SmallCNN at
    8 x 1 x 28 x 28: 4e7, 9 vs 11 ms; SmallCNN(3, 32) at batch 64: 1.7e9, 9 vs 42 ms; GPT-2
    small at 512 tokens: 4.6e8, 118 ms vs 3.8 s; ResNet-50 at 16 x 3 x 224 x 224: 4e11,
    91 ms vs 5.1 s (benchmarks/summary.py and summary_trace.py). Inputs given as
    ``input_data`` count by their tensors' elements.
    """
    if prepared.device.type == "meta":
        return True
    if prepared.random is not None:
        inputs = sum(_numel(s) for s in prepared.random[0])
    else:
        inputs = sum(t.numel() for t in iter_tensors((prepared.args, prepared.kwargs)))
    return params / len(tree.modules) * inputs >= FAKE_FROM_WORK


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


@dataclass
class Traced:
    """What the trace found: the capture, the MACs (fake only), which trace ran and why not fake."""

    captured: Capture
    macs: MacCount | None
    trace: str
    inputs: tuple[tuple, dict[str, Any]]  # the forward's (args, kwargs): FakeTensors after a fake trace
    fallback: str | None = None


def run_trace(tree: ModuleTree, prepared: PreparedInputs, *, mode: str, keep_partial: bool,
              trace: str, params: int) -> Traced:
    """The summary's forward, fake or real as ``trace`` says (see ``summarize``).

    ``trace="fake"`` raises ForwardError where the fake pass fails (naming why and where);
    ``"auto"`` runs the real pass instead and keeps that reason. ``params``: the model's
    parameter elements (for ``prefers_fake``).
    """
    fallback = None
    own_error: ForwardError | None = None
    use_fake = trace == "fake" or (trace == "auto" and prefers_fake(tree, prepared, params))
    if use_fake:
        why_not = cannot_fake(tree) if prepared.move_from is None else (
            f"device= moves the model from {prepared.move_from} to {prepared.device}")
        cause: BaseException | None = None
        if why_not is None:
            try:
                return _fake(tree, prepared, mode)
            except Exception as exc:  # any failure of the fake pass: the real one decides
                why_not = _where(fake_failure(exc), exc, tree)
                cause = exc
        # The model's own error on this input (a float where an Embedding wants indices), not
        # a limit of the fake mode: its message, hint included, is what the user needs.
        own_error = cause if isinstance(cause, ForwardError) and fake_limitation(cause) is None else None
        if trace == "fake" and own_error is not None:
            raise ForwardError(
                f"trace='fake': {own_error}. (If the model runs with trace='real', the fake trace "
                "cannot run it: use trace='real' or 'auto')",
                module_path=own_error.module_path,
            ) from own_error
        if trace == "fake":
            raise ForwardError(
                f"trace='fake' cannot run this model: {why_not}. Use trace='real' (or 'auto')",
                module_path=getattr(cause, "module_path", None),
            ) from cause
        fallback = why_not
    with prepared.placed(tree):
        try:
            captured = capture(tree, prepared.args, prepared.kwargs, mode=mode, keep_partial=keep_partial)
        except ForwardError as exc:
            if fallback is None or prepared.device.type != "meta":
                raise
            if own_error is not None and own_error.module_path == exc.module_path:
                raise  # the same failure with and without values: the input is wrong, not the trace
            raise ForwardError(
                f"this model on the meta device cannot be traced: the fake trace failed because "
                f"{fallback}, and a real forward on meta tensors (which hold no values) failed too: "
                f"{exc}. Summarize it on a real device, or without input for the tree and counts",
                module_path=exc.module_path,
            ) from exc
        if captured.error is not None and fallback is not None and prepared.device.type == "meta":
            captured.error.args = (f"{captured.error} (on the meta device; the fake trace failed "
                                   f"first because {fallback})",)
    return Traced(captured, None, "real", (prepared.args, prepared.kwargs), fallback)


def _fake(tree: ModuleTree, prepared: PreparedInputs, mode: str) -> Traced:
    fake = fake_mode(on_meta=prepared.device.type == "meta")
    counter = mac_counter()
    args, kwargs = prepared.fake(fake)
    captured = capture(tree, args, kwargs, mode=mode, within=_within(tree, fake, counter), tensor_type=FakeTensor)
    return Traced(captured, counted(counter, tree), "fake", (args, kwargs))


@contextlib.contextmanager
def _within(tree: ModuleTree, fake: Any, counter: Any) -> Iterator[None]:
    """Entered by the capture once the model's state is recorded: fakes in, modes on."""
    with faked(tree, fake), fake, counter:
        yield


def _where(reason: str, exc: BaseException, tree: ModuleTree) -> str:
    """``reason`` followed by the module the fake pass failed in (ForwardError knows it)."""
    path = getattr(exc, "module_path", None)
    if path is None:
        return reason
    module = dict(tree.modules).get(path, tree.root)
    label = f"module '{path}'" if path else "the root module"
    return f"{reason}, in {label} ({module_kind(module)})"
