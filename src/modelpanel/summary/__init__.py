"""``summarize(model)``: a model's layers, shapes, parameter counts, MACs and memory, headless.

Pure torch; knows nothing of widgets. ``Summary.to_dict()`` is the ``_summary`` trait of
docs/widget-state.md.

>>> s = summarize(IrisMLP(), input_size=(1, 4))
>>> s.total_params, s.layers[0].param_formula
(83, 'weight 10×4 = 40 + bias 10 = 50')
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin

from .._core.gc import gc_paused
from .._core.nested import iter_tensors, tensor_bytes
from .._core.restore import PASS_MODES
from .._core.walk import module_kind, unwrap, walk_modules, wrapper_kinds
from ..errors import ForwardError, InputError, ModelPanelError
from . import export, memory
from .capture import (
    IN_TORCHSCRIPT,
    NEVER_CALLED,
    NOT_CALLED_IN_EVAL,
    NOT_REACHED,
    PACKED_WEIGHTS,
    layer_statuses,
)
from .inputs import PreparedInputs, prepare_inputs
from .layer import _CALLS, _LAYER_KEYS, _MACS, _NEVER_RAN, _STATUS, LAYER_FIELDS, Layer, _layer_rows
from .macs import MacCount, count_macs
from .memory import training_memory
from .params import count_params
from .trace import check_trace, run_trace

__all__ = ["IN_TORCHSCRIPT", "LAYER_FIELDS", "NEVER_CALLED", "NOT_CALLED_IN_EVAL", "NOT_REACHED", "PACKED_WEIGHTS",
           "Layer", "Summary", "summarize"]


class Summary:
    """What ``summarize`` found.

    It keeps the model only until the MAC pass has run (so ``print(summarize(Net(), ...))``
    counts them, as torchinfo users expect), then only through a weak reference; a panel's
    summary (``panel.summary``) holds it weakly from the start. Counts are ints; byte figures are None where they need an input that was not given.
    ``macs`` (and each layer's ``macs``, and ``str(summary)``) run a second forward under
    FlopCounterMode the first time they are read (a fake trace counted them already);
    ``to_dict()`` does not, unless ``to_dict(macs=True)``.
    """

    def __init__(self, *, model: nn.Module, rows: list[tuple], fields: dict[str, Any],
                 inputs: PreparedInputs | None) -> None:  # fmt: skip
        self._model_ref = weakref.ref(model)
        # Strong until the lazy MAC pass needs it no more (no input: nothing to count).
        self._model_held: nn.Module | None = model if inputs is not None else None
        self._inputs = inputs  # kept for the lazy MAC pass, dropped after it
        self._macs: int | None = None
        self._macs_excluded: list[str] | None = None
        # Called (weakly: a WeakMethod) after the lazy MAC pass, however it was triggered, so a
        # panel shows MACs that code counted (panel.summary.macs) without a refresh.
        self._macs_listener: Callable[[], Callable[[], None] | None] | None = None
        # Called the same way with (module calls done, expected) during the pass, (None, 0) after.
        self._macs_progress: Callable[[], Callable[[int | None, int], None] | None] | None = None
        # One tuple per layer, in Layer's field order. Layer objects are made the first time
        # ``layers`` is read: to_dict() (what the panel sends) never needs them, and making
        # 2,000 of them costs a tenth of a 2,000-layer forward.
        self._rows = rows
        self._layers: list[Layer] | None = None
        self.model_kind: str = fields["model_kind"]
        #: The wrappers the model was found in, outermost first (``["DataParallel"]``,
        #: ``["torch.compile"]``); the summary is of the module inside them.
        self.wrappers: list[str] = []
        self.total_params: int = fields["total_params"]
        self.trainable_params: int = fields["trainable_params"]
        self.non_trainable_params: int = fields["total_params"] - fields["trainable_params"]
        self.param_bytes: int = fields["param_bytes"]
        self.buffer_bytes: int = fields["buffer_bytes"]
        self.input_bytes: int | None = fields["input_bytes"]
        self.activation_bytes: int | None = fields["activation_bytes"]
        self.devices: list[str] = fields["devices"]
        #: The parameters' dtypes, then the floating buffers' others ("float32"; "qint8" for
        #: packed weights); integer and bool buffers (counters, masks) only without parameters.
        self.dtypes: list[str] = fields["dtypes"]
        self.training: bool = fields["training"]
        #: The train/eval mode the forward ran in: "eval", "train" or "same" (see summarize).
        self.mode: str = fields["mode"]
        self.input_shapes: Any = fields["input_shapes"]
        self.root_params: int = fields["root_params"]
        #: How parameters that are not plain materialised floats were counted (packed,
        #: lazy, meta, complex, sparse, parametrized), one sentence each; usually empty.
        self.param_notes: list[str] = fields.get("param_notes", [])
        #: The root's output, mirrored like Layer.output_shape (not part of to_dict()).
        self.output_shape: Any = fields["output_shape"]
        # The root's own call count and parameter formula, for the panel's root row (panel/state.py).
        self._root_calls: int = fields.get("root_calls", 0)
        self._root_formula: str = fields.get("root_formula", "")
        #: The forward that ran: "fake", "real", or None without input (see summarize's ``trace=``).
        self.trace: str | None = fields.get("trace")
        #: Why "auto" ran real where it tried fake, one line naming the op and module; else None.
        self.trace_fallback: str | None = fields.get("trace_fallback")
        self._trainable_bytes: int | None = None  # summary/memory.py's, once read

    @property
    def layers(self) -> list[Layer]:
        """One ``Layer`` per module, ``named_modules()`` order, root excluded (made on first read)."""
        if self._layers is None:
            self_ref = weakref.ref(self)
            layers = [Layer(*row) for row in self._rows]
            for layer in layers:
                layer._summary = self_ref
            self._layers = layers
        return self._layers

    @property
    def total_bytes(self) -> int:
        """Parameters + buffers + input + forward activations (the last two when known)."""
        return self.param_bytes + self.buffer_bytes + (self.input_bytes or 0) + (self.activation_bytes or 0)

    @property
    def macs(self) -> int | None:
        """Multiply-accumulates of one forward (FLOPs / 2); None when no input was given.

        Counted by a second forward under FlopCounterMode the first time it is read (by the
        trace itself when ``trace == "fake"``). Raises ModelPanelError if the model has been deleted before that.
        """
        self._ensure_macs()
        return self._macs

    @property
    def macs_excluded(self) -> list[str] | None:
        """Ops that ran and multiply-add but have no FLOP formula, so ``macs`` leaves their work out.

        Sorted op names, e.g. ``["aten._cudnn_attention_forward"]``; ``[]`` when nothing was
        left out; None when no input was given. Counted by the same pass as ``macs`` (and
        read the same way); the rule is ``summary.mac_formulas.uncounted``.
        """
        self._ensure_macs()
        return None if self._macs_excluded is None else list(self._macs_excluded)

    @property
    def macs_counted(self) -> bool:
        """Whether the MAC pass has run (reading this never runs it)."""
        return self._macs is not None

    def _ensure_macs(self) -> None:
        if self._macs is not None or self._inputs is None:
            return
        model = self._model_held if self._model_held is not None else self._model_ref()
        if model is None:
            raise ModelPanelError(
                "the model this summary describes has been deleted, so its MACs cannot be "
                "counted any more: call summarize(model, ..., macs=True) while the model exists"
            )
        inputs = self._inputs
        tree = walk_modules(model)
        progress = self._macs_progress() if self._macs_progress is not None else None
        try:
            with inputs.placed(tree):
                count = count_macs(tree, inputs.args, inputs.kwargs, mode=self.mode, progress=progress,
                                   expected_calls=1 + sum(row[_CALLS] for row in self._rows))  # + the root's call
        finally:
            if progress is not None:
                progress(None, 0)
        self._set_macs(count)
        listener = self._macs_listener() if self._macs_listener is not None else None
        if listener is not None:
            listener()

    def _set_macs(self, count: MacCount) -> None:
        """Book a MAC count (the lazy pass's, or the fake trace's) on the summary and its layers."""
        total, per_path, excluded = count
        # Inside TorchScript nothing is booked per module: unknown, not zero.
        macs = [None if row[_STATUS] == IN_TORCHSCRIPT else per_path.get(row[0], 0) for row in self._rows]
        self._rows = [(*row[:_MACS], m, *row[_MACS + 1 :]) for row, m in zip(self._rows, macs)]
        if self._layers is not None:
            for layer, m in zip(self._layers, macs):
                layer.macs = m
        self._macs = total
        self._macs_excluded = excluded
        self._inputs = None
        self._model_held = None

    def layer_rows(self) -> list[tuple]:
        """One tuple per layer in ``Layer``'s field order (``LAYER_FIELDS``); never runs the MAC pass.

        The fast way to read every layer at once (the panel encodes these as columns).
        """
        if self._layers is None:
            return self._rows
        return [tuple(layer.to_dict().values()) for layer in self._layers]

    def totals(self) -> dict[str, Any]:
        """The model-wide figures of ``to_dict()``, without the layers (JSON-safe)."""
        return {
            "model_kind": self.model_kind,
            "wrappers": list(self.wrappers),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "param_bytes": self.param_bytes,
            "buffer_bytes": self.buffer_bytes,
            "input_bytes": self.input_bytes,
            "activation_bytes": self.activation_bytes,
            "total_bytes": self.total_bytes,
            "macs": self._macs,
            "macs_excluded": None if self._macs_excluded is None else list(self._macs_excluded),
            "devices": list(self.devices),
            "dtypes": list(self.dtypes),
            "training": self.training,
            "mode": self.mode,
            "input_shapes": self.input_shapes,
            "root_params": self.root_params,
            "trace": self.trace,
            "trace_fallback": self.trace_fallback,
            "training_memory": training_memory(self),
        }

    def _hold_weakly(self) -> None:
        """Let go of the model (the panel's summary must not keep a deleted model alive)."""
        self._model_held = None

    def to_dict(self, macs: bool = False) -> dict[str, Any]:
        """The summary as JSON-safe data: ``totals()`` plus ``"layers"``, one dict per layer.

        ``"macs"`` is null until counted; ``macs=True`` counts them first.
        """
        if macs:
            self._ensure_macs()
        return {
            **self.totals(),
            "layers": (
                list(map(dict, map(zip, repeat(_LAYER_KEYS), self._rows)))
                if self._layers is None  # (once made, Layer objects are the truth: users may edit them)
                else [layer.to_dict() for layer in self._layers]
            ),
        }

    # The exports live in summary/export.py; these are those functions, so ``summary`` is self.
    table = export.table
    to_markdown = export.to_markdown
    to_dataframe = export.to_dataframe
    memory = memory.memory  # summary.memory(optimizer="AdamW"): bytes to run and train (summary/memory.py)

    def __str__(self) -> str:
        return self.table()  # every depth and column: counts the MACs first (see table())

    def __repr__(self) -> str:
        return (
            f"<Summary of {self.model_kind}: {len(self._rows)} layers, "
            f"{self.total_params:,} params ({self.trainable_params:,} trainable)>"
        )


def summarize(
    model: nn.Module,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    input_data: torch.Tensor | Sequence[Any] | Mapping[str, Any] | None = None,
    *,
    device: str | torch.device | None = None,
    dtypes: torch.dtype | Sequence[torch.dtype] | None = None,
    macs: bool = False,
    mode: str = "eval",
    trace: str = "auto",
) -> Summary:
    """Summarise ``model``: its layer tree, shapes, parameter counts, memory and (on demand) MACs.

    Args:
        model: an ``nn.Module``; torch.compile and DataParallel/DDP wrappers are unwrapped.
        input_size: a shape including the batch dimension, e.g. ``(1, 4)``, or a list of
            shapes for several positional inputs. Random tensors of the model's floating dtype
            (or ``dtypes``) are made on the model's device.
        input_data: a tensor, a tuple/list of positional arguments, or a dict of keyword
            arguments; nested structures are fine.
        device: where to run the forward. None: where the model is. A model on one other
            device is moved there for the pass and moved back; a model spread over several
            devices is never moved.
        dtypes: dtype of each ``input_size`` tensor (one dtype for all, or one per shape),
            e.g. ``[torch.long]`` for token ids.
        macs: count MACs now. By default they are counted the first time ``.macs`` is read,
            because FlopCounterMode costs several forwards on models of many small layers.
        trace: ``"fake"``: one forward under torch's FakeTensorMode (shapes, dtypes, devices;
            no value computed, nothing allocated, parameters never copied) that also counts the
            MACs: the layers, shapes, calls and MACs of ``"real"`` at a fraction of a forward
            (benchmarks/summary_trace.py), meta-device models included. ``"real"``: the model's
            own forward. ``"auto"``: fake on the meta device or where parameters per module x
            input elements >= 1e8 (``trace.prefers_fake``, measured), else real; and real where
            fake fails: shapes that depend on values (``nonzero``, masks), a value read
            (``.item()``, ``if`` on a tensor), an op without a fake kernel, a custom autograd
            Function or real tensor fake cannot take, TorchScript, lazy modules, a ``device=``
            move. ``Summary.trace`` says which ran, ``trace_fallback`` why (``"fake"`` raises
            ForwardError instead). Meta kernels check shapes, not always dtypes.
        mode: the train/eval mode of the forward. ``"eval"`` (default): every module in eval
            mode, as for inference. ``"train"``: every module in train mode, so branches only
            a training model takes run and show their shapes (Inception's ``AuxLogits``,
            GoogLeNet's ``aux1``); Dropout draws masks and BatchNorm uses batch statistics
            (a batch of 1 may then fail in BatchNorm: give a batch of 2 or more).
            ``"same"``: each module's flag as the model has it. Whatever the mode, flags,
            BatchNorm running statistics (``num_batches_tracked`` too) and torch's global
            random state are put back afterwards. A module that did not run is marked by
            ``Layer.status`` (``"not called in eval mode"`` after an eval pass, ``"never
            called"`` otherwise).

    Without input, no forward runs: the tree and parameter counts are complete, shapes None.
    With input, ONE forward runs in ``mode`` under no_grad with a forward hook; every
    module's train/eval flag, buffers, the grad mode, the global random state and the hooks
    are restored, also if it raises. The random input for ``input_size`` is drawn from a
    private generator (seeded, so the same every time), never from torch's global one.
    Python's cyclic garbage collector is paused meanwhile (the forward included) and left as
    it was found; collection is deferred until the call returns. Lazy modules
    (``nn.LazyLinear``, ...) are materialised by that forward, as by any first forward: the
    one change a summary makes, with the values the next random draws would have given them.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        InputError: the input has the wrong form (the message lists the accepted ones), or
            ``mode`` is not one of "eval", "train", "same", or ``trace`` not one of "auto",
            "fake", "real".
        DeviceError: ``device`` is unknown or unavailable, or would move a multi-device model.
        ForwardError: the forward raised; names the module path and the shapes it got
            (with ``trace="fake"``: also where the fake pass cannot run, and why).

    >>> summarize(IrisMLP(), input_size=(1, 4)).layers[2].output_shape
    [1, 3]
    """
    with gc_paused():  # tens of thousands of small lists and tuples on large models: see _core/gc.py
        summary, _ = _summarize(model, input_size, input_data, device, dtypes, mode, keep_partial=False,
                                trace=trace, who="summarize()")
    if macs:
        summary._ensure_macs()
    return summary


def _summarize(given: nn.Module, input_size: Any, input_data: Any, device: Any, dtypes: Any,
               mode: Any, *, keep_partial: bool, trace: Any, who: str) -> tuple[Summary, ForwardError | None]:
    """``summarize`` without the MAC pass, of the module inside any wrapper of ``given``; with
    ``keep_partial``, a failing forward gives what was captured before it and the error (see
    partial.py). ``who``: the function the user called, for the TypeError of a non-Module."""
    model = unwrap(given, who=who)
    if not isinstance(mode, str) or mode not in PASS_MODES:
        raise InputError(
            f"mode={mode!r} is not accepted: use mode='eval' (every module in eval mode), "
            "'train' (every module in train mode) or 'same' (the model's own flags)"
        )
    check_trace(trace)
    tree = walk_modules(model)
    prepared = prepare_inputs(tree, input_size, input_data, device, dtypes)
    training = model.training
    records: dict[int, list] = {}
    error: ForwardError | None = None
    traced = None
    counts = None
    if prepared is not None:
        # Checked before the forward: a lazy module changes its class when it materialises.
        has_lazy = any(isinstance(m, LazyModuleMixin) for _, m in tree.modules)
        counts = None if has_lazy else count_params(tree)  # (trace="auto" weighs the parameters)
        traced = run_trace(tree, prepared, mode=mode, keep_partial=keep_partial, trace=trace,
                           params=0 if counts is None else counts.total)
        records, error = traced.captured.records, traced.captured.error
        if has_lazy:
            # A lazy module may build submodules when it materialises: walk the tree again.
            tree = walk_modules(model)
    if counts is None:
        counts = count_params(tree)
    failed_path = None if error is None else (error.module_path or "")
    statuses = [""] * len(tree.modules) if prepared is None else layer_statuses(tree, records, mode, failed_path)
    rows, activation_bytes = _layer_rows(tree, counts, records, statuses)

    inputs = None if prepared is None else traced.inputs
    if prepared is not None and not counts.devices:
        counts.devices = list(dict.fromkeys(str(t.device) for t in iter_tensors(inputs)))
    summary = Summary(
        model=model,
        rows=rows,
        fields={
            "model_kind": module_kind(model),
            "total_params": counts.total,
            "trainable_params": counts.trainable,
            "param_bytes": counts.param_bytes,
            "buffer_bytes": counts.buffer_bytes,
            "input_bytes": None if prepared is None else tensor_bytes(inputs),
            "activation_bytes": None if prepared is None or error is not None else activation_bytes,
            "devices": counts.devices,
            "dtypes": counts.dtypes,
            "training": training,
            "mode": mode,
            "input_shapes": None if prepared is None else prepared.input_shapes,
            "root_params": counts.own[0],
            "param_notes": counts.notes,
            "output_shape": records.get(id(model), _NEVER_RAN)[3],
            "root_calls": records.get(id(model), _NEVER_RAN)[0],
            "root_formula": counts.formula[0],
            "trace": None if traced is None else traced.trace,
            "trace_fallback": None if traced is None else traced.fallback,
        },
        # A forward that fails would fail the MAC pass too: nothing to count; the fake trace counted.
        inputs=prepared if error is None and (traced is None or traced.macs is None) else None,
    )
    summary.wrappers = wrapper_kinds(given)
    if traced is not None and traced.macs is not None:
        summary._set_macs(traced.macs)
    return summary, error
