"""Small teaching data sets that need no download: Fisher's Iris table and generated shapes.

Both return a :class:`Dataset` of float32 features and int64 labels, ready for ``nn.Module``
training on CPU in seconds::

    from modelpanel.datasets import load_iris, make_shapes

    iris = load_iris()                               # 150 rows, 4 features, 3 classes
    train, test = iris.split(test_fraction=0.2, seed=42)
    train, test = train.standardized(like=train), test.standardized(like=train)

    shapes = make_shapes(n_per_class=200, seed=0)    # [800, 1, 16, 16] images, 4 classes

The Iris table (``data/iris.csv``) is the one from Fisher (1936) as R and scikit-learn ship it
(the UCI copy has two wrong values): 50 rows per species, column sums 876.5, 458.6, 563.7, 179.9.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
import torch

from .errors import InputError

__all__ = ["Dataset", "load_iris", "make_shapes", "SHAPE_NAMES"]

IRIS_FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
IRIS_SPECIES = ("setosa", "versicolor", "virginica")
SHAPE_NAMES = ("circle", "square", "triangle", "cross")


@dataclass(frozen=True)
class Dataset:
    """Features ``X`` (float32) and class labels ``y`` (int64), with their names.

    ``X`` is ``[n, features]`` for tables and ``[n, channels, height, width]`` for images.
    """

    X: torch.Tensor
    y: torch.Tensor
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:
        return (
            f"Dataset(n={len(self)}, X={tuple(self.X.shape)}, "
            f"classes={list(self.target_names)})"
        )

    def class_counts(self) -> dict[str, int]:
        """Rows per class, by class name: ``{"setosa": 50, ...}``."""
        counts = torch.bincount(self.y, minlength=len(self.target_names)).tolist()
        return dict(zip(self.target_names, counts))

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Return ``(train, test)``, stratified: each class keeps its share in both parts.

        The same ``seed`` gives the same split on every machine (a numpy Generator, not the
        global torch RNG, so it does not disturb the caller's seeding).
        """
        if not 0.0 < test_fraction < 1.0:
            raise InputError(
                f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction!r}; "
                "for example split(test_fraction=0.2)"
            )
        rng = np.random.default_rng(seed)
        labels = self.y.numpy()
        test_idx: list[np.ndarray] = []
        train_idx: list[np.ndarray] = []
        for c in range(len(self.target_names)):
            idx = np.flatnonzero(labels == c)
            rng.shuffle(idx)
            n_test = int(round(len(idx) * test_fraction))
            test_idx.append(idx[:n_test])
            train_idx.append(idx[n_test:])
        # Shuffle across classes too, so a loader without shuffle still sees mixed batches.
        tr = rng.permutation(np.concatenate(train_idx))
        te = rng.permutation(np.concatenate(test_idx))
        return self._take(tr), self._take(te)

    def standardized(self, like: Dataset | None = None) -> Dataset:
        """Features scaled to zero mean, unit variance per feature, with ``like``'s statistics.

        Pass the training set as ``like`` for both parts, so no test information leaks into
        the scaling (what scikit-learn's ``StandardScaler`` fitted on train does).
        """
        ref = (like or self).X
        dims = [0] + list(range(2, ref.dim()))  # per feature / per channel
        mean = ref.mean(dim=dims, keepdim=True)
        std = ref.std(dim=dims, unbiased=False, keepdim=True).clamp_min(1e-12)
        return Dataset((self.X - mean) / std, self.y, self.feature_names, self.target_names)

    def loader(self, batch_size: int = 16, shuffle: bool = True, seed: int = 0):
        """A ``torch.utils.data.DataLoader`` over ``(X, y)``; shuffling seeded by ``seed``."""
        from torch.utils.data import DataLoader, TensorDataset

        gen = torch.Generator().manual_seed(seed)
        return DataLoader(
            TensorDataset(self.X, self.y), batch_size=batch_size, shuffle=shuffle, generator=gen
        )

    def _take(self, idx: np.ndarray) -> Dataset:
        t = torch.as_tensor(idx, dtype=torch.long)
        return Dataset(self.X[t], self.y[t], self.feature_names, self.target_names)


