"""Models on the meta device and models too big to run: a full summary, MACs and memory.

The expected figures are worked out by hand from the architecture (parameter counts, MACs)
or read from torch itself (the state a real optimizer keeps after a real step).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from zoo import ItemGate, SmallCNN, gpt2_tiny
from zoo_large import LlamaShape, llama

from modelpanel import ModelPanel
from modelpanel.errors import ForwardError, InputError
from modelpanel.summary import summarize


def llama_params(s: LlamaShape) -> int:
    """Embedding + head + per block (q, k, v, o, gate, up, down, two RMSNorms) + final norm."""
    head_dim = s.dim // s.n_heads
    attention = 2 * s.dim * s.dim + 2 * s.dim * s.n_kv_heads * head_dim
    block = attention + 3 * s.dim * s.hidden_dim + 2 * s.dim
    return 2 * s.vocab_size * s.dim + s.n_layers * block + s.dim


def llama_macs(s: LlamaShape, tokens: int) -> int:
    """One MAC per weight element per token for every matmul (the embedding and the norms'
    weights do none), plus attention's two (tokens x tokens x head_dim) products per head
    (causal SDPA is counted whole, as FlopCounterMode does)."""
    matmul_weights = llama_params(s) - s.vocab_size * s.dim - (2 * s.n_layers + 1) * s.dim
    return tokens * matmul_weights + s.n_layers * 2 * s.n_heads * tokens * tokens * (s.dim // s.n_heads)


def test_the_70b_torch_nn_llama_on_meta_sums_up_by_hand() -> None:
    shape = LlamaShape()
    assert llama_params(shape) == 70_553_706_496  # Llama 3 70B's published size
    model = llama(device="meta")
    s = summarize(model, input_size=(1, 128), dtypes=[torch.long])
    assert s.trace == "fake" and s.trace_fallback is None
    assert s.total_params == llama_params(shape) and s.devices == ["meta"]
    assert s.macs == llama_macs(shape, 128)
    assert s.output_shape == [1, 128, shape.vocab_size]
    layer = {x.path: x for x in s.layers}["layers.79.mlp.down_proj"]
    assert layer.input_shape == [[1, 128, shape.hidden_dim]] and layer.macs == 128 * shape.dim * shape.hidden_dim
    assert s.param_bytes == 4 * llama_params(shape)
    # Forward activations: every leaf module's output, float32: the embedding, per block two
    # norms, q, k, v, o, gate, up and down, then the final norm and the head.
    t, d, kv, h = 128, shape.dim, shape.n_kv_heads * (shape.dim // shape.n_heads), shape.hidden_dim
    assert s.activation_bytes == 4 * t * (d + shape.n_layers * (5 * d + 2 * kv + 2 * h) + d + shape.vocab_size)


_RSS_SCRIPT = r"""
import sys
sys.path.insert(0, {support!r})
import torch
from peak_memory import peak_rss_growth
from zoo import gpt2_tiny
from zoo_large import llama
from modelpanel import summarize
summarize(gpt2_tiny(), input_size=(1, 8), dtypes=[torch.long], trace="fake")  # first use: imports
model = llama(device="meta")
grown, s = peak_rss_growth(lambda: summarize(model, input_size=(1, 128), dtypes=[torch.long]))
print(grown, s.trace, s.macs is not None)
"""


def test_the_70b_summary_needs_no_gigabytes() -> None:
    support = str(Path(__file__).resolve().parents[1] / "support")
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT.format(support=support)], capture_output=True,
                         text=True, check=True, timeout=300).stdout.split()  # fmt: skip
    assert out[1:] == ["fake", "True"]
    assert int(out[0]) < 512 * 2**20, f"peak RSS grew by {int(out[0]) / 2**20:.0f} MiB"


def test_transformers_llama_70b_on_meta() -> None:
    transformers = pytest.importorskip("transformers")
    shape = LlamaShape()
    config = transformers.LlamaConfig(
        vocab_size=shape.vocab_size, hidden_size=shape.dim, intermediate_size=shape.hidden_dim,
        num_hidden_layers=shape.n_layers, num_attention_heads=shape.n_heads,
        num_key_value_heads=shape.n_kv_heads, rope_theta=shape.rope_theta, tie_word_embeddings=False,
    )  # fmt: skip
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    s = summarize(model, input_size=(1, 128), dtypes=[torch.long])
    assert s.trace == "fake" and s.trace_fallback is None
    assert s.total_params == model.num_parameters() == llama_params(shape)
    assert s.output_shape["logits"] == [1, 128, shape.vocab_size]
    assert s.macs == llama_macs(shape, 128)  # the same architecture as the torch.nn one


def test_a_meta_model_that_needs_values_is_refused_clearly() -> None:
    with torch.device("meta"):
        model = ItemGate()
    with pytest.raises(ForwardError, match=r"on the meta device cannot be traced: the fake trace failed because "
                       r"aten._local_scalar_dense.default reads a value .*in the root module \(ItemGate\).*"
                       r"cannot be called on meta tensors"):  # fmt: skip
        summarize(model, input_size=(1, 4))


@pytest.mark.parametrize(("optimizer", "options"), [
    ("AdamW", {}), ("Adam", {"amsgrad": True}), ("SGD", {}), ("SGD", {"momentum": 0.9}), ("Adagrad", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True}), ("RMSprop", {}), ("Adadelta", {}), ("NAdam", {}),
    ("Adamax", {}), ("RAdam", {}), ("Rprop", {}), ("ASGD", {}),
])  # fmt: skip
def test_the_training_memory_matches_what_torch_optim_allocates(optimizer, options) -> None:
    torch.manual_seed(0)
    model = SmallCNN()
    model.features[0].requires_grad_(False)  # a frozen layer: no gradient, no state
    estimate = summarize(model, input_size=(8, 1, 28, 28)).memory(optimizer, **options)
    opt = getattr(torch.optim, optimizer)([p for p in model.parameters() if p.requires_grad], **options)
    model(torch.randn(8, 1, 28, 28)).sum().backward()
    opt.step()
    grads = sum(p.grad.nbytes for p in model.parameters() if p.grad is not None)
    states = sum(t.nbytes for st in opt.state.values() for t in st.values() if isinstance(t, torch.Tensor) and t.dim())
    assert (estimate.gradients, estimate.optimizer_states) == (grads, states)
    assert estimate.params == sum(p.nbytes for p in model.parameters())
    assert estimate.buffers == sum(b.nbytes for b in model.buffers())
    assert estimate.training == estimate.inference + grads + states


def test_memory_of_the_70b_model_in_bfloat16_with_adamw() -> None:
    n = llama_params(LlamaShape())
    estimate = summarize(llama(device="meta", dtype=torch.bfloat16), input_size=(1, 128), dtypes=[torch.long]).memory()
    assert (estimate.optimizer, estimate.states_per_param) == ("AdamW", 2)
    assert (estimate.params, estimate.gradients, estimate.optimizer_states) == (2 * n, 2 * n, 4 * n)


def test_memory_refuses_what_it_cannot_estimate() -> None:
    s = summarize(nn.Linear(2, 2), input_size=(1, 2))
    with pytest.raises(InputError, match="not a torch.optim optimizer: use one of .*AdamW"):
        s.memory("Adamw")
    with pytest.raises(InputError, match="LBFGS' keeps a history"):
        s.memory("LBFGS")
    with pytest.raises(InputError, match="Adafactor' keeps factored statistics"):
        s.memory("Adafactor")
    with pytest.raises(InputError, match="could not measure SGD's state"):
        s.memory("SGD", momentum=-1)
    assert s.memory(None).optimizer_states == 0


def test_a_panel_of_a_meta_model_shows_its_macs_at_once() -> None:
    with torch.device("meta"):
        model = gpt2_tiny()
    panel = ModelPanel(model, input_size=(2, 16), dtypes=[torch.long])
    try:
        assert panel.summary.trace == "fake"
        real = summarize(gpt2_tiny(), input_size=(2, 16), dtypes=[torch.long], trace="real")
        assert panel._summary["macs"] == real.macs > 0
        # Tensors without values: every statistic unknown, NaN/Inf counts included.
        weights = panel.weights
        assert len(weights) == len(list(model.parameters())) and all(w["device"] == "meta" for w in weights)
        assert {(w["mean"], w["std"], w["nan"], w["inf"]) for w in weights} == {(None, None, None, None)}
    finally:
        panel.close()
    lazy = ModelPanel(nn.Sequential(nn.LazyLinear(2)))
    assert (lazy.weights[0]["nan"], lazy.weights[0]["inf"]) == (None, None)
    lazy.close()


def test_an_optimizer_outside_torch_optim_is_measured() -> None:
    """A subclass the table does not know: one probe step counts its parameter-sized state."""

    class Heavy(torch.optim.Optimizer):
        def __init__(self, params) -> None:
            super().__init__(params, {})

        def step(self, closure=None) -> None:
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    state.setdefault("a", torch.zeros_like(p))
                    state.setdefault("b", torch.zeros_like(p))
                    state.setdefault("c", torch.zeros_like(p))
                    state["step"] = torch.tensor(1.0)

    model = nn.Linear(4, 3)
    estimate = summarize(model, input_size=(2, 4)).memory(Heavy)
    assert (estimate.optimizer, estimate.states_per_param, estimate.optimizer_states) == ("Heavy", 3, 3 * (12 + 3) * 4)
