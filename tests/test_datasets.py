"""The shipped Iris table and the generated shapes: right numbers, deterministic, clear errors."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
import torch

from modelpanel.datasets import SHAPE_NAMES, Dataset, load_iris, make_shapes
from modelpanel.errors import InputError


def test_iris_is_fishers_table():
    iris = load_iris()
    assert iris.X.shape == (150, 4) and iris.X.dtype == torch.float32
    assert iris.y.dtype == torch.int64
    assert iris.class_counts() == {"setosa": 50, "versicolor": 50, "virginica": 50}
    # Column sums of Fisher's table as R ships it (UCI's copy has two wrong rows, 35 and 38).
    sums = iris.X.double().sum(0)
    assert torch.allclose(sums, torch.tensor([876.5, 458.6, 563.7, 179.9], dtype=torch.float64), atol=1e-3)
    # Well-known rows: the first flower, and the two rows where Fisher's and UCI's copies differ.
    assert iris.X[0].tolist() == pytest.approx([5.1, 3.5, 1.4, 0.2])
    assert iris.X[34].tolist() == pytest.approx([4.9, 3.1, 1.5, 0.2])
    assert iris.X[37].tolist() == pytest.approx([4.9, 3.6, 1.4, 0.1])
    assert iris.X[149].tolist() == pytest.approx([5.9, 3.0, 5.1, 1.8])
    # The species are in blocks of 50, in the table's order.
    assert iris.y.tolist() == [0] * 50 + [1] * 50 + [2] * 50


def test_iris_file_is_plain_csv_with_header():
    text = resources.files("modelpanel").joinpath("data/iris.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm", "species"]
    assert len(rows) == 151


def test_split_is_stratified_deterministic_and_disjoint():
    iris = load_iris()
    train, test = iris.split(test_fraction=0.2, seed=42)
    assert len(train) == 120 and len(test) == 30
    assert test.class_counts() == {"setosa": 10, "versicolor": 10, "virginica": 10}
    again_train, again_test = iris.split(test_fraction=0.2, seed=42)
    assert torch.equal(test.X, again_test.X) and torch.equal(train.y, again_train.y)
    other_train, other_test = iris.split(test_fraction=0.2, seed=7)
    assert not torch.equal(test.X, other_test.X)
    # Together the parts hold every row exactly once.
    rows = {tuple(r) + (int(c),) for r, c in zip(torch.cat([train.X, test.X]).tolist(),
                                                  torch.cat([train.y, test.y]).tolist())}
    assert len(torch.cat([train.X, test.X])) == 150
    assert len(rows) == len({tuple(r) + (int(c),) for r, c in zip(iris.X.tolist(), iris.y.tolist())})
    # Mixed classes: a loader without shuffle must not see 40 setosas in a row.
    assert len(set(train.y[:20].tolist())) == 3


def test_split_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load_iris().split(seed=1)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5])
def test_split_rejects_bad_fraction(bad):
    with pytest.raises(InputError, match="test_fraction"):
        load_iris().split(test_fraction=bad)


def test_standardized_uses_the_reference_statistics():
    train, test = load_iris().split(seed=0)
    scaled_train = train.standardized(like=train)
    scaled_test = test.standardized(like=train)
    assert torch.allclose(scaled_train.X.mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(scaled_train.X.std(0, unbiased=False), torch.ones(4), atol=1e-5)
    mean, std = train.X.mean(0), train.X.std(0, unbiased=False)
    assert torch.allclose(scaled_test.X, (test.X - mean) / std, atol=1e-6)
    # The test set's own statistics were not used: its mean is not exactly zero.
    assert scaled_test.X.mean(0).abs().max() > 1e-3
    assert torch.equal(scaled_test.y, test.y)


def test_loader_is_seeded():
    train, _ = load_iris().split(seed=0)
    first = [yb.tolist() for _, yb in train.loader(batch_size=16, seed=3)]
    second = [yb.tolist() for _, yb in train.loader(batch_size=16, seed=3)]
    assert first == second and sum(len(b) for b in first) == 120


def test_shapes_are_deterministic_and_balanced():
    a = make_shapes(n_per_class=30, size=16, seed=5)
    b = make_shapes(n_per_class=30, size=16, seed=5)
    c = make_shapes(n_per_class=30, size=16, seed=6)
    assert isinstance(a, Dataset)
    assert a.X.shape == (120, 1, 16, 16) and a.X.dtype == torch.float32
    assert a.target_names == SHAPE_NAMES
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y)
    assert not torch.equal(a.X, c.X)
    assert a.class_counts() == {name: 30 for name in SHAPE_NAMES}


def test_shapes_differ_by_class_and_are_learnable():
    """Each class has its own silhouette: a nearest-template classifier beats chance by far.

    Templates are class means of the training half; shapes vary in position, so this simple
    rule is well below what a CNN reaches, but far above the 25 % of guessing.
    """
    data = make_shapes(n_per_class=150, size=16, noise=0.0, seed=0)
    train, test = data.split(test_fraction=0.5, seed=0)
    flat = train.X.flatten(1)
    templates = torch.stack([flat[train.y == k].mean(0) for k in range(4)])
    pred = torch.cdist(test.X.flatten(1), templates).argmin(1)
    assert (pred == test.y).float().mean() > 0.45
    # Noise is what it says: the noiseless images hold only shape pixels and background 0.
    assert data.X.min() == 0 and data.X.max() <= 1.0
    noisy = make_shapes(n_per_class=150, size=16, noise=0.15, seed=0)
    assert (noisy.X - data.X).std() == pytest.approx(0.15, rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_per_class": 0}, "n_per_class"), ({"size": 4}, "size"), ({"noise": -1.0}, "noise")],
)
def test_shapes_reject_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        make_shapes(**kwargs)
