"""InferenceMixin on the real ModelPanel, without a browser.

The view is simulated the way ipywidgets sees it: its custom message goes in through the
widget's comm (``comm.handle_msg`` -> ``_handle_custom_msg`` -> the panel's dispatch), and what
the kernel sends back is recorded at the comm's ``publish_msg``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from widget_wire import Wire, send_from_view
from zoo import IrisMLP

from modelpanel.errors import InputError
from modelpanel.inference import evaluate
from modelpanel.panel import ModelPanel
from modelpanel.panel.wire import wire_to_array

P = ModelPanel


@pytest.fixture
def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(60, 4, generator=g), torch.randint(0, 3, (60,), generator=g)


@pytest.fixture
def iris() -> nn.Module:
    torch.manual_seed(0)
    return IrisMLP()


def test_devices_trait_lists_the_kernels_devices(iris: nn.Module) -> None:
    panel = P(iris, input_size=(1, 4))
    assert panel._devices[0] == "cpu"
    assert panel._eval_data is None and panel._eval_result is None and not panel._eval_running


def test_run_button_round_trip(iris: nn.Module, data) -> None:
    X, y = data
    panel = P(iris, input_size=(1, 4), eval_data=(X, y))
    assert panel._eval_data == {"n": 60, "x_shape": [60, 4], "has_targets": True, "labels": None}
    wire = Wire(panel)
    send_from_view(panel, {"kind": "evaluate", "id": "req-1", "device": "cpu", "batch_size": 16})
    (reply,) = wire.customs()
    assert reply["kind"] == "evaluate_reply" and reply["id"] == "req-1" and reply["ok"] is True
    expected = evaluate(iris, X, y)
    assert reply["accuracy"] == expected.accuracy
    result = panel._eval_result
    assert result["accuracy"] == expected.accuracy and result["n"] == 60 and result["device"] == "cpu"
    assert np.array_equal(wire_to_array(result["confusion"]), expected.confusion)
    # Running flag on, then the result with the flag off: the view can show "running…".
    states = wire.states()
    assert states[0] == {"_eval_running": True}
    assert states[-1]["_eval_running"] is False and "_eval_result" in states[-1]
    assert iris.training  # the user's train mode survived the click


def test_errors_come_back_with_the_same_id(iris: nn.Module, data) -> None:
    X, y = data
    panel = P(iris, input_size=(1, 4))
    wire = Wire(panel)
    send_from_view(panel, {"kind": "evaluate", "id": "a", "device": "cpu", "batch_size": 8})
    panel.set_eval_data(X, y)
    send_from_view(panel, {"kind": "evaluate", "id": "b", "device": "cuda:7", "batch_size": 8})
    send_from_view(panel, {"kind": "evaluate", "id": "c", "device": "cpu", "batch_size": -2})
    a, b, c = wire.customs()
    assert (a["id"], a["ok"]) == ("a", False) and "set_eval_data" in a["error"]
    assert (b["id"], b["ok"]) == ("b", False) and "cuda:7" in b["error"] and "cpu" in b["error"]
    assert (c["id"], c["ok"]) == ("c", False) and "batch size" in c["error"]
    assert panel._eval_result is None and panel._eval_running is False


def test_evaluate_from_code_shows_in_the_view(iris: nn.Module, data) -> None:
    X, y = data
    panel = P(iris, input_size=(1, 4))
    r = panel.evaluate(X, y, labels=["setosa", "versicolor", "virginica"], loss_fn=nn.CrossEntropyLoss())
    assert panel._eval_result["accuracy"] == r.accuracy
    assert panel._eval_result["classes"] == ["setosa", "versicolor", "virginica"]
    assert panel._eval_result["loss"] == pytest.approx(r.loss)
    with torch.no_grad():
        assert torch.allclose(panel.predict(X, batch_size=7), iris(X), atol=1e-6)  # raw outputs
    # A failing evaluate raises in the cell and leaves the previous result and no running flag.
    with pytest.raises(InputError, match=r"shape \[60, 5\].*\[N, 4\]"):
        panel.evaluate(torch.randn(60, 5), y)
    assert panel._eval_result["accuracy"] == r.accuracy and panel._eval_running is False


def test_set_eval_data_checks_at_once(iris: nn.Module, data) -> None:
    X, y = data
    panel = P(iris, input_size=(1, 4))
    with pytest.raises(InputError, match="targets has 59 entries but the data has 60"):
        panel.set_eval_data(X, y[:-1])
    panel.set_eval_data(X)  # no targets: the view can still run it (outputs, throughput)
    wire = Wire(panel)
    send_from_view(panel, {"kind": "evaluate", "id": "x", "device": "cpu", "batch_size": 32})
    (reply,) = wire.customs()
    assert reply["ok"] is True and reply["accuracy"] is None
    assert panel._eval_result["n"] == 60 and panel._eval_result["confusion"] is None


def test_long_evaluations_show_a_bar_in_the_panel(iris, data, monkeypatch) -> None:
    from modelpanel import inference
    Full = ModelPanel
    X, y = data
    panel = Full(iris, input_size=(1, 4))
    wire = Wire(panel)
    monkeypatch.setattr(inference, "PROGRESS_AFTER_S", -1.0)  # every run counts as long
    panel.evaluate(X, y, batch_size=10)
    bars = [s["_progress"] for s in wire.states() if s.get("_progress")]
    assert bars, "no progress bar reached the view"
    assert bars[-1][0]["desc"] == "evaluate" and bars[-1][0]["total"] == 6
    # leave=False: once done, the bar is gone; the result is in the inference view instead.
    assert panel._progress == [] and panel._eval_result["n"] == 60


def test_bad_eval_data_leaves_no_widget_behind(iris: nn.Module, data) -> None:
    from ipywidgets.widgets.widget import _instances  # every widget with an open comm

    X, y = data
    before = set(_instances)
    with pytest.raises(InputError, match="targets has"):
        P(iris, input_size=(1, 4), eval_data=(X, y[:-1]))  # fails after the comm opened
    with pytest.raises(TypeError, match=r"eval_data must be X or \(X, y\)"):
        P(iris, input_size=(1, 4), eval_data=(X, y, y))
    assert set(_instances) == before


def test_labels_as_one_string_are_refused_not_split(iris: nn.Module, data) -> None:
    X, y = data
    panel = P(iris, input_size=(1, 4))
    with pytest.raises(InputError, match="labels must be a list of class names"):
        panel.set_eval_data(X, y, labels="abc")  # list("abc") would name classes a, b, c
    with pytest.raises(InputError, match="labels must be a list of class names"):
        panel.evaluate(X, y, labels="abc")
    assert panel._eval_data is None and panel._eval_result is None
    panel.set_eval_data(X, y, labels=("setosa", "versicolor", "virginica"))
    assert panel._eval_data["labels"] == ["setosa", "versicolor", "virginica"]


def test_result_says_when_where_from_and_at_which_batch_size(iris: nn.Module, data) -> None:
    """finished_at (kernel local time with offset), source and batch_size, from code and Run."""
    from datetime import datetime

    from torch.utils.data import DataLoader, TensorDataset

    X, y = data
    panel = P(iris, input_size=(1, 4), eval_data=(X, y))
    before = datetime.now().astimezone().replace(microsecond=0)
    panel.evaluate(X, y, batch_size=7)
    after = datetime.now().astimezone()
    r = panel._eval_result
    when = datetime.fromisoformat(r["finished_at"])
    assert when.tzinfo is not None and before <= when <= after
    assert (r["source"], r["batch_size"]) == ("panel.evaluate", 7)
    send_from_view(panel, {"kind": "evaluate", "id": "r", "device": "cpu", "batch_size": 16})
    assert (panel._eval_result["source"], panel._eval_result["batch_size"]) == ("run", 16)
    assert datetime.fromisoformat(panel._eval_result["finished_at"]) >= when
    # A user's DataLoader keeps its own batch size (evaluate's batch_size does not apply).
    panel.evaluate(DataLoader(TensorDataset(X, y), batch_size=12))
    assert panel._eval_result["batch_size"] == 12
