"""The parameter table of tensors that are not plain materialised floats (issue 11, item 2).

Each kind against values taken from the model itself (``fc1.weight().dequantize()``, ``abs()``,
the parametrization's ``original``) with numpy, and counts worked out by hand from the shapes:
packed/quantized (dynamic and static, Linear, Conv2d, LSTM, GRUCell, Embedding, float16),
complex, meta, sparse, parametrized (new and old style) and lazy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from stats_reference import BINS, numpy_reference
from torch import nn
from torch.nn.utils import parametrizations, parametrize
from zoo import assert_state_unchanged, quantized_mlp, snapshot_state, static_quantized_cnn

from modelpanel import ModelPanel
from modelpanel.stats import collect_params, weight_snapshot

QUANTIZED = "quantized qint8, packed: statistics of dequantized values"
PACKED_BIAS = "packed: float32, held by a quantized module, not a Parameter"
LAZY = "lazy: not materialised until the first forward"


def quiet(make, *args, **kwargs):
    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
        warnings.simplefilter("ignore")
        return make(*args, **kwargs)


def assert_stats_equal_numpy(record: dict, snap, row: int, values: np.ndarray) -> None:
    """mean, std, min, max and the histogram of ``record`` against numpy on ``values``."""
    ref_stats, ref_counts = numpy_reference(values, BINS)
    got = [record["mean"], record["std"], record["min"], record["max"]]
    np.testing.assert_allclose(got, ref_stats, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(snap.counts[row], ref_counts)


def packed_values(model: nn.Module) -> list[np.ndarray]:
    """fc1.weight, fc1.bias, fc2.weight, fc2.bias of the quantized MLP, read through torch."""
    return [
        model.fc1.weight().dequantize().numpy(), model.fc1.bias().detach().numpy(),
        model.fc2.weight().dequantize().numpy(), model.fc2.bias().detach().numpy(),
    ]


def test_dynamic_quantized_mlp_lists_its_packed_weights_with_dequantized_statistics() -> None:
    model = quantized_mlp()
    assert list(model.parameters()) == []  # what the table used to show: nothing
    before = snapshot_state(model)
    raw = [model.fc1.weight().int_repr().clone(), model.fc2.weight().int_repr().clone()]
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    records = snap.records
    assert [r["names"] for r in records] == [["fc1.weight"], ["fc1.bias"], ["fc2.weight"], ["fc2.bias"]]
    assert [r["owners"] for r in records] == [["fc1"], ["fc1"], ["fc2"], ["fc2"]]
    assert [r["shape"] for r in records] == [[8, 4], [8], [3, 8], [3]]
    assert [r["numel"] for r in records] == [32, 8, 24, 3]  # 4*8 + 8 + 8*3 + 3 = 67
    assert [r["dtype"] for r in records] == ["qint8", "float32", "qint8", "float32"]
    # int8: one byte per weight element; the biases stay float32 (4 bytes each).
    assert [r["nbytes"] for r in records] == [32, 8 * 4, 24, 3 * 4]
    assert [r["trainable"] for r in records] == [False] * 4  # packed: requires_grad False
    assert [r["note"] for r in records] == [QUANTIZED, PACKED_BIAS, QUANTIZED, PACKED_BIAS]
    for row, (record, values) in enumerate(zip(records, packed_values(model))):
        assert_stats_equal_numpy(record, snap, row, values)
        assert record["nan"] == record["inf"] == 0
    # Reading the packs changed nothing.
    assert_state_unchanged(model, before)
    assert torch.equal(model.fc1.weight().int_repr(), raw[0]) and torch.equal(model.fc2.weight().int_repr(), raw[1])


def test_collect_params_holds_the_quantized_tensor_itself() -> None:
    model = quantized_mlp()
    info = collect_params(model)[0]
    assert (info.names, info.owners, info.dtype, info.nbytes, info.trainable) == (["fc1.weight"], ["fc1"], "qint8", 32, False)
    assert info.tensor.is_quantized and torch.equal(info.tensor.int_repr(), model.fc1.weight().int_repr())


def test_static_quantized_conv_and_linear() -> None:
    model = static_quantized_cnn()
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    records = snap.records
    assert [r["names"][0] for r in records] == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]
    assert [r["numel"] for r in records] == [2 * 1 * 3 * 3, 2, 8 * 3, 3]
    assert [r["dtype"] for r in records] == ["qint8", "float32", "qint8", "float32"]
    assert [r["nbytes"] for r in records] == [18, 8, 24, 12]
    conv_w, conv_b = model.conv._weight_bias()
    fc_w, fc_b = model.fc._weight_bias()
    assert fc_w.qscheme() == torch.per_channel_affine  # one scale per output row: still dequantized right
    values = [conv_w.dequantize(), conv_b, fc_w.dequantize(), fc_b]
    for row, (record, v) in enumerate(zip(records, values)):
        assert_stats_equal_numpy(record, snap, row, v.detach().numpy())
    assert records[0]["note"] == QUANTIZED


def test_dynamic_rnns_list_the_float_models_names_and_counts() -> None:
    float_model = nn.Sequential()
    float_model.add_module("lstm", nn.LSTM(4, 5, num_layers=2, bidirectional=True))
    float_model.add_module("cell", nn.GRUCell(3, 4))
    expected = [(name, tuple(p.shape)) for name, p in float_model.named_parameters()]
    model = quiet(torch.ao.quantization.quantize_dynamic, float_model, {nn.LSTM, nn.GRUCell}, dtype=torch.qint8)
    infos = collect_params(model)
    assert [(i.names[0], i.shape) for i in infos] == expected
    assert [i.dtype for i in infos] == ["qint8" if n.split(".")[1].startswith("weight") else "float32"
                                        for n, _ in expected]
    assert [i.owners for i in infos] == [[n.split(".")[0]] for n, _ in expected]


def test_float16_dynamic_linear_reads_as_float16() -> None:
    float_model = nn.Sequential(nn.Linear(4, 3))
    model = quiet(torch.ao.quantization.quantize_dynamic, float_model, {nn.Linear}, dtype=torch.float16)
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    weight = snap.records[0]
    assert (weight["dtype"], weight["nbytes"], weight["trainable"]) == ("float16", 12 * 2, False)
    assert weight["note"] == "packed: float16, held by a quantized module, not a Parameter"
    # The packed float16 values are the float weights rounded to float16.
    assert_stats_equal_numpy(weight, snap, 0, float_model[0].weight.detach().half().float().numpy())


def test_quantized_embeddings_8_and_4_bit() -> None:
    import torch.ao.nn.quantized as nnq

    model = nn.Sequential()
    model.add_module("emb", quiet(nnq.Embedding, 10, 4))
    model.add_module("bag", quiet(nnq.EmbeddingBag, 10, 4, dtype=torch.quint4x2))
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    emb, bag = snap.records
    assert (emb["names"], emb["numel"], emb["dtype"], emb["nbytes"]) == (["emb.weight"], 40, "quint8", 40)
    assert (bag["names"], bag["numel"], bag["dtype"], bag["nbytes"]) == (["bag.weight"], 40, "quint4x2", 20)
    assert_stats_equal_numpy(emb, snap, 0, model.emb.weight().dequantize().numpy())
    assert_stats_equal_numpy(bag, snap, 1, model.bag.weight().dequantize().numpy())


def test_complex_parameters_give_statistics_of_magnitudes() -> None:
    model = nn.Module()
    model.w = nn.Parameter(torch.randn(6, 5, dtype=torch.complex64, generator=torch.Generator().manual_seed(3)))
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    (record,) = snap.records
    assert (record["numel"], record["dtype"], record["nbytes"]) == (30, "complex64", 30 * 8)
    assert record["note"] == "complex: statistics of magnitudes"
    assert_stats_equal_numpy(record, snap, 0, np.abs(model.w.detach().numpy()))


def test_meta_parameters_are_listed_without_values() -> None:
    model = nn.Sequential(nn.Linear(4, 3, device="meta"))
    snap = weight_snapshot(model, bins=BINS)
    assert [(r["names"], r["numel"], r["nbytes"]) for r in snap.records] == [
        (["0.weight"], 12, 12 * 4), (["0.bias"], 3, 3 * 4)]  # bytes as once materialised
    assert all(r["note"] == "meta: no values" and r["mean"] is None and r["max"] is None for r in snap.records)
    assert snap.counts.sum() == 0
    ModelPanel(model).close()


def test_sparse_parameters_give_statistics_of_their_stored_values() -> None:
    dense = torch.zeros(4, 6)
    dense[0, 1], dense[2, 3], dense[3, 5], dense[1, 0] = 1.5, -2.0, 0.25, 3.0
    model = nn.Module()
    model.coo = nn.Parameter(dense.to_sparse())
    model.csr = nn.Parameter(quiet(dense.to_sparse_csr))  # "CSR support is in beta"
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    coo, csr = snap.records
    assert coo["numel"] == csr["numel"] == 24  # counted by shape, as torch's numel()
    # Stored: 4 float32 values + a 2x4 int64 index (COO); 4 values + 5 row pointers + 4 columns (CSR).
    assert coo["nbytes"] == 4 * 4 + 2 * 4 * 8 and csr["nbytes"] == 4 * 4 + 5 * 8 + 4 * 8
    assert coo["note"] == "sparse (sparse_coo): statistics of the 4 stored values"
    assert csr["note"] == "sparse (sparse_csr): statistics of the 4 stored values"
    stored = np.array([1.5, -2.0, 0.25, 3.0], np.float32)
    assert_stats_equal_numpy(coo, snap, 0, stored)
    assert_stats_equal_numpy(csr, snap, 1, stored)


@pytest.mark.parametrize("how", ["orthogonal", "weight_norm", "spectral_norm", "custom"])
def test_parametrized_weights_are_their_original_tensors_once(how: str) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4))
    if how == "custom":
        class Symmetric(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x.triu() + x.triu(1).transpose(-1, -2)

        parametrize.register_parametrization(model[0], "weight", Symmetric())
        kind = "Symmetric"
    else:
        getattr(parametrizations, how)(model[0])
        kind = {"orthogonal": "_Orthogonal", "weight_norm": "_WeightNorm", "spectral_norm": "_SpectralNorm"}[how]
    torch_names = [name for name, _ in model.named_parameters()]
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    assert [r["names"][0] for r in snap.records] == torch_names  # the computed weight is no row
    assert sum(r["numel"] for r in snap.records) == sum(p.numel() for p in model.parameters())
    params = dict(model.named_parameters())
    for row, record in enumerate(snap.records):
        name = record["names"][0]
        assert_stats_equal_numpy(record, snap, row, params[name].detach().numpy())
        if ".parametrizations.weight.original" in name:
            assert record["owners"] == ["0.parametrizations.weight"]
            assert record["note"] == f"parametrized: 0.weight is computed from this by {kind}, and not counted itself"
        else:
            assert record["note"] == ""


@pytest.mark.parametrize("how", ["weight_norm", "spectral_norm"])
def test_old_style_weight_and_spectral_norm_name_the_computed_weight(how: str) -> None:
    model = nn.Sequential(nn.Linear(4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.nn.utils.weight_norm is deprecated
        getattr(torch.nn.utils, how)(model[0])
    records = weight_snapshot(model).records
    names = {"weight_norm": ["0.weight_g", "0.weight_v"], "spectral_norm": ["0.weight_orig"]}[how]
    assert sorted(r["names"][0] for r in records) == sorted(["0.bias", *names])
    for r in records:
        expect = "" if r["names"] == ["0.bias"] else f"{how}: 0.weight is computed from this before each forward"
        assert r["note"] == expect


def test_lazy_parameters_before_and_after_the_first_forward() -> None:
    model = nn.Sequential(nn.LazyLinear(3), nn.ReLU())
    before = weight_snapshot(model).records
    assert [(r["names"], r["numel"], r["nbytes"], r["shape"], r["note"]) for r in before] == [
        (["0.weight"], 0, 0, [], LAZY), (["0.bias"], 0, 0, [], LAZY)]
    panel = ModelPanel(model)  # no input: works, and says why the table is empty of values
    assert panel._params["note"]["values"] == [LAZY]
    assert "not materialised until the first forward" in panel.summary.layers[0].param_formula
    panel.close()
    model(torch.randn(2, 5))
    snap = weight_snapshot(model, bins=BINS, sample_size=None)
    assert [(r["numel"], r["nbytes"], r["note"]) for r in snap.records] == [(15, 60, ""), (3, 12, "")]
    assert_stats_equal_numpy(snap.records[0], snap, 0, model[0].weight.detach().numpy())


@pytest.mark.parametrize("make", [quantized_mlp, static_quantized_cnn])
def test_panel_of_a_quantized_model_sends_the_packed_rows_and_their_notes(make) -> None:
    model = make()
    panel = ModelPanel(model)
    params = panel._params
    assert params["n"] == 4 and set(params["note"]["values"]) == {QUANTIZED, PACKED_BIAS}
    assert params["dtype"]["values"] == ["qint8", "float32"] and params["frozen"] == [0, 1, 2, 3]
    assert [w["dtype"] for w in panel.weights] == ["qint8", "float32", "qint8", "float32"]
    panel.close()


def test_tensor_histograms_takes_every_kind_directly() -> None:
    from modelpanel.stats import tensor_histograms

    x = torch.randn(50, generator=torch.Generator().manual_seed(5))
    q = torch.quantize_per_tensor(x, 0.05, 0, torch.qint8)
    kinds = [q, nn.LazyLinear(3).weight, x.to_sparse(), torch.empty(3, device="meta"), x.to(torch.complex64)]
    stats, counts, _, _ = tensor_histograms(kinds, bins=BINS, sample_size=None)
    ref_q, ref_q_counts = numpy_reference(q.dequantize().numpy(), BINS)
    np.testing.assert_allclose(stats[0, :4], ref_q, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(counts[0], ref_q_counts)
    assert np.isnan(stats[1, :4]).all() and np.isnan(stats[3, :4]).all() and counts[[1, 3]].sum() == 0
    np.testing.assert_allclose(stats[2, :4], numpy_reference(x.numpy(), BINS)[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(stats[4, :4], numpy_reference(np.abs(x.numpy()), BINS)[0], rtol=1e-6, atol=1e-7)


@pytest.mark.cuda
def test_every_kind_on_cuda_against_numpy() -> None:
    dev = "cuda"
    g = torch.Generator(device=dev).manual_seed(0)
    model = nn.Module()
    model.c = nn.Parameter(torch.randn(300, 200, dtype=torch.complex64, device=dev, generator=g))
    dense = torch.randn(40, 50, device=dev, generator=g) * (torch.rand(40, 50, device=dev, generator=g) < 0.2)
    model.coo = nn.Parameter(dense.to_sparse())
    model.csr = nn.Parameter(quiet(dense.to_sparse_csr))
    model.lin = nn.Linear(64, 64, device=dev)
    parametrizations.orthogonal(model.lin)
    model.lazy = nn.LazyLinear(4, device=dev)
    snap = weight_snapshot(model, bins=BINS)
    rows = {r["names"][0]: i for i, r in enumerate(snap.records)}
    stored = dense[dense != 0].cpu().numpy()
    original = model.lin.parametrizations.weight.original
    for name, values in (("c", np.abs(model.c.detach().cpu().numpy())), ("coo", stored), ("csr", stored),
                         ("lin.parametrizations.weight.original", original.detach().cpu().numpy())):
        assert snap.records[rows[name]]["device"] == "cuda:0"
        assert_stats_equal_numpy(snap.records[rows[name]], snap, rows[name], values)
    assert snap.records[rows["lazy.weight"]]["note"] == LAZY and snap.counts[rows["lazy.weight"]].sum() == 0


def test_docstring_examples_of_the_tensor_kinds_module() -> None:
    import doctest

    import modelpanel._core.tensors as tensors

    result = doctest.testmod(tensors, extraglobs={"torch": torch}, verbose=False)
    assert result.failed == 0 and result.attempted > 0


def _quantized_module(which: str) -> nn.Module:
    import torch.ao.nn.intrinsic.quantized as nniq
    import torch.ao.nn.quantized as nnq
    import torch.ao.nn.quantized.dynamic as nnqd

    make = {
        "Conv1d": lambda: nnq.Conv1d(2, 3, 3), "Conv3d": lambda: nnq.Conv3d(1, 2, 2),
        "ConvTranspose2d": lambda: nnq.ConvTranspose2d(2, 3, 2), "ConvReLU2d": lambda: nniq.ConvReLU2d(1, 2, 3),
        "LinearReLU": lambda: nniq.LinearReLU(4, 3), "RNNCell": lambda: nnqd.RNNCell(3, 4),
    }[which]
    model = nn.Sequential()
    model.add_module("q", quiet(make))
    return model


@pytest.mark.parametrize(("which", "numel"), [
    ("Conv1d", 3 * 2 * 3 + 3), ("Conv3d", 2 * 1 * 2 * 2 * 2 + 2), ("ConvTranspose2d", 2 * 3 * 2 * 2 + 3),
    ("ConvReLU2d", 2 * 1 * 3 * 3 + 2), ("LinearReLU", 3 * 4 + 3), ("RNNCell", 4 * 3 + 4 * 4 + 4 + 4),
])
def test_other_quantized_modules_list_their_packed_weights(which: str, numel: int) -> None:
    from modelpanel import summarize

    model = _quantized_module(which)
    records = weight_snapshot(model).records
    assert sum(r["numel"] for r in records) == numel == summarize(model).total_params
    assert all(r["owners"] == ["q"] and not r["trainable"] and r["note"] for r in records)
    assert {r["dtype"] for r in records if "weight" in r["names"][0]} <= {"qint8", "quint8"}
