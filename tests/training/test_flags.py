"""Diagnostic flags on models that really reach each state; expected values from torch itself.

Each test drives a real model into the state (dead ReLU, vanishing or exploding gradients,
NaN/Inf), computes what the flag should say from the model's own tensors (hooks and
``.grad``, not modelpanel's numbers) and compares it with :func:`layer_flags`, then checks the
panel carries the same flags to the view after a real ``panel.progress`` loop.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from modelpanel.panel import ModelPanel
from modelpanel.training.diagnostics import (
    DEAD_ZERO_FRAC,
    EXPLODING_RATIO,
    VANISHING_RATIO,
    ActivationMonitor,
    grad_norms,
    layer_flags,
    weight_norms,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _outputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every leaf module's output in one forward, through hooks of the test's own."""
    outs: dict[str, torch.Tensor] = {}
    handles = [m.register_forward_hook(lambda _m, _i, o, p=p: outs.__setitem__(p, o.detach()))
               for p, m in model.named_modules() if not list(m.children())]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return outs


def _flags(model: nn.Module, x: torch.Tensor) -> dict[str, list[str]]:
    """One forward (sampled by the monitor) and backward, then the flags of those numbers."""
    mon = ActivationMonitor(model)
    mon.attach()
    try:
        model.zero_grad()
        model(x).square().mean().backward()
        acts = mon.read()
    finally:
        mon.detach()
    grads, _ = grad_norms(model)
    return layer_flags(grads, weight_norms(model), acts)


def _relative_grads(model: nn.Module) -> dict[str, float]:
    """|grad| / max(|w|, 1) per module, over the parameters it holds directly (torch only)."""
    out = {}
    for path, m in model.named_modules():
        own = [p for p in m.parameters(recurse=False) if p.grad is not None]
        if own:
            g = torch.sqrt(sum(p.grad.double().square().sum() for p in own)).item()
            w = torch.sqrt(sum(p.detach().double().square().sum() for p in own)).item()
            out[path] = g / max(w, 1.0)
    return out


def _with(flags: dict[str, list[str]], kind: str) -> set[str]:
    return {p for p, kinds in flags.items() if kind in kinds}


def dead_relu_net() -> nn.Sequential:
    """A ReLU MLP collapsed as after a too-large step: the first bias far below any input."""
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    return model


def test_dead_relu_is_flagged_and_a_healthy_one_is_not():
    x = torch.randn(64, 8)
    model = dead_relu_net()
    zero_frac = (_outputs(model, x)["1"] == 0).double().mean().item()
    assert zero_frac >= DEAD_ZERO_FRAC  # the state is real: every unit is off for every sample
    assert _with(_flags(model, x), "dead") == {"1"}
    healthy = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    zero_frac = (_outputs(healthy, x)["1"] == 0).double().mean().item()
    assert 0.2 < zero_frac < DEAD_ZERO_FRAC
    assert _with(_flags(healthy, x), "dead") == set()


def test_deep_sigmoid_stack_vanishes_from_the_input_side():
    # sigmoid' <= 1/4: the gradient shrinks at least 4x per layer on its way back.
    model = nn.Sequential(*[m for _ in range(24) for m in (nn.Linear(16, 16), nn.Sigmoid())])
    flags = _flags(model, torch.randn(32, 16))
    ratios = _relative_grads(model)
    top = max(ratios.values())
    expected = {p for p, r in ratios.items() if r < VANISHING_RATIO * top}
    assert "0" in expected and str(2 * 23) not in expected  # first layer vanished, last did not
    assert _with(flags, "vanishing") == expected
    assert _with(flags, "exploding") == set()
    shallow = nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4))
    assert _flags(shallow, torch.randn(32, 16)) == {}


def test_huge_weights_explode():
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8))
    with torch.no_grad():
        for layer in model:
            layer.weight.mul_(100.0)
    flags = _flags(model, torch.randn(16, 8))
    ratios = _relative_grads(model)
    expected = {p for p, r in ratios.items() if r > EXPLODING_RATIO}
    assert expected  # the loss's scale grows as 100^3: the state is real
    assert _with(flags, "exploding") == expected


def test_too_large_learning_rate_explodes_then_goes_nonfinite():
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=50.0)
    x, y = torch.randn(64, 4), torch.randn(64, 1)
    seen: set[str] = set()
    for _ in range(30):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        ratios = _relative_grads(model)
        grads, _ = grad_norms(model)
        flags = layer_flags(grads, weight_norms(model), {})
        finite = {p for p, g in grads.items() if g is not None and math.isfinite(g)}
        assert _with(flags, "exploding") == {p for p in finite if ratios[p] > EXPLODING_RATIO}
        seen |= {k for kinds in flags.values() for k in kinds}
        opt.step()
    assert "exploding" in seen


def test_nan_weight_flags_weights_grads_and_activations_downstream():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    x = torch.randn(5, 4)
    outs = _outputs(model, x)
    mon = ActivationMonitor(model)
    mon.attach()
    model(x).sum().backward()
    acts = mon.read()
    mon.detach()
    grads, _ = grad_norms(model)
    bad_weights = [p for p, m in model.named_modules()
                   if any(not torch.isfinite(t).all() for t in m.parameters(recurse=False))]
    flags = layer_flags(grads, weight_norms(model), acts, bad_weights)
    assert _with(flags, "nonfinite_weights") == {"2"}
    assert _with(flags, "nonfinite_activations") == {p for p, o in outs.items() if not torch.isfinite(o).all()}
    assert "2" in _with(flags, "nonfinite_activations") and "0" not in _with(flags, "nonfinite_activations")
    assert _with(flags, "nonfinite_grads") == {
        p for p, m in model.named_modules()
        if any(q.grad is not None and not torch.isfinite(q.grad).all() for q in m.parameters(recurse=False))}


def test_flags_reach_the_panel_after_a_training_loop():
    model = dead_relu_net()
    panel = ModelPanel(model, input_size=(1, 8), hist_every=0.001, activations=True, grad_norms=True)
    x = torch.randn(32, 8)
    with torch.no_grad():
        model[2].weight[0, 0] = float("inf")
    for _ in panel.progress(range(3)):
        model.zero_grad()
        model(x).square().mean().backward()
    flags = panel._diagnostics["flags"]
    assert "dead" in flags["1"]
    assert "nonfinite_weights" in flags["2"]
    panel.close()
