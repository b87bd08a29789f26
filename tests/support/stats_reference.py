"""Shared by the statistics tests: a seeded generator and numpy's answer to compare with."""

from __future__ import annotations

import numpy as np
import torch

from modelpanel.stats import bin_edges

BINS = 64


def gen(seed: int = 0) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (every random tensor in these tests is seeded)."""
    return torch.Generator().manual_seed(seed)


def numpy_reference(values: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std, min, max) over finite values (numpy defaults: std ddof=0) and counts."""
    v = values.astype(np.float64).ravel()
    fin = v[np.isfinite(v)]
    stats = np.array([fin.mean(), fin.std(), fin.min(), fin.max()])
    counts, _ = np.histogram(fin, bins=bin_edges(fin.min(), fin.max(), bins))
    return stats, counts
