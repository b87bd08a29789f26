"""evaluate / predict: results agree with the course's hand-written eval loop, every input form.

Real models from tests/zoo.py, seeded data, no mocks. Restoration and errors are in
test_inference_restore.py.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm
from zoo import IrisMLP, SmallCNN

from modelpanel import inference
from modelpanel._core.devices import available_devices, parse_device
from modelpanel.errors import DeviceError, InputError
from modelpanel.inference import evaluate, predict
from modelpanel.panel.inference import eval_state
from modelpanel.panel.wire import wire_to_array


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def trained_cnn() -> SmallCNN:
    """A SmallCNN whose BatchNorm statistics have moved (a few train-mode forwards)."""
    model = SmallCNN(in_channels=1, image_size=8, num_classes=4)
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(16, 1, 8, 8) * 2 + 0.5)
    return model


def course_loop(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int):
    """The course's evaluation cell, batched: eval(), no_grad, torch.max, sum().item()."""
    model.eval()
    preds, probs = [], []
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            outputs = model(X[i : i + batch_size])
            _, predicted = torch.max(outputs, 1)
            preds.append(predicted)
            probs.append(torch.softmax(outputs, dim=1))
    model.train()
    predicted = torch.cat(preds)
    accuracy = (predicted == y).sum().item() / len(y)
    c = probs[0].shape[1]
    confusion = np.zeros((c, c), dtype=np.int64)
    for t, p in zip(y.tolist(), predicted.tolist()):
        confusion[t, p] += 1
    return accuracy, predicted, torch.cat(probs), confusion


def test_agrees_exactly_with_the_course_loop() -> None:
    model = trained_cnn()
    X = torch.randn(200, 1, 8, 8)
    y = torch.randint(0, 4, (200,))
    r = evaluate(model, X, y, batch_size=64)
    accuracy, predicted, probs, confusion = course_loop(model, X, y, 64)
    assert r.accuracy == accuracy
    assert torch.equal(r.predictions, predicted)
    assert np.array_equal(r.confusion, confusion)
    assert torch.equal(r.probabilities, probs)
    assert r.n == 200 and r.device == "cpu" and r.mode == "inference_mode"
    assert r.samples_per_s > 0 and r.seconds > 0


def test_train_mode_would_differ_so_eval_mode_is_really_used() -> None:
    # Guards the test above: with Dropout and BatchNorm, a train-mode forward gives other outputs.
    model = trained_cnn()
    X = torch.randn(64, 1, 8, 8)
    with torch.no_grad():
        train_out = model(X.clone())
    r = evaluate(model, X, torch.zeros(64, dtype=torch.long))
    assert not torch.allclose(torch.softmax(train_out, 1), r.probabilities)


def test_per_class_topk_and_loss() -> None:
    model = IrisMLP()
    X = torch.randn(90, 4)
    y = torch.randint(0, 3, (90,))
    r = evaluate(model, X, y, batch_size=32, loss_fn=nn.CrossEntropyLoss(), topk=2, labels=["a", "b", "c"])
    with torch.no_grad():
        logits = model(X)
    assert r.loss == pytest.approx(nn.CrossEntropyLoss()(logits, y).item(), rel=1e-6)
    conf = r.confusion
    for i, row in enumerate(r.per_class):
        assert row["label"] == "abc"[i]
        assert row["support"] == int((y == i).sum())
        assert row["recall"] == pytest.approx(conf[i, i] / conf[i].sum())
        predicted = conf[:, i].sum()
        assert row["precision"] == (pytest.approx(conf[i, i] / predicted) if predicted else None)
    top2 = logits.topk(2, dim=1).indices
    assert torch.equal(r.topk["indices"], top2)
    assert r.topk["k"] == 2
    assert r.topk["accuracy"] == pytest.approx((top2 == y[:, None]).any(1).float().mean().item())
    assert r.topk["accuracy"] >= r.accuracy
    # k larger than the number of classes is clamped: every target is then in the "top k".
    assert evaluate(model, X, y, topk=10).topk["accuracy"] == 1.0


def test_class_never_predicted_has_undefined_precision() -> None:
    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.copy_(torch.tensor([1.0, 0.0, 0.0]))  # always predicts class 0
    r = evaluate(model, torch.randn(6, 2), torch.tensor([0, 1, 2, 0, 1, 2]))
    assert r.per_class[1]["precision"] is None
    assert r.per_class[1]["recall"] == 0.0
    assert r.per_class[0]["recall"] == 1.0


def test_dataset_dataloader_pair_and_numpy_inputs_agree() -> None:
    model = IrisMLP()
    X = torch.randn(70, 4)
    y = torch.randint(0, 3, (70,))
    ref = evaluate(model, X, y, batch_size=16)
    from_pair = evaluate(model, (X, y), batch_size=16)
    from_dataset = evaluate(model, TensorDataset(X, y), batch_size=16)
    from_loader = evaluate(model, DataLoader(TensorDataset(X, y), batch_size=16))
    # numpy float64 features (what pandas/sklearn give) are cast to the model's float32.
    from_numpy = evaluate(model, X.double().numpy(), y.numpy(), batch_size=16)
    for r in (from_pair, from_dataset, from_loader, from_numpy):
        assert r.accuracy == ref.accuracy
        assert torch.equal(r.predictions, ref.predictions)
        assert np.array_equal(r.confusion, ref.confusion)


