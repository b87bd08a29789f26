"""A summary that survives a failing forward: what ModelPanel shows instead of raising.

``summarize`` raises ForwardError when the model's forward raises (unchanged); a panel shows
the model up to the failure instead, with the failing module marked and the message.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .._core.gc import gc_paused
from ..errors import ForwardError
from . import Summary, _summarize


def summarize_or_partial(model: nn.Module, input_size: Any = None, input_data: Any = None, *,
                         device: Any = None, dtypes: Any = None,
                         mode: str = "eval", trace: str = "auto") -> tuple[Summary, ForwardError | None]:
    """``summarize``, except that a forward that raises gives a partial Summary and its error.

    Mistakes in the call (TypeError, InputError, DeviceError: found before any forward) still
    raise. After a failure the Summary holds the tree and every parameter count, the shapes of
    the modules whose forward returned before the error (the failing module and its ancestors
    never returned: their shapes are None), ``Layer.status`` ``NOT_REACHED`` for the modules
    that had not run, ``activation_bytes`` and ``output_shape`` None, and no MAC pass (``macs``
    None: it would fail the same way). ``trace`` as in ``summarize``; a fake pass that fails
    falls back to the real one under "auto", which gives the partial summary. The model is restored as by ``summarize``.

    The error and its causes carry no traceback: held by a panel, its frames (and the frames
    that called them, up to the user's cell) would keep the model, its input and the
    activations alive. ``summarize`` with the same arguments raises it with the traceback.
    """
    with gc_paused():
        summary, error = _summarize(model, input_size, input_data, device, dtypes, mode, keep_partial=True,
                                    trace=trace, who="ModelPanel()")
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        cause.__traceback__ = None
        cause = cause.__cause__ or cause.__context__
    return summary, error
