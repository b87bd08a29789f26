"""Training in the real ModelPanel: throttled messages, no per-step syncs, hooks, history.

What the kernel sends is recorded at the comm's ``publish_msg``, the last stop before the wire.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from widget_wire import Wire, accumulated_metrics, send_from_view
from zoo import IrisMLP, SmallCNN

from modelpanel.errors import InputError
from modelpanel.panel import ModelPanel
from modelpanel.panel.wire import wire_to_array

Panel = ModelPanel


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    # One intra-op thread: on a shared 2-core machine two threads oversubscribe and a tiny
    # model's step gets ~40x slower, which makes the timing-based checks meaningless.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


class SyncCounter:
    """Counts host reads of tensors (``item``, ``cpu``, ``tolist``, ``__float__``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        for name in ("item", "cpu", "tolist", "__float__"):
            original = getattr(torch.Tensor, name)

            def counted(t, *a, _o=original, **k):
                self.calls += 1
                return _o(t, *a, **k)

            monkeypatch.setattr(torch.Tensor, name, counted)


def iris_data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(n, 4), torch.randint(0, 3, (n,))


def train(panel: Panel, model: torch.nn.Module, steps: int, epochs: int = 1, fail_at: int | None = None) -> None:
    x, y = iris_data()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for _epoch in panel.progress(range(epochs), desc="epoch"):
        for i in panel.progress(range(steps), desc="batch", leave=False):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            panel.log(loss=loss)
            if i == fail_at:
                raise KeyboardInterrupt


def forward_hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_10000_fast_iterations_are_throttled():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=None)
    wire = Wire(panel)
    start = time.monotonic()
    with panel.progress(total=10_000, desc="fast") as bar:
        for i in range(10_000):
            bar.update()
            panel.log(step=i, value=float(i))
    elapsed = time.monotonic() - start
    assert len(wire.states()) <= elapsed / 0.1 + 4, (len(wire.states()), elapsed)
    assert panel._progress[0]["n"] == 10_000 and panel._progress[0]["state"] == "done"
    # The view got every point as appends; the kernel keeps a bounded history.
    sent = accumulated_metrics(wire)["value"]
    assert [s for s, _ in sent] == list(range(10_000))
    x = [s for s, _ in panel.history["value"]]
    assert x[-1] == 9_999 and len(x) <= 2 * panel.metric_points


def test_logging_tensors_does_not_sync_per_step(monkeypatch):
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4))  # default histograms every 2 s
    wire = Wire(panel)
    syncs = SyncCounter(monkeypatch)
    steps = 3000
    start = time.monotonic()
    train(panel, model, steps)
    elapsed = time.monotonic() - start
    # Reads happen only when an update goes out (a metric read is .cpu() + .tolist()), and
    # updates are throttled by time, so syncs per second are bounded whatever the step rate.
    # + 6: the loop's start, its "before training" weights, the first histograms, its end.
    assert len(wire.states()) <= elapsed / 0.1 + 6
    assert syncs.calls <= 3 * len(wire.states()) + 2, (syncs.calls, len(wire.states()))
    losses = [v for _, v in accumulated_metrics(wire)["loss"]]
    assert len(losses) == steps and losses[-1] < losses[0]  # every value arrived, as appends


def test_final_state_matches_kernel_and_bars_do_not_pile_up():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=None)
    for _run in range(2):  # the same cell run twice
        train(panel, model, steps=20, epochs=3)
    # Each run keeps its leave=True outer bar (as tqdm's stays printed); the leave=False
    # inner bars are gone, and nothing piles up per epoch.
    assert [(b["desc"], b["n"], b["state"]) for b in panel._progress] == [("epoch", 3, "done")] * 2
    assert len(panel.history["loss"]) == 120 and panel._metrics["series"]["loss"]["epoch_level"] is False


def test_hist_history_is_recorded_and_bounded():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=0.01)
    panel.hist_snapshots = 8
    version = panel._hist["version"]
    x, y = iris_data()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in panel.progress(range(40)):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        panel.log(loss=loss)
        time.sleep(0.012)
    # The whole history of one tensor travels only when a view asks for it.
    numels = [p.numel() for p in model.parameters()]
    wire = Wire(panel)
    for tensor, numel in enumerate(numels):
        send_from_view(panel, {"kind": "hist_history", "id": tensor, "tensor": tensor})
        reply = wire.customs()[-1]
        assert reply["ok"] is True and reply["id"] == tensor and reply["bins"] == 64
        counts, ranges, steps = np.array(reply["counts"]), np.array(reply["range"]), np.array(reply["steps"])
        assert counts.shape[1] == 64 and 4 <= counts.shape[0] <= 8
        assert ranges.shape == (counts.shape[0], 2) and steps.shape == (counts.shape[0],)
        assert np.all(np.diff(steps) > 0) and steps[-1] == 39
        # Each snapshot bins every element of the tensor.
        assert np.all(counts.sum(axis=1) == numel)
    assert panel._hist["version"] > version and panel._hist["step"] == 39
    final = wire_to_array(panel._hist["range"])
    assert np.allclose(final[:, 0], [p.detach().min().item() for p in model.parameters()])
    send_from_view(panel, {"kind": "hist_history", "id": "bad", "tensor": 99})
    assert wire.customs()[-1]["ok"] is False and "tensor id in 0..3" in wire.customs()[-1]["error"]


