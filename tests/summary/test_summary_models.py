"""summarize() on the model cases of issue 2, checked against torchinfo 1.8.0 where it is right.

Where torchinfo is wrong (tied weights, repeated calls, keyword tensors) the test computes
torchinfo's figure and asserts ours is the true one.
"""

from __future__ import annotations

import json

import pytest
import torch
import torchinfo
from torch import nn
from zoo import (
    HOSTILE_STRINGS,
    HostileNames,
    IrisMLP,
    SmallCNN,
    assert_state_unchanged,
    gpt2_small,
    gpt2_tiny,
    snapshot_state,
)

from modelpanel.summary import summarize


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def by_path(summary) -> dict:
    return {layer.path: layer for layer in summary.layers}


def torchinfo_shapes(model: nn.Module, **kwargs) -> tuple[torchinfo.ModelStatistics, dict[str, list]]:
    """torchinfo's statistics and its output shape per module path (first call)."""
    stats = torchinfo.summary(model, verbose=0, **kwargs)
    paths = {id(m): p for p, m in model.named_modules()}
    shapes: dict[str, list] = {}
    for info in stats.summary_list:
        path = paths.get(id(info.module))
        if path and path not in shapes and info.executed:
            shapes[path] = info.output_size
    return stats, shapes


def test_iris_mlp_counts_formulas_and_shapes_match_torchinfo() -> None:
    model = IrisMLP()
    s = summarize(model, input_size=(1, 4))
    layers = by_path(s)
    assert [layer.path for layer in s.layers] == ["fc1", "relu", "fc2"]
    assert (layers["fc1"].params, layers["fc2"].params, s.total_params) == (50, 33, 83)
    assert layers["fc1"].param_formula == "weight 10×4 = 40 + bias 10 = 50"
    assert layers["fc2"].param_formula == "weight 3×10 = 30 + bias 3 = 33"
    assert layers["relu"].param_formula == ""
    assert layers["fc1"].input_shape == [[1, 4]]
    assert (layers["fc1"].depth, layers["fc1"].parent, layers["fc1"].name) == (1, "", "fc1")
    assert s.input_shapes == [[1, 4]] and s.output_shape == [1, 3]
    # Memory: fc1, relu and fc2 outputs (10 + 10 + 3 floats), a (1, 4) input, 83 float params.
    assert (s.input_bytes, s.activation_bytes, s.param_bytes, s.buffer_bytes) == (16, 92, 332, 0)
    assert s.total_bytes == 332 + 16 + 92
    stats, shapes = torchinfo_shapes(model, input_size=(1, 4))
    assert s.total_params == stats.total_params and s.trainable_params == stats.trainable_params
    assert {p: layer.output_shape for p, layer in layers.items()} == shapes


@pytest.mark.parametrize(("channels", "side"), [(1, 28), (3, 32)])
def test_cnn_with_batchnorm_and_dropout_matches_torchinfo_and_keeps_statistics(channels: int, side: int) -> None:
    model = SmallCNN(channels, side)
    model.train()
    model.features[1].eval()  # a user's mixed modes must come back exactly
    before = snapshot_state(model)
    s = summarize(model, input_size=(2, channels, side, side))
    assert_state_unchanged(model, before)
    assert s.training is True
    stats, shapes = torchinfo_shapes(model, input_size=(2, channels, side, side))
    assert s.total_params == stats.total_params
    assert {p: layer.output_shape for p, layer in by_path(s).items() if layer.calls} == shapes
    # Two BatchNorm2d: running mean and var (float32) + num_batches_tracked (int64) each.
    assert s.buffer_bytes == (16 + 16) * 4 + 8 + (32 + 32) * 4 + 8
    assert by_path(s)["features"].params == sum(p.numel() for p in model.features.parameters())


def test_tied_weights_count_once_where_torchinfo_counts_twice() -> None:
    model = gpt2_tiny()
    ids = torch.randint(0, model.config.vocab_size, (2, 16))
    s = summarize(model, input_data=ids)
    true_total = sum(p.numel() for p in model.parameters())  # parameters() deduplicates
    assert s.total_params == true_total == s.trainable_params
    stats = torchinfo.summary(model, input_data=ids, verbose=0)
    assert stats.total_params == true_total + model.wte.weight.numel()  # torchinfo's double count
    layers = by_path(s)
    assert layers["wte"].shared and layers["lm_head"].shared and not layers["wpe"].shared
    assert "(shared with wte)" in layers["lm_head"].param_formula
    assert layers["lm_head"].own_params == layers["wte"].own_params == model.wte.weight.numel()
    assert layers["lm_head"].output_shape == [2, 16, model.config.vocab_size]
    assert layers["h"].calls == 0 and layers["h.0"].calls == 1
    assert layers["h.1.attn"].params == sum(p.numel() for p in model.h[1].attn.parameters())


