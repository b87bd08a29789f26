"""A panel that forgives mistakes (issue 12, points 4 and 5), without a browser.

A forward that raises gives a panel, not a traceback: the tree with every parameter count, the
shapes captured before the failure, the failing module marked, the message, ``panel.error``.
Mistakes in the call itself still raise. The model is the tree's first row (``_summary.root``).
MACs are counted on demand (the view's ``count_macs`` or ``panel.summary.macs`` from code) and
reach the header either way.

Expected figures are worked out by hand from the layer sizes, never read from modelpanel.
"""

from __future__ import annotations

import gc
import weakref

import pytest
import torch
from panel_state import layers
from torch import nn
from widget_wire import Wire, send_from_view
from zoo import IrisMLP, assert_state_unchanged, snapshot_state

from modelpanel import summarize
from modelpanel.errors import DeviceError, ForwardError, InputError
from modelpanel.panel import ModelPanel
from modelpanel.summary import NOT_REACHED

# IrisMLP: fc1 Linear(4, 10) -> relu -> fc2 Linear(10, 3).
IRIS_PARAMS = {"fc1": 4 * 10 + 10, "relu": 0, "fc2": 10 * 3 + 3}
IRIS_TOTAL = sum(IRIS_PARAMS.values())  # 83
IRIS_MACS = 4 * 10 + 10 * 3  # one sample: 70 multiply-accumulates


def rows(panel: ModelPanel) -> dict[str, dict]:
    return {layer["path"]: layer for layer in layers(panel._summary)}


class Raises(nn.Module):
    """A module of the user's whose forward raises its own error."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError(f"cannot take {tuple(x.shape)}")


class Deep(nn.Module):
    """stem Linear(4, 8) -> BatchNorm1d(8) -> body (Sequential: ReLU, Raises) -> head Linear(8, 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.norm = nn.BatchNorm1d(8)
        self.body = nn.Sequential(nn.ReLU(), Raises())
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.norm(self.stem(x))))


# -- a wrong input_size: the panel, not a traceback ----------------------------------------------


def test_wrong_input_size_gives_a_panel_with_the_failing_module_marked() -> None:
    model = IrisMLP()
    before = snapshot_state(model)
    panel = ModelPanel(model, input_size=(1, 5))  # fc1 expects 4 features
    assert_state_unchanged(model, before)
    assert isinstance(panel.error, ForwardError)
    assert panel.error.module_path == "fc1"
    assert isinstance(panel.error.__cause__, RuntimeError)
    state = panel._summary
    assert state["failed_path"] == "fc1"
    assert state["error"] == str(panel.error)
    assert "[[1, 5]]" in state["error"] and "expects 4 features" in state["error"]  # got, expected, fix
    # Every parameter count (needs no forward), no shape (nothing ran before fc1).
    got = rows(panel)
    assert {p: r["params"] for p, r in got.items()} == IRIS_PARAMS
    assert state["total_params"] == IRIS_TOTAL
    assert all(r["output_shape"] is None for r in got.values())
    assert got["fc1"]["status"] == ""  # it ran, and raised: the tree marks it by failed_path
    assert got["relu"]["status"] == got["fc2"]["status"] == NOT_REACHED
    assert state["input_shapes"] == [[1, 5]] and state["macs"] is None and state["activation_bytes"] is None
    root = state["root"]
    assert (root["path"], root["depth"], root["kind"], root["params"]) == ("", 0, "IrisMLP", IRIS_TOTAL)
    assert root["input_shape"] == [[1, 5]] and root["output_shape"] is None
    # The weights are there too (no forward needed).
    assert len(panel.weights) == 4


def test_a_forward_that_raises_in_a_submodule_keeps_the_shapes_captured_before_it() -> None:
    model = Deep().train()  # mode="train": BatchNorm updates its running statistics in the pass
    before = snapshot_state(model)
    panel = ModelPanel(model, input_size=(2, 4), mode="train")
    assert_state_unchanged(model, before)  # statistics, flags, hooks and grad mode put back
    assert panel.error.module_path == "body.1"
    assert str(panel.error.__cause__) == "cannot take (2, 8)"
    got = rows(panel)
    # Ran before the failure: shapes from the layer sizes, batch 2.
    assert got["stem"]["input_shape"] == [[2, 4]] and got["stem"]["output_shape"] == [2, 8]
    assert got["norm"]["output_shape"] == [2, 8]
    assert got["body.0"]["output_shape"] == [2, 8] and got["body.0"]["calls"] == 1
    # The failing module and its parent never returned: no shapes, no "not run" status.
    for path in ("body", "body.1"):
        assert got[path]["output_shape"] is None and got[path]["status"] == ""
    assert got["head"]["status"] == NOT_REACHED and got["head"]["output_shape"] is None
    assert panel._summary["failed_path"] == "body.1"
    # Counts: stem 4*8+8 = 40, norm 8+8 = 16 (+ 2*8 running statistics, buffers), head 8*2+2 = 18.
    assert {p: r["params"] for p, r in got.items()} == {
        "stem": 40, "norm": 16, "body": 0, "body.0": 0, "body.1": 0, "head": 18}
    assert panel._summary["buffer_bytes"] == 8 * 4 + 8 * 4 + 8  # two float32 [8], one int64 scalar


