"""ModelPanel's Python side, without a browser: traits, batching, weakref, bad input
(the view's requests are in test_messages.py).

The front end is simulated the way ipywidgets sees it: messages go in through the widget's
comm (``comm.handle_msg`` -> ``Widget._handle_msg`` -> ``_handle_custom_msg`` -> the
callbacks registered with ``on_msg``), and everything the kernel sends is recorded at the
comm's ``publish_msg``, the last Python stop before the wire.
"""

from __future__ import annotations

import gc
import inspect
import weakref
from typing import Any

import numpy as np
import pytest
import torch
from panel_state import layers, params
from torch import nn
from widget_wire import Wire, send_from_view
from zoo import HOSTILE_STRINGS, HostileNames, IrisMLP, assert_state_unchanged, snapshot_state

from modelpanel.errors import ForwardError, InputError, ModelPanelError
from modelpanel.panel import ModelPanel
from modelpanel.panel.wire import wire_to_array
from modelpanel.summary import Summary

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


# -- traits derived from the Summary -------------------------------------------------------------


def test_summary_trait_matches_the_summary(panel: ModelPanel, iris: nn.Module) -> None:
    assert isinstance(panel.summary, Summary)
    state = panel._summary
    assert state["total_params"] == 83 == panel.summary.total_params
    decoded = layers(state)
    rows = {layer["path"]: layer for layer in decoded}
    assert [layer["path"] for layer in decoded] == ["fc1", "relu", "fc2"]
    assert (rows["fc1"]["params"], rows["relu"]["params"], rows["fc2"]["params"]) == (50, 0, 33)
    assert rows["fc1"]["output_shape"] == [1, 10]
    # Everything the summary says reaches the trait, decoded back to the same rows.
    expected = panel.summary.to_dict()
    assert decoded == expected.pop("layers")
    assert {k: v for k, v in state.items() if k in expected} == expected
    assert state["training"] is True and state["devices"] == ["cpu"] and state["dtypes"] == ["float32"]


def test_params_and_hist_traits_match_the_weights(iris: nn.Module) -> None:
    panel = ModelPanel(iris, input_size=(1, 4), bins=16)
    names = [rec["names"][0] for rec in params(panel)]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [rec["id"] for rec in params(panel)] == [0, 1, 2, 3]
    hist = panel._hist
    assert hist["bins"] == 16 and hist["ids"] == [0, 1, 2, 3]
    counts = wire_to_array(hist["counts"])
    ranges = wire_to_array(hist["range"])
    assert counts.shape == (4, 16) and ranges.shape == (4, 2)
    w = iris.fc1.weight.detach().numpy().astype(np.float64)
    # Every weight lands in exactly one bin, and the binning agrees with numpy's on the same range.
    assert counts[0].sum() == w.size
    np.testing.assert_allclose(ranges[0], [w.min(), w.max()], rtol=1e-6)
    ref, _ = np.histogram(w, bins=16, range=(ranges[0][0], ranges[0][1]))
    assert np.abs(counts[0].astype(np.int64) - ref).sum() <= 2  # float32 edges may move a value
    rec = params(panel)[0]
    assert rec["mean"] == pytest.approx(w.mean(), rel=1e-5)
    assert rec["min"] == pytest.approx(w.min()) and rec["max"] == pytest.approx(w.max())


def test_repr_keeps_the_widget_and_adds_text_without_running_the_model(
    panel: ModelPanel, iris: nn.Module
) -> None:
    calls = []
    iris.register_forward_hook(lambda *a: calls.append(1))
    data, _meta = panel._repr_mimebundle_()
    assert calls == []  # displaying must not run a forward (str(Summary) would, to count MACs)
    assert data[WIDGET_MIME]["model_id"] == panel.model_id
    # The full text table from the start, MACs "--" until counted (tests/panel/test_snapshot_display.py).
    assert "fc1 (Linear)" in data["text/plain"] and not panel.summary.macs_counted
    assert panel.summary.macs > 0  # counted on request: now the table is str(summary)'s
    calls.clear()
    data, _meta = panel._repr_mimebundle_()
    assert calls == [] and data["text/plain"].startswith(str(panel.summary))
    # Displaying twice gives two views of one model: same comm, same state.
    data2, _ = panel._repr_mimebundle_()
    assert data2[WIDGET_MIME]["model_id"] == panel.model_id


def test_static_state_has_what_the_snapshot_renderer_reads(panel: ModelPanel) -> None:
    state = panel._static_state()
    assert set(state) == {"summary", "params", "hist", "metrics", "eval_result", "language"}
    assert state["summary"]["total_params"] == 83 and len(state["params"]) == 4


# -- batching -------------------------------------------------------------------------------------


