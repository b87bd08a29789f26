"""One hooked forward pass: per-module calls and shapes, with the model restored afterwards.

Private to ``summary.py``. Hooks are one *global* forward hook (``with_kwargs=True``) rather than
one hook per module: registering 2,000 per-module hook pairs costs more than the forward of a
2,000-layer stack itself, and a global hook is one dict insert (see benchmarks/summary.py).
The hook only records what a module received and returned on its first call and counts calls;
where a failing forward failed is read afterwards from the traceback, so the happy path pays
nothing for it (not even a path lookup table).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import nn

from .errors import ForwardError, format_exception

#: How deep nested inputs/outputs are mirrored; deeper parts show as None (guards cycles).
_MAX_NESTING = 8


def mirror_shapes(value: Any, _depth: int = 0) -> Any:
    """JSON-safe mirror of a nested value: tensor -> [ints], tuple/list -> [..], dict -> {str: ..}.

    Dataclasses (and HF ``ModelOutput``, a dict) become dicts; anything else becomes None.
    """
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if _depth >= _MAX_NESTING:
        return None
    if isinstance(value, (tuple, list)):
        return [mirror_shapes(v, _depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {str(k): mirror_shapes(v, _depth + 1) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: mirror_shapes(getattr(value, f.name, None), _depth + 1)
            for f in dataclasses.fields(value)
        }
    return None


def iter_tensors(value: Any, _depth: int = 0) -> Iterator[torch.Tensor]:
    """Every tensor inside a nested value (the same containers ``mirror_shapes`` walks)."""
    if isinstance(value, torch.Tensor):
        yield value
    elif _depth >= _MAX_NESTING:
        return
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from iter_tensors(v, _depth + 1)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from iter_tensors(v, _depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from iter_tensors(getattr(value, f.name, None), _depth + 1)


def tensor_bytes(value: Any) -> int:
    """Bytes held by the tensors inside a nested value."""
    return sum(t.numel() * t.element_size() for t in iter_tensors(value))


def call_shapes(args: tuple, kwargs: Mapping[str, Any] | None) -> list:
    """A module call's input as the contract shows it: positional shapes, then a kwargs dict."""
    shapes = [mirror_shapes(a) for a in args]
    if kwargs:
        shapes.append({str(k): mirror_shapes(v) for k, v in kwargs.items()})
    return shapes


def output_bytes(value: Any) -> int:
    """Bytes of the tensors a module returned (one call)."""
    if type(value) is torch.Tensor:
        try:
            return value.nbytes  # one read instead of numel() * element_size()
        except RuntimeError:  # a sparse tensor has no nbytes: count it as dense, like numel()
            return value.numel() * value.element_size()
    return tensor_bytes(value)


@dataclasses.dataclass
class Capture:
    """What one hooked forward saw, keyed by ``id(module)`` (modules outside the model included).

    Each record is ``[calls, output_bytes, input_shapes, output_shape]``: the shapes are those
    of the first call, ``output_bytes`` sums the module's outputs over all its calls. Forward
    activations are the outputs of leaf modules (a parent's output is a child's tensor):
    ``summarize`` adds those up while it makes the layer rows.
    """

    records: dict[int, list]


@contextlib.contextmanager
def mha_fastpath_disabled() -> Iterator[None]:
    """Route MultiheadAttention/TransformerEncoder through countable ops; restore the setting."""
    mha = getattr(torch.backends, "mha", None)
    if mha is None or not hasattr(mha, "set_fastpath_enabled"):
        yield
        return
    was = mha.get_fastpath_enabled()
    mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        mha.set_fastpath_enabled(was)


@contextlib.contextmanager
def model_state_restored(modules: list[tuple[str, nn.Module]]) -> Iterator[None]:
    """Eval mode, no_grad, no fused MHA fast path inside; every module's own flag restored after.

    Flags are set and restored by assignment, not through ``train()``/``eval()``, so no
    user override runs and a module the user left in eval inside a training model stays so.
    Only modules in training mode are written: a model already in eval costs two reads each.
    """
    training = [m for _, m in modules if m.training]
    try:
        # object.__setattr__: nn.Module.__setattr__ costs ~5 µs a call on 2,000-layer models.
        for m in training:
            object.__setattr__(m, "training", False)
        # The fused fast path skips the submodules' hooks (no shapes) and FLOP formulas.
        with torch.no_grad(), mha_fastpath_disabled():
            yield
    finally:
        # A forward may switch modes itself (``self.train()`` inside forward): undo that too.
        for _, m in modules:
            if m.training:
                object.__setattr__(m, "training", False)
        for m in training:
            object.__setattr__(m, "training", True)


def run_forward(model: nn.Module, args: tuple, kwargs: dict[str, Any], modules: list[tuple[str, nn.Module]]) -> Any:
    """Call ``model(*args, **kwargs)``; on failure raise ForwardError naming the failing module."""
    try:
        return model(*args, **kwargs)
    except Exception as exc:
        raise forward_error(exc, model, {id(m): p for p, m in modules}) from exc


def capture(
    model: nn.Module, args: tuple, kwargs: dict[str, Any], modules: list[tuple[str, nn.Module]]
) -> Capture:
    """Run one forward of ``model`` with a global forward hook; restore the model after.

    ``modules`` is ``named_modules()`` of the model (root included, as ""). Raises ForwardError
    if the forward raises; hooks are removed and flags restored either way.
    """
    records: dict[int, list] = {}
    get = records.get
    tensor_type = torch.Tensor

    # Runs once per module call, so it is kept to dict lookups: no path, no ownership test
    # (a module outside the model gets a record nobody reads), shapes only on a first call.
    def hook(module: nn.Module, h_args: tuple, h_kwargs: dict, output: Any) -> None:
        rec = get(id(module))
        is_tensor = type(output) is tensor_type
        if is_tensor:
            try:
                size = output.nbytes  # one read instead of numel() * element_size()
            except RuntimeError:  # sparse: no nbytes
                size = output_bytes(output)
        else:
            size = tensor_bytes(output)
        if rec is not None:
            rec[0] += 1
            rec[1] += size
            return
        if not h_kwargs and len(h_args) == 1 and type(h_args[0]) is tensor_type:
            in_shapes = [list(h_args[0].shape)]  # the common case, cheaply
        else:
            in_shapes = call_shapes(h_args, h_kwargs)
        records[id(module)] = [1, size, in_shapes, list(output.shape) if is_tensor else mirror_shapes(output)]

    with model_state_restored(modules):
        handle = nn.modules.module.register_module_forward_hook(hook, with_kwargs=True)
        try:
            run_forward(model, args, kwargs, modules)
        finally:
            handle.remove()
            # torch's handle does not clear the with_kwargs flag of a *global* hook; left
            # behind, it makes torch.compile warn that global hooks exist (torch 2.13).
            nn.modules.module._global_forward_hooks_with_kwargs.pop(handle.id, None)
    return Capture(records)


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
