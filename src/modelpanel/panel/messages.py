"""The view's requests: ``{"kind": k, "id": ..}`` routed to a handler, answered with the same id.

The reply is ``{"kind": "<k>_reply", "id": .., "ok": True, **result}``, or ``ok: False`` with a
readable ``error`` (which also goes to the panel's ``_error`` trait, so the view can show it
next to the widget instead of losing it in the kernel log).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import format_exception

Handler = Callable[[dict[str, Any], list[Any]], "dict[str, Any] | None"]


def dispatch(
    content: Any,
    buffers: list[Any],
    handlers: Mapping[str, Handler],
    send: Callable[[dict[str, Any]], None],
    set_error: Callable[[str], None],
) -> None:
    """Run the handler for ``content["kind"]`` and send its reply (or the error) back."""
    if not isinstance(content, dict) or not isinstance(content.get("kind"), str):
        return  # not one of ours (anywidget's own commands use other shapes)
    kind = content["kind"]
    if kind.startswith("anywidget-") or kind.endswith("_reply"):
        return
    reply: dict[str, Any] = {"kind": f"{kind}_reply", "id": content.get("id")}
    handler = handlers.get(kind)
    if handler is None:
        message = f"unknown message kind {kind!r}; this panel understands: {', '.join(sorted(handlers)) or 'none'}"
        set_error(message)
        send({**reply, "ok": False, "error": message})
        return
    try:
        result = handler(content, buffers) or {}
    except Exception as exc:  # noqa: BLE001 - every failure must reach the view, not the log
        message = format_exception(exc)
        set_error(message)
        send({**reply, "ok": False, "error": message})
        return
    set_error("")
    send({**result, **reply, "ok": True})  # the id cannot be clobbered