def test_gpt2_small_is_124_439_808_parameters_not_torchinfos_163_037_184() -> None:
    model = gpt2_small(device="meta")  # counting needs no weights and no forward
    s = summarize(model)
    assert s.total_params == 124_439_808
    assert s.devices == ["meta"]
    assert all(layer.input_shape is None and layer.calls == 0 for layer in s.layers)
    torchinfo_total = torchinfo.summary(model, verbose=0).total_params
    assert torchinfo_total == 163_037_184 == s.total_params + model.wte.weight.numel()
    # A forward on the meta device still gives every shape, without allocating weights.
    s = summarize(model, input_size=(1, 8), dtypes=[torch.long])
    assert by_path(s)["lm_head"].output_shape == [1, 8, 50257]


class CalledThrice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(3):
            x = self.block(x)
        return self.head(x)


def test_module_called_several_times_is_one_row_with_calls() -> None:
    model = CalledThrice()
    s = summarize(model, input_size=(4, 8))
    layers = by_path(s)
    assert [layer.path for layer in s.layers] == ["block", "block.0", "block.1", "head"]
    assert (layers["block"].calls, layers["block.0"].calls, layers["head"].calls) == (3, 3, 1)
    assert s.total_params == 72 + 18
    stats = torchinfo.summary(model, input_size=(4, 8), verbose=0)
    assert stats.total_params == s.total_params
    assert len(stats.summary_list) > len(s.layers) + 1  # torchinfo repeats rows per call


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(6, 12, num_layers=2, batch_first=True)
        self.out = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq, _ = self.lstm(x)
        return self.out(seq)


def test_lstm_tuple_output_is_mirrored() -> None:
    model = Tagger()
    s = summarize(model, input_size=(5, 7, 6))
    lstm = by_path(s)["lstm"]
    assert lstm.output_shape == [[5, 7, 12], [[2, 5, 12], [2, 5, 12]]]
    assert "weight_ih_l0 48×6 = 288" in lstm.param_formula
    assert s.total_params == torchinfo.summary(model, input_size=(5, 7, 6), verbose=0).total_params


