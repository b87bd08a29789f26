"""stats.py / _stats_kernels.py against numpy on the same data, with real torch models."""

from __future__ import annotations

import doctest
import gc
import weakref

import numpy as np
import pytest
import torch
from stats_reference import BINS, gen, numpy_reference
from torch import nn
from zoo import IrisMLP, gpt2_small, gpt2_tiny

import modelpanel.stats as stats_module
import modelpanel.stats.histograms as kernels
from modelpanel.errors import InputError
from modelpanel.stats import (
    STAT_COLUMNS,
    WeightSnapshot,
    bin_edges,
    collect_params,
    tensor_histograms,
    weight_snapshot,
)


@pytest.mark.parametrize("shape", [(7,), (10, 4), (300, 200), (3, 5, 7, 11)])
def test_exact_counts_and_stats_equal_numpy(shape: tuple[int, ...]) -> None:
    t = torch.randn(shape, generator=gen(1)) * 3 + 0.5
    stats, counts, ranges, sampled = tensor_histograms([t], bins=BINS, sample_size=None)
    ref_stats, ref_counts = numpy_reference(t.numpy())
    np.testing.assert_array_equal(counts[0], ref_counts)
    np.testing.assert_allclose(stats[0, :4], ref_stats, rtol=1e-6, atol=1e-9)
    assert ranges[0].tolist() == [ref_stats[2], ref_stats[3]]
    assert stats[0, 4:].tolist() == [0, 0] and not sampled[0]
    assert counts.dtype == np.uint32 and counts[0].sum() == t.numel()


def test_std_is_population_std_not_variance_nor_unbiased() -> None:
    t = torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0])
    std = tensor_histograms([t], bins=4)[0][0, 1]
    assert std == pytest.approx(np.std(t.numpy()))  # ddof=0: 3.1623
    assert std != pytest.approx(t.std().item())  # torch's unbiased default: 3.5355
    assert std != pytest.approx(np.var(t.numpy()))  # never a variance: 10.0
    one = tensor_histograms([torch.tensor([5.0])], bins=4)[0]
    assert one[0, :2].tolist() == [5.0, 0.0]  # defined for one element (ddof=1 gives NaN)


def test_values_on_edges_follow_numpy_including_closed_last_bin() -> None:
    # 0, 0.25, ..., 1 all lie exactly on edges of 4 bins over [0, 1].
    t = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.5])
    _, counts, ranges, _ = tensor_histograms([t], bins=4)
    ref, _ = np.histogram(t.numpy().astype(np.float64), bins=bin_edges(0.0, 1.0, 4))
    assert counts[0].tolist() == ref.tolist() == [1, 1, 2, 3]
    assert ranges[0].tolist() == [0.0, 1.0]


def test_nan_and_inf_are_counted_apart_and_kept_out_of_bins() -> None:
    values = torch.randn(1000, generator=gen(2))
    values[[3, 50, 700]] = float("nan")
    values[[10, 11]] = float("inf")
    values[999] = float("-inf")
    stats, counts, ranges, _ = tensor_histograms([values], sample_size=None)
    ref_stats, ref_counts = numpy_reference(values.numpy())
    assert stats[0, 4:].tolist() == [3, 3]
    np.testing.assert_allclose(stats[0, :4], ref_stats, rtol=1e-6)
    np.testing.assert_array_equal(counts[0], ref_counts)
    assert counts[0].sum() == 994 and np.isfinite(ranges[0]).all()


def test_all_nonfinite_and_empty_tensors_give_no_statistics() -> None:
    bad = torch.tensor([float("nan"), float("inf"), float("nan")])
    empty = torch.empty(0, 5)
    stats, counts, ranges, sampled = tensor_histograms([bad, empty, torch.ones(2)], bins=8)
    assert np.isnan(stats[:2, :4]).all()
    assert stats[0, 4:].tolist() == [2, 1] and stats[1, 4:].tolist() == [0, 0]
    assert counts[:2].sum() == 0 and ranges[:2].tolist() == [[0, 0], [0, 0]]
    assert stats[2, :4].tolist() == [1, 0, 1, 1] and not sampled.any()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_and_double_precision_match_numpy_on_the_same_values(dtype: torch.dtype) -> None:
    t = (torch.randn(4096, generator=gen(3)) * 0.02).to(dtype)
    t[7] = float("nan")
    stats, counts, _, _ = tensor_histograms([t], sample_size=None)
    ref_stats, ref_counts = numpy_reference(t.to(torch.float64).numpy())
    np.testing.assert_allclose(stats[0, :4], ref_stats, rtol=1e-5)
    np.testing.assert_array_equal(counts[0], ref_counts)
    assert stats[0, 4] == 1


