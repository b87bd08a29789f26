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
        """The trait values each state update carried, binary buffers put back in place."""
        from ipywidgets.widgets.widget import _put_buffers

        out = []
        for m in self.messages:
            data = m["data"]
            if data.get("method") != "update":
                continue
            state = data["state"]
            if data.get("buffer_paths"):
                _put_buffers(state, data["buffer_paths"], m["buffers"])
            out.append(state)
        return out

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


def accumulated_metrics(wire: Wire) -> dict[str, list[tuple[float, float]]]:
    """The metric series a view builds from the ``_metrics`` appends it received, in order.

    Fails if an append was skipped (``seq`` not consecutive within one ``reset``): a view
    would then have to ask for the whole history.
    """
    from modelpanel.panel.wire import wire_to_array

    series: dict[str, list[tuple[float, float]]] = {}
    last: tuple[int, int] | None = None
    for state in wire.states():
        delta = state.get("_metrics")
        if delta is None:
            continue
        if last is None or delta["reset"] != last[0]:
            series = {}
        else:
            assert delta["seq"] == last[1] + 1, (last, delta["seq"])
        last = (delta["reset"], delta["seq"])
        for name, s in delta["series"].items():
            xs, ys = wire_to_array(s["step"]).tolist(), wire_to_array(s["value"]).tolist()
            series.setdefault(name, []).extend(zip(xs, ys))
    return series


def message_bytes(message: dict[str, Any]) -> int:
    """Bytes of one recorded comm message: its JSON (buffers left out) plus its buffers."""
    import json

    return len(json.dumps(message["data"], separators=(",", ":"), default=str)) + sum(
        len(memoryview(b).cast("B")) for b in message["buffers"])


def refresh_sizes(panel: Any, model: Any, steps: int, batch: Any) -> list[int]:
    """Train ``model`` for ``steps`` SGD steps in ``panel.progress``, logging the loss, with every
    throttle off (histograms and diagnostics due at each flush); the bytes each step sent.

    Works with the panel before the second wave too (its session was ``_training_state()``),
    so benchmarks/panel_wire.py can measure both.
    """
    import torch

    panel.watch(grad_norms=True, activations=True, hist_every=1e-9)
    panel.diag_every = 0.0
    wire = Wire(panel)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    sizes = []
    bar = panel.progress(range(steps))
    # After progress(), which sets the throttle from tqdm's mininterval: each log() flushes.
    session = getattr(panel, "_training", None) or panel._training_state()
    session.mininterval = 0.0
    for _ in bar:
        before = len(wire.messages)
        loss = model(batch).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        panel.log(loss=loss)
        sizes.append(sum(message_bytes(m) for m in wire.messages[before:]))
    return sizes