def test_binary_logits_use_sigmoid() -> None:
    model = nn.Linear(3, 1)
    X = torch.randn(40, 3)
    y = torch.randint(0, 2, (40,))
    r = evaluate(model, X, y, loss_fn=nn.BCEWithLogitsLoss())
    with torch.no_grad():
        logits = model(X).squeeze(1)
    assert torch.equal(r.predictions, (logits > 0).long())
    assert r.accuracy == ((logits > 0).long() == y).sum().item() / 40
    assert r.confusion.shape == (2, 2)
    assert r.loss == pytest.approx(nn.BCEWithLogitsLoss()(logits, y.float()).item(), rel=1e-6)


def test_custom_metric_replaces_accuracy() -> None:
    model = nn.Linear(3, 1)
    X = torch.randn(50, 3)
    y = torch.randn(50, 1)

    def mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return ((outputs - targets) ** 2).mean()

    r = evaluate(model, X, y, metric=mse, batch_size=8)
    with torch.no_grad():
        expected = mse(model(X), y).item()
    assert r.accuracy is None and r.metric_name == "mse"
    assert r.metric == pytest.approx(expected, rel=1e-6)
    assert r.predictions.shape == (50, 1)


def test_predict_returns_an_ordinary_tensor() -> None:
    model = IrisMLP()
    X = torch.randn(33, 4)
    out = predict(model, X, batch_size=10)
    with torch.no_grad():
        assert torch.allclose(out, model(X), atol=1e-6)
    # Not an inference tensor: the user can modify it and use it in autograd.
    assert not out.is_inference()
    out.add_(1)
    out.requires_grad_()


def test_no_grad_fallback_when_inference_mode_cannot_serve() -> None:
    class InputGradient(nn.Module):
        """Classifies by the gradient of an energy w.r.t. the input: needs autograd in forward."""

        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.enable_grad():
                x = x.detach().requires_grad_()
                energy = self.lin(x).pow(2).sum()
                (g,) = torch.autograd.grad(energy, x)
            return g

    model = InputGradient()
    X = torch.randn(20, 3)
    y = torch.randint(0, 3, (20,))
    r = evaluate(model, X, y, batch_size=8)
    assert r.mode == "no_grad"
    model.eval()
    with torch.no_grad():
        expected = model(X).argmax(1)
    assert torch.equal(r.predictions, expected)
    assert torch.is_grad_enabled()  # grad mode back on as it was


def test_progress_bar_only_for_long_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    bars: list[tqdm] = []

    def factory(**kw):
        bars.append(tqdm(file=io.StringIO(), **kw))
        return bars[-1]

    model = IrisMLP()
    X, y = torch.randn(50, 4), torch.randint(0, 3, (50,))
    evaluate(model, X, y, batch_size=10, progress=factory)
    assert bars == []  # a fast run shows no bar
    monkeypatch.setattr(inference, "PROGRESS_AFTER_S", -1.0)
    evaluate(model, X, y, batch_size=10, progress=factory)
    assert len(bars) == 1 and bars[0].total == 5 and bars[0].n == 5


def test_to_dict_is_json_and_the_trait_sends_the_confusion_as_a_buffer() -> None:
    model = IrisMLP()
    r = evaluate(model, torch.randn(30, 4), torch.randint(0, 3, (30,)), labels=["s", "ve", "vi"])
    d = r.to_dict()
    json.dumps(d)  # plain JSON, the confusion matrix as rows
    assert np.array_equal(np.array(d["confusion"]), r.confusion)
    conf = eval_state(r)["confusion"]
    assert conf["dtype"] == "int32" and conf["shape"] == [3, 3]
    assert np.array_equal(wire_to_array(conf), r.confusion)
    assert d["classes"] == ["s", "ve", "vi"] and d["n"] == 30
    assert [row["label"] for row in d["per_class"]] == ["s", "ve", "vi"]


def test_device_parsing_and_listing() -> None:
    assert available_devices()[0] == "cpu"
    assert parse_device("cpu") == torch.device("cpu")
    assert parse_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(DeviceError, match=r"'gpu'.*available in this kernel are: cpu"):
        parse_device("gpu")
    with pytest.raises(DeviceError, match="string like 'cpu'"):
        parse_device(1.5)  # type: ignore[arg-type]
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match=r"'cuda:1' is not available.*: cpu"):
            parse_device("cuda:1")


def test_amp_on_cpu_runs_in_bfloat16_and_mostly_agrees() -> None:
    model = trained_cnn()
    X = torch.randn(128, 1, 8, 8)
    y = torch.randint(0, 4, (128,))
    full = evaluate(model, X, y)
    half = evaluate(model, X, y, amp=True)
    assert half.probabilities.dtype == torch.float32  # reported in float32 whatever ran
    assert (half.predictions == full.predictions).float().mean() > 0.9
    assert not torch.equal(half.probabilities, full.probabilities)  # bf16 really ran


def test_predict_on_a_dataset_without_targets() -> None:
    model = IrisMLP()
    X = torch.randn(21, 4)
    out = predict(model, TensorDataset(X), batch_size=8)  # items are (x,) tuples
    with torch.no_grad():
        assert torch.allclose(out, model(X), atol=1e-6)


def test_rows_of_numbers_are_accepted_and_ragged_ones_explained() -> None:
    model = IrisMLP()
    rows = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3]]
    result = evaluate(model, rows, [0, 1])
    with torch.no_grad():
        expected = model(torch.tensor(rows)).argmax(1)
    assert result.predictions.tolist() == expected.tolist()
    with pytest.raises(InputError, match="rows of numbers of one length"):
        evaluate(model, [[1.0, 2.0], [3.0]], [0, 1])
