"""``Layer``: one module of a summarised model (a row of the tree), and its field order."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import torch

from .._core.walk import ModuleTree, module_kind

if TYPE_CHECKING:
    from .params import ParamCounts


class _LazyMacs:
    """``Layer.macs``: reading it runs the summary's MAC pass once (see ``Summary.macs``)."""

    def __get__(self, obj: Layer | None, objtype: type | None = None) -> int | None:
        if obj is None:
            return None  # the dataclass default
        state = obj.__dict__
        if state.get("_macs") is None and state.get("_summary") is not None:
            summary = state["_summary"]()
            if summary is not None:
                summary._ensure_macs()
        return state.get("_macs")

    def __set__(self, obj: Layer, value: int | None) -> None:
        obj.__dict__["_macs"] = value


@dataclasses.dataclass(repr=False, eq=False)
class Layer:
    """One module of the model (``named_modules()`` order, root excluded).

    Shapes are those of the module's first call (None if it never ran or no input was
    given); ``params`` counts its subtree with each tensor once; ``macs`` sums all its calls
    and is counted by a second forward the first time any MAC figure is read (None inside
    TorchScript: FlopCounterMode counts that work, but books it on the scripted module that
    Python called). ``kind`` is the class name; for TorchScript modules, the compiled class's.

    ``status`` says why a module has no calls when a forward ran: ``""`` when it ran (or a
    module in its subtree did, as for a ``ModuleList``) or no forward ran,
    ``NOT_CALLED_IN_EVAL`` / ``NEVER_CALLED`` by the pass's mode, ``IN_TORCHSCRIPT``, or
    ``PACKED_WEIGHTS`` for the module a quantized layer keeps its packed weights in
    (``NOT_REACHED`` only in a panel whose forward failed: ``summarize`` raises instead).
    """

    path: str
    name: str
    kind: str
    depth: int
    parent: str
    input_shape: list | None
    output_shape: Any
    calls: int
    params: int
    own_params: int
    trainable_params: int
    macs: int | None = _LazyMacs()  # type: ignore[assignment]
    shared: bool = False
    param_formula: str = ""
    status: str = ""
    # Not fields: ``_macs`` (stored by _LazyMacs) and ``_summary`` (a weakref set by Summary).

    def to_dict(self) -> dict[str, Any]:
        """The layer as the ``_summary.layers`` entry; never triggers the MAC pass."""
        return {
            "path": self.path, "name": self.name, "kind": self.kind, "depth": self.depth,
            "parent": self.parent, "input_shape": self.input_shape,
            "output_shape": self.output_shape, "calls": self.calls, "params": self.params,
            "own_params": self.own_params, "trainable_params": self.trainable_params,
            "macs": self.__dict__.get("_macs"), "shared": self.shared, "param_formula": self.param_formula,
            "status": self.status,
        }  # fmt: skip

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"Layer({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layer) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a plain dataclass


_LAYER_KEYS = tuple(f.name for f in dataclasses.fields(Layer))
#: Field names of the tuples ``Summary.layer_rows()`` returns.
LAYER_FIELDS = _LAYER_KEYS
_MACS = _LAYER_KEYS.index("macs")
_STATUS = _LAYER_KEYS.index("status")
_CALLS = _LAYER_KEYS.index("calls")


_NEVER_RAN = (0, 0, None, None)  # the capture record of a module that did not run (or no input)


def _layer_rows(tree: ModuleTree, counts: ParamCounts, records: dict[int, list],
                statuses: list[str]) -> tuple[list[tuple], int]:
    """One tuple per layer (root excluded) in Layer's field order, and the forward activations.

    Activations are the bytes of what leaf modules returned (a parent's output is a child's
    tensor); a root without children is its own only leaf, and a TorchScript module called
    from Python counts as a leaf (no hook sees its submodules). ``records`` is ``Capture.records``,
    ``statuses`` the ``Layer.status`` of each module of the tree (see ``capture.layer_statuses``).
    """
    never_ran = _NEVER_RAN
    modules, names, depths, parents = tree.modules, tree.names, tree.depths, tree.parents
    shared = counts.shared
    subtree, own, trainable, formula = counts.subtree, counts.own, counts.subtree_trainable, counts.formula
    script = torch.jit.ScriptModule
    root = modules[0][1]
    activation_bytes = 0 if root._modules and not isinstance(root, script) else records.get(id(root), never_ran)[1]
    rows = []
    for i in range(1, len(modules)):
        path, module = modules[i]
        calls, out_bytes, input_shape, output_shape = records.get(id(module), never_ran)
        if not module._modules or isinstance(module, script):
            activation_bytes += out_bytes
        rows.append((
            path, names[i], module_kind(module), depths[i], modules[parents[i]][0], input_shape,
            output_shape, calls, subtree[i], own[i], trainable[i], None, i in shared, formula[i],
            statuses[i],
        ))  # fmt: skip
    return rows, activation_bytes
