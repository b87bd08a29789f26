"""EvalResult's repr (one line, no tensors) and its notebook HTML (numbers + confusion matrix).

Every number expected here is computed again from the model's own outputs and the targets
(argmax == targets, a confusion matrix counted in a Python loop, torch's loss functions), not
read from the result. The HTML is parsed back with html.parser, so what is checked is what a
browser would show, and hostile class names must come back as text.
"""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from torch import nn
from zoo import IrisMLP

from modelpanel.inference import evaluate
from modelpanel.inference.display import MAX_TABLE_CLASSES

HOSTILE_LABELS = ["<b>setosa</b>", "versi & color", "<script>alert(1)</script>"]


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


class _Tables(HTMLParser):
    """Tables as lists of rows of cell texts (th and td alike), plus every start tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(markup: str) -> _Tables:
    p = _Tables()
    p.feed(markup)
    p.close()
    return p


def outputs_of(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The model's outputs in eval mode, as the course computes them."""
    model.eval()
    with torch.no_grad():
        out = model(X)
    model.train()
    return out


def counted_confusion(y: torch.Tensor, predicted: torch.Tensor, classes: int) -> np.ndarray:
    confusion = np.zeros((classes, classes), dtype=np.int64)
    for t, p in zip(y.tolist(), predicted.tolist()):
        confusion[t, p] += 1
    return confusion


def test_classification_repr_and_html_show_the_measured_numbers() -> None:
    model = IrisMLP()
    X, y = torch.randn(90, 4), torch.randint(0, 3, (90,))
    r = evaluate(model, X, y, batch_size=32, loss_fn=nn.CrossEntropyLoss(), labels=HOSTILE_LABELS)
    logits = outputs_of(model, X)
    predicted = logits.argmax(dim=1)
    accuracy = (predicted == y).float().mean().item()
    loss = nn.CrossEntropyLoss()(logits, y).item()
    confusion = counted_confusion(y, predicted, 3)

    text = repr(r)
    assert text == (
        f"EvalResult(accuracy={accuracy:.4g}, loss={loss:.4g}, n=90, device='cpu', "
        f"seconds={r.seconds:.3g})"
    )
    assert "\n" not in text and "tensor" not in text and len(text) < 120

    page = parse(r._repr_html_())
    summary, matrix = page.tables
    assert summary == [
        ["accuracy", "loss", "samples", "device", "seconds"],
        [f"{100 * accuracy:.2f}%", f"{loss:.4g}", "90", "cpu", f"{r.seconds:.3g}"],
    ]
    assert matrix[0] == ["true \\ predicted", *HOSTILE_LABELS]
    assert [row[0] for row in matrix[1:]] == HOSTILE_LABELS
    assert [[int(v) for v in row[1:]] for row in matrix[1:]] == confusion.tolist()
    # The labels came back as text: none of their tags became elements.
    assert {"b", "script"}.isdisjoint(page.tags)
    assert "<script>" not in r._repr_html_()


def test_metric_replaces_accuracy_and_there_is_no_confusion_matrix() -> None:
    model = nn.Linear(4, 1)
    X, y = torch.randn(50, 4), torch.randn(50, 1)

    def mean_squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return ((outputs - targets) ** 2).mean()

    r = evaluate(model, X, y, metric=mean_squared_error, batch_size=16)
    expected = nn.functional.mse_loss(outputs_of(model, X), y).item()

    assert repr(r) == (
        f"EvalResult(metric_name='mean_squared_error', metric={expected:.4g}, n=50, "
        f"device='cpu', seconds={r.seconds:.3g})"
    )
    page = parse(r._repr_html_())
    assert page.tables == [
        [
            ["mean_squared_error", "samples", "device", "seconds"],
            [f"{expected:.4g}", "50", "cpu", f"{r.seconds:.3g}"],
        ]
    ]


def test_without_targets_says_so() -> None:
    model = IrisMLP()
    X = torch.randn(20, 4)
    r = evaluate(model, X, _require_targets=False)  # the panel's path for data without labels
    assert repr(r) == f"EvalResult(accuracy=None, n=20, device='cpu', seconds={r.seconds:.3g})"
    page = parse(r._repr_html_())
    assert page.tables[0][1][0] == "—"
    assert len(page.tables) == 1
    assert "No targets" in "".join(page.text)


def test_many_classes_are_not_written_out_as_a_table() -> None:
    classes = MAX_TABLE_CLASSES + 10
    model = nn.Linear(4, classes)
    X, y = torch.randn(200, 4), torch.randint(0, classes, (200,))
    r = evaluate(model, X, y)
    predicted = outputs_of(model, X).argmax(dim=1)
    assert np.array_equal(r.confusion, counted_confusion(y, predicted, classes))
    page = parse(r._repr_html_())
    assert len(page.tables) == 1  # the numbers only
    assert f"{classes}×{classes}" in "".join(page.text)
    assert repr(r).startswith(
        f"EvalResult(accuracy={(predicted == y).float().mean().item():.4g}, n=200,"
    )
