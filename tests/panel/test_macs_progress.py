"""The MAC pass reports its progress to the panel (issue 12, point 5): module calls done of the
total while it runs, cleared after it, whether it counted, failed, or was started from code.

What the kernel sends is read at the comm (``widget_wire.Wire``); the expected call counts come
from the model itself (hooks of the test's own on every module during a plain forward).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from widget_wire import Wire, send_from_view
from zoo import linear_stack

from modelpanel.panel import ModelPanel
from modelpanel.summary import macs as macs_module


def module_calls(model: nn.Module, x: torch.Tensor) -> int:
    """How many module forwards one pass runs, counted by hooks on every module."""
    calls = []
    handles = [m.register_forward_hook(lambda *_: calls.append(1)) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return len(calls)


def forward_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def progress_sent(wire: Wire) -> list:
    return [s["_macs_progress"] for s in wire.states() if "_macs_progress" in s]


@pytest.fixture
def every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(macs_module, "PROGRESS_EVERY", 0.0)  # report every module call


def test_count_macs_reports_module_calls_done_then_clears(every_call) -> None:
    model = linear_stack(50, width=8)
    total = module_calls(model, torch.zeros(1, 8))
    assert total == 51  # 50 Linear + the Sequential itself
    panel = ModelPanel(model, input_size=(1, 8))
    wire = Wire(panel)
    send_from_view(panel, {"kind": "count_macs", "id": "m"})
    sent = progress_sent(wire)
    assert sent[0] == {"done": 0, "total": total}
    assert [s["done"] for s in sent[:-1]] == list(range(total + 1))
    assert all(s["total"] == total for s in sent[:-1])
    assert sent[-1] is None and panel._macs_progress is None
    assert panel._summary["macs"] == 50 * 8 * 8  # one sample: 8x8 multiply-accumulates per Linear
    assert wire.customs()[-1]["ok"] is True
    assert forward_hooks(model) == 0


def test_a_count_from_code_reports_too_and_the_default_throttle_holds_reports_back() -> None:
    model = linear_stack(200, width=8)
    panel = ModelPanel(model, input_size=(1, 8))
    wire = Wire(panel)
    assert panel.summary.macs == 200 * 8 * 8
    sent = progress_sent(wire)
    # A fast pass: the start and the end only (reports come at most every 0.1 s).
    assert sent[0] == {"done": 0, "total": 201} and sent[-1] is None
    assert len(sent) < 10


class FailsOnSecondCall(nn.Module):
    """Runs once (the shape capture), raises on the next forward (the MAC pass)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("broken on purpose")
        return self.fc(x)


def test_a_failing_pass_clears_the_progress_and_removes_its_hooks(every_call) -> None:
    model = FailsOnSecondCall()
    panel = ModelPanel(model, input_size=(1, 4))
    wire = Wire(panel)
    send_from_view(panel, {"kind": "count_macs", "id": "m"})
    (reply,) = wire.customs()
    assert reply["ok"] is False and "broken on purpose" in reply["error"]
    sent = progress_sent(wire)
    assert sent[0] == {"done": 0, "total": 2} and sent[-1] is None
    assert panel._macs_progress is None and forward_hooks(model) == 0
