"""summarize()'s errors name the problem and the fix, and leave the model exactly as it was."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo import IrisMLP, SmallCNN, assert_state_unchanged, gpt2_tiny, snapshot_state

from modelpanel.errors import DeviceError, ForwardError, InputError
from modelpanel.inference import evaluate
from modelpanel.summary import summarize


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("resnet18", "builtins.str"),
        (IrisMLP, "IrisMLP(...)"),
        (lambda x: x, "function"),
        (torch.randn(2), "torch.Tensor"),
    ],
)
def test_non_module_gets_type_error_saying_what_was_passed(value: object, named: str) -> None:
    with pytest.raises(TypeError, match="needs a torch.nn.Module") as info:
        summarize(value)  # type: ignore[arg-type]
    assert named in str(info.value)


class Broken(nn.Module):
    """fc2 expects 12 features but gets 10: the failure is inside block.fc2."""

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential()
        self.block.add_module("fc1", nn.Linear(4, 10))
        self.block.add_module("bn", nn.BatchNorm1d(10))
        self.block.add_module("fc2", nn.Linear(12, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


def test_forward_error_names_the_innermost_module_and_its_input_shapes() -> None:
    model = Broken()
    model.train()
    before = snapshot_state(model)
    with pytest.raises(ForwardError) as info:
        summarize(model, input_size=(2, 4))
    err = info.value
    assert err.module_path == "block.fc2"
    assert "'block.fc2' (Linear)" in str(err) and "[[2, 10]]" in str(err)
    assert isinstance(err.__cause__, RuntimeError) and "mat1 and mat2" in str(err.__cause__)
    assert isinstance(err, RuntimeError)  # ForwardError is a RuntimeError for old handlers
    assert_state_unchanged(model, before)  # hooks gone, modes back, BN stats untouched


class RaisesInRoot(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, *, scale: torch.Tensor) -> torch.Tensor:
        raise KeyError(f"no scale for {tuple(x.shape)}")


def test_forward_error_in_the_root_shows_keyword_shapes() -> None:
    model = RaisesInRoot()
    with pytest.raises(ForwardError) as info:
        summarize(model, input_data={"x": torch.zeros(3, 4), "scale": torch.ones(1)})
    assert info.value.module_path == ""
    assert "the root module (RaisesInRoot)" in str(info.value)
    assert "{'x': [3, 4], 'scale': [1]}" in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)


def test_embedding_fed_floats_suggests_integer_dtypes() -> None:
    model = gpt2_tiny()
    with pytest.raises(ForwardError, match=r"dtypes=\[torch.long\]") as info:
        summarize(model, input_size=(1, 8))
    assert info.value.module_path == "wte"
    s = summarize(model, input_size=(1, 8), dtypes=[torch.long])
    assert s.layers[0].output_shape == [1, 8, 64]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_size": "1x4"}, "not a shape or a list of shapes"),
        ({"input_size": [(1, 4), "x"]}, "not a shape or a list of shapes"),
        ({"input_size": (1, -4)}, "negative dimension"),
        ({"input_data": 3.0}, "input_data of type float is not accepted"),
        ({"input_data": {1: torch.zeros(1, 4)}}, "must be str"),
        ({"input_size": (1, 4), "input_data": torch.zeros(1, 4)}, "not both"),
        ({"input_size": [(1, 4)], "dtypes": [torch.float, torch.long]}, "one per shape"),
        ({"input_size": (1, 4), "dtypes": "float32"}, "not a torch.dtype"),
        ({"dtypes": [torch.long]}, "input_size"),
    ],
)
def test_wrong_input_forms_get_input_error_listing_accepted_forms(kwargs: dict, match: str) -> None:
    model = IrisMLP()
    before = snapshot_state(model)
    with pytest.raises(InputError, match=match) as info:
        summarize(model, **kwargs)
    if "not accepted" in match or "list of shapes" in match:
        assert "input_data={'name': tensor" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert_state_unchanged(model, before)


@pytest.mark.parametrize(
    ("device", "why"),
    [
        ("gpu0", "is not a device torch knows"),
        ("cuda", "no usable CUDA GPU"),
        ("cuda:7", "no usable CUDA GPU"),
        ("xpu", "no XPU"),  # was a bare AssertionError from torch
        ("mps", "no Apple MPS"),
        (3, "device 3 "),  # an int is a CUDA index; without an accelerator torch knows none
        (1.5, "must be a string"),
    ],
)
def test_devices_unknown_or_unavailable_get_the_same_device_error_as_evaluate(device, why) -> None:
    if torch.cuda.is_available() and ("CUDA" in why or device == 3):
        pytest.skip("this machine has CUDA")
    model = IrisMLP()
    before = snapshot_state(model)
    with pytest.raises(DeviceError, match=why) as from_summary:
        summarize(model, input_size=(1, 4), device=device)
    with pytest.raises(DeviceError) as from_evaluate:
        evaluate(model, torch.randn(3, 4), torch.zeros(3, dtype=torch.long), device=device)
    # One parser, one wording, and both list what is available.
    assert str(from_summary.value) == str(from_evaluate.value)
    assert "available" in str(from_summary.value) and "cpu" in str(from_summary.value)
    assert_state_unchanged(model, before)


def test_device_cpu_is_accepted() -> None:
    s = summarize(IrisMLP(), input_size=(1, 4), device="cpu")
    assert s.devices == ["cpu"]


def test_model_is_never_moved_to_or_from_the_meta_device() -> None:
    model = SmallCNN()
    before = snapshot_state(model)
    with pytest.raises(DeviceError, match="meta"):
        summarize(model, input_size=(1, 1, 28, 28), device="meta")
    assert_state_unchanged(model, before)


def test_a_model_spanning_devices_is_never_moved() -> None:
    model = IrisMLP()
    model.fc2.to("meta")  # the only second device a CPU machine has
    with pytest.raises(DeviceError, match="spans several devices"):
        summarize(model, input_size=(1, 4), device="cpu")
    s = summarize(model)
    assert s.devices == ["cpu", "meta"] and s.total_params == 83


def test_grad_mode_and_user_hooks_survive() -> None:
    model = IrisMLP()
    seen = []
    model.fc1.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    model.fc2.register_forward_pre_hook(lambda m, a, k: None, with_kwargs=True)
    before = snapshot_state(model)
    with torch.enable_grad():
        summarize(model, input_size=(2, 4))
        assert torch.is_grad_enabled()
    with torch.no_grad():
        summarize(model, input_size=(2, 4), macs=True)
        assert not torch.is_grad_enabled()
    assert_state_unchanged(model, before)
    assert seen == [torch.Size([2, 10])] * 3  # the user's hook ran on every pass
    model(torch.randn(1, 4)).sum().backward()  # and the model still trains
    assert model.fc1.weight.grad is not None


class _SilentFailure(nn.Module):
    """Raises an exception with no message (a bare ``raise KeyError()`` in user code)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise KeyError()