def test_a_model_without_submodules_is_one_row_and_can_fail_in_itself() -> None:
    # nn.LSTM(4, 8): four gates, weight_ih 32x4 + weight_hh 32x8 + two biases of 32 = 448.
    lstm = nn.LSTM(4, 8)
    panel = ModelPanel(lstm, input_size=(1, 4))  # unbatched: a sequence of length 1
    assert panel.error is None and panel._summary["error"] is None and panel._summary["failed_path"] is None
    assert layers(panel._summary) == []
    root = panel._summary["root"]
    assert (root["kind"], root["params"], root["own_params"], root["calls"]) == ("LSTM", 448, 448, 1)
    assert root["input_shape"] == [[1, 4]]
    assert root["output_shape"] == [[1, 8], [[1, 8], [1, 8]]]  # output, (h_n, c_n)
    assert root["param_formula"].startswith("weight_ih_l0 32×4 = 128 + weight_hh_l0 32×8 = 256")
    failing = ModelPanel(lstm, input_size=(1, 5))
    assert failing.error.module_path == "" and failing._summary["failed_path"] == ""
    assert failing._summary["root"]["params"] == 448


def test_without_input_nothing_failed_and_the_root_row_has_no_shapes() -> None:
    panel = ModelPanel(IrisMLP())
    state = panel._summary
    assert panel.error is None and state["error"] is None and state["failed_path"] is None
    assert state["root"]["input_shape"] is None and state["root"]["output_shape"] is None
    assert state["root"]["calls"] == 0 and state["root"]["params"] == IRIS_TOTAL
    assert all(r["status"] == "" and r["output_shape"] is None for r in rows(panel).values())


def test_summarize_still_raises_and_the_panel_error_matches_it() -> None:
    model = IrisMLP()
    with pytest.raises(ForwardError) as info:
        summarize(model, input_size=(1, 5))
    assert info.value.__traceback__ is not None  # summarize keeps the traceback
    panel = ModelPanel(model, input_size=(1, 5))
    assert str(panel.error) == str(info.value)
    assert panel.error.__traceback__ is None and panel.error.__cause__.__traceback__ is None


def test_the_error_keeps_no_model_alive() -> None:
    model = Deep()
    panel = ModelPanel(model, input_size=(2, 4))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
    assert panel.error is not None  # still readable


def test_error_is_read_only() -> None:
    panel = ModelPanel(IrisMLP(), input_size=(1, 5))
    with pytest.raises(AttributeError):
        panel.error = None  # type: ignore[misc]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"input_size": "abc"}, InputError, "input_size='abc'"),
    ({"input_size": (1, 4), "device": "nope"}, DeviceError, "nope"),
    ({"input_size": (1, 4), "mode": "bogus"}, InputError, "mode='bogus'"),
    ({"input_size": (1, 4), "input_data": torch.zeros(1, 4)}, InputError, "input_size"),
])
def test_mistakes_in_the_call_still_raise_and_leave_the_model_as_it_was(kwargs, error, match) -> None:
    model = IrisMLP()
    before = snapshot_state(model)
    with pytest.raises(error, match=match):
        ModelPanel(model, **kwargs)
    assert_state_unchanged(model, before)


# -- MACs on demand ------------------------------------------------------------------------------


def test_count_macs_from_the_view_republishes_the_summary_before_the_reply() -> None:
    model = IrisMLP()
    panel = ModelPanel(model, input_size=(1, 4))
    assert panel._summary["macs"] is None
    wire = Wire(panel)
    send_from_view(panel, {"kind": "count_macs", "id": "m1"})
    replies = wire.customs()
    assert replies == [{"kind": "count_macs_reply", "id": "m1", "ok": True, "macs": IRIS_MACS}]
    assert panel._summary["macs"] == IRIS_MACS and panel._summary["root"]["macs"] == IRIS_MACS
    assert {p: r["macs"] for p, r in rows(panel).items()} == {"fc1": 40, "relu": 0, "fc2": 30}
    # The state update reached the view before the reply, so the card never shows "—" again.
    kinds = ["state" if m["data"].get("method") == "update" else "reply" for m in wire.messages]
    assert kinds.index("state") < kinds.index("reply")


def test_macs_counted_from_python_update_the_panel() -> None:
    model = IrisMLP()
    panel = ModelPanel(model, input_size=(1, 4))
    wire = Wire(panel)
    assert panel.summary.macs == IRIS_MACS  # the user reads it in a cell
    assert panel._summary["macs"] == IRIS_MACS
    assert any("_summary" in s for s in wire.states())
    # print(panel.summary) counts them too (table() runs the same pass once).
    other = ModelPanel(model, input_size=(2, 4))
    str(other.summary)
    assert other._summary["macs"] == 2 * IRIS_MACS


def test_a_deleted_panel_does_not_stop_the_summary_from_counting() -> None:
    model = IrisMLP()
    panel = ModelPanel(model, input_size=(1, 4))
    summary = panel.summary
    panel.close()
    del panel
    gc.collect()
    assert summary.macs == IRIS_MACS


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "MACs need an input"),
    ({"input_size": (1, 5)}, "forward fails"),
])
def test_count_macs_says_why_it_cannot(kwargs, match) -> None:
    panel = ModelPanel(IrisMLP(), **kwargs)
    wire = Wire(panel)
    send_from_view(panel, {"kind": "count_macs", "id": "m2"})
    (reply,) = wire.customs()
    assert reply["ok"] is False and reply["id"] == "m2"
    assert match in reply["error"] and match in panel._error


@pytest.mark.cuda
def test_a_failing_forward_on_another_device_puts_the_model_back() -> None:
    # The model moves to the GPU for the pass and must come back to the CPU, bit-exact, also
    # when the forward raises there.
    model = Deep()
    before = snapshot_state(model)
    panel = ModelPanel(model, input_size=(2, 4), device="cuda")
    assert_state_unchanged(model, before)
    assert panel.error.module_path == "body.1"
    assert rows(panel)["stem"]["output_shape"] == [2, 8]
    assert next(model.parameters()).device.type == "cpu"
