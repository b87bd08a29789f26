"""The ONE module walk: each module's tree path, parent and depth, and the wrappers around it.

Every engine names modules through this walk, so a MAC count, a weight statistic, a gradient
norm or an evaluation error lands on the row the tree shows, whatever wraps or aliases the
module:

* :func:`unwrap` takes the user's module out of ``torch.compile`` (``OptimizedModule``),
  ``DataParallel``, ``DistributedDataParallel`` and FSDP (v1) wrappers;
* :func:`walk_modules` lists each module once, at its first path (``named_modules`` order);
  a module registered under a second name (an alias) keeps its first path, and
  :meth:`ModuleTree.canonical` maps any alias path to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import UninitializedTensorMixin

# Wrappers whose ``.module`` is the user's model. FSDP (v1) is matched by name: importing
# torch.distributed.fsdp to isinstance-check costs time and fails on builds without it.
_WRAPPER_NAMES = ("DataParallel", "DistributedDataParallel", "FullyShardedDataParallel")


def unwrap(model: Any, *, who: str = "modelpanel") -> nn.Module:
    """The user's own module inside torch.compile / DataParallel / DDP / FSDP wrappers.

    Raises TypeError (naming ``who``, the function the user called) for a non-Module.
    """
    if not isinstance(model, nn.Module):
        hint = ""
        if isinstance(model, type) and issubclass(model, nn.Module):
            hint = f" (the class {model.__name__} itself: pass an instance, {model.__name__}(...))"
        elif isinstance(model, Iterator) or type(model).__name__ == "generator":
            hint = " (a generator: pass the model itself, not model.parameters())"
        raise TypeError(
            f"{who} needs a torch.nn.Module, but got {type(model).__module__}."
            f"{type(model).__qualname__}{hint}"
        )
    while True:
        inner = _inner(model)
        if inner is None:
            return model
        model = inner


def wrapper_kinds(model: nn.Module) -> list[str]:
    """The wrappers ``unwrap`` looks through, outermost first: ``["torch.compile"]``,
    ``["DataParallel"]``, ``["DistributedDataParallel", "torch.compile"]``; [] for none."""
    kinds = []
    inner = _inner(model)
    while inner is not None:
        kinds.append("torch.compile" if type(model).__name__ == "OptimizedModule" else type(model).__name__)
        model, inner = inner, _inner(inner)
    return kinds


def _inner(model: nn.Module) -> nn.Module | None:
    """The module a wrapper holds; None when ``model`` is no wrapper."""
    inner = None
    # Duck-typed: importing torch._dynamo just to isinstance-check costs about a second.
    if type(model).__name__ == "OptimizedModule":
        inner = getattr(model, "_orig_mod", None)
    elif isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)) or (
        type(model).__name__ in _WRAPPER_NAMES
    ):
        inner = getattr(model, "module", None)
    return inner if isinstance(inner, nn.Module) else None


_LAZY_TYPES: dict[type, bool] = {}


def is_uninitialized(t: torch.Tensor) -> bool:
    """A lazy module's not-yet-materialised parameter or buffer."""
    # Cached per type: isinstance against Parameter's metaclass is slow on 2,000-layer models.
    kind = type(t)
    lazy = _LAZY_TYPES.get(kind)
    if lazy is None:
        lazy = _LAZY_TYPES[kind] = issubclass(kind, UninitializedTensorMixin)
    return lazy


def module_kind(module: nn.Module) -> str:
    """The name a module is shown by: the one ``repr(model)`` prints (``module._get_name()``).

    That is the class name, except where torch names a module apart from its class: quantized
    modules keep their float class's name (``torch.ao.nn.quantized.dynamic.Linear`` prints as
    ``DynamicQuantizedLinear``, the static one as ``QuantizedLinear``, a reference one as
    ``QuantizedLinear(Reference)``), and TorchScript modules (``torch.jit.script`` / ``trace``),
    whose class is ``RecursiveScriptModule`` / ``TracedModule`` whatever was compiled: there,
    the compiled class's (``original_name``), as torchinfo shows it.
    """
    if isinstance(module, torch.jit.ScriptModule):
        name = getattr(module, "original_name", None)
        if isinstance(name, str) and name:
            return name
    try:
        name = module._get_name()
    except Exception:  # a user's override that fails must not break a summary
        return type(module).__name__
    return name if isinstance(name, str) and name else type(module).__name__


def numel(t: torch.Tensor) -> int:
    """Element count; 0 for a lazy module's not-yet-materialised parameter."""
    return 0 if is_uninitialized(t) else t.numel()


def nbytes(t: torch.Tensor) -> int:
    """Bytes a tensor's elements take (0 while uninitialised)."""
    return numel(t) * t.element_size()


def parent_indices(modules: list[tuple[str, nn.Module]]) -> list[int]:
    """Index in ``modules`` of each module's parent (-1 for the root).

    ``named_modules()`` reaches every listed module through its listed parent, so the parent's
    path ("a.b" -> "a") is always in the list; names cannot contain ".".
    """
    index = {path: i for i, (path, _) in enumerate(modules)}
    return [index[path.rpartition(".")[0]] if path else -1 for path, _ in modules]


