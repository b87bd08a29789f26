"""evaluate leaves the model as it was, after success and after every kind of failure.

"As it was": every module's train/eval flag (a mixed model stays mixed), the grad mode, the
device and identity of every parameter and buffer, and the state_dict values (BatchNorm
running statistics included). Errors are checked for what they tell the user.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo import IrisMLP, SmallCNN

from modelpanel._core.restore import ModelState
from modelpanel._core.walk import walk_modules
from modelpanel.errors import DeviceError, ForwardError, InputError, ModelPanelError
from modelpanel.inference import evaluate, predict


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def fingerprint(model: nn.Module) -> dict:
    """Everything evaluate promises not to change, in comparable form."""
    return {
        "modes": [(name, m.training) for name, m in model.named_modules()],
        "grad": torch.is_grad_enabled(),
        "ids": [(n, id(t)) for n, t in [*model.named_parameters(), *model.named_buffers()]],
        "devices": [str(t.device) for t in model.state_dict().values()],
        "state": {k: v.clone() for k, v in model.state_dict().items()},
    }


def assert_unchanged(model: nn.Module, before: dict) -> None:
    after = fingerprint(model)
    assert after["modes"] == before["modes"]
    assert after["grad"] == before["grad"]
    assert after["ids"] == before["ids"]
    assert after["devices"] == before["devices"]
    for k, v in before["state"].items():
        assert torch.equal(after["state"][k], v), k
    for t in [*model.parameters(), *model.buffers()]:
        assert not t.is_inference()


def mixed_cnn() -> SmallCNN:
    """Train mode overall, but the classifier's Dropout already in eval mode: must stay mixed."""
    model = SmallCNN(in_channels=1, image_size=8, num_classes=4)
    with torch.no_grad():
        model(torch.randn(8, 1, 8, 8))  # move the BatchNorm statistics off their defaults
    model.classifier[1].eval()
    return model


def test_success_leaves_model_unchanged() -> None:
    model = mixed_cnn()
    before = fingerprint(model)
    r = evaluate(model, torch.randn(40, 1, 8, 8), torch.randint(0, 4, (40,)), batch_size=16)
    assert r.n == 40
    assert_unchanged(model, before)


@pytest.mark.parametrize("grad", [True, False])
def test_grad_mode_is_restored(grad: bool) -> None:
    model = IrisMLP()
    with torch.set_grad_enabled(grad):
        evaluate(model, torch.randn(5, 4), torch.zeros(5, dtype=torch.long))
        assert torch.is_grad_enabled() is grad


def test_forward_that_touches_buffers_is_undone() -> None:
    class Stateful(nn.Module):
        """Counts calls in a buffer (in place) and re-assigns another one, even in eval mode."""

        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 3)
            self.bn = nn.BatchNorm1d(3)
            self.register_buffer("calls", torch.zeros((), dtype=torch.long))
            self.register_buffer("last_mean", torch.zeros(()))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.calls += 1
            self.last_mean = x.mean()
            self.bn.train()  # a forward that forces train mode: BatchNorm stats would move
            return self.bn(self.lin(x))

    model = Stateful()
    before = fingerprint(model)
    evaluate(model, torch.randn(30, 4), torch.randint(0, 3, (30,)), batch_size=10)
    assert_unchanged(model, before)
    # The model still trains afterwards: no inference tensor was left behind in its buffers.
    model(torch.randn(6, 4)).sum().backward()


def test_moved_model_comes_back_by_reference() -> None:
    # No second device here, so move to "meta" the way evaluate moves to a GPU, then restore:
    # the original storage must come back (same parameter objects, same values, no copy).
    model = mixed_cnn()
    model(torch.randn(2, 1, 8, 8)).sum().backward()  # gradients move with the model too
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    before = fingerprint(model)
    snap = ModelState.take(walk_modules(model), clone_buffers=False, track_storage=True)
    model.to("meta")
    model.eval()
    assert next(model.parameters()).device.type == "meta"
    snap.restore()
    assert_unchanged(model, before)
    for n, p in model.named_parameters():
        assert p.grad.device.type == "cpu" and torch.equal(p.grad, grads[n])


def test_model_spread_over_devices_is_not_moved() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 3))
    model[0].to("meta")  # first layer elsewhere: a split model, inputs go to its first device
    before = [str(p.device) for p in model.parameters()]
    with pytest.raises(DeviceError, match=r"spread over meta, cpu.*device=None"):
        evaluate(model, torch.randn(5, 4), torch.zeros(5, dtype=torch.long), device="cpu")
    assert [str(p.device) for p in model.parameters()] == before


