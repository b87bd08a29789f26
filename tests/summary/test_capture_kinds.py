"""Modules the capture sees differently from a plain forward, and the input it makes (issue 11).

Kinds: TorchScript parts (scripted root, scripted and traced submodules); models nested as
deep as their own forward allows; user hooks that replace a module's output; branches only a
training model takes (``mode=``); the example input (private RNG, the model's dtype) and the
hint when an input has the wrong dtype. Expected values come from running the models
ourselves (plain forwards, torch's own RNG), or by hand from the shapes.
"""

from __future__ import annotations

import inspect
import json
import sys

import pytest
import torch
from panel_state import layers as decoded_layers
from torch import nn
from zoo import AuxHeadNet, IrisMLP, assert_state_unchanged, nested_sequential, snapshot_state

from modelpanel import ModelPanel, summarize
from modelpanel._core.walk import walk_modules
from modelpanel.errors import ForwardError, InputError
from modelpanel.summary import IN_TORCHSCRIPT, NEVER_CALLED, NOT_CALLED_IN_EVAL

# torch 2.13 deprecates TorchScript; models people bring still use it.
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")

# -- TorchScript -------------------------------------------------------------------------------


class WithScriptedParts(nn.Module):
    """a: eager Linear(2, 4); b: scripted Sequential(Linear(4, 5)); c: traced Sequential(Linear(5, 6), ReLU)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 4)
        self.b = torch.jit.script(nn.Sequential(nn.Linear(4, 5)))
        self.c = torch.jit.trace(nn.Sequential(nn.Linear(5, 6), nn.ReLU()), torch.randn(1, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(self.b(self.a(x)))


def no_shadowed_flags(model: nn.Module) -> bool:
    # A ``training`` in a script module's __dict__ would hide the flag its C++ code reads.
    return all("training" not in m.__dict__ for m in model.modules() if isinstance(m, torch.jit.ScriptModule))


def test_a_scripted_root_reads_as_its_classes_and_as_run_inside_torchscript() -> None:
    eager = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model = torch.jit.script(eager)
    before = snapshot_state(model)
    s = summarize(model, input_size=(1, 2))
    assert_state_unchanged(model, before)
    assert no_shadowed_flags(model)
    assert s.model_kind == type(eager).__name__ == "Sequential"
    assert [layer.kind for layer in s.layers] == [type(c).__name__ for c in eager.children()]
    assert [layer.status for layer in s.layers] == [IN_TORCHSCRIPT] * 2
    assert s.output_shape == list(model(torch.randn(1, 2)).shape) == [1, 3]
    assert s.macs == 1 * 2 * 3  # by hand: one Linear(2, 3) on one row; counted inside TorchScript
    assert [layer.macs for layer in s.layers] == [None, None]  # not attributable: unknown, not 0
    text = str(s)
    assert "inside TorchScript: not traced" in text and "RecursiveScriptModule" not in text


def test_scripted_and_traced_submodules_keep_their_outer_shapes_and_macs() -> None:
    torch.manual_seed(0)
    model = WithScriptedParts()
    s = summarize(model, input_size=(3, 2))
    rows = {layer.path: layer for layer in s.layers}
    assert {p: rows[p].kind for p in rows} == {
        "a": "Linear", "b": "Sequential", "b.0": "Linear", "c": "Sequential", "c.0": "Linear", "c.1": "ReLU"}
    x = torch.randn(3, 2)
    assert rows["b"].output_shape == list(model.b(model.a(x)).shape) == [3, 5]
    assert rows["c"].input_shape == [[3, 5]] and rows["c"].output_shape == [3, 6]
    assert (rows["b"].calls, rows["c"].calls, rows["b"].status, rows["c"].status) == (1, 1, "", "")
    assert {p for p in rows if rows[p].status == IN_TORCHSCRIPT} == {"b.0", "c.0", "c.1"}
    # By hand, rows × in × out per Linear: 3·2·4 + 3·4·5 + 3·5·6 = 24 + 60 + 90.
    assert s.macs == 174
    assert (rows["a"].macs, rows["b"].macs, rows["c"].macs) == (24, 60, 90)
    # The scripted outputs count as activations (no hook sees inside): 3·(4 + 5 + 6) floats.
    assert s.activation_bytes == 4 * 3 * (4 + 5 + 6)


@pytest.mark.parametrize("mode", ["eval", "train", "same"])
def test_a_scripted_model_in_train_mode_is_put_back_in_every_mode(mode: str) -> None:
    model = torch.jit.script(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))).train()
    before = snapshot_state(model)
    rng = torch.get_rng_state()
    s = summarize(model, input_size=(4, 4), mode=mode)
    assert_state_unchanged(model, before)  # BatchNorm statistics included
    assert torch.equal(torch.get_rng_state(), rng)  # Dropout's masks drawn in train mode
    assert no_shadowed_flags(model)
    assert model.training and all(m.training for m in model.modules())
    assert s.output_shape == [4, 4]


# -- depth ---------------------------------------------------------------------------------------


class Wrap(nn.Module):
    """A custom module around one child, with its own forward (not a Sequential's loop)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) + 0


def nested_custom(depth: int) -> nn.Module:
    model: nn.Module = nn.Linear(2, 2)
    for _ in range(depth):
        model = Wrap(model)
    return model


def deepest_plain_forward(make) -> int:  # noqa: ANN001
    """The most levels of ``make(depth)`` a bare forward runs from here (bisected)."""

    def runs(depth: int) -> bool:
        try:
            with torch.no_grad():
                make(depth)(torch.randn(1, 2))
        except RecursionError:
            return False
        return True

    lo, hi = 1, sys.getrecursionlimit()
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if runs(mid) else (lo, mid - 1)
    return lo


@pytest.mark.parametrize(("make", "name"), [(nested_sequential, "0"), (nested_custom, "inner")])
def test_a_model_nested_as_deep_as_its_forward_allows_is_summarised_and_shown(make, name: str) -> None:  # noqa: ANN001
    depth = deepest_plain_forward(make) - 2  # a little under the most a plain forward manages
    limit = sys.getrecursionlimit()
    model = make(depth)
    s = summarize(model, input_size=(1, 2), macs=True)
    assert sys.getrecursionlimit() == limit
    assert len(s.layers) == depth  # depth wrappers (the root is one, without a row) and the Linear
    assert s.layers[-1].path == ".".join([name] * depth) and s.layers[-1].output_shape == [1, 2]
    assert s.macs == 2 * 2  # by hand: one Linear(2, 2) on one row
    assert "Total MACs: 4" in str(s)
    json.dumps(s.to_dict())
    panel = ModelPanel(model, input_size=(1, 2))
    assert decoded_layers(panel._summary)[-1]["output_shape"] == [1, 2]
    panel.close()


def test_the_walk_has_no_depth_limit_of_its_own() -> None:
    depth = 3 * sys.getrecursionlimit()  # far deeper than any recursion could go
    tree = walk_modules(nested_sequential(depth))
    assert len(tree.modules) == depth + 1 and tree.depths[-1] == depth
    assert tree.modules[-1][0] == ".".join(["0"] * depth) and isinstance(tree.modules[-1][1], nn.Linear)


class Endless(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)


def test_a_forward_that_recurses_without_end_still_fails_and_says_how_to_fix_a_deep_one() -> None:
    limit = sys.getrecursionlimit()
    with pytest.raises(ForwardError, match=r"sys\.setrecursionlimit") as info:
        summarize(Endless(), input_size=(1, 2))
    assert isinstance(info.value.__cause__, RecursionError)
    assert sys.getrecursionlimit() == limit


# -- user hooks that replace outputs ----------------------------------------------------------------


def received_by(module: nn.Module, model: nn.Module, x: torch.Tensor) -> list[int]:
    """The input shape ``module`` receives in a plain forward of ``model`` (its own pre-hook)."""
    seen: list[list[int]] = []
    handle = module.register_forward_pre_hook(lambda m, args: seen.append(list(args[0].shape)))
    with torch.no_grad():
        model(x)
    handle.remove()
    return seen[0]


def test_a_users_hook_that_replaces_an_output_shows_what_the_next_layer_receives() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(4, 3))
    calls = []

    def regroup(module: nn.Module, args: tuple, out: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return out.reshape(out.shape[0], 2, 4)

    model[0].register_forward_hook(regroup)
    model[0].register_forward_hook(lambda m, a, out: out * 2, prepend=True)  # runs first, keeps the shape
    model.register_forward_hook(lambda m, a, out: out.sum(-1))  # the root's own output replaced too
    x = torch.randn(5, 4)
    expected = received_by(model[1], model, x)
    calls.clear()
    before = snapshot_state(model)
    s = summarize(model, input_size=(5, 4))
    assert_state_unchanged(model, before)  # our extra hooks are gone, the user's are kept
    assert calls == [1]  # the user's hook ran once, as in a plain forward
    assert s.layers[0].output_shape == expected == [5, 2, 4]
    assert s.layers[1].input_shape == [expected]
    assert s.output_shape == list(model(x).shape) == [5, 2]


def test_a_users_global_hook_that_replaces_outputs_is_seen_too() -> None:
    model = IrisMLP()
    handle = nn.modules.module.register_module_forward_hook(
        lambda m, a, out: out[:, :2] if m is model.fc1 else None)
    try:
        x = torch.randn(1, 4)
        model.fc2 = nn.Linear(2, 3)
        expected = received_by(model.relu, model, x)
        s = summarize(model, input_size=(1, 4))
    finally:
        handle.remove()
    assert s.layers[0].output_shape == expected == [1, 2]


# -- train-only branches: mode= -------------------------------------------------------------------


def test_a_train_only_branch_reads_as_not_called_in_eval_mode_and_runs_with_mode_train() -> None:
    torch.manual_seed(0)
    model = AuxHeadNet().train()
    model.body[3].eval()  # a mixed model: its flags must come back mixed
    before = snapshot_state(model)
    with torch.no_grad():
        logits, aux = AuxHeadNet().train()(torch.randn(2, 8))  # what train mode returns
    rng = torch.get_rng_state()

    s = summarize(model, input_size=(2, 8))
    rows = {layer.path: layer for layer in s.layers}
    assert s.mode == "eval" and rows["aux_logits"].calls == 0
    assert rows["aux_logits"].status == rows["aux_logits.0"].status == NOT_CALLED_IN_EVAL
    assert rows["head"].status == "" and s.output_shape == [2, 3]

    s = summarize(model, input_size=(2, 8), mode="train")
    rows = {layer.path: layer for layer in s.layers}
    assert s.mode == "train" and rows["aux_logits"].calls == 1 and rows["aux_logits"].status == ""
    assert rows["aux_logits"].output_shape == list(aux.shape) == [2, 3]
    assert s.output_shape == [list(logits.shape), list(aux.shape)]
    assert_state_unchanged(model, before)  # BatchNorm running stats, num_batches_tracked, flags
    assert torch.equal(torch.get_rng_state(), rng)  # Dropout drew its masks; the RNG is back

    model.eval()
    s = summarize(model, input_size=(2, 8), mode="same")
    assert s.mode == "same" and {layer.path: layer.status for layer in s.layers}["aux_logits"] == NEVER_CALLED
    assert s.to_dict()["mode"] == "same" and s.to_dict()["layers"][-1]["status"] == NEVER_CALLED


def test_a_module_that_ran_has_no_status_and_without_input_nothing_has_one() -> None:
    model = nn.ModuleDict({"used": nn.ModuleList([nn.Linear(2, 2)]), "spare": nn.Linear(2, 2)})
    model.forward = lambda x: model["used"][0](x)  # type: ignore[method-assign]
    rows = {layer.path: layer.status for layer in summarize(model, input_size=(1, 2)).layers}
    assert rows == {"used": "", "used.0": "", "spare": NOT_CALLED_IN_EVAL}  # a ModuleList whose child ran
    assert {layer.status for layer in summarize(model).layers} == {""}


def test_mode_is_checked_and_passed_on_by_the_panel() -> None:
    with pytest.raises(InputError, match=r"mode='training'.*'eval'.*'train'.*'same'"):
        summarize(IrisMLP(), input_size=(1, 4), mode="training")
    assert inspect.signature(ModelPanel).parameters["mode"].default == "eval"
    assert "mode:" in (ModelPanel.__doc__ or "")
    model = AuxHeadNet()
    panel = ModelPanel(model, input_size=(2, 8), mode="train")
    assert panel.summary.mode == "train" and panel._summary["mode"] == "train"
    rows = {layer["path"]: layer for layer in decoded_layers(panel._summary)}
    assert rows["aux_logits"]["calls"] == 1 and rows["aux_logits"]["status"] == ""
    panel.close()
    panel = ModelPanel(model, input_size=(2, 8))
    assert {r["path"]: r["status"] for r in decoded_layers(panel._summary)}["aux_logits"] == NOT_CALLED_IN_EVAL
    panel.close()


# -- the example input -----------------------------------------------------------------------------


class Recorder(nn.Module):
    """Keeps what it was called with; returns it."""

    def __init__(self, param: torch.Tensor | None = None) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []
        if param is not None:
            self.p = nn.Parameter(param)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return x


def test_the_example_input_leaves_the_global_rng_alone_and_is_the_same_every_time() -> None:
    model, recorder = IrisMLP(), Recorder()
    torch.manual_seed(1234)
    expected_next = torch.randn(5)
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    summarize(model, input_size=(2, 4))
    summarize(recorder, input_size=(2, 4))
    ModelPanel(model, input_size=(2, 4)).close()
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(torch.randn(5), expected_next)
    summarize(recorder, input_size=(2, 4))
    assert torch.equal(recorder.seen[0], recorder.seen[1])  # reproducible
    assert recorder.seen[0].std() > 0  # and random: drawn, not zeros


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16, torch.complex64])
def test_the_example_input_takes_the_dtype_of_the_models_parameters(dtype: torch.dtype) -> None:
    recorder = Recorder(torch.zeros(3, dtype=dtype))
    summarize(recorder, input_size=(2, 3))
    assert recorder.seen[0].dtype == dtype
    model = nn.Linear(3, 2, dtype=dtype)
    assert summarize(model, input_size=(2, 3)).output_shape == list(model(torch.zeros(2, 3, dtype=dtype)).shape)