def test_constant_tensor_goes_to_one_bin_with_lo_equal_hi() -> None:
    ln = nn.LayerNorm(768)  # weight: all ones, bias: all zeros, as at init
    snap = weight_snapshot(ln)
    for row, value in ((0, 1.0), (1, 0.0)):
        rec = snap.records[row]
        assert (rec["mean"], rec["std"], rec["min"], rec["max"]) == (value, 0.0, value, value)
        assert snap.ranges[row].tolist() == [value, value]
        assert snap.counts[row, -1] == 768 and snap.counts[row].sum() == 768


def test_narrow_float32_range_where_numpy_histogram_raises() -> None:
    base = np.float32(1.0)
    values = np.nextafter(np.full(20, base), np.float32(2.0)).astype(np.float32)
    values[:10] = base  # two neighbouring float32 values: a range of one ulp
    with pytest.raises(ValueError, match="Too many bins"):
        np.histogram(values, bins=BINS)
    stats, counts, ranges, _ = tensor_histograms([torch.from_numpy(values)])
    assert ranges[0, 0] < ranges[0, 1] and counts[0].sum() == 20
    assert counts[0, 0] == 10 and counts[0, -1] == 10
    ref, _ = np.histogram(values.astype(np.float64), bins=bin_edges(*ranges[0], BINS))
    np.testing.assert_array_equal(counts[0], ref)


def test_noncontiguous_and_integer_tensors() -> None:
    t = torch.randn(50, 30, generator=gen(4)).t()
    ints = torch.arange(-5, 6)
    stats, counts, _, _ = tensor_histograms([t, ints], bins=16)
    for row, values in enumerate((t.numpy(), ints.numpy())):
        ref_stats, ref_counts = numpy_reference(values, 16)
        np.testing.assert_allclose(stats[row, :4], ref_stats, rtol=1e-6, atol=1e-12)
        np.testing.assert_array_equal(counts[row], ref_counts)


def test_sampling_keeps_total_variation_under_one_percent_and_min_max_exact() -> None:
    t = torch.randn(4_000_000, generator=gen(5))
    exact = tensor_histograms([t], sample_size=None)
    sampled = tensor_histograms([t], sample_size=65536)
    assert sampled[3].tolist() == [True] and exact[3].tolist() == [False]
    # Same range (exact min/max), so the bins are the same and the histograms comparable.
    np.testing.assert_array_equal(sampled[2], exact[2])
    np.testing.assert_array_equal(sampled[0][0, 2:], exact[0][0, 2:])
    p = exact[1][0] / exact[1][0].sum()
    q = sampled[1][0] / sampled[1][0].sum()
    tv = 0.5 * np.abs(p - q).sum()
    assert tv < 0.01, tv
    assert sampled[1][0].sum() == 65536
    # The sampled histogram is exactly numpy's on the documented strided sample.
    sample = t.numpy()[:: t.numel() // 65536][:65536].astype(np.float64)
    ref, _ = np.histogram(sample, bins=bin_edges(*sampled[2][0], BINS))
    np.testing.assert_array_equal(sampled[1][0], ref)
    np.testing.assert_allclose(sampled[0][0, :2], [sample.mean(), sample.std()], rtol=1e-6)


def test_nan_outside_the_sample_is_still_counted_exactly() -> None:
    t = torch.randn(200_000, generator=gen(6))
    stride = t.numel() // 1000
    t[stride * 10 + 1] = float("nan")  # not on the stride: the sample cannot see it
    t[5 * stride + 3] = float("-inf")
    stats, counts, ranges, sampled = tensor_histograms([t, torch.randn(5000)], sample_size=1000)
    assert stats[0, 4:].tolist() == [1, 1]
    assert not sampled[0] and sampled[1]  # recomputed exactly; the clean one stays sampled
    ref_stats, ref_counts = numpy_reference(t.numpy())
    np.testing.assert_allclose(stats[0, :4], ref_stats, rtol=1e-6)
    np.testing.assert_array_equal(counts[0], ref_counts)


def test_batches_give_the_same_rows_as_one_tensor_at_a_time(monkeypatch) -> None:
    g = gen(7)
    tensors = [torch.randn(n, generator=g) * (i + 1) for i, n in enumerate([300] * 5 + [70, 300])]
    tensors += [torch.randn(20_000, generator=g) for _ in range(3)]
    together = tensor_histograms(tensors, bins=32, sample_size=5000)
    monkeypatch.setattr(kernels, "_BATCH_VALUES", 1)  # every tensor in its own batch
    alone = tensor_histograms(tensors, bins=32, sample_size=5000)
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a, b)
    assert together[3].tolist() == [False] * 7 + [True] * 3


