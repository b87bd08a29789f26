"""Gradient norms, activation statistics and NaN/Inf flags, checked against plain torch / numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from zoo import IrisMLP, SmallCNN

from modelpanel.training.diagnostics import ActivationMonitor, first_nonfinite, grad_norms


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _backward(model: nn.Module, x: torch.Tensor) -> None:
    model.zero_grad()
    model(x).square().mean().backward()


def test_grad_norms_match_per_module_norms():
    model = SmallCNN()
    _backward(model, torch.randn(4, 1, 28, 28))
    norms, bad = grad_norms(model)
    assert bad is None
    for path, module in model.named_modules():
        own = [p.grad for p in module.parameters(recurse=False) if p.grad is not None]
        if not own:
            assert path not in norms
            continue
        expected = torch.sqrt(sum(g.double().square().sum() for g in own)).item()
        assert norms[path] == pytest.approx(expected, rel=1e-5), path


def test_grad_norms_count_tied_weights_once_and_skip_missing_grads():
    model = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False))
    model[1].weight = model[0].weight
    assert grad_norms(model) == ({}, None)
    _backward(model, torch.randn(2, 3))
    norms, _ = grad_norms(model)
    assert set(norms) == {"0"}  # the tied tensor belongs to its first owner
    assert norms["0"] == pytest.approx(model[0].weight.grad.norm().item(), rel=1e-5)


def test_nonfinite_weights_and_grads_name_the_first_layer():
    model = IrisMLP()
    assert first_nonfinite(model) is None
    with torch.no_grad():
        model.fc2.weight[0, 0] = float("nan")
    assert first_nonfinite(model) == "fc2"
    with torch.no_grad():
        model.fc1.bias[1] = float("inf")
    assert first_nonfinite(model) == "fc1"
    model = IrisMLP()
    _backward(model, torch.randn(5, 4))
    model.fc2.bias.grad[0] = float("inf")
    norms, bad = grad_norms(model)
    assert bad == "fc2" and norms["fc2"] is None and norms["fc1"] > 0
    assert first_nonfinite(model, grads=True) == "fc2"


def test_half_precision_large_weights_are_not_flagged():
    # 300 * sqrt(1000) overflows float16's 65504 when the norm is taken in float16.
    model = nn.Linear(1000, 1).half()
    with torch.no_grad():
        model.weight.fill_(300.0)
    assert first_nonfinite(model) is None


def test_activation_statistics_match_numpy():
    model = IrisMLP()
    mon = ActivationMonitor(model)
    mon.attach()
    outs: dict[str, list[np.ndarray]] = {"fc1": [], "relu": [], "fc2": []}
    probes = [getattr(model, n).register_forward_hook(
        lambda m, i, o, n=n: outs[n].append(o.detach().numpy().ravel())) for n in outs]
    for batch in (8, 16):  # one pass per read: the second forward is not counted
        model(torch.randn(batch, 4))
    stats = mon.read()
    for name, chunks in outs.items():
        values = chunks[0].astype(np.float64)
        assert stats[name]["mean"] == pytest.approx(values.mean(), rel=1e-6, abs=1e-9)
        assert stats[name]["std"] == pytest.approx(values.std(), rel=1e-5)  # population std
        assert stats[name]["zero_frac"] == pytest.approx((values == 0).mean())
    assert 0.2 < stats["relu"]["zero_frac"] < 0.8
    model(torch.randn(4, 4))  # re-armed by read(): this pass is the next sample
    assert mon.read()["fc2"]["mean"] == pytest.approx(outs["fc2"][-1].mean(), rel=1e-5)
    # Submodules called outside a root forward accumulate until the next read.
    model.fc1(torch.ones(2, 4))
    model.fc1(torch.zeros(2, 4))
    both = np.concatenate([outs["fc1"][-2], outs["fc1"][-1]]).astype(np.float64)
    assert mon.read()["fc1"]["mean"] == pytest.approx(both.mean(), rel=1e-6)
    for probe in probes:
        probe.remove()
    mon.detach()


def test_activation_read_resets_and_keeps_last_values():
    model = IrisMLP()
    mon = ActivationMonitor(model)
    mon.attach()
    model(torch.ones(2, 4))
    first = mon.read()
    model.fc1(torch.full((2, 4), 3.0))  # only fc1 runs
    second = mon.read()
    assert second["fc2"] == first["fc2"]
    assert second["fc1"]["mean"] != first["fc1"]["mean"]
    mon.detach()


def test_activation_hooks_removed_and_never_piled_up():
    model = SmallCNN()
    leaves = [m for m in model.modules() if next(m.children(), None) is None]

    def hooks() -> int:
        return sum(len(m._forward_hooks) for m in model.modules())

    a = ActivationMonitor(model)
    a.attach()
    a.attach()  # idempotent
    assert hooks() == len(leaves) + 1  # + the root's, which ends a sampled pass
    b = ActivationMonitor(model)  # a second panel on the same model replaces the first
    b.attach()
    assert hooks() == len(leaves) + 1 and not a.attached
    b.detach()
    b.detach()
    assert hooks() == 0


def test_activation_monitor_does_not_sync_per_forward(monkeypatch):
    calls = []
    for name in ("item", "cpu", "tolist"):
        original = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name,
                            lambda self, *a, _o=original, _n=name, **k: calls.append(_n) or _o(self, *a, **k))
    model = SmallCNN()
    mon = ActivationMonitor(model)
    mon.attach()
    for _ in range(5):
        model(torch.randn(2, 1, 28, 28))
    assert calls == []
    mon.read()
    assert calls.count("cpu") == 1
    mon.detach()