def test_refresh_sends_one_message_with_every_changed_trait(
    panel: ModelPanel, iris: nn.Module
) -> None:
    wire = Wire(panel)
    with torch.no_grad():
        iris.fc1.weight.fill_(0.5)
    iris.eval()
    panel.refresh()
    updates = wire.updates()
    assert len(updates) == 1, [sorted(u["state"]) for u in updates]
    # (_params, the static columns, is unchanged: traitlets does not resend an equal value.)
    assert {"_summary", "_param_stats", "_hist"} <= set(updates[0]["state"])
    # The new state is in it: the weights, the version and the train/eval flag.
    assert params(panel)[0]["mean"] == pytest.approx(0.5) and params(panel)[0][
        "std"
    ] == pytest.approx(0.0)
    assert panel._hist["version"] == 1
    assert panel._summary["training"] is False
    # Histogram counts travel as binary buffers, not JSON lists.
    assert any(len(b) >= 4 * 4 * 64 for b in wire.messages[0]["buffers"])


def test_publish_batches_and_unbatched_writes_do_not(panel: ModelPanel) -> None:
    wire = Wire(panel)
    panel._error = "a"
    panel._summary = {**panel._summary, "macs": 1}
    assert len(wire.updates()) == 2  # the recorder sees separate writes as separate messages
    wire.messages.clear()
    panel._publish(_error="b", _summary={**panel._summary, "macs": 2})
    assert len(wire.updates()) == 1
    assert set(wire.updates()[0]["state"]) == {"_error", "_summary"}
    with pytest.raises(AttributeError, match="no trait '_nope'"):
        panel._publish(_nope=1)


# -- weak reference -------------------------------------------------------------------------------


def test_panel_does_not_keep_a_deleted_model_alive() -> None:
    model = IrisMLP()
    panel = ModelPanel(model, input_size=(1, 4))
    ref = weakref.ref(model)
    panel.refresh()
    del model
    gc.collect()
    assert ref() is None, gc.get_referrers(ref()) if ref() is not None else None
    assert panel._summary["total_params"] == 83  # the panel itself lives on
    with pytest.raises(ModelPanelError, match="model was deleted"):
        panel.refresh()


def test_deleted_model_error_reaches_the_view_on_refresh_message() -> None:
    model = IrisMLP()
    panel = ModelPanel(model, input_size=(1, 4))
    wire = Wire(panel)
    del model
    gc.collect()
    send_from_view(panel, {"kind": "refresh", "id": "r"})
    (reply,) = wire.customs()
    assert reply["ok"] is False and "model was deleted" in reply["error"]
    assert "model was deleted" in panel._error


# -- bad input ------------------------------------------------------------------------------------


def test_non_module_is_a_type_error_naming_what_was_given() -> None:
    with pytest.raises(TypeError, match=r"torch\.nn\.Module, got dict"):
        ModelPanel({"fc1": nn.Linear(4, 10)}, input_size=(1, 4))


def test_unknown_keyword_lists_the_valid_ones(iris: nn.Module) -> None:
    with pytest.raises(TypeError) as info:
        ModelPanel(iris, input_size=(1, 4), input_shape=(1, 4))
    assert "'input_shape'" in str(info.value)


def test_signature_is_the_real_one_for_shift_tab() -> None:
    import inspect

    params = inspect.signature(ModelPanel).parameters
    assert list(params)[:3] == ["model", "input_size", "input_data"]
    keyword_only = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword_only == ["device", "dtypes", "mode", "trace", "bins", "eval_data", "hist_every", "grad_norms",
                            "activations", "language", "layout"]
    doc = ModelPanel.__doc__ or ""
    for name in ["model", "input_size", "input_data", *keyword_only]:
        assert f"{name}" in doc, name
    assert "Raises:" in doc and "not moved" not in doc and "float32" not in doc


def test_progress_takes_desc_second_as_tqdm_does(iris: nn.Module) -> None:
    import inspect

    from tqdm import tqdm

    panel = ModelPanel(iris, input_size=(1, 4))
    assert list(inspect.signature(tqdm.__init__).parameters)[1:3] == ["iterable", "desc"]
    assert list(inspect.signature(panel.progress).parameters)[:2] == ["iterable", "desc"]
    bar = panel.progress(range(3), "epoch")  # positional desc, as tqdm(range(3), "epoch")
    assert list(bar) == [0, 1, 2] and bar.desc == "epoch"
    with pytest.raises(TypeError):
        panel.progress(range(3), "epoch", 3)  # total is keyword-only  # type: ignore[misc]
    with pytest.raises(InputError, match="desc must be a string"):
        panel.progress(range(3), 3)  # type: ignore[arg-type]
    panel.close()


@pytest.mark.parametrize(("bins", "error"), [(0, InputError), (-3, InputError), (2.5, TypeError), (True, TypeError)])
def test_bad_bins(iris: nn.Module, bins: Any, error: type) -> None:
    with pytest.raises(error, match="bins must be a positive int"):
        ModelPanel(iris, input_size=(1, 4), bins=bins)