def load_iris() -> Dataset:
    """Fisher's Iris data: 150 flowers, 4 measurements in cm, 3 species (50 each).

    Read from the copy shipped inside the package; nothing is downloaded.

    >>> iris = load_iris()
    >>> iris.X.shape, iris.class_counts()["setosa"]
    (torch.Size([150, 4]), 50)
    """
    text = resources.files("modelpanel").joinpath("data/iris.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if tuple(header[:4]) != IRIS_FEATURES:
        raise RuntimeError(f"modelpanel's iris.csv has an unexpected header {header}; reinstall")
    features, labels = [], []
    for row in reader:
        features.append([float(v) for v in row[:4]])
        labels.append(IRIS_SPECIES.index(row[4]))
    return Dataset(
        torch.tensor(features, dtype=torch.float32),
        torch.tensor(labels, dtype=torch.int64),
        IRIS_FEATURES,
        IRIS_SPECIES,
    )


def _draw(kind: int, size: int, cx: float, cy: float, r: float, yy, xx) -> np.ndarray:
    """One filled shape as a boolean mask on a ``size``×``size`` grid."""
    dx, dy = xx - cx, yy - cy
    if kind == 0:  # circle
        return dx * dx + dy * dy <= r * r
    if kind == 1:  # square (axis-aligned, side 1.6 r so its area is close to the circle's)
        h = 0.8 * r
        return (np.abs(dx) <= h) & (np.abs(dy) <= h)
    if kind == 2:  # triangle pointing up: below two slanted edges, above the base
        return (dy <= 0.7 * r) & (dy >= -r + 2.0 * np.abs(dx))
    # cross: two bars of width ~0.5 r
    w = max(0.3 * r, 0.75)
    return ((np.abs(dx) <= w) & (np.abs(dy) <= r)) | ((np.abs(dy) <= w) & (np.abs(dx) <= r))


def make_shapes(
    n_per_class: int = 200, size: int = 16, noise: float = 0.15, seed: int = 0
) -> Dataset:
    """Generated grey-scale images of four shapes (circle, square, triangle, cross).

    Each image is ``[1, size, size]`` float32 in about [0, 1]: one filled shape at a random
    position and scale, random brightness, plus Gaussian pixel noise. Deterministic for a
    given ``seed``; no download, no files. Small enough for a CNN to learn on CPU in seconds,
    noisy enough that it does not reach 100 % at once.

    >>> ds = make_shapes(n_per_class=10, seed=0)
    >>> ds.X.shape, ds.target_names
    (torch.Size([40, 1, 16, 16]), ('circle', 'square', 'triangle', 'cross'))
    """
    if n_per_class < 1:
        raise InputError(f"n_per_class must be at least 1, got {n_per_class!r}")
    if size < 8:
        raise InputError(f"size must be at least 8 pixels so the shapes are recognisable, got {size!r}")
    if noise < 0:
        raise InputError(f"noise is a standard deviation and must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    n = n_per_class * len(SHAPE_NAMES)
    labels = np.repeat(np.arange(len(SHAPE_NAMES)), n_per_class)
    rng.shuffle(labels)
    images = np.empty((n, 1, size, size), dtype=np.float32)
    for i, kind in enumerate(labels):
        r = rng.uniform(0.22, 0.38) * size
        cx = rng.uniform(r, size - 1 - r)
        cy = rng.uniform(r, size - 1 - r)
        mask = _draw(int(kind), size, cx, cy, r, yy, xx)
        brightness = rng.uniform(0.6, 1.0)
        images[i, 0] = mask * brightness + rng.normal(0.0, noise, (size, size))
    return Dataset(
        torch.from_numpy(images),
        torch.from_numpy(labels.astype(np.int64)),
        ("pixel",),
        SHAPE_NAMES,
    )
