"""Simulate a widget's front end without a browser, through ipywidgets' real message path.

Messages from the "view" go in through the widget's comm (``comm.handle_msg`` ->
``Widget._handle_msg`` -> ``_handle_custom_msg`` -> the callbacks registered with ``on_msg``);
everything the kernel sends is recorded at the comm's ``publish_msg``, the last Python stop
before the wire.
"""

from __future__ import annotations

from typing import Any


class Wire:
    """Records what a widget sends to the front end (comm messages), by patching its comm."""

    def __init__(self, widget: Any) -> None:
        self.messages: list[dict[str, Any]] = []
        widget.comm.publish_msg = self._record

    def _record(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **kw: Any
    ) -> None:
        self.messages.append({"type": msg_type, "data": data or {}, "buffers": buffers or []})

    def updates(self) -> list[dict[str, Any]]:
        """State updates (``method: update``), each one a message to the front end."""
        return [m["data"] for m in self.messages if m["data"].get("method") == "update"]

    def states(self) -> list[dict[str, Any]]:
        """The trait values each state update carried."""
        return [u["state"] for u in self.updates()]

    def customs(self) -> list[dict[str, Any]]:
        """Custom messages (replies) the kernel sent."""
        return [m["data"]["content"] for m in self.messages if m["data"].get("method") == "custom"]


def send_from_view(
    widget: Any, content: dict[str, Any], buffers: list[bytes] | None = None
) -> None:
    """Deliver a custom message as the front end's ``model.send(content)`` arrives in the kernel."""
    msg = {
        "header": {"msg_type": "comm_msg"},
        "content": {
            "comm_id": widget.comm.comm_id,
            "data": {"method": "custom", "content": content},
        },
        "buffers": buffers or [],
    }
    widget.comm.handle_msg(msg)