def test_collect_params_ties_names_owners_order_and_trainable() -> None:
    model = gpt2_tiny()
    model.wpe.weight.requires_grad_(False)
    infos = collect_params(model)
    seen: list[int] = []
    for _, p in model.named_parameters(remove_duplicate=False):
        if id(p) not in seen:
            seen.append(id(p))
    assert [id(i.tensor) for i in infos] == seen
    tied = infos[0]
    assert tied.names == ["wte.weight", "lm_head.weight"] and tied.owners == ["wte", "lm_head"]
    assert sum(i.numel for i in infos) == sum(p.numel() for p in model.parameters())
    frozen = [i for i in infos if not i.trainable]
    assert [i.names for i in frozen] == [["wpe.weight"]]
    assert infos[1].shape == (64, 64) and infos[1].dtype == "float32" and infos[1].device == "cpu"


def test_collect_params_shared_module_and_root_parameter() -> None:
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(()))
            self.a = nn.Linear(2, 2)
            self.b = self.a  # the same module under two names

    infos = collect_params(Shared())
    assert [i.names for i in infos] == [["scale"], ["a.weight", "b.weight"], ["a.bias", "b.bias"]]
    # One module is one row of the tree, at its first path: "b" is an alias, not an owner.
    assert [i.owners for i in infos] == [[""], ["a"], ["a"]]


def test_weight_snapshot_records_follow_the_contract() -> None:
    torch.manual_seed(0)
    model = IrisMLP()
    model.fc2.bias.requires_grad_(False)
    snap = weight_snapshot(model, bins=16)
    assert isinstance(snap, WeightSnapshot) and snap.counts.shape == (4, 16)
    keys = "id names owners shape numel dtype device trainable mean std min max nan inf sampled nbytes note"
    for i, (rec, (name, p)) in enumerate(zip(snap.records, model.named_parameters())):
        assert list(rec) == keys.split()
        assert rec["id"] == i and rec["names"] == [name] and rec["shape"] == list(p.shape)
        assert rec["trainable"] == p.requires_grad and rec["sampled"] is False
        assert rec["nbytes"] == p.numel() * 4 and rec["note"] == ""  # float32, plain
        values = p.detach().numpy().astype(np.float64)
        assert rec["std"] == pytest.approx(values.std(), rel=1e-6)
        assert (rec["min"], rec["max"]) == (values.min(), values.max())
    assert [r["owners"] for r in snap.records] == [["fc1"], ["fc1"], ["fc2"], ["fc2"]]


def test_meta_model_gives_rows_without_values() -> None:
    snap = weight_snapshot(gpt2_small(device="meta"))
    assert len(snap.records) == 148 and snap.counts.sum() == 0
    assert all(r["mean"] is None and r["device"] == "meta" for r in snap.records)


