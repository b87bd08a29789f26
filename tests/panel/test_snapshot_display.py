"""The snapshot a saved notebook keeps (panel/snapshot.py): its own output, kept current.

IPython's real display machinery records what the panel publishes: an InteractiveShell and
``IPython.utils.capture.capture_output`` (its CapturingDisplayPublisher keeps each
display_data / update_display_data with its transient ``display_id``). The browser side
(reopened without a kernel, JupyterLab and Notebook 7) is tests/e2e/test_saved_snapshot_e2e.py.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from torch import nn
from zoo import IrisMLP

from modelpanel.panel import ModelPanel

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STAMP = re.compile(r"Snapshot taken (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    try:
        yield shell
    finally:
        InteractiveShell.clear_instance()


@pytest.fixture
def model() -> nn.Module:
    torch.manual_seed(0)
    return IrisMLP()


@pytest.fixture
def shown(shell, model):
    """A panel displayed the way a cell's last line displays it; (panel, its display id)."""
    panel = ModelPanel(model, input_size=(1, 4), hist_every=None)
    with capture_output() as cap:
        shell.display_formatter.format(panel)  # what IPython does with a cell's last value
    view, snap = cap.outputs
    assert list(view.data) == [WIDGET_MIME] and view.data[WIDGET_MIME]["model_id"] == panel.model_id
    assert set(snap.data) == {"text/plain", "text/html"}
    return panel, snap.transient["display_id"], snap.data


def updates(cap, display_id: str) -> list[dict]:
    return [o.data for o in cap.outputs if o.update and o.transient.get("display_id") == display_id]


def train(panel: ModelPanel, model: nn.Module, epochs: int) -> float:
    """A few steps of SGD on fixed data, logged; returns the last loss (as torch computed it)."""
    X, y = torch.randn(30, 4), torch.randint(0, 3, (30,))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in panel.progress(range(epochs), desc="epoch"):
        for _batch in panel.progress(range(2), desc="batch"):
            loss = nn.functional.cross_entropy(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        panel.log(loss=loss)
    return float(loss.detach())


def taken(data: dict) -> datetime:
    stamps = {STAMP.search(data["text/plain"]).group(1), STAMP.search(data["text/html"]).group(1)}
    assert len(stamps) == 1  # the same moment in both
    return datetime.fromisoformat(stamps.pop())


def test_first_snapshot_is_the_full_text_table_without_running_the_model(shown, model):
    panel, _id, data = shown
    calls = []
    model.register_forward_hook(lambda *a: calls.append(1))
    plain = data["text/plain"]
    # One row per module, named as the model names them, and the totals torch counts.
    for name, module in model.named_modules():
        if name:
            assert f"{name} ({type(module).__name__})" in plain
    total = sum(p.numel() for p in model.parameters())
    assert f"Total params: {total:,}" in plain
    assert "Total MACs: --" in plain and not panel.summary.macs_counted  # no MAC pass on display
    assert calls == []
    assert "Training: no progress loop yet" in plain and "Evaluation: none yet" in plain
    assert "Model mode: train" in plain  # IrisMLP() is in train mode, as torch made it
    assert "modelpanel-snapshot" in data["text/html"] and "fc1" in data["text/html"]


def test_a_loop_updates_the_snapshot_once_when_it_ends(shown, model):
    panel, display_id, _ = shown
    before = datetime.now().replace(microsecond=0)
    with capture_output() as cap:
        loss = train(panel, model, epochs=3)
    after = datetime.now()
    # Nested bars close 4 times (3 inner loops, then the outer one): one snapshot, at the end.
    (data,) = updates(cap, display_id)
    plain = data["text/plain"]
    assert "Training: last loop epoch 3/3 it, done" in plain
    assert f"loss {loss:.4g} at step 2" in plain  # the third log() call is step 2
    assert before <= taken(data) <= after
    # The HTML's curve ends at the loop's last loss, and the weights are the trained ones.
    assert f"→ {loss:.4g}" in data["text/html"]
    assert f"{model.fc2.bias.detach().mean().item():.4g}" in data["text/html"]


def test_evaluate_and_refresh_update_it(shown, model):
    panel, display_id, _ = shown
    X, y = torch.randn(40, 4), torch.randint(0, 3, (40,))
    with torch.no_grad():
        model.eval()
        accuracy = float((model(X).argmax(1) == y).float().mean())
        model.train()
    with capture_output() as cap:
        panel.evaluate(X, y)
    (data,) = updates(cap, display_id)
    assert f"Evaluation (eval mode): accuracy {accuracy:.2%}, 40 samples on cpu" in data["text/plain"]
    # One way of writing a time in the snapshot: the evaluation's as the snapshot's own.
    stamp = re.search(r"Snapshot taken (\S+ \S+)", data["text/plain"])
    finished = re.search(r"40 samples on cpu, at (\S+ \S+)", data["text/plain"])
    assert stamp and finished and "T" not in finished[1]
    assert datetime.strptime(finished[1], "%Y-%m-%d %H:%M:%S") <= datetime.strptime(stamp[1], "%Y-%m-%d %H:%M:%S")

    with torch.no_grad():
        model.fc2.bias.fill_(0.25)
    model.eval()
    before = datetime.now().replace(microsecond=0)
    with capture_output() as cap:
        panel.refresh()
    (data,) = updates(cap, display_id)
    assert "Model mode: eval" in data["text/plain"]
    row = re.search(r"fc2\.bias.*?</tr>", data["text/html"]).group(0)
    assert ">0.25<" in row  # mean, min and max of a bias filled with 0.25
    assert taken(data) >= before
    # Reading the MACs (from code) updates it too: the table's MACs column is filled then.
    with capture_output() as cap:
        macs = panel.summary.macs
    (data,) = updates(cap, display_id)
    fc1 = model.fc1
    assert macs == fc1.in_features * fc1.out_features + model.fc2.in_features * model.fc2.out_features
    assert f"Total MACs: {macs:,}" in data["text/plain"]


def test_every_display_is_kept_current_and_nothing_is_sent_before_one(shell, model):
    panel = ModelPanel(model, input_size=(1, 4), hist_every=None)
    with capture_output() as cap:
        panel.refresh()
    assert cap.outputs == []  # never displayed: no snapshot to update
    with capture_output() as cap:
        shell.display_formatter.format(panel)
        shell.display_formatter.format(panel)
    ids = [o.transient["display_id"] for o in cap.outputs if o.transient]
    assert len(ids) == 2 and ids[0] != ids[1]
    with capture_output() as cap:
        panel.refresh()
    assert sorted(o.transient["display_id"] for o in cap.outputs if o.update) == sorted(ids)


def test_a_failing_snapshot_never_breaks_the_loop(shown, model, monkeypatch):
    panel, display_id, _ = shown

    def broken(*_a, **_k):
        raise RuntimeError("renderer broke")

    monkeypatch.setattr("modelpanel.panel.snapshot.render_snapshot", broken)
    with capture_output() as cap:
        train(panel, model, epochs=2)
    assert updates(cap, display_id) == []
    assert "renderer broke" in panel._error  # said next to the widget
    assert panel.history["loss"][-1][0] == 1  # the loop ran to its end


def test_repr_mimebundle_carries_the_same_snapshot(shown, model):
    panel, _id, _ = shown
    data, _meta = panel._repr_mimebundle_()
    assert data[WIDGET_MIME]["model_id"] == panel.model_id
    assert data["text/plain"].startswith("=") and "fc1 (Linear)" in data["text/plain"]
    assert STAMP.search(data["text/plain"]) and "modelpanel-snapshot" in data["text/html"]