def test_histograms_off_and_bad_config():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=None)
    train(panel, model, steps=5)
    wire = Wire(panel)
    send_from_view(panel, {"kind": "hist_history", "id": 1, "tensor": 0})
    assert wire.customs()[-1]["steps"] == []
    with pytest.raises(InputError, match="hist_every"):
        panel.watch(hist_every=0)
    with pytest.raises(InputError, match="grad_norms"):
        panel.watch(grad_norms="yes")
    with pytest.raises(InputError, match="file="):
        panel.progress(range(3), file=None)
    with pytest.raises(InputError, match="mininterval must be a number"):
        panel.progress(range(3), mininterval="0.5")
    with pytest.raises(InputError, match="metric_points must be at least 2"):
        panel.metric_points = 1
    assert panel.metric_points == 1000  # the bad value was not kept


def test_activation_hooks_live_only_while_the_loop_runs():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=None, activations=True, grad_norms=True)
    seen = []
    x, y = iris_data()
    for _ in panel.progress(range(3)):
        seen.append(forward_hooks(model))
        F.cross_entropy(model(x), y).backward()
    assert seen == [4, 4, 4]  # fc1, relu, fc2 + the root: never more on re-entry
    assert forward_hooks(model) == 0
    diag = panel._diagnostics
    assert set(diag["activations"]) == {"fc1", "relu", "fc2"}
    assert set(diag["grad_norms"]) == {"fc1", "fc2"}
    assert diag["nonfinite"] == {"loss": False, "first_layer": None, "where": None}


def test_exception_removes_hooks_and_shows_where_it_stopped():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=None, activations=True)
    with pytest.raises(KeyboardInterrupt):
        train(panel, model, steps=50, fail_at=7)
    assert forward_hooks(model) == 0
    bars = {b["desc"]: b for b in panel._progress}
    assert bars["batch"]["n"] == 7 and bars["batch"]["state"] in ("stopped", "error")
    assert bars["epoch"]["state"] in ("stopped", "error")
    # A second panel on the same model, re-running the cell: still one hook per leaf.
    other = Panel(model, input_size=(1, 4), hist_every=None, activations=True)
    for _ in other.progress(range(2)):
        with panel.progress(total=1) as bar:  # the first panel running at the same time
            assert forward_hooks(model) == 4
            bar.update()
    assert forward_hooks(model) == 0


def test_close_removes_hooks():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=None, activations=True)
    bar = panel.progress(total=10)
    assert forward_hooks(model) == 4
    panel.close()
    assert forward_hooks(model) == 0
    bar.close()


def test_nonfinite_loss_and_weights_are_flagged():
    model = SmallCNN()
    panel = Panel(model, input_size=(1, 1, 28, 28), hist_every=0.001)
    with torch.no_grad():
        model.classifier[2].weight[0, 0] = float("inf")
    for _ in panel.progress(range(2)):
        panel.log(loss=torch.tensor(float("nan")))
        time.sleep(0.002)
    assert panel._diagnostics["nonfinite"] == {"loss": True, "first_layer": "classifier.2", "where": "weights"}


def test_clear_history_starts_the_next_run_from_a_clean_slate():
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=0.001)
    for _ in panel.progress(range(3)):
        panel.log(loss=torch.tensor(float("nan")))
        time.sleep(0.002)
    assert panel.history and panel._diagnostics["nonfinite"]["loss"]
    reset = panel._metrics["reset"]
    panel.clear_history()
    assert panel._metrics == {"reset": reset + 1, "seq": 1, "series": {}}
    assert panel.history == {} and panel._diagnostics == {}
    wire = Wire(panel)
    for i in panel.progress(range(2)):
        panel.log(loss=0.5 if i == 0 else float("nan"))
    assert [s for s, _ in accumulated_metrics(wire)["loss"]] == [0.0, 1.0]
    # The first run's flag was forgotten, so the new run's NaN loss is reported again.
    assert panel._diagnostics["nonfinite"]["loss"] is True


def test_a_failing_monitor_never_replaces_the_users_exception(monkeypatch):
    import modelpanel.panel.training as pt

    def broken(model):
        raise RuntimeError("cannot read grads")

    monkeypatch.setattr(pt, "grad_norms", broken)  # a fault injected into the monitor only
    model = IrisMLP()
    panel = Panel(model, input_size=(1, 4), hist_every=None, grad_norms=True)
    with pytest.raises(ValueError, match="user's own"):
        for i in panel.progress(range(10)):
            if i == 2:
                raise ValueError("user's own")
    assert panel._error == "training monitor: RuntimeError: cannot read grads"
    assert panel._progress[0]["n"] == 2


def test_weights_over_time_start_with_the_weights_before_training():
    model = IrisMLP()
    before = [p.detach().clone().numpy() for p in model.parameters()]
    panel = Panel(model, input_size=(1, 4), hist_every=60.0)  # no snapshot during the loop
    x, y = iris_data()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in panel.progress(range(5)):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        panel.log(loss=loss)
    wire = Wire(panel)
    for tensor, (w0, w1) in enumerate(zip(before, model.parameters())):
        send_from_view(panel, {"kind": "hist_history", "id": tensor, "tensor": tensor})
        reply = wire.customs()[-1]
        # Two columns: before the first step (-1: the implicit steps start at 0) and the end.
        assert reply["steps"] == [-1.0, 4.0]
        lo, hi = float(w0.min()), float(w0.max())
        assert reply["range"][0] == pytest.approx([lo, hi])
        assert reply["counts"][0] == np.histogram(w0, bins=64, range=(lo, hi))[0].tolist()
        assert reply["range"][1] == pytest.approx([w1.detach().min().item(), w1.detach().max().item()])
    # A second loop keeps adding to the same history: no second "before" column.
    for _ in panel.progress(range(2)):
        panel.log(loss=1.0)
    send_from_view(panel, {"kind": "hist_history", "id": 0, "tensor": 0})
    assert wire.customs()[-1]["steps"] == [-1.0, 4.0, 6.0]