@pytest.mark.parametrize(
    ("model", "x"),
    [
        (nn.Linear(2, 3).double(), torch.randn(1, 2)),  # mat1 and mat2 must have the same dtype
        (nn.Conv2d(1, 1, 3).double(), torch.randn(1, 1, 5, 5)),  # Input type ... should be the same
        (nn.LayerNorm(2).double(), torch.randn(1, 2)),  # mixed dtype (CPU)
        (nn.LSTM(2, 3).double(), torch.randn(1, 1, 2)),  # RNN input dtype ... does not match
        (nn.Linear(2, 3, dtype=torch.complex64), torch.randn(1, 2)),
    ],
    ids=["linear", "conv", "layernorm", "lstm", "complex"],
)
def test_an_input_of_the_wrong_dtype_gets_the_dtypes_hint(model: nn.Module, x: torch.Tensor) -> None:
    want = next(model.parameters()).dtype
    with pytest.raises(ForwardError, match=rf"dtypes=\[{want}\]"):
        summarize(model, input_data=x)


def test_the_dtypes_hint_names_integer_indices_and_stays_off_other_errors() -> None:
    class Lookup(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = nn.Parameter(torch.randn(10, 3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return nn.functional.embedding(x, self.table)  # no nn.Embedding to recognise

    with pytest.raises(ForwardError, match=r"dtypes=\[torch.long\]"):
        summarize(Lookup(), input_size=(1, 4))
    with pytest.raises(ForwardError) as info:
        summarize(nn.Linear(3, 2), input_size=(1, 4))  # a shape error, not a dtype one
    assert "dtypes=" not in str(info.value)


def test_a_batch_of_one_in_train_mode_gets_the_batchnorm_hint() -> None:
    model = AuxHeadNet()
    before = snapshot_state(model)
    with pytest.raises(ForwardError, match=r"batch of 2 or more.*mode='eval'"):
        summarize(model, input_size=(1, 8), mode="train")
    assert_state_unchanged(model, before)


# -- on a GPU ------------------------------------------------------------------------------------


@pytest.mark.cuda
def test_on_cuda_the_input_comes_from_a_private_cuda_generator_and_every_rng_is_kept() -> None:
    recorder = Recorder(torch.zeros(3, device="cuda"))
    model = AuxHeadNet().cuda().train()
    before = snapshot_state(model)
    on_cpu = AuxHeadNet()  # built before the RNG is read: its initialisation draws from it
    torch.manual_seed(7)
    cpu, cuda = torch.get_rng_state(), torch.cuda.get_rng_state()
    summarize(recorder, input_size=(2, 3))
    summarize(model, input_size=(4, 8), mode="train")  # Dropout masks from the CUDA generator
    summarize(on_cpu, input_size=(4, 8), device="cuda")  # moved for the pass
    assert torch.equal(torch.get_rng_state(), cpu) and torch.equal(torch.cuda.get_rng_state(), cuda)
    assert_state_unchanged(model, before)
    own = torch.Generator(device="cuda").manual_seed(0)
    assert torch.equal(recorder.seen[0], torch.randn(2, 3, device="cuda", generator=own))


@pytest.mark.cuda
def test_on_cuda_a_scripted_model_is_summarised_and_put_back() -> None:
    model = torch.jit.script(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5))).cuda().train()
    before = snapshot_state(model)
    s = summarize(model, input_size=(4, 4), mode="train")
    assert_state_unchanged(model, before)
    assert no_shadowed_flags(model) and model.training
    assert s.output_shape == [4, 8] and [layer.status for layer in s.layers] == [IN_TORCHSCRIPT] * 3
    assert s.macs == 4 * 4 * 8  # by hand: Linear(4, 8) on 4 rows; BatchNorm has no FLOP formula
