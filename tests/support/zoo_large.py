"""Large real torch models for the fake trace and the meta device (issue 13): a Llama-shaped
decoder (Llama 3 70B by default) and ResNet-50, built from torch.nn. Import them, do not copy them.

>>> from zoo_large import llama, resnet50
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# -- models too big to run here: built on the meta device, or traced fake (issue 13) --------------------------------------------


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
