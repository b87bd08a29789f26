"""A model whose tensors are FakeTensors for the length of a pass: shapes without values.

Under ``torch._subclasses.fake_tensor.FakeTensorMode`` every op propagates shapes, dtypes and
devices without computing or allocating anything. :func:`faked` swaps every parameter, buffer
and plain tensor attribute of every module for a FakeTensor made by ``mode.from_tensor`` (a
meta-backed view of the same metadata: no copy, no move, tied tensors stay tied because the
mode memoises its conversions), and puts the real tensors back afterwards, also when the pass
raises. An in-place update in the forward (BatchNorm's running statistics and
``num_batches_tracked`` in train mode, a ``self.seen += 1`` counter) therefore touches a fake,
never the user's tensor.

The mode is made with ``allow_non_fake_inputs=False`` (off the meta device): a real tensor the swap did not reach
(a global, a tensor in a list attribute) makes the op raise instead of being read, or written
in place, through the fake mode. :func:`fake_failure` words that and every other way a fake
pass fails in one line.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import torch
from torch._subclasses import fake_tensor
from torch.utils import _pytree as pytree

from ..errors import ModelPanelError
from .walk import ModuleTree, is_uninitialized


def fake_mode(*, on_meta: bool = False) -> fake_tensor.FakeTensorMode:
    """A fresh FakeTensorMode that refuses real tensors (see the module doc), except for a pass
    on the meta device (``on_meta``): there ``torch.tensor([], device="meta")`` gives a real
    meta tensor even under the mode (torch 2.13; transformers' KV cache starts so), and a real
    tensor met is a meta one, with no values to change."""
    return fake_tensor.FakeTensorMode(allow_non_fake_inputs=on_meta)


def cannot_fake(tree: ModuleTree) -> str | None:
    """Why the tree cannot be traced fake at all (checked before any pass), or None.

    TorchScript modules keep their tensors in C++, out of reach of the swap; a lazy module
    would materialise fake parameters and change its class on its first forward.
    """
    for path, module in tree.modules:
        label = f"module '{path}'" if path else "the root module"
        if isinstance(module, torch.jit.ScriptModule):
            return f"TorchScript keeps its tensors in C++, in {label} ({type(module).__name__})"
        for t in (*module._parameters.values(), *module._buffers.values()):
            if t is not None and is_uninitialized(t):
                return f"a lazy module materialises on its first forward, in {label} ({type(module).__name__})"
    return None


@contextlib.contextmanager
def faked(tree: ModuleTree, mode: fake_tensor.FakeTensorMode) -> Iterator[None]:
    """Every module's parameters, buffers and tensor attributes as FakeTensors inside; the
    real ones put back on exit (the dicts by reference, the attributes by ``object.__setattr__``)."""
    from_tensor = mode.from_tensor
    saved: list[tuple[Any, dict, dict, list[tuple[str, torch.Tensor]]]] = []
    try:
        for _, module in tree.modules:
            params, buffers = module._parameters, module._buffers
            attrs = [(k, v) for k, v in vars(module).items() if isinstance(v, torch.Tensor)]
            saved.append((module, dict(params), dict(buffers), attrs))
            for d in (params, buffers):
                for name, t in d.items():
                    if t is not None:
                        d[name] = from_tensor(t)
            for name, t in attrs:
                object.__setattr__(module, name, from_tensor(t))
        yield
    finally:
        for module, params, buffers, attrs in saved:
            module._parameters.clear()
            module._parameters.update(params)
            module._buffers.clear()
            module._buffers.update(buffers)
            for name, t in attrs:
                object.__setattr__(module, name, t)


def fake_inputs(mode: fake_tensor.FakeTensorMode, value: Any) -> Any:
    """``value`` (nested args/kwargs) with every tensor pytree reaches turned fake."""
    return pytree.tree_map_only(torch.Tensor, mode.from_tensor, value)


def fake_limitation(exc: BaseException) -> str | None:
    """Why the fake mode itself could not run a pass (a value was needed, an op has no fake
    kernel, a real tensor was met), walking the causes; None when the failure is not one of
    those (most often the model's own error on this input, which a real forward hits too)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        reason = _reason(cause)
        if reason is not None:
            return reason
        cause = cause.__cause__ or cause.__context__
    return None


def fake_failure(exc: BaseException) -> str:
    """One line saying why a pass under FakeTensorMode failed: what the fake mode could not do
    (a value was needed, an op has no fake kernel, a real tensor was met), else the innermost
    error's first line. Walks ``__cause__``/``__context__`` (a ForwardError wraps the torch error).
    """
    seen: set[int] = set()
    innermost = exc
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        reason = _reason(cause)
        if reason is not None:
            return reason
        innermost = cause
        cause = cause.__cause__ or cause.__context__
    return _first_line(innermost)


# What torch says when code reaches for the memory of a tensor that has none (numpy in a
# custom autograd Function, a C extension reading a data pointer).
_NEEDS_DATA = ("not supported for tensor subclasses", "Cannot access data pointer", "Cannot access storage")
_FOUND_IN = re.compile(r"Found in ([\w.]+)\(")
_NO_FAKE_IMPL = re.compile(r"no fake impl registered for <CustomOpDef\(([\w.:]+)\)>")


def _reason(exc: BaseException) -> str | None:
    func = getattr(exc, "func", None)
    op = str(func) if func is not None else "an op"
    if isinstance(exc, fake_tensor.DynamicOutputShapeException):
        return f"{op} has an output shape that depends on values (nonzero, unique, masked_select...)"
    if isinstance(exc, fake_tensor.DataDependentOutputException):
        return f"{op} reads a value (.item(), .tolist(), or Python control flow on a tensor)"
    if isinstance(exc, fake_tensor.UnsupportedOperatorException):
        return f"{op} has no fake-tensor kernel"
    no_fake_impl = _NO_FAKE_IMPL.search(str(exc))
    if no_fake_impl:
        return f"custom op {no_fake_impl.group(1)} has no fake kernel (torch.library's register_fake adds one)"
    if not isinstance(exc, ModelPanelError) and any(m in str(exc) for m in _NEEDS_DATA):
        return f"the forward needs a tensor's values, which fake tensors do not hold ({_first_line(exc)})"
    if "convert all Tensors to FakeTensors" in str(exc):
        found = _FOUND_IN.search(str(exc))
        op = found.group(1) if found else op
        return (f"{op} got a real tensor that is no parameter, buffer or tensor attribute of a module "
                "nor in the input's lists, tuples and dicts")
    return None


def _first_line(exc: BaseException) -> str:
    line = next((s.strip() for s in str(exc).splitlines() if s.strip()), "")
    return f"{type(exc).__name__}: {line[:200]}" if line else type(exc).__name__
