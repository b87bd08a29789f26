"""summarize(trace="fake") against trace="real" on the whole zoo, the model left as it was.

The fake trace must give what the real forward gives: same layers (paths, kinds, shapes,
calls, parameter counts, statuses), same MACs per layer and in total, same bytes. The
expected values are the real trace's, run on the same model in the same test.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn
from zoo import (
    AuxHeadNet,
    HostileNames,
    IrisMLP,
    SmallCNN,
    assert_state_unchanged,
    gpt2_tiny,
    linear_stack,
    nested_sequential,
    quantized_mlp,
    snapshot_state,
)
from zoo_large import LlamaShape, llama, resnet50

from modelpanel.errors import InputError
from modelpanel.summary import summarize
from modelpanel.summary import trace as trace_module


class SeenCounter(nn.Module):
    """Counts its calls in a buffer, in place (``self.seen += 1``), and in a plain tensor
    attribute (``self.calls``), around a Linear(4, 4) and a BatchNorm1d(4)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))
        self.calls = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen += 1
        self.calls.add_(1)
        return self.bn(self.fc(x))


def _mlp_with(wrap) -> nn.Module:
    """Linear(4, 4) -> ReLU -> Linear(4, 2) with ``wrap(model)`` applied (a parametrization)."""
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    with warnings.catch_warnings():  # torch.nn.utils.weight_norm's deprecation notice
        warnings.simplefilter("ignore", FutureWarning)
        wrap(model)
    return model


_TINY_LLAMA = LlamaShape(vocab_size=96, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=64)

# (id, model factory, summarize kwargs): every zoo model, in the modes that run other code.
ZOO = [
    ("iris", IrisMLP, {"input_size": (3, 4)}),
    ("small_cnn", SmallCNN, {"input_size": (2, 1, 28, 28)}),
    ("small_cnn_train", SmallCNN, {"input_size": (2, 1, 28, 28), "mode": "train"}),
    ("cifar_cnn", lambda: SmallCNN(3, 32), {"input_size": (2, 3, 32, 32)}),
    ("linear_stack", lambda: linear_stack(50), {"input_size": (2, 16)}),
    ("gpt2_tiny", gpt2_tiny, {"input_size": (2, 16), "dtypes": [torch.long]}),
    ("gpt2_tiny_train", gpt2_tiny, {"input_size": (2, 16), "dtypes": [torch.long], "mode": "train"}),
    ("hostile_names", HostileNames, {"input_size": (2, 4)}),
    ("aux_head_eval", AuxHeadNet, {"input_size": (2, 8)}),
    ("aux_head_train", AuxHeadNet, {"input_size": (2, 8), "mode": "train"}),
    ("nested_sequential", lambda: nested_sequential(30), {"input_size": (2, 2)}),
    ("quantized_mlp", quantized_mlp, {"input_size": (2, 4)}),
    ("llama_tiny", lambda: llama(_TINY_LLAMA), {"input_size": (2, 8), "dtypes": [torch.long]}),
    ("resnet50", resnet50, {"input_size": (2, 3, 64, 64)}),
    ("resnet50_train", resnet50, {"input_size": (2, 3, 64, 64), "mode": "train"}),
    ("seen_counter_train", SeenCounter, {"input_size": (3, 4), "mode": "train"}),
    ("input_data_kwargs", IrisMLP, {"input_data": {"x": torch.randn(2, 4)}}),
    ("half", lambda: nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2)).to(torch.bfloat16),
     {"input_size": (2, 4)}),
    ("lstm", lambda: nn.LSTM(4, 8, num_layers=2, batch_first=True), {"input_size": (2, 5, 4)}),
    # Weights computed from others: parametrizations, and the old hook-based forms (whose
    # computed weight is a plain tensor attribute), spectral norm's power iteration in train mode.
    ("orthogonal", lambda: _mlp_with(lambda m: nn.utils.parametrizations.orthogonal(m[0])), {"input_size": (3, 4)}),
    ("spectral_norm_train", lambda: _mlp_with(lambda m: nn.utils.parametrizations.spectral_norm(m[2])),
     {"input_size": (3, 4), "mode": "train"}),
    ("old_weight_norm", lambda: _mlp_with(lambda m: nn.utils.weight_norm(m[0])), {"input_size": (3, 4)}),
    ("old_spectral_norm_train", lambda: _mlp_with(lambda m: nn.utils.spectral_norm(m[2])),
     {"input_size": (3, 4), "mode": "train"}),
    ("transformer_encoder",
     lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2,
                                   enable_nested_tensor=False),
     {"input_size": (2, 5, 16)}),
]  # fmt: skip


def _facts(summary) -> dict:
    macs = summary.macs  # (first: the real trace counts them now, into every layer)
    return {
        "layers": [layer.to_dict() for layer in summary.layers],
        "macs": macs,
        "macs_excluded": summary.macs_excluded,
        "totals": {k: v for k, v in summary.totals().items() if k not in ("macs", "trace")},
        "output_shape": summary.output_shape,
    }


