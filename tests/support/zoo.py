"""Real torch models for tests, benchmarks and notebooks: import them, do not copy them.

Everything here is built only from ``torch.nn`` so the tests run on a bare CPU install.
Importable both as ``tests.zoo`` and, from a test module under ``tests/``, as ``zoo``.
Keep the signatures stable: other test files and the benchmarks build on them.

>>> from zoo import IrisMLP, gpt2_tiny
>>> sum(p.numel() for p in IrisMLP().parameters())
83
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GPT",
    "GPTConfig",
    "HOSTILE_STRINGS",
    "HostileNames",
    "IrisMLP",
    "SmallCNN",
    "gpt2_small",
    "gpt2_tiny",
    "linear_stack",
]


class IrisMLP(nn.Module):
    """The course's Iris classifier: 4 features -> 10 hidden (ReLU) -> 3 classes, 83 parameters.

    fc1 holds 4×10 + 10 = 50, fc2 holds 10×3 + 3 = 33.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))


class SmallCNN(nn.Module):
    """A small image classifier with BatchNorm and Dropout.

    ``in_channels=1, image_size=28`` is MNIST-shaped; ``in_channels=3, image_size=32`` is
    CIFAR-shaped. The image size must be divisible by 4 (two 2×2 max-pools).
    """

    def __init__(self, in_channels: int = 1, image_size: int = 28, num_classes: int = 10) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(32 * side * side, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def linear_stack(n: int = 2000, width: int = 16) -> nn.Sequential:
    """``nn.Sequential`` of ``n`` ``Linear(width, width)``: many tiny modules, for hook overhead."""
    return nn.Sequential(*(nn.Linear(width, width) for _ in range(n)))


@dataclass(frozen=True)
class GPTConfig:
    """Shape of a GPT-2-like decoder. The defaults are GPT-2 small (124,439,808 parameters)."""

    vocab_size: int = 50257
    block_size: int = 1024
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention through ``F.scaled_dot_product_attention``."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd {config.n_embd} is not divisible by n_head {config.n_head}")
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        # (b, t, c) -> (b, heads, t, head_dim)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class MLP(nn.Module):
    """GPT-2's position-wise feed-forward: d -> 4d (GELU) -> d."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A GPT-2-like language model; ``lm_head.weight`` is tied to ``wte.weight``.

    Input: token ids ``(batch, seq)`` of dtype long, ``seq <= block_size``.
    Output: logits ``(batch, seq, vocab_size)``.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as in GPT-2
        self._init_weights()

    def _init_weights(self) -> None:
        # GPT-2's scheme; also keeps a random tiny model's logits in a sane range.
        for name, p in self.named_parameters():
            if p.device.type == "meta":
                continue
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * self.config.n_layer))
            elif p.dim() >= 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        t = idx.shape[1]
        if t > self.config.block_size:
            raise ValueError(f"sequence length {t} exceeds block_size {self.config.block_size}")
        pos = torch.arange(t, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def gpt2_small(device: str | torch.device | None = None) -> GPT:
    """GPT-2 small (12 layers, 12 heads, d=768, vocab 50257, context 1024): 124,439,808 params.

    ``device="meta"`` builds it without allocating its ~500 MB of weights (counting only).
    """
    with torch.device(device or "cpu"):
        return GPT(GPTConfig())


def gpt2_tiny(
    vocab_size: int = 512, block_size: int = 64, n_layer: int = 2, n_head: int = 4, n_embd: int = 64
) -> GPT:
    """A GPT-2-shaped model small enough for a unit test (about 0.13 M parameters by default)."""
    return GPT(GPTConfig(vocab_size, block_size, n_layer, n_head, n_embd))


#: Strings that break a page if they ever reach the DOM as HTML instead of text.
HOSTILE_STRINGS = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "\"quoted\" 'single' & ampersand &amp; <b>bold</b>",
)

# A class whose __name__ is markup: what a layer's `kind` column would show.
HostileLinear = type(HOSTILE_STRINGS[0], (nn.Linear,), {"__doc__": "A Linear with a hostile name."})


class HostileNames(nn.Module):
    """Children whose names (and one class name) are HTML/JS injection attempts.

    Forward runs the children in order on ``(batch, 4)`` and returns ``(batch, 4)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.add_module(HOSTILE_STRINGS[0], nn.Linear(4, 4))
        self.add_module(HOSTILE_STRINGS[1], HostileLinear(4, 4))
        inner = nn.Sequential()
        inner.add_module(HOSTILE_STRINGS[2], nn.ReLU())
        self.add_module("a&b \"c\" 'd'", inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for child in self.children():
            x = child(x)
        return x


def snapshot_state(model: nn.Module) -> dict:
    """Everything a tool must leave as it found it: modes, hooks, grad mode, devices, tensors.

    Compare with ``assert_state_unchanged(model, snapshot)`` after running the tool.
    """
    from torch.nn.modules import module as module_globals

    return {
        "training": {name: m.training for name, m in model.named_modules()},
        "hooks": {
            name: {
                attr: dict(getattr(m, attr))
                for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                             "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs")
            }
            for name, m in model.named_modules()
        },  # fmt: skip
        "global_hooks": {
            name: dict(getattr(module_globals, name))
            for name in dir(module_globals)
            if name.startswith("_global_") and isinstance(getattr(module_globals, name), dict)
        },
        "grad_enabled": torch.is_grad_enabled(),
        "tensors": {
            name: (t.device, t.dtype, t.requires_grad, t.detach().clone())
            for name, t in [*model.named_parameters(), *model.named_buffers()]
            if t.device.type != "meta"
        },
        "param_ids": [id(p) for p in model.parameters()],
    }


