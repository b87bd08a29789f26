"""Where a forward failed: the innermost module of the tree that was running, and the message.

Read from the traceback after the fact (``Module._call_impl`` frames hold ``self``, ``args``
and ``kwargs``), so the success path carries no hooks and no path table. summarize, the MAC
pass, evaluate and predict all word a failing forward through :func:`forward_error`.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ..errors import ForwardError, format_exception
from .nested import call_shapes
from .walk import ModuleTree, module_kind

#: Frames a pass adds to the stack besides one per nesting level: our own calls above the
#: forward, and at its deepest point a hook's frames, or FlopCounterMode's dispatch, whose
#: first use imports torch._dynamo from there (torch 2.13: that import chain takes ~250).
_PASS_FRAMES = 400


@contextlib.contextmanager
def stack_headroom(tree: ModuleTree) -> Iterator[None]:
    """Python's recursion limit raised by what a hooked pass adds; put back after.

    A module call with any forward hook present (ours, or FlopCounterMode's) runs through
    ``Module._call_impl``'s inner closure: one frame more per nesting level than a plain call
    (torch 2.13: 5 stack units a level instead of 4). A model nested just shallow enough to run
    on its own would otherwise fail only under modelpanel. The lift is bounded: one frame per
    level of the module tree plus ``_PASS_FRAMES``, so a forward that recurses without end
    still raises RecursionError.
    """
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + max(tree.depths, default=0) + _PASS_FRAMES)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def run_forward(tree: ModuleTree, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Call the tree's root with ``args``/``kwargs``; on failure raise a ForwardError naming
    the failing module by its tree path (the path map is built only then).

    The recursion limit is raised for the call by what hooks add (:func:`stack_headroom`).
    """
    model = tree.root
    try:
        with stack_headroom(tree):
            return model(*args, **kwargs)
    except Exception as exc:
        raise forward_error(exc, model, tree.path_by_id) from exc


_CALL_FRAMES = ("_call_impl", "_wrapped_call_impl")


def locate_failure(exc: BaseException, paths: dict[int, str]) -> tuple[str, nn.Module, list] | None:
    """The innermost module of ours whose forward was running when ``exc`` was raised.

    Read from the traceback: ``Module._call_impl`` frames hold ``self``, ``args`` and
    ``kwargs``. A forward called directly (``self.sub.forward(x)``) has no such frame; then
    the innermost ``forward`` frame of one of our modules is used, with its own arguments.
    """
    found: tuple[str, nn.Module, list] | None = None
    fallback: tuple[str, nn.Module, list] | None = None
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        name = frame.f_code.co_name
        if name in _CALL_FRAMES or name == "forward":
            local = frame.f_locals
            module = local.get("self")
            if isinstance(module, nn.Module) and id(module) in paths:
                if name == "forward":
                    if found is not None and found[1] is module:
                        tb = tb.tb_next  # the forward of the call frame just seen
                        continue
                    code = frame.f_code
                    params = code.co_varnames[1 : code.co_argcount]
                    fallback = (paths[id(module)], module, call_shapes(tuple(local.get(p) for p in params), None))
                else:
                    args = local.get("args", ())
                    kwargs = local.get("kwargs", {})
                    found = (paths[id(module)], module, call_shapes(tuple(args), kwargs))
                    fallback = None
        tb = tb.tb_next
    return fallback or found


def forward_error(exc: Exception, model: nn.Module, paths: dict[int, str]) -> ForwardError:
    """A ForwardError whose message names the failing module, its input shapes and the cause."""
    where = locate_failure(exc, paths)
    if where is None:
        path, module, shapes = "", model, None
    else:
        path, module, shapes = where
    kind = module_kind(module)
    label = f"module '{path}' ({kind})" if path else f"the root module ({kind})"
    got = "" if shapes is None else f" with input shapes {shapes}"
    message = f"forward failed in {label}{got}: {format_exception(exc)}{_hint(exc, module, model)}"
    return ForwardError(message, module_path=path)


# What torch says when an input has the wrong dtype: "mat1 and mat2 must have the same dtype",
# "Input type (float) and bias type (double) should be the same", "expected scalar type Float
# but found Double", "mixed dtype (CPU): expect parameter to have scalar type of Float",
# "RNN input dtype (torch.float32) does not match weight dtype", "Expected tensor for argument
# #1 'indices' to have one of the following scalar types: Long, Int".
_DTYPE_MISMATCH = re.compile(
    r"same dtype|dtype .*(does not match|mismatch)|mixed dtype|scalar types?\b|"
    r"input type \(.*\) and \w+ type \(.*\) should be the same|"
    r"expected .*dtype|found dtype",
    re.IGNORECASE,
)
_INDICES = re.compile(r"'indices'|\bindices\b.*\b(Long|Int)\b", re.IGNORECASE)


def _hint(exc: BaseException, module: nn.Module, model: nn.Module) -> str:
    """How to fix the commonest causes: an input of the wrong dtype, a model nested too deep,
    a batch of one in train mode."""
    if isinstance(exc, RecursionError):
        return (
            f". The forward nests deeper than Python's recursion limit "
            f"(sys.getrecursionlimit() = {sys.getrecursionlimit()}); raise it with "
            "sys.setrecursionlimit(...) before calling"
        )
    text = str(exc)
    if "more than 1 value per channel when training" in text:  # BatchNorm on a batch of one
        return (
            ". In train mode BatchNorm needs a batch of 2 or more: give input_size a batch "
            "dimension of 2, or use mode='eval'"
        )
    shape_hint = _shape_hint(module, text)
    if shape_hint:
        return shape_hint
    dtype_wrong = _DTYPE_MISMATCH.search(text) is not None
    if _INDICES.search(text) or (dtype_wrong and isinstance(module, (nn.Embedding, nn.EmbeddingBag))):
        return (
            ". An embedding takes integer indices: pass dtypes=[torch.long] with input_size, "
            "or input_data=<a LongTensor of token ids>"
        )
    if not dtype_wrong:
        return ""
    dtype = _held_dtype(module) or _held_dtype(model)
    if dtype is None:
        return ". The input's dtype does not fit the model: pass dtypes=[...] with input_size, or input_data of the right dtype"
    return (
        f". The input's dtype does not fit the model, whose parameters are {dtype}: pass "
        f"dtypes=[{dtype}] with input_size, or input_data of that dtype (x.to({dtype}))"
    )


# "mat1 and mat2 shapes cannot be multiplied (1x5 and 4x8)", "expected input[1, 2, 28, 28] to
# have 1 channels, but got 2 channels instead", "Given groups=1, weight of size [16, 1, 3, 3]".
_SHAPE_MISMATCH = re.compile(r"shapes cannot be multiplied|to have \d+ channels|weight of size", re.IGNORECASE)


def _shape_hint(module: nn.Module, text: str) -> str:
    """What the first layer that refused the input expects, for Linear and convolution layers."""
    if not _SHAPE_MISMATCH.search(text):
        return ""
    if isinstance(module, nn.Linear) and not isinstance(module, nn.LazyLinear):
        return (f". This Linear expects {module.in_features} features in the last dimension of its "
                "input: check input_size, or what the layers before it produce")
    if isinstance(module, nn.modules.conv._ConvNd) and not isinstance(module, nn.modules.lazy.LazyModuleMixin):
        return (f". This {type(module).__name__} expects {module.in_channels} channels in dimension 1 "
                "(batch, channels, ...) of its input: check input_size, or what the layers before it produce")
    return ""


def _held_dtype(module: nn.Module) -> torch.dtype | None:
    """The dtype of the first floating or complex parameter (then buffer) of ``module``."""
    for tensors in (module.parameters(), module.buffers()):
        for t in tensors:
            if t.is_floating_point() or t.is_complex():
                return t.dtype
    return None