@dataclass
class ModuleTree:
    """``named_modules()`` of a model (root first, as "") with what the walk learnt on the way.

    Lists are aligned with ``modules``: the index of each module's parent (-1 for the root),
    its own name (last path part) and its depth (root 0). ``second_parents`` are the indices
    of modules that register a child already listed under another parent.
    """

    modules: list[tuple[str, nn.Module]]
    parents: list[int]
    names: list[str]
    depths: list[int]
    second_parents: list[int]
    _paths: dict[int, str] | None = field(default=None, repr=False)
    _aliases: dict[str, str] | None = field(default=None, repr=False)

    @property
    def root(self) -> nn.Module:
        return self.modules[0][1]

    @property
    def path_by_id(self) -> dict[int, str]:
        """``id(module) -> tree path`` for every module of the tree (made on first use)."""
        if self._paths is None:
            self._paths = {id(m): p for p, m in self.modules}
        return self._paths

    def all_paths(self) -> list[tuple[str, str, nn.Module]]:
        """``(path, tree path, module)`` for every name of every module, aliases included
        (``named_modules(remove_duplicate=False)`` order); without aliases, the tree itself."""
        if not self.second_parents:
            return [(p, p, m) for p, m in self.modules]
        return [(p, self.canonical(p) or p, m)
                for p, m in self.root.named_modules(remove_duplicate=False)]

    def floating_dtypes(self) -> list[torch.dtype]:
        """The distinct floating dtypes of the parameters, in order of appearance."""
        seen: dict[torch.dtype, None] = {}
        for _, module in self.modules:
            for p in module._parameters.values():
                if p is not None and p.is_floating_point():
                    seen[p.dtype] = None
        return list(seen)

    def canonical(self, path: str) -> str | None:
        """The tree path of the module at ``path``, which may be an alias (a second name).

        ``seq.0`` -> ``lin`` when ``self.seq = nn.Sequential(self.lin)``; None when no module
        of the tree has that path under any name.
        """
        if self._aliases is None:
            if self.second_parents:
                paths = self.path_by_id
                self._aliases = {
                    p: paths[id(m)]
                    for p, m in self.root.named_modules(remove_duplicate=False)
                    if id(m) in paths
                }
            else:
                self._aliases = {p: p for p, _ in self.modules}
        return self._aliases.get(path)


def walk_modules(model: nn.Module) -> ModuleTree:
    """``list(model.named_modules())`` and its tree (see ``ModuleTree``).

    The same pre-order walk as ``nn.Module.named_modules`` (each module once, at its first
    path; None children skipped), without its generator per module: on a 2,000-layer model it
    takes half the time. If any module overrides ``named_modules``, the model's own is used.
    A module registered under two parents is listed once, at its first path; the other parents
    are listed in ``second_parents``, so their subtree counts can still include it.
    """
    base = nn.Module.named_modules
    modules: list[tuple[str, nn.Module]] = [("", model)]
    parents = [-1]
    names = [""]
    depths = [0]
    second_parents: list[int] = []
    seen = {id(model)}
    custom = type(model).named_modules is not base

    if not custom:
        # An explicit stack, not recursion: a model nested as deep as its own forward allows
        # must not fail here (one stack entry per level: (children left, prefix, index, depth)).
        stack = [(iter(model._modules.items()), "", 0, 1)]
        while stack:
            children, prefix, index, depth = stack[-1]
            for name, child in children:
                if child is None:
                    continue
                if id(child) in seen:
                    second_parents.append(index)
                    continue
                seen.add(id(child))
                path = prefix + name
                modules.append((path, child))
                parents.append(index)
                names.append(name)
                depths.append(depth)
                if type(child).named_modules is not base:
                    custom = True
                if child._modules:
                    stack.append((iter(child._modules.items()), path + ".", len(modules) - 1, depth + 1))
                    break  # pre-order: the child's subtree first, then this module's next child
            else:
                stack.pop()
    if custom:
        modules = list(model.named_modules())
        parents = parent_indices(modules)
        names = [path.rpartition(".")[2] for path, _ in modules]
        depths = [path.count(".") + 1 if path else 0 for path, _ in modules]
        # named_modules() hides re-registered children: recount every module in that case.
        second_parents = list(range(len(modules)))
    return ModuleTree(modules, parents, names, depths, second_parents)




def owned_tensors(tree: ModuleTree, *, grads: bool = False) -> tuple[list[str], list[torch.Tensor]]:
    """(owner path, detached tensor) for each parameter once (tied: its first owner), tree order.

    ``grads=True`` gives each parameter's ``.grad`` instead (parameters without one are left
    out). Empty, sparse and not-yet-materialised tensors are left out: they have no values.
    """
    seen: set[int] = set()
    owners: list[str] = []
    tensors: list[torch.Tensor] = []
    for path, module in tree.modules:
        for p in module._parameters.values():
            if p is None or id(p) in seen:
                continue
            seen.add(id(p))
            t = p.grad if grads else p
            if t is None or is_uninitialized(t) or t.numel() == 0 or t.is_sparse:
                continue
            owners.append(path)
            tensors.append(t.detach())
    return owners, tensors
