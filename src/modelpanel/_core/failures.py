"""Where a forward failed: the innermost module of the tree that was running, and the message.

Read from the traceback after the fact (``Module._call_impl`` frames hold ``self``, ``args``
and ``kwargs``), so the success path carries no hooks and no path table. summarize, the MAC
pass, evaluate and predict all word a failing forward through :func:`forward_error`.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import ForwardError, format_exception
from .nested import call_shapes
from .walk import ModuleTree


def run_forward(tree: ModuleTree, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Call the tree's root with ``args``/``kwargs``; on failure raise a ForwardError naming
    the failing module by its tree path (the path map is built only then)."""
    model = tree.root
    try:
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
    kind = type(module).__name__
    label = f"module '{path}' ({kind})" if path else f"the root module ({kind})"
    got = "" if shapes is None else f" with input shapes {shapes}"
    message = f"forward failed in {label}{got}: {format_exception(exc)}"
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        message += (
            ". An embedding takes integer indices: pass dtypes=[torch.long] with input_size, "
            "or input_data=<a LongTensor of token ids>"
        )
    return ForwardError(message, module_path=path)
