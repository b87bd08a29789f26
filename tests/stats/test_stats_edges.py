"""Statistics edge cases: bin estimation on adversarial float ranges, one-thread stepping.

Split from test_stats.py (file length); the numpy reference is shared via stats_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stats_reference import gen, numpy_reference

import modelpanel.stats.binning as binning
from modelpanel.stats import bin_edges, tensor_histograms, weight_snapshot


@pytest.mark.parametrize("bins", [1, 3, 64, 1000, 70_000])
def test_estimated_bins_equal_numpy_on_adversarial_ranges(bins: int) -> None:
    # The bins come from (x - lo) * bins / (hi - lo) corrected by one against the exact
    # edges (searchsorted above 2**16 bins): check ranges where float32 arithmetic is tight.
    g = np.random.default_rng(9)
    base = np.float32(1.7e-3)
    cases = [
        base + np.float32(np.spacing(base)) * g.integers(0, 5, 500).astype(np.float32),
        (g.integers(-40, 40, 500) * np.float32(1.4e-45)).astype(np.float32),  # subnormals
        g.uniform(-3.4e38, 3.4e38, 500).astype(np.float32),  # width overflows float32
        np.concatenate([bin_edges(-1.3, 2.9, bins).astype(np.float32), [2.9, -1.3]]),
        np.array([0.1, 0.1, np.nan, np.inf], dtype=np.float32),
    ]
    for dtype in (torch.float32, torch.float64, torch.float16):
        # float16 turns the huge range into +/-inf only: nothing left to bin there.
        kept = [c for i, c in enumerate(cases) if not (dtype == torch.float16 and i == 2)]
        tensors = [torch.from_numpy(c).to(dtype) for c in kept]
        _, counts, _, _ = tensor_histograms(tensors, bins=bins, sample_size=None)
        for row, t in enumerate(tensors):
            _, ref = numpy_reference(t.to(torch.float64).numpy(), bins)
            np.testing.assert_array_equal(counts[row], ref, err_msg=f"{dtype} case {row}")


def test_one_thread_works_by_steps_with_the_same_results(monkeypatch) -> None:
    g = gen(10)
    tensors = [torch.randn(5000, generator=g), torch.randn(3, 700, generator=g) * 4]
    tensors[0][[1, 4000]] = float("nan")
    default = tensor_histograms(tensors, bins=16, sample_size=None)
    threads = torch.get_num_threads()
    monkeypatch.setattr(binning, "_CPU_CHUNK_VALUES", 333)  # many uneven steps
    torch.set_num_threads(1)
    try:
        stepped = tensor_histograms(tensors, bins=16, sample_size=None)
    finally:
        torch.set_num_threads(threads)
    # Sums go step by step (float64 between steps): mean/std may move in the last bits.
    np.testing.assert_allclose(stepped[0][:, :2], default[0][:, :2], rtol=1e-6)
    for a, b in zip((default[0][:, 2:], *default[1:]), (stepped[0][:, 2:], *stepped[1:])):
        np.testing.assert_array_equal(a, b)
    _, ref = numpy_reference(tensors[0].numpy(), 16)
    np.testing.assert_array_equal(stepped[1][0], ref)


def test_statistics_without_histograms_for_some_tensors() -> None:
    from zoo import linear_stack

    from modelpanel.stats.histograms import tensor_histograms

    torch.manual_seed(0)
    model = linear_stack(5)  # 10 tensors
    full = weight_snapshot(model)
    part = weight_snapshot(model, histograms=3)
    assert part.binned.tolist() == [True] * 3 + [False] * 7 and full.binned.all()
    np.testing.assert_array_equal(part.stats, full.stats)  # statistics of every tensor
    np.testing.assert_array_equal(part.ranges, full.ranges)
    np.testing.assert_array_equal(part.counts[:3], full.counts[:3])
    assert not part.counts[3:].any()
    # The same through tensor_histograms, on tensors of several lengths and a NaN.
    tensors = [torch.randn(7), torch.randn(3, 3), torch.tensor([1.0, float("nan"), 2.0])]
    a = tensor_histograms(tensors, bins=8)
    b = tensor_histograms(tensors, bins=8, binned=[False, True, False])
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert not b[1][0].any() and not b[1][2].any()
