"""MACs (counted lazily, checked by hand), the to_dict() contract, the text table, weak refs."""

from __future__ import annotations

import dataclasses
import gc
import json
import weakref

import pytest
import torch
from torch import nn
from zoo import IrisMLP, SmallCNN, assert_state_unchanged, gpt2_tiny, snapshot_state

from modelpanel.errors import ModelPanelError
from modelpanel.summary import Layer, summarize

SUMMARY_KEYS = {
    "model_kind", "total_params", "trainable_params", "non_trainable_params", "param_bytes",
    "buffer_bytes", "input_bytes", "activation_bytes", "total_bytes", "macs", "macs_excluded", "devices",
    "dtypes", "training", "mode", "input_shapes", "root_params", "layers", "trace", "trace_fallback",
    "training_memory", "wrappers",
}  # fmt: skip
LAYER_KEYS = {
    "path", "name", "kind", "depth", "parent", "input_shape", "output_shape", "calls",
    "params", "own_params", "trainable_params", "macs", "shared", "param_formula", "status",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_macs_are_counted_only_when_asked_for() -> None:
    model = IrisMLP()
    s = summarize(model, input_size=(1, 4))
    assert not s.macs_counted
    d = s.to_dict()
    assert d["macs"] is None and all(layer["macs"] is None for layer in d["layers"])
    assert not s.macs_counted  # to_dict() must not run the MAC pass
    assert s.layers[0].macs == 4 * 10  # reading a layer's MACs runs it
    assert s.macs_counted and s.macs == 4 * 10 + 10 * 3
    assert [layer.macs for layer in s.layers] == [40, 0, 30]
    assert s.to_dict()["macs"] == 70


def test_to_dict_macs_true_and_summarize_macs_true_count_first() -> None:
    model = IrisMLP()
    assert summarize(model, input_size=(1, 4)).to_dict(macs=True)["macs"] == 70
    s = summarize(model, input_size=(1, 4), macs=True)
    assert s.macs_counted and s.to_dict()["layers"][2]["macs"] == 30
    no_input = summarize(model, macs=True)
    assert no_input.macs is None and no_input.layers[0].macs is None


def test_cnn_macs_by_hand_and_the_model_left_as_it_was() -> None:
    model = SmallCNN()
    model.train()
    s = summarize(model, input_size=(2, 1, 28, 28))
    before = snapshot_state(model)
    macs = {layer.path: layer.macs for layer in s.layers}
    assert_state_unchanged(model, before)
    conv1 = 2 * 28 * 28 * 16 * (1 * 3 * 3)
    conv2 = 2 * 14 * 14 * 32 * (16 * 3 * 3)
    fc1, fc2 = 2 * (32 * 7 * 7) * 64, 2 * 64 * 10
    assert (macs["features.0"], macs["features.4"]) == (conv1, conv2)
    assert (macs["classifier.2"], macs["classifier.4"]) == (fc1, fc2)
    assert macs["features"] == conv1 + conv2 and s.macs == conv1 + conv2 + fc1 + fc2


def test_attention_matmuls_count_in_a_gpt() -> None:
    b, t, d, v, n_layer = 2, 16, 64, 512, 2
    model = gpt2_tiny(vocab_size=v, n_layer=n_layer, n_embd=d)
    s = summarize(model, input_data=torch.randint(0, v, (b, t)))
    attn_core = 2 * b * t * t * d  # q @ k^T and attn @ v over all heads
    attn = b * t * d * 3 * d + attn_core + b * t * d * d
    mlp = 2 * b * t * d * 4 * d
    layers = {layer.path: layer for layer in s.layers}
    assert layers["h.0.attn"].macs == attn
    assert layers["h.0.attn"].macs - layers["h.0.attn.c_attn"].macs - layers["h.0.attn.c_proj"].macs == attn_core
    assert layers["h.1.mlp"].macs == mlp
    assert s.macs == n_layer * (attn + mlp) + b * t * d * v


def test_transformer_encoder_and_mha_fast_paths_do_not_hide_work() -> None:
    seq, d, heads, ff = 5, 16, 2, 32
    in_proj, core, out_proj = seq * d * 3 * d, 2 * seq * seq * d, seq * d * d
    per_layer = in_proj + core + out_proj + 2 * seq * d * ff
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, heads, ff, batch_first=True), 2)
    encoder.eval()  # eval + no_grad is where the fused, uncounted kernels would run
    fastpath = torch.backends.mha.get_fastpath_enabled()
    assert summarize(encoder, input_size=(1, seq, d)).macs == 2 * per_layer == 22_080
    assert torch.backends.mha.get_fastpath_enabled() == fastpath
    mha = nn.MultiheadAttention(d, heads, batch_first=True).eval()
    x = torch.randn(1, seq, d)
    assert summarize(mha, input_data=(x, x, x)).macs == in_proj + core + out_proj