def count_forwards(model: nn.Module) -> list[int]:
    calls = [0]
    model.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        (torch.zeros(9, dtype=torch.long), "targets has 9 entries but the data has 10 samples"),
        ("abc", "targets must be a torch.Tensor, a numpy array, or a list of numbers or of rows of numbers, not str"),
        (torch.rand(10), "fractional values, so they are not class indices"),
        (torch.eye(3)[torch.zeros(10, dtype=torch.long)], "look one-hot.*argmax"),
        (torch.full((10,), -1), "negative class index -1"),
    ],
)
def test_bad_targets_are_reported_before_any_work(targets, message: str) -> None:
    model = mixed_cnn()
    calls = count_forwards(model)
    before = fingerprint(model)
    with pytest.raises(InputError, match=message):
        evaluate(model, torch.randn(10, 1, 8, 8), targets)
    assert calls[0] == 0
    assert_unchanged(model, before)


def test_unknown_device_lists_the_available_ones() -> None:
    model = mixed_cnn()
    before = fingerprint(model)
    with pytest.raises(DeviceError, match=r"'tpu'.*available in this kernel are: cpu"):
        evaluate(model, torch.randn(4, 1, 8, 8), torch.zeros(4, dtype=torch.long), device="tpu")
    assert_unchanged(model, before)


def test_shape_error_names_expected_and_received_shapes() -> None:
    model = mixed_cnn()
    before = fingerprint(model)
    with pytest.raises(InputError, match=r"shape \[4, 3, 8, 8\] but the model expects \[N, 1, H, W\]"):
        evaluate(model, torch.randn(4, 3, 8, 8), torch.zeros(4, dtype=torch.long))
    assert_unchanged(model, before)
    # With the summary's input shape (what the panel passes), that one is named.
    iris = IrisMLP()
    with pytest.raises(InputError, match=r"shape \[7, 5\] but the model expects \[N, 4\].*\[1, 4\]"):
        predict(iris, torch.randn(7, 5), expected_shape=[1, 4])


def test_forward_error_names_the_module_and_restores() -> None:
    class Broken(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("custom layer failed")

    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), Broken())
    model.train()
    before = fingerprint(model)
    with pytest.raises(ForwardError, match=r"in module '2' \(Broken\).*custom layer failed") as info:
        evaluate(model, torch.randn(8, 4), torch.zeros(8, dtype=torch.long))
    assert info.value.module_path == "2"
    assert isinstance(info.value.__cause__, RuntimeError)
    assert_unchanged(model, before)


def test_out_of_memory_suggests_a_smaller_batch() -> None:
    class RunsOutOfMemory(nn.Module):
        """Fails like a GPU would on its third batch (torch's own OutOfMemoryError)."""

        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 3)
            self.seen = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.seen += 1
            if self.seen == 3:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return self.lin(x)

    model = RunsOutOfMemory()
    before = fingerprint(model)
    with pytest.raises(ModelPanelError, match=r"out of memory.*batches of 64.*batch_size=32"):
        evaluate(model, torch.randn(300, 4), torch.zeros(300, dtype=torch.long), batch_size=64)
    assert_unchanged(model, before)


def test_targets_beyond_the_output_classes() -> None:
    model = IrisMLP()
    before = fingerprint(model)
    with pytest.raises(InputError, match=r"class index 7 but the model outputs scores for 3 classes"):
        evaluate(model, torch.randn(10, 4), torch.tensor([0, 1, 2, 7, 0, 1, 2, 0, 1, 2]))
    assert_unchanged(model, before)


def test_interrupt_restores_too() -> None:
    class Interrupted(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise KeyboardInterrupt

    model = Interrupted()
    model.train()
    before = fingerprint(model)
    with pytest.raises(KeyboardInterrupt):
        evaluate(model, torch.randn(4, 4), torch.zeros(4, dtype=torch.long))
    assert_unchanged(model, before)


def test_non_module_and_bad_batch_size() -> None:
    with pytest.raises(InputError, match="must be a torch.nn.Module"):
        evaluate(lambda x: x, torch.randn(2, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(InputError, match="batch_size must be a positive int"):
        evaluate(IrisMLP(), torch.randn(2, 4), torch.zeros(2, dtype=torch.long), batch_size=0)
    with pytest.raises(InputError, match="evaluate needs targets"):
        evaluate(IrisMLP(), torch.randn(2, 4))