class Broken(nn.Module):
    """fc1 -> a layer expecting 7 features: the forward raises inside ``bad``."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.bad = nn.Linear(7, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bad(self.fc1(x))


def test_failing_forward_is_shown_not_raised_and_leaves_the_model_as_it_was() -> None:
    # (tests/panel/test_forgiving.py covers what the panel then shows)
    model = Broken().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    panel = ModelPanel(model, input_size=(1, 4))
    assert isinstance(panel.error, ForwardError) and panel.error.module_path == "bad"
    assert model.training is False
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.is_grad_enabled()


def test_without_input_the_panel_shows_the_structure_only() -> None:
    panel = ModelPanel(IrisMLP())
    assert panel._summary["total_params"] == 83 and panel._summary["input_shapes"] is None
    assert [layer["output_shape"] for layer in layers(panel._summary)] == [None, None, None]
    assert len(params(panel)) == 4  # weights need no forward


def test_bad_input_size_is_an_input_error_before_any_widget_exists(iris: nn.Module) -> None:
    from ipywidgets.widgets.widget import _instances  # every open widget, by model id

    before = set(_instances)
    with pytest.raises(InputError, match="input_size='abc'"):
        ModelPanel(iris, input_size="abc")
    assert set(_instances) == before  # no half-built widget was opened in the front end


def test_device_argument_moves_nothing(iris: nn.Module) -> None:
    panel = ModelPanel(iris, input_size=(1, 4), device="cpu")
    assert panel._summary["devices"] == ["cpu"]
    assert all(p.device.type == "cpu" for p in iris.parameters())


# -- hostile names --------------------------------------------------------------------------------


def test_hostile_names_stay_literal_strings_in_state() -> None:
    panel = ModelPanel(HostileNames(), input_size=(2, 4))
    wired = layers(panel._summary)  # what the view decodes
    paths = [layer["path"] for layer in wired]
    kinds = [layer["kind"] for layer in wired]
    assert HOSTILE_STRINGS[0] in paths and HOSTILE_STRINGS[1] in paths
    assert HOSTILE_STRINGS[0] in kinds  # the class whose __name__ is markup
    assert any(p.endswith(HOSTILE_STRINGS[2]) for p in paths)
    names = [n for rec in params(panel) for n in rec["names"]]
    assert f"{HOSTILE_STRINGS[1]}.weight" in names
    # Nothing was escaped on the way: escaping is the view's textContent's job, not the kernel's.
    assert not any("&lt;" in p for p in paths)


# -- the whole panel: its keywords and requests ------------------------------------------------


def test_composed_panel_lists_mixin_keywords_and_routes_their_messages(iris: nn.Module) -> None:
    Composed = ModelPanel

    with pytest.raises(TypeError, match="hist_every") as info:
        Composed(iris, input_size=(1, 4), hist_evry=1.0)
    assert "'hist_evry'" in str(info.value) and "input_size" in str(info.value)

    x = torch.randn(30, 4)
    y = torch.randint(0, 3, (30,))
    panel = Composed(iris, input_size=(1, 4), hist_every=1.0, eval_data=(x, y))
    assert panel.hist_every == 1.0 and panel._eval_data["n"] == 30
    wire = Wire(panel)
    send_from_view(panel, {"kind": "evaluate", "id": "ev-1", "device": "cpu", "batch_size": 8})
    reply = wire.customs()[-1]
    assert (reply["kind"], reply["id"], reply["ok"]) == ("evaluate_reply", "ev-1", True), reply
    expected = (iris(x).argmax(1) == y).float().mean().item()
    assert panel._eval_result["accuracy"] == pytest.approx(expected)


def test_composed_panel_does_not_keep_a_deleted_model_alive() -> None:
    Composed = ModelPanel
    model = IrisMLP()
    x, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    panel = Composed(model, input_size=(1, 4), eval_data=(x, y))
    panel.evaluate(x, y)
    for _ in panel.progress(range(2), desc="epoch"):
        panel.log(loss=torch.tensor(1.0))
    panel.refresh()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
    with pytest.raises(ModelPanelError, match="model was deleted"):
        panel.refresh()


def test_trace_is_passed_on_and_checked() -> None:
    """ModelPanel(trace=) is summarize's: "fake" counts MACs in the same pass (4*10 + 10*3 by hand)."""
    assert inspect.signature(ModelPanel).parameters["trace"].default == "auto"
    model = IrisMLP()
    before = snapshot_state(model)
    panel = ModelPanel(model, input_size=(1, 4), trace="fake")
    assert panel.summary.trace == "fake" and panel.summary._macs == 4 * 10 + 10 * 3
    assert panel._summary["macs"] == 70
    panel.close()
    assert ModelPanel(model, input_size=(1, 4), trace="real").summary.trace == "real"
    with pytest.raises(InputError, match=r"trace='fast'.*'auto'.*'fake'.*'real'"):
        ModelPanel(model, input_size=(1, 4), trace="fast")
    assert_state_unchanged(model, before)