def test_a_summary_keeps_its_model_only_until_the_macs_are_counted() -> None:
    # The torchinfo habit: a model built in the call still gets its MACs counted.
    hand = 1 * 4 * 10 + 1 * 10 * 3
    assert summarize(IrisMLP(), input_size=(1, 4)).macs == hand
    assert "Total MACs: 70" in str(summarize(IrisMLP(), input_size=(1, 4)))
    model = IrisMLP()
    ref = weakref.ref(model)
    s = summarize(model, input_size=(1, 4))
    assert s.macs == hand
    del model
    gc.collect()
    assert ref() is None  # counted: the summary lets go of the model
    assert s.macs == hand and s.total_params == 83


def test_a_panel_summary_does_not_keep_the_model_alive() -> None:
    model = IrisMLP()
    ref = weakref.ref(model)
    s = summarize(model, input_size=(1, 4))
    s._hold_weakly()  # what ModelPanel does with its summary
    del model
    gc.collect()
    assert ref() is None
    with pytest.raises(ModelPanelError, match="has been deleted"):
        _ = s.macs
    assert "not counted: the model has been deleted" in str(s)
    assert s.total_params == 83 and s.to_dict()["macs"] is None


def test_to_dict_is_the_contract_and_json_safe() -> None:
    model = gpt2_tiny()
    s = summarize(model, input_size=(1, 8), dtypes=torch.long)
    d = s.to_dict(macs=True)
    assert set(d) == SUMMARY_KEYS
    assert all(set(layer) == LAYER_KEYS for layer in d["layers"])
    assert json.loads(json.dumps(d)) == d
    assert d["model_kind"] == "GPT" and d["devices"] == ["cpu"] and d["dtypes"] == ["float32"]
    assert d["input_shapes"] == [[1, 8]] and d["training"] is True
    assert d["non_trainable_params"] == 0 and d["total_bytes"] == s.total_bytes
    assert [layer["path"] for layer in d["layers"]] == [p for p, _ in model.named_modules()][1:]
    assert isinstance(s.layers[0], Layer) and s.layers[0].to_dict() == d["layers"][0]
    assert [f.name for f in dataclasses.fields(Layer)] == list(d["layers"][0])
    without_input = summarize(model).to_dict()
    assert without_input["input_bytes"] is None and without_input["activation_bytes"] is None
    assert without_input["total_bytes"] == without_input["param_bytes"] + without_input["buffer_bytes"]
    assert without_input["input_shapes"] is None and without_input["macs"] is None


def test_text_table_reads_like_torchinfo() -> None:
    model = gpt2_tiny()
    text = str(summarize(model, input_size=(1, 8), dtypes=[torch.long]))
    lines = text.splitlines()
    assert lines[1].split() == ["Layer", "(kind)", "Output", "shape", "Params", "Calls", "MACs"]
    assert lines[3].startswith("GPT") and "136,960" in lines[3]
    assert any(line.startswith("│ │ ├─attn (CausalSelfAttention)") for line in lines)
    assert any(line.startswith("└─lm_head (Linear)") and "(shared)" in line for line in lines)
    assert "Total params: 136,960" in text and "Non-trainable params: 0" in text
    assert "Total MACs: " in text and "--" not in text.split("Total MACs: ")[1].splitlines()[0]
    assert "Estimated total:" in text
    no_input = str(summarize(model))
    assert "Total MACs: -- (give input_size or input_data to count them)" in no_input


def test_layers_made_before_or_after_the_mac_pass_agree_with_to_dict() -> None:
    """Layer objects are made on first read of .layers; to_dict() must not depend on when."""
    model = gpt2_tiny()
    kw = {"input_size": (1, 8), "dtypes": [torch.long]}
    plain = summarize(model, **kw).to_dict()
    early = summarize(model, **kw)
    layers = early.layers  # made before the MACs are counted
    assert [layer.to_dict() for layer in layers] == plain["layers"]
    assert early.layers is layers  # made once
    assert layers[-1].macs == 8 * 64 * model.config.vocab_size  # reading one runs the pass and fills them all
    late = summarize(model, **kw)
    counted = late.to_dict(macs=True)  # counted from the rows, before any Layer exists
    assert early.to_dict() == counted
    assert [layer.macs for layer in late.layers] == [layer["macs"] for layer in counted["layers"]]
    layers[0].params = -1  # once made, the Layer objects are what to_dict() reports
    assert early.to_dict()["layers"][0]["params"] == -1
    assert repr(late).startswith(f"<Summary of GPT: {len(counted['layers'])} layers")
