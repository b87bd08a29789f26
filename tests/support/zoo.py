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


# -- fake tracing and models too big to run (issue 13) --------------------------------------------


@dataclass(frozen=True)
class LlamaShape:
    """Shape of a Llama-like decoder. The defaults are Llama 3 70B (70,553,706,496 parameters):
    embedding 128256 x 8192, 80 blocks of attention (q, o: 8192 x 8192; k, v: 1024 x 8192, 8
    key/value heads of 64 queries' 128) and a SwiGLU MLP (8192 <-> 28672), RMSNorms, an untied head.
    """

    vocab_size: int = 128256
    dim: int = 8192
    n_layers: int = 80
    n_heads: int = 64
    n_kv_heads: int = 8
    hidden_dim: int = 28672
    rope_theta: float = 500000.0


class LlamaAttention(nn.Module):
    """Grouped-query attention with rotary position embeddings, no biases."""

    def __init__(self, shape: LlamaShape) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = shape.n_heads, shape.n_kv_heads, shape.dim // shape.n_heads
        self.q_proj = nn.Linear(shape.dim, shape.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(shape.dim, shape.n_kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(shape.dim, shape.n_kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(shape.n_heads * self.head_dim, shape.dim, bias=False)
        half = torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim
        self.register_buffer("inv_freq", 1.0 / shape.rope_theta**half, persistent=False)

    def rotate(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.arange(x.shape[2], device=x.device, dtype=torch.float32)
        freqs = torch.outer(t, self.inv_freq)
        cos, sin = freqs.cos().to(x.dtype), freqs.sin().to(x.dtype)
        x1, x2 = x[..., ::2], x[..., 1::2]
        return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        y = F.scaled_dot_product_attention(self.rotate(q), self.rotate(k), v, is_causal=True, enable_gqa=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class LlamaMLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, shape: LlamaShape) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(shape.dim, shape.hidden_dim, bias=False)
        self.up_proj = nn.Linear(shape.dim, shape.hidden_dim, bias=False)
        self.down_proj = nn.Linear(shape.hidden_dim, shape.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaBlock(nn.Module):
    def __init__(self, shape: LlamaShape) -> None:
        super().__init__()
        self.input_layernorm = nn.RMSNorm(shape.dim, eps=1e-5)
        self.self_attn = LlamaAttention(shape)
        self.post_attention_layernorm = nn.RMSNorm(shape.dim, eps=1e-5)
        self.mlp = LlamaMLP(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    """A Llama-like causal language model from torch.nn: token ids ``(batch, seq)`` -> logits
    ``(batch, seq, vocab_size)``. Build a big one on the meta device: ``llama(device="meta")``."""

    def __init__(self, shape: LlamaShape) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(shape.vocab_size, shape.dim)
        self.layers = nn.ModuleList(LlamaBlock(shape) for _ in range(shape.n_layers))
        self.norm = nn.RMSNorm(shape.dim, eps=1e-5)
        self.lm_head = nn.Linear(shape.dim, shape.vocab_size, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed_tokens(idx)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))


def llama(shape: LlamaShape | None = None, device: str | torch.device | None = None,
          dtype: torch.dtype | None = None) -> Llama:
    """``Llama(shape or LlamaShape())`` built under ``torch.device(device)`` (``"meta"``: no memory)."""
    with torch.device(device or "cpu"):
        model = Llama(shape or LlamaShape())
    return model if dtype is None else model.to(dtype)


class ItemGate(nn.Module):
    """Python control flow on a tensor's value (``if x.sum() > 0``): a real trace only."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return h * 2 if h.sum() > 0 else h


class Bottleneck(nn.Module):
    """ResNet's bottleneck block: 1x1 -> 3x3 (stride) -> 1x1 (x4 channels), BatchNorm after each,
    plus the shortcut (a strided 1x1 conv + BatchNorm where the shape changes)."""

    def __init__(self, in_ch: int, mid: int, stride: int = 1) -> None:
        super().__init__()
        out = 4 * mid
        self.conv1, self.bn1 = nn.Conv2d(in_ch, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, out, 1, bias=False), nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            nn.Sequential(nn.Conv2d(in_ch, out, 1, stride, bias=False), nn.BatchNorm2d(out))
            if stride != 1 or in_ch != out else None
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


def resnet50(num_classes: int = 1000) -> nn.Sequential:
    """A ResNet-50 from torch.nn, laid out as torchvision's (25,557,032 parameters at 1000
    classes): stem, four stages of 3, 4, 6, 3 bottlenecks, global average pool, Linear.
    Takes ``(batch, 3, H, W)`` images, H and W >= 32."""
    stages: list[nn.Module] = []
    in_ch = 64
    for i, (blocks, mid) in enumerate(((3, 64), (4, 128), (6, 256), (3, 512))):
        stage = []
        for j in range(blocks):
            stage.append(Bottleneck(in_ch, mid, 2 if j == 0 and i > 0 else 1))
            in_ch = 4 * mid
        stages.append(nn.Sequential(*stage))
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1),
        *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, num_classes),
    )  # fmt: skip