class DictModel(nn.Module):
    """Keyword tensors in, a dict out; the encoder is called with a keyword argument too."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(16, 4)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        hidden = self.encoder(tokens, mask=mask)
        return {"logits": self.head(hidden), "hidden": hidden}


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 16)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.proj(x)
        return h if mask is None else h * mask.unsqueeze(-1)


def test_dict_inputs_keyword_tensors_and_dict_outputs() -> None:
    model = DictModel()
    data = {"tokens": torch.randn(2, 5, 8), "mask": torch.ones(2, 5)}
    s = summarize(model, input_data=data)
    assert s.input_shapes == {"tokens": [2, 5, 8], "mask": [2, 5]}
    assert s.output_shape == {"logits": [2, 5, 4], "hidden": [2, 5, 16]}
    assert by_path(s)["encoder"].input_shape == [[2, 5, 8], {"mask": [2, 5]}]
    assert s.input_bytes == (2 * 5 * 8 + 2 * 5) * 4
    json.dumps(s.to_dict())


class Containers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 3)})
        self.unused = nn.Linear(4, 100)  # registered, never called
        self.scale = nn.Parameter(torch.ones(()))  # held directly by the root

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](x) * self.scale


def test_module_list_dict_unused_modules_and_root_parameters() -> None:
    model = Containers()
    s = summarize(model, input_size=(1, 4))
    layers = by_path(s)
    assert list(layers) == ["blocks", "blocks.0", "blocks.1", "heads", "heads.a", "heads.b", "unused"]
    assert (layers["blocks"].calls, layers["heads"].calls) == (0, 0)
    assert (layers["heads.b"].calls, layers["heads.b"].output_shape) == (0, None)
    assert (layers["unused"].calls, layers["unused"].params) == (0, 500)
    assert layers["blocks"].params == 40 and layers["heads"].params == 10 + 15
    assert layers["heads.a"].depth == 2 and layers["heads.a"].parent == "heads"
    assert s.root_params == 1
    assert s.total_params == 40 + 25 + 500 + 1 == sum(p.numel() for p in model.parameters())
    assert s.total_params == torchinfo.summary(model, input_size=(1, 4), verbose=0).total_params


def test_frozen_parts_are_non_trainable() -> None:
    model = SmallCNN()
    for p in model.features.parameters():
        p.requires_grad_(False)
    s = summarize(model, input_size=(1, 1, 28, 28))
    frozen = sum(p.numel() for p in model.features.parameters())
    assert s.non_trainable_params == frozen and s.trainable_params == s.total_params - frozen
    assert by_path(s)["features"].trainable_params == 0
    assert by_path(s)["classifier"].trainable_params == by_path(s)["classifier"].params
    stats = torchinfo.summary(model, input_size=(1, 1, 28, 28), verbose=0)
    assert (s.total_params, s.trainable_params) == (stats.total_params, stats.trainable_params)


def test_lazy_modules_are_counted_after_the_forward_materialises_them() -> None:
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
    before = summarize(model)
    assert before.total_params == 0
    assert before.layers[0].param_formula.startswith("weight uninitialized (lazy)")
    s = summarize(model, input_size=(3, 5))
    assert s.total_params == 5 * 8 + 8 + 8 * 2 + 2
    assert s.layers[0].kind == "Linear" and s.layers[0].param_formula == "weight 8×5 = 40 + bias 8 = 48"
    assert s.total_params == torchinfo.summary(model, input_size=(3, 5), verbose=0).total_params


def test_model_without_parameters() -> None:
    model = nn.Sequential(nn.Flatten(), nn.ReLU())
    s = summarize(model, input_size=(2, 3, 4))
    assert (s.total_params, s.param_bytes, s.root_params) == (0, 0, 0)
    assert s.layers[0].output_shape == [2, 12]
    assert s.devices == ["cpu"] and s.dtypes == []
    assert "Total params: 0" in str(s)


def test_transformer_encoder_shapes_despite_the_fused_fast_path() -> None:
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    s = summarize(model, input_size=(1, 5, 16))
    assert torch.backends.mha.get_fastpath_enabled() == fastpath
    layers = by_path(s)
    # In eval mode under no_grad the fused path would skip every submodule's forward.
    assert layers["layers.0.linear1"].calls == 1
    assert layers["layers.1.self_attn"].output_shape == [[1, 5, 16], None]
    assert s.total_params == torchinfo.summary(model, input_size=(1, 5, 16), verbose=0).total_params


def test_compiled_and_data_parallel_models_are_unwrapped() -> None:
    model = IrisMLP()
    plain = summarize(model, input_size=(1, 4)).to_dict()
    # backend="eager": the summary never calls the compiled wrapper, and eager keeps
    # this test free of inductor's C++ compile when the wrapper is called below.
    compiled = torch.compile(model, backend="eager")
    compiled(torch.randn(1, 4))
    # The same summary: only the wrapper it was found in is said.
    assert summarize(compiled, input_size=(1, 4)).to_dict() == {**plain, "wrappers": ["torch.compile"]}
    wrapped = nn.DataParallel(model)
    # With CUDA, DataParallel moves its module to cuda:0 when it is built: only the devices differ.
    moved = summarize(wrapped, input_size=(1, 4)).to_dict()
    expected_device = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert moved.pop("devices") == [expected_device]
    assert moved == {**{k: v for k, v in plain.items() if k != "devices"}, "wrappers": ["DataParallel"]}
    assert summarize(nn.DataParallel(compiled), input_size=(1, 4)).model_kind == "IrisMLP"


def test_hostile_names_stay_exact_strings() -> None:
    model = HostileNames()
    s = summarize(model, input_size=(2, 4))
    paths = [layer.path for layer in s.layers]
    assert paths[:2] == list(HOSTILE_STRINGS[:2])
    assert s.layers[1].kind == HOSTILE_STRINGS[0]
    assert s.layers[3].name == HOSTILE_STRINGS[2] and s.layers[3].parent == "a&b \"c\" 'd'"
    assert all(layer.calls == 1 for layer in s.layers)
    round_trip = json.loads(json.dumps(s.to_dict()))
    assert [layer["path"] for layer in round_trip["layers"]] == paths
    text = str(s)
    assert HOSTILE_STRINGS[1] in text


class ListsItsOwn(nn.Linear):
    """Overrides named_modules (as some wrappers do): the summary must follow it."""

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        yield from super().named_modules(memo, prefix, remove_duplicate)
        yield prefix + ".extra", nn.Identity()


def test_layers_follow_named_modules_with_shared_and_none_children_and_overrides() -> None:
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), nn.Sequential(shared, nn.Tanh()))
    model[2].register_module("nothing", None)  # a None child is skipped, like named_modules does
    model[2].forward = lambda x: model[2][1](model[2][0](x))  # (Sequential would call the None)
    s = summarize(model, input_size=(2, 4))
    assert [layer.path for layer in s.layers] == [p for p, _ in model.named_modules()][1:]
    assert [layer.path for layer in s.layers] == ["0", "1", "2", "2.1"]
    assert by_path(s)["0"].calls == 2 and s.total_params == 20
    # "2" holds the shared Linear too (listed once, at "0"): its subtree counts it, once.
    assert by_path(s)["2"].params == by_path(s)["2"].trainable_params == 20
    shared.weight.requires_grad_(False)
    s = summarize(model)
    assert (by_path(s)["2"].params, by_path(s)["2"].trainable_params) == (20, 4)
    assert (s.total_params, s.trainable_params) == (20, 4)
    odd = nn.Sequential(ListsItsOwn(4, 4))
    assert [layer.path for layer in summarize(odd).layers] == ["0", "0.extra"]


def test_dtypes_are_the_weights_not_the_counters() -> None:
    """BatchNorm's num_batches_tracked is an int64 buffer: a float32 CNN is "float32"."""
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    assert {b.dtype for b in cnn.buffers()} == {torch.float32, torch.int64}
    assert summarize(cnn).dtypes == ["float32"]
    mixed = nn.Linear(2, 2)
    mixed.register_buffer("table", torch.zeros(3, dtype=torch.float64))
    assert summarize(mixed).dtypes == ["float32", "float64"]  # a floating buffer of its own dtype
    counter = nn.Module()
    counter.register_buffer("seen", torch.zeros((), dtype=torch.int64))
    assert summarize(counter).dtypes == ["int64"]  # no parameters: the buffers say it
