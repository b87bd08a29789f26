"""Every engine names modules and restores the model through _core: the cases where they drifted.

Each expected value comes from the model itself (its own named_modules, by hand counts), never
from modelpanel's output.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo import IrisMLP, assert_state_unchanged, snapshot_state

from modelpanel import ModelPanel, summarize
from modelpanel._core.walk import unwrap, walk_modules
from modelpanel.stats import collect_params, weight_snapshot
from modelpanel.training.diagnostics import ActivationMonitor, first_nonfinite, grad_norms

TREE_PATHS = {"fc1", "relu", "fc2"}  # IrisMLP's own named_modules(), root excluded


def wrap(model: nn.Module, kind: str) -> nn.Module:
    # backend="eager": an OptimizedModule without needing a C compiler for inductor.
    # (With CUDA, DataParallel moves the model to cuda:0; inputs follow it below.)
    if kind == "DataParallel":
        return nn.DataParallel(model)
    if kind == "compile":
        return torch.compile(model, backend="eager")
    return nn.DataParallel(torch.compile(model, backend="eager"))


@pytest.mark.parametrize("kind", ["DataParallel", "compile", "DataParallel(compile)"])
def test_every_engine_keys_a_wrapped_model_by_the_tree_paths(kind: str) -> None:
    torch.manual_seed(0)
    model = IrisMLP()
    wrapped = wrap(model, kind)
    assert unwrap(wrapped) is model
    device = next(model.parameters()).device
    layers = {layer.path for layer in summarize(wrapped, input_size=(2, 4)).layers}
    assert layers == TREE_PATHS
    assert {o for info in collect_params(wrapped) for o in info.owners} == {"fc1", "fc2"}
    assert {n for info in collect_params(wrapped) for n in info.names} == {
        "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    wrapped(torch.randn(5, 4, device=device)).sum().backward()
    norms, bad = grad_norms(wrapped)
    assert set(norms) == {"fc1", "fc2"} and bad is None
    # By hand: the norm of fc1's two gradients together.
    expect = torch.cat([model.fc1.weight.grad.flatten(), model.fc1.bias.grad]).norm().item()
    assert norms["fc1"] == pytest.approx(expect, rel=1e-6)
    monitor = ActivationMonitor(wrapped)
    monitor.attach()
    try:
        with torch.no_grad():
            wrapped(torch.randn(5, 4, device=device))
        assert set(monitor.read()) == TREE_PATHS
    finally:
        monitor.detach()
    with torch.no_grad():
        model.fc2.bias[0] = float("nan")
    assert first_nonfinite(wrapped) == "fc2"


def test_panel_of_a_data_parallel_model_matches_its_tree() -> None:
    model = IrisMLP()
    panel = ModelPanel(nn.DataParallel(model), input_size=(2, 4))
    tree = {layer["path"] for layer in panel.summary.to_dict()["layers"]}
    assert tree == TREE_PATHS
    owners = {o for w in panel.weights for o in [w["layer"]]}
    assert owners == {"fc1", "fc2"} and owners <= tree
    panel.close()


class Aliased(nn.Module):
    """One Linear registered under two names: ``lin`` first, then as ``seq.0``."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.seq = nn.Sequential(self.lin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


def test_macs_of_an_aliased_module_land_on_its_tree_row() -> None:
    model = Aliased()
    s = summarize(model, input_size=(3, 4))
    by_path = {layer.path: layer for layer in s.layers}
    assert set(by_path) == {"lin", "seq"}  # named_modules() lists the Linear once, as "lin"
    # By hand: a Linear(4, 4) on 3 rows is 3 * 4 * 4 multiply-accumulates, run once.
    assert s.macs == 3 * 4 * 4
    assert by_path["lin"].macs == 3 * 4 * 4
    assert by_path["seq"].macs == 3 * 4 * 4
    assert walk_modules(model).canonical("seq.0") == "lin"
    assert walk_modules(model).canonical("nope") is None


class SwitchesModes(nn.Module):
    """A forward that puts its BatchNorm in train mode and bumps a buffer (both must be undone)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.bn.train()
        self.calls += 1
        self.extra = nn.Parameter(torch.ones(1))  # and registers a new parameter
        return self.bn(self.fc(x))


@pytest.mark.parametrize("how", ["summarize", "macs", "ModelPanel", "evaluate", "device=cpu"])
def test_a_forward_that_changes_the_model_is_undone_by_every_engine(how: str) -> None:
    torch.manual_seed(0)
    model = SwitchesModes().eval()
    before = snapshot_state(model)
    x = torch.randn(8, 4)
    if how == "summarize":
        summarize(model, input_data=x)
    elif how == "macs":
        summarize(model, input_data=x, macs=True)
    elif how == "ModelPanel":
        ModelPanel(model, input_data=x).close()
    elif how == "device=cpu":
        summarize(model, input_data=x, device="cpu", macs=True)
    else:
        from modelpanel.inference import predict

        predict(model, x)
    assert_state_unchanged(model, before)
    assert "extra" not in model._parameters


def test_weight_snapshot_of_a_lazy_model_before_its_first_forward() -> None:
    model = nn.Sequential(nn.LazyLinear(3), nn.ReLU())
    snap = weight_snapshot(model)
    assert [r["names"] for r in snap.records] == [["0.weight"], ["0.bias"]]
    assert all(r["mean"] is None and r["numel"] == 0 for r in snap.records)
    ModelPanel(model).close()  # was torch's raw "Can't access the shape of an uninitialized parameter"


@pytest.mark.parametrize("kind", ["DataParallel", "compile"])
def test_a_panel_of_a_temporary_wrapper_keeps_working_while_the_model_lives(kind: str) -> None:
    model = IrisMLP()
    panel = ModelPanel(wrap(model, kind), input_size=(2, 4))  # the wrapper is gone after this line
    import gc

    gc.collect()
    device = next(model.parameters()).device
    result = panel.evaluate(torch.randn(6, 4, device=device), torch.tensor([0, 1, 2, 0, 1, 2], device=device))
    assert result.n == 6
    panel.refresh()
    panel.close()


def test_a_panel_whose_model_was_built_in_the_call_says_how_to_keep_it() -> None:
    import gc

    from modelpanel.errors import ModelPanelError

    panel = ModelPanel(IrisMLP(), input_size=(1, 4))  # nothing else refers to the model
    gc.collect()
    with pytest.raises(ModelPanelError, match=r"model = IrisMLP\(\); panel = ModelPanel\(model"):
        panel.refresh()
    panel.close()


def test_wrappers_are_named_outermost_first_and_the_panel_says_so() -> None:
    """The summary is of the module inside; the header says what it was found in."""
    from modelpanel._core.walk import wrapper_kinds

    model = IrisMLP()
    assert wrapper_kinds(model) == []
    assert wrapper_kinds(nn.DataParallel(model)) == ["DataParallel"]
    compiled = torch.compile(nn.DataParallel(model))
    assert wrapper_kinds(compiled) == ["torch.compile", "DataParallel"]
    s = summarize(compiled, input_size=(1, 4), trace="real")
    assert s.model_kind == "IrisMLP" and s.wrappers == ["torch.compile", "DataParallel"]
    assert s.total_params == sum(p.numel() for p in model.parameters())
    panel = ModelPanel(nn.DataParallel(model), input_size=(1, 4))
    assert panel._summary["wrappers"] == ["DataParallel"]
    panel.close()
