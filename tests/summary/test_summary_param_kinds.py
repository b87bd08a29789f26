"""summarize() of tensors that are not plain materialised floats (issue 11, item 2): counts,
bytes, formulas and the notes of the text table, each worked out by hand from the shapes."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations
from zoo import assert_state_unchanged, quantized_mlp, snapshot_state, static_quantized_cnn

from modelpanel import summarize

PACKED_NOTE = "params packed by quantized modules (qint8, float32): counted as non-trainable, bytes as stored"


def by_path(s):
    return {layer.path: layer for layer in s.layers}


def test_dynamic_quantized_mlp_counts_its_packed_weights() -> None:
    model = quantized_mlp()
    before = snapshot_state(model)
    s = summarize(model, input_size=(2, 4))
    assert_state_unchanged(model, before)
    # 4*8 + 8 + 8*3 + 3 = 67; packed weights have requires_grad False: none trainable.
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (67, 0, 67)
    layers = by_path(s)
    assert (layers["fc1"].params, layers["fc1"].own_params, layers["fc1"].trainable_params) == (40, 40, 0)
    assert (layers["fc2"].params, layers["fc2"].own_params) == (27, 27)
    assert layers["fc1._packed_params"].params == 0  # held once, by the quantized Linear
    assert layers["fc1"].param_formula == "weight 8×4 = 32 (qint8, packed) + bias 8 (packed) = 40"
    # int8 weights: one byte per element (32 + 24); float32 biases: 4 bytes each (8 + 3).
    assert s.param_bytes == 32 + 24 + 4 * (8 + 3)
    assert s.dtypes == ["qint8", "float32"]
    assert s.param_notes == [f"67 {PACKED_NOTE}"]
    assert f"  Note: 67 {PACKED_NOTE}" in str(s)


def test_static_quantized_cnn_counts_conv_and_linear() -> None:
    s = summarize(static_quantized_cnn(), input_size=(1, 1, 4, 4))
    layers = by_path(s)
    assert layers["conv"].params == 2 * 1 * 3 * 3 + 2 and layers["fc"].params == 8 * 3 + 3
    assert (s.total_params, s.trainable_params) == (47, 0)
    assert s.param_bytes == 18 + 24 + 4 * (2 + 3)
    assert layers["conv"].param_formula == "weight 2×1×3×3 = 18 (qint8, packed) + bias 2 (packed) = 20"


def test_quantized_rnn_counts_equal_the_float_model() -> None:
    float_model = nn.Sequential(nn.LSTM(4, 5, num_layers=2), nn.GRUCell(3, 4))
    expected = sum(p.numel() for p in float_model.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torch.ao.quantization.quantize_dynamic(float_model, {nn.LSTM, nn.GRUCell}, dtype=torch.qint8)
    s = summarize(model)
    assert s.total_params == expected and s.trainable_params == 0
    weights = sum(p.numel() for n, p in float_model.named_parameters() if ".weight" in n)
    assert s.param_bytes == weights + 4 * (expected - weights)


def test_complex_meta_and_sparse_counts_and_bytes() -> None:
    model = nn.Module()
    model.c = nn.Parameter(torch.randn(3, 2, dtype=torch.complex64))
    model.m = nn.Parameter(torch.empty(5, 4, device="meta"))
    dense = torch.zeros(4, 6)
    dense[0, 1] = dense[2, 3] = 1.0
    model.s = nn.Parameter(dense.to_sparse())
    s = summarize(model)
    assert s.total_params == 6 + 20 + 24  # one per complex element; by shape
    # complex64: 8 bytes; meta: as once materialised; sparse: 2 values + a 2x2 int64 index.
    assert s.param_bytes == 6 * 8 + 20 * 4 + (2 * 4 + 2 * 2 * 8)
    assert s.param_notes == [
        "20 params on the meta device: counted by shape, no values; bytes as once materialised",
        "6 complex params: one per complex element",
        "24 params in sparse tensors: counted by shape, bytes as stored",
    ]
    child = nn.Sequential(nn.Linear(2, 2, device="meta"))
    assert summarize(child).layers[0].param_formula == "weight 2×2 = 4 (meta) + bias 2 (meta) = 6"


@pytest.mark.parametrize("how", ["orthogonal", "weight_norm", "spectral_norm"])
def test_parametrized_weight_counts_its_original_tensors_once(how: str) -> None:
    model = nn.Sequential(nn.Linear(4, 4))
    getattr(parametrizations, how)(model[0])
    s = summarize(model, input_size=(1, 4))
    # orthogonal/spectral_norm keep original (4x4); weight_norm original0 (g, 4x1) and original1 (v, 4x4).
    originals = {"orthogonal": 16, "weight_norm": 4 + 16, "spectral_norm": 16}[how]
    assert s.total_params == originals + 4 == sum(p.numel() for p in model.parameters())
    layer = by_path(s)["0.parametrizations.weight"]
    assert layer.own_params == originals
    assert layer.param_formula.endswith("; computes weight by " + type(model[0].parametrizations.weight[0]).__name__)
    assert s.param_notes == ["1 parametrized tensor: the original tensors are counted, not the ones computed from them"]


def test_lazy_model_is_not_materialised_until_the_first_forward() -> None:
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
    before = summarize(model)
    assert (before.total_params, before.param_bytes) == (0, 0)
    assert before.layers[0].param_formula == (
        "weight uninitialized (lazy) + bias uninitialized (lazy) = 0 (not materialised until the first forward)")
    assert before.param_notes == ["4 parameter tensors not materialised until the first forward: counted as 0"]
    assert "Note: 4 parameter tensors not materialised" in str(before)
    after = summarize(model, input_size=(3, 5))
    assert after.total_params == 5 * 8 + 8 + 8 * 2 + 2 and after.param_notes == []
    assert "Note:" not in str(after)