@pytest.mark.parametrize(("make", "kwargs"), [z[1:] for z in ZOO], ids=[z[0] for z in ZOO])
def test_fake_and_real_agree_on_the_zoo(make, kwargs) -> None:
    torch.manual_seed(0)
    model = make()
    before = snapshot_state(model)
    rng = torch.get_rng_state()
    fake = summarize(model, **kwargs, trace="fake")
    assert torch.equal(torch.get_rng_state(), rng)  # the global random state as it was (train-mode Dropout)
    assert fake.trace == "fake" and fake.trace_fallback is None
    assert fake.macs_counted  # counted in the same pass: no second forward needed
    assert_state_unchanged(model, before)
    real = summarize(model, **kwargs, trace="real")
    assert real.trace == "real" and not real.macs_counted
    assert_state_unchanged(model, before)
    assert _facts(fake) == _facts(real)
    assert any(layer.output_shape is not None for layer in fake.layers) or not fake.layers


def test_the_fake_pass_writes_no_real_buffer_or_attribute_in_train_mode() -> None:
    model = SeenCounter()
    before = snapshot_state(model)
    calls_before = model.calls.clone()
    rng = torch.get_rng_state()
    with torch.enable_grad():
        summary = summarize(model, input_size=(3, 4), mode="train", trace="fake")
        assert torch.is_grad_enabled()
    assert summary.trace == "fake"
    assert_state_unchanged(model, before)  # seen, BatchNorm running stats, num_batches_tracked
    assert torch.equal(model.calls, calls_before)  # the plain tensor attribute too
    assert type(model.calls) is torch.Tensor and type(model.fc.weight) is nn.Parameter
    assert torch.equal(torch.get_rng_state(), rng)
    # The real model still runs and updates its own statistics as before.
    model.train()
    model(torch.randn(3, 4))
    assert int(model.seen) == 1 and int(model.bn.num_batches_tracked) == 1


def test_trace_is_none_without_input_and_bad_values_are_refused() -> None:
    summary = summarize(IrisMLP())
    assert summary.trace is None and summary.trace_fallback is None
    for bad in ("FAKE", "meta", None, 1):
        with pytest.raises(InputError, match="trace=.*'auto'.*'fake'.*'real'"):
            summarize(IrisMLP(), input_size=(1, 4), trace=bad)


def test_auto_takes_real_for_small_models_and_fake_for_large_work(monkeypatch) -> None:
    # The rule's inputs, computed by hand: IrisMLP has 83 elements over 4 modules, input 4.
    assert summarize(IrisMLP(), input_size=(1, 4)).trace == "real"  # 83 / 4 * 4 = 83
    # SmallCNN(3, 32) at batch 64: 136,970 elements / 16 modules * 196,608 = 1.7e9.
    assert summarize(SmallCNN(3, 32), input_size=(64, 3, 32, 32)).trace == "fake"
    monkeypatch.setattr(trace_module, "FAKE_FROM_WORK", 83)
    assert summarize(IrisMLP(), input_size=(1, 4)).trace == "fake"
    monkeypatch.setattr(trace_module, "FAKE_FROM_WORK", 84)
    assert summarize(IrisMLP(), input_size=(1, 4)).trace == "real"


_PEAK_SCRIPT = r"""
import sys
sys.path.insert(0, {support!r})
import torch
from peak_memory import peak_rss_growth
from zoo import gpt2_small, gpt2_tiny
from modelpanel import summarize
torch.set_num_threads(1)
summarize(gpt2_tiny(), input_size=(1, 8), dtypes=[torch.long], trace="fake")  # first use: imports
model = gpt2_small()
size = sum(t.nbytes for t in {{id(t): t for t in [*model.parameters(), *model.buffers()]}}.values())
grown, s = peak_rss_growth(lambda: summarize(model, input_size=(1, 512), dtypes=[torch.long], trace="fake"))
real, _ = peak_rss_growth(lambda: summarize(model, input_size=(1, 512), dtypes=[torch.long], trace="real"))
print(size, grown, s.trace, s.activation_bytes, real)
"""


def test_a_fake_summary_of_gpt2_small_allocates_next_to_nothing() -> None:
    """Peak RSS (a fresh process, after the one-off imports) grows by < 5% of the model's bytes,
    where the real trace at 512 tokens allocates ~100 MB of logits alone (checked too: the
    measurement sees allocations)."""
    support = str(Path(__file__).resolve().parents[1] / "support")
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT.format(support=support)], capture_output=True,
                         text=True, check=True, timeout=300).stdout.split()  # fmt: skip
    size, grown, trace, activations, real = int(out[0]), int(out[1]), out[2], int(out[3]), int(out[4])
    assert trace == "fake"
    assert size == 124_439_808 * 4  # GPT-2 small's parameters (tied once), float32
    assert activations > size / 5  # what a real forward would have held
    assert grown < 0.05 * size, f"peak RSS grew by {grown / 2**20:.1f} MiB"
    assert real > 50 * 2**20, f"the real trace's peak grew by only {real / 2**20:.1f} MiB"
