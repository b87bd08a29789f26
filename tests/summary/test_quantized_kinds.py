"""Quantized layers in the tree: named as ``repr(model)`` prints them, and the modules that hold
their packed weights marked as such (torch never calls them)."""

from __future__ import annotations

import torch
from torch import nn

from modelpanel import summarize
from modelpanel.summary import PACKED_WEIGHTS


def _quiet_quantize(model: nn.Module, kinds: set, dtype: torch.dtype) -> nn.Module:
    import warnings

    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, kinds, dtype=dtype)


def _repr_names(model: nn.Module) -> dict[str, str]:
    """Each submodule's name as ``repr(model)`` prints it: the text before "(" on its line."""
    names = {}
    for path, module in model.named_modules():
        if path:
            first = repr(module).split("\n")[0]
            names[path] = first.split("(")[0] if "(Reference)" not in first else first.split(")")[0] + ")"
    return names


def test_quantized_layers_are_named_as_torch_prints_them_and_their_packs_are_not_layers() -> None:
    """A dynamically quantized Linear's class is called ``Linear``; torch prints it (and the
    tree must show it) as ``DynamicQuantizedLinear``. The modules that hold packed weights are
    never called by torch: "not called in eval mode" would send a learner looking for a bug."""
    import torch.ao.nn.quantized as nnq
    import torch.ao.nn.quantized.reference as nnqr

    model = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.LSTM(10, 5))
    dynamic = _quiet_quantize(model, {nn.Linear, nn.LSTM}, torch.qint8)
    s = summarize(dynamic, input_size=(3, 2, 4))
    kinds = {layer.path: layer.kind for layer in s.layers}
    expected = _repr_names(dynamic)
    assert kinds["0"] == expected["0"] == "DynamicQuantizedLinear"
    assert kinds["2"] == expected["2"] == "DynamicQuantizedLSTM"
    assert {p: k for p, k in kinds.items() if p in expected and "." not in p} == {
        p: k for p, k in expected.items() if "." not in p}
    statuses = {layer.path: layer.status for layer in s.layers}
    packs = [p for p, _ in dynamic.named_modules() if "_packed_params" in p or "_all_weight_values" in p]
    assert packs == ["0._packed_params", "2._all_weight_values", "2._all_weight_values.0"]
    assert {p: statuses[p] for p in packs} == dict.fromkeys(packs, PACKED_WEIGHTS)
    assert statuses["0"] == statuses["1"] == statuses["2"] == ""
    for module, name in [(nnq.Linear(2, 2), "QuantizedLinear"), (nnq.Embedding(5, 3), "QuantizedEmbedding"),
                         (nnqr.Linear(2, 2), "QuantizedLinear(Reference)")]:
        root = nn.Sequential(module)
        assert summarize(root).layers[0].kind == name == _repr_names(root)["0"]
    assert summarize(nn.Sequential(nn.Linear(2, 2))).layers[0].kind == "Linear"