def test_model_is_left_as_it_was() -> None:
    model = gpt2_tiny()
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    threads = torch.get_num_threads()
    with torch.no_grad():
        weight_snapshot(model, sample_size=1000)
    weight_snapshot(model)
    gc.disable()  # the snapshot pauses the cyclic GC: it must restore either state
    try:
        weight_snapshot(model)
        assert not gc.isenabled()
    finally:
        gc.enable()
    weight_snapshot(model)
    assert gc.isenabled() and torch.get_num_threads() == threads
    assert not model.training and torch.is_grad_enabled()
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_snapshot_holds_no_reference_to_the_model() -> None:
    model = IrisMLP()
    ref = weakref.ref(model)
    snap = weight_snapshot(model)
    del model
    gc.collect()
    assert ref() is None and len(snap.records) == 4


# Every way a tensor's values reach Python or numpy; each call on a CUDA tensor is a sync.
_READS = ("cpu", "numpy", "item", "tolist", "__float__", "__int__", "__bool__", "__index__")


def _count_reads(monkeypatch, fn) -> int:
    calls = []
    for name in _READS:
        original = getattr(torch.Tensor, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, wrapper)
    fn()
    monkeypatch.undo()
    return len(calls)


def test_one_host_read_per_refresh_whatever_the_number_of_tensors(monkeypatch) -> None:
    def model(n: int) -> nn.Module:
        torch.manual_seed(n)
        # Distinct widths (no two tensors batch together) plus one sampled weight.
        return nn.Sequential(nn.Linear(300, 400), *(nn.Linear(i + 2, i + 3) for i in range(n)))

    small, large = model(2), model(60)
    few = _count_reads(monkeypatch, lambda: weight_snapshot(small))
    many = _count_reads(monkeypatch, lambda: weight_snapshot(large, sample_size=1000))
    assert len(collect_params(large)) == 122
    # Exactly .cpu() then .numpy() of the one stacked block (0 would mean the counting
    # itself was broken).
    assert few == many == 2


def test_bad_input_is_rejected_with_a_fix() -> None:
    with pytest.raises(TypeError, match="torch.nn.Module"):
        weight_snapshot(list(IrisMLP().parameters()))
    with pytest.raises(InputError, match="bins must be a positive int"):
        weight_snapshot(IrisMLP(), bins=0)
    with pytest.raises(InputError, match="sample_size"):
        weight_snapshot(IrisMLP(), sample_size=-1)
    with pytest.raises(InputError, match=r"tensors\[1\] is NoneType"):
        tensor_histograms([torch.ones(2), None])


def test_stat_columns_and_docstring_examples() -> None:
    assert STAT_COLUMNS == ("mean", "std", "min", "max", "nan", "inf")
    for module in (kernels, stats_module):
        result = doctest.testmod(module, extraglobs={"torch": torch}, verbose=False)
        assert result.failed == 0 and result.attempted > 0


def test_sampled_half_precision_keeps_exact_min_and_max() -> None:
    t = torch.randn(100_000, generator=gen(8)).to(torch.bfloat16)
    stats, counts, ranges, sampled = tensor_histograms([t], sample_size=1000)
    values = t.to(torch.float64).numpy()
    assert sampled[0] and counts[0].sum() == 1000
    assert stats[0, 2:].tolist() == [values.min(), values.max(), 0, 0]
    assert ranges[0].tolist() == [values.min(), values.max()]


@pytest.mark.cuda
def test_cuda_refresh_reads_nothing_until_the_one_transfer_and_matches_cpu() -> None:
    torch.manual_seed(0)
    model = gpt2_tiny().cuda()
    model.h[0].ln_1.weight.data[3] = float("nan")
    tensors = [p.tensor for p in collect_params(model)]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any device -> host sync raises
    try:
        block, _, flags = kernels._device_block(tensors, BINS, sample_size=10)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert block.is_cuda and not any(flags)  # on CUDA always exact, whatever sample_size
    on_gpu = tensor_histograms(tensors, sample_size=10)
    on_cpu = tensor_histograms([t.cpu() for t in tensors], sample_size=None)
    np.testing.assert_array_equal(on_gpu[1], on_cpu[1])
    np.testing.assert_array_equal(on_gpu[2], on_cpu[2])
    np.testing.assert_allclose(on_gpu[0], on_cpu[0], rtol=1e-5, atol=1e-9)