def test_message_less_exception_is_named_without_a_dangling_colon() -> None:
    model = nn.Sequential(nn.Linear(4, 4), _SilentFailure())
    with pytest.raises(ForwardError) as info:
        summarize(model, input_size=(1, 4))
    assert str(info.value).startswith("forward failed in module '1' (_SilentFailure)")
    assert str(info.value).endswith(": KeyError")


@pytest.mark.parametrize("gc_on", [True, False])
def test_the_garbage_collector_setting_is_restored_after_success_and_failure(gc_on: bool) -> None:
    import gc

    was = gc.isenabled()
    try:
        gc.enable() if gc_on else gc.disable()
        summarize(IrisMLP(), input_size=(1, 4))
        assert gc.isenabled() is gc_on
        with pytest.raises(ForwardError):
            summarize(IrisMLP(), input_size=(1, 5))
        assert gc.isenabled() is gc_on
    finally:
        gc.enable() if was else gc.disable()


@pytest.mark.parametrize(
    ("model", "size", "expects"),
    [(IrisMLP(), (1, 5), "expects 4 features in the last dimension"),
     (SmallCNN(), (1, 3, 28, 28), "expects 1 channels in dimension 1")],
)
def test_a_wrong_input_shape_says_what_the_layer_expects(model: nn.Module, size: tuple, expects: str) -> None:
    # The expected sizes read from the model itself: IrisMLP.fc1.in_features, SmallCNN's first conv.
    first = next(m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
    assert str(getattr(first, "in_features", getattr(first, "in_channels", None))) in expects
    before = snapshot_state(model)
    with pytest.raises(ForwardError, match=expects):
        summarize(model, input_size=size)
    assert_state_unchanged(model, before)
