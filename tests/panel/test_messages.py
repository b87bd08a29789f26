"""The view's requests ({kind, id}) through ipywidgets' real message path, and their replies.

Messages go in through the widget's comm (``widget_wire.send_from_view``); what the kernel
sends back is recorded at the comm's ``publish_msg`` (``widget_wire.Wire``).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from panel_state import params
from torch import nn
from widget_wire import Wire, send_from_view

from modelpanel.panel import ModelPanel

# -- custom messages ------------------------------------------------------------------------------


class BoomPanel(ModelPanel):
    """A panel with two extra handlers in its request table, beside refresh and evaluate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handlers = {**self._handlers, "echo": self._echo, "boom": self._boom}

    def _echo(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        return {"value": content["value"], "nbuf": len(buffers)}

    def _boom(self, content: dict[str, Any], buffers: list[Any]) -> dict[str, Any]:
        raise ValueError("batch_size must be positive, got -1")


def test_custom_message_reply_carries_the_request_id(iris: nn.Module) -> None:
    panel = BoomPanel(iris, input_size=(1, 4))
    wire = Wire(panel)
    send_from_view(panel, {"kind": "echo", "id": "req-1", "value": [1, 2]}, [b"xyz"])
    assert wire.customs() == [
        {"kind": "echo_reply", "id": "req-1", "ok": True, "value": [1, 2], "nbuf": 1}
    ]


def test_refresh_message_from_the_view(panel: ModelPanel, iris: nn.Module) -> None:
    wire = Wire(panel)
    with torch.no_grad():
        iris.fc2.bias.zero_()
    send_from_view(panel, {"kind": "refresh", "id": "r"})
    assert wire.customs() == [{"kind": "refresh_reply", "id": "r", "ok": True, "version": 1}]
    assert params(panel)[3]["max"] == 0.0


def test_failing_handler_replies_and_sets_error_then_success_clears_it(iris: nn.Module) -> None:
    panel = BoomPanel(iris, input_size=(1, 4))
    wire = Wire(panel)
    send_from_view(panel, {"kind": "boom", "id": "b1"})
    reply = wire.customs()[-1]
    assert reply == {
        "kind": "boom_reply",
        "id": "b1",
        "ok": False,
        "error": "ValueError: batch_size must be positive, got -1",
    }
    assert panel._error == reply["error"]
    send_from_view(panel, {"kind": "echo", "id": "e1", "value": 0})
    assert wire.customs()[-1]["ok"] is True and panel._error == ""


def test_unknown_kind_is_answered_with_the_known_ones(panel: ModelPanel) -> None:
    wire = Wire(panel)
    send_from_view(panel, {"kind": "evalute", "id": "x"})
    (reply,) = wire.customs()
    assert reply["ok"] is False and reply["id"] == "x" and reply["kind"] == "evalute_reply"
    assert "'evalute'" in reply["error"] and "refresh" in reply["error"]
    assert panel._error == reply["error"]


@pytest.mark.parametrize(
    "content",
    [
        "plain string",
        {"no": "kind"},
        {"kind": "anywidget-command", "id": "1", "name": "x", "msg": {}},
        {"kind": "echo_reply", "id": "1"},  # a reply bounced back must not loop
        {"kind": "__class__", "id": "1"},
    ],
)
def test_messages_that_are_not_requests_get_no_reply(iris: nn.Module, content: Any) -> None:
    panel = BoomPanel(iris, input_size=(1, 4))
    wire = Wire(panel)
    send_from_view(panel, content)
    replies = wire.customs()
    if isinstance(content, dict) and content.get("kind") == "__class__":
        # Only the request table is reachable: attribute names are "unknown", never called.
        assert replies[0]["ok"] is False and "unknown message kind" in replies[0]["error"]
    else:
        assert replies == []