def assert_state_unchanged(model: nn.Module, before: dict) -> None:
    """Fail, naming what changed, if ``model`` differs from ``snapshot_state``'s record."""
    after = snapshot_state(model)
    assert after["training"] == before["training"], "train/eval flags changed"
    assert after["hooks"] == before["hooks"], "module hooks were added or removed"
    assert after["global_hooks"] == before["global_hooks"], "global module hooks left behind"
    assert after["grad_enabled"] == before["grad_enabled"], "grad mode changed"
    assert after["param_ids"] == before["param_ids"], "parameters were replaced"
    assert after["tensors"].keys() == before["tensors"].keys(), "parameters/buffers added or removed"
    for name, (device, dtype, grad, value) in before["tensors"].items():
        a_device, a_dtype, a_grad, a_value = after["tensors"][name]
        assert (a_device, a_dtype, a_grad) == (device, dtype, grad), f"{name}: device/dtype/grad changed"
        assert torch.equal(a_value, value), f"{name}: values changed (BatchNorm statistics?)"


# -- parameters that are not plain materialised floats (issue 11, item 2) -------------------------


def quantized_mlp(seed: int = 0) -> nn.Module:
    """A 4 -> 8 -> 3 MLP (fc1, relu, fc2) after ``quantize_dynamic(..., {nn.Linear}, torch.qint8)``.

    ``parameters()`` yields nothing: the weights are packed (``fc1.weight()`` is qint8, ``fc1.bias()``
    float32); 4*8 + 8 + 8*3 + 3 = 67 elements in all.
    """
    import warnings

    torch.manual_seed(seed)
    mlp = nn.Sequential()
    mlp.add_module("fc1", nn.Linear(4, 8))
    mlp.add_module("relu", nn.ReLU())
    mlp.add_module("fc2", nn.Linear(8, 3))
    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(mlp, {nn.Linear}, dtype=torch.qint8)


def static_quantized_cnn(seed: int = 0) -> nn.Module:
    """Eager-mode static int8 quantization (fbgemm/x86) of quant -> conv 1->2 3x3 -> relu ->
    flatten -> fc 8->3 -> dequant, calibrated on 16 seeded 1x1x4x4 inputs; takes (n, 1, 4, 4).

    ``conv`` is ``torch.ao.nn.quantized.Conv2d`` (2*1*3*3 + 2 = 20 elements), ``fc`` is
    ``torch.ao.nn.quantized.Linear`` (8*3 + 3 = 27, per-channel weights).
    """
    import warnings

    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao import quantization as tq

        model = nn.Sequential()
        for name, module in (("quant", tq.QuantStub()), ("conv", nn.Conv2d(1, 2, 3)), ("relu", nn.ReLU()),
                             ("flatten", nn.Flatten()), ("fc", nn.Linear(8, 3)), ("dequant", tq.DeQuantStub())):
            model.add_module(name, module)
        model.eval()
        model.qconfig = tq.get_default_qconfig("x86")
        tq.prepare(model, inplace=True)
        model(torch.randn(16, 1, 4, 4))
        tq.convert(model, inplace=True)
    return model


class AuxHeadNet(nn.Module):
    """A classifier with a train-only auxiliary head, like Inception's ``AuxLogits`` and
    GoogLeNet's ``aux1``: in train mode forward returns ``(logits, aux_logits)``, in eval mode
    ``logits`` only. ``(batch, 8)`` -> ``(batch, 3)`` (and ``(batch, 3)``).

    ``body`` holds a BatchNorm1d (running statistics a train-mode pass would update) and a
    Dropout (masks a train-mode pass draws from the global RNG).
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5))
        self.head = nn.Linear(16, 3)
        self.aux_logits = nn.Sequential(nn.Linear(16, 4), nn.ReLU(), nn.Linear(4, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        if self.training:
            return self.head(h), self.aux_logits(h)
        return self.head(h)


def nested_sequential(depth: int, width: int = 2) -> nn.Module:
    """``Linear(width, width)`` wrapped in ``depth`` nested ``nn.Sequential``s: one module per
    level, paths ``0``, ``0.0``, ... ; ``(batch, width)`` -> ``(batch, width)``.

    A bare forward costs about four stack frames per level, so the deepest that runs is a
    quarter of ``sys.getrecursionlimit()`` (minus the caller's frames).
    """
    model: nn.Module = nn.Linear(width, width)
    for _ in range(depth):
        model = nn.Sequential(model)
    return model


# -- fake tracing (issue 13); the large models are in zoo_large.py ------------------------------


class ItemGate(nn.Module):
    """Python control flow on a tensor's value (``if x.sum() > 0``): a real trace only."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return h * 2 if h.sum() > 0 else h
