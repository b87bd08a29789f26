"""Where the fake trace cannot run: "auto" falls back to the real forward and says why.

Each kind of failure has its members; for each, ``trace="auto"`` (with the size rule set to
try fake on anything) gives the real trace's summary, ``Summary.trace_fallback`` names the op
and the module, and ``trace="fake"`` raises ForwardError with the same reason.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo import (
    IrisMLP,
    ItemGate,
    assert_state_unchanged,
    snapshot_state,
    static_quantized_cnn,
)

from modelpanel.errors import ForwardError
from modelpanel.summary import summarize
from modelpanel.summary import trace as trace_module

_GLOBAL = torch.ones(4)


class MaskSelect(nn.Module):
    """Boolean-mask indexing (``h[h > 0]``): an output shape that depends on values."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return h[h > 0]


class _Apply(nn.Module):
    """``fn(fc(x))`` with a Linear(4, 4) in front, so the failing op is inside a real model."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.fc(x))


class _NumpyTwice(torch.autograd.Function):
    """A custom autograd Function whose forward goes through numpy (no values under fake)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(x.numpy() * 2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad * 2


@torch.library.custom_op("modelpanel_test::twice", mutates_args=())
def _twice(x: torch.Tensor) -> torch.Tensor:
    return x * 2


_LIB = torch.library.Library("modelpanel_test_old", "DEF")  # an op with a CPU kernel only
_LIB.define("thrice(Tensor x) -> Tensor")
_LIB.impl("thrice", lambda x: x * 3, "CPU")


class _Wrapped(nn.Module):
    """A child module holding the failing op, so the reason names a nested path."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.block = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


# (id, model factory, input size, what the reason must say, module path it must name)
KINDS = [
    # Output shapes that depend on values.
    ("bool_mask", MaskSelect, (2, 4), "aten.nonzero.default has an output shape that depends on values", "the root module (MaskSelect)"),
    ("unique", lambda: _Wrapped(_Apply(torch.unique)), (2, 4), "aten._unique2.default has an output shape that depends on values", "module 'block' (_Apply)"),
    ("repeat_interleave", lambda: _Apply(lambda h: torch.repeat_interleave(h.flatten(), h.flatten().abs().long())), (2, 4), "aten.repeat_interleave.Tensor has an output shape", "the root module (_Apply)"),
    # Values read in Python.
    ("python_if", ItemGate, (2, 4), "aten._local_scalar_dense.default reads a value", "the root module (ItemGate)"),
    ("item", lambda: _Wrapped(_Apply(lambda h: h * h.max().item())), (2, 4), "aten._local_scalar_dense.default reads a value", "module 'block' (_Apply)"),
    ("tolist", lambda: _Apply(lambda h: h + torch.tensor(h[0].tolist())), (2, 4), "aten._local_scalar_dense.default reads a value", "the root module (_Apply)"),
    ("quantize_stub", static_quantized_cnn, (2, 1, 4, 4), "aten._local_scalar_dense.default reads a value", "module 'quant' (Quantize)"),
    # Ops without a fake kernel.
    ("custom_op", lambda: _Apply(_twice), (2, 4), "custom op modelpanel_test::twice has no fake kernel", "the root module (_Apply)"),
    ("library_op", lambda: _Wrapped(_Apply(torch.ops.modelpanel_test_old.thrice)), (2, 4), "modelpanel_test_old.thrice.default has no fake-tensor kernel", "module 'block' (_Apply)"),
    # Custom autograd Functions that need values.
    ("autograd_function_numpy", lambda: _Apply(_NumpyTwice.apply), (2, 4), ".numpy() is not supported for tensor subclasses", "the root module (_Apply)"),
    # Real tensors the swap to fakes cannot reach.
    ("global_tensor", lambda: _Apply(lambda h: h + _GLOBAL), (2, 4), "aten.add.Tensor got a real tensor that is no parameter, buffer or tensor attribute", "the root module (_Apply)"),
    # Modules the fake trace does not take at all.
    ("torchscript", lambda: torch.jit.script(IrisMLP()), (2, 4), "TorchScript keeps its tensors in C++", "the root module (RecursiveScriptModule)"),
]  # fmt: skip


@pytest.fixture
def try_fake_on_anything(monkeypatch) -> None:
    """The size rule set to 0: "auto" tries the fake trace first on these small models."""
    monkeypatch.setattr(trace_module, "FAKE_FROM_WORK", 0)


@pytest.mark.parametrize(("make", "size", "reason", "where"), [k[1:] for k in KINDS], ids=[k[0] for k in KINDS])
@pytest.mark.usefixtures("try_fake_on_anything")
def test_auto_falls_back_to_real_and_says_why(make, size, reason, where) -> None:
    torch.manual_seed(0)
    model = make()
    with pytest.raises(ForwardError, match="trace='fake' cannot run this model") as raised:
        summarize(model, input_size=size, trace="fake")
    assert reason in str(raised.value) and where in str(raised.value)
    before = snapshot_state(model)
    auto = summarize(model, input_size=size)
    assert_state_unchanged(model, before)
    assert auto.trace == "real"
    assert reason in auto.trace_fallback and auto.trace_fallback.endswith(where)
    assert "\n" not in auto.trace_fallback
    real = summarize(model, input_size=size, trace="real")
    assert real.trace_fallback is None
    assert [layer.to_dict() for layer in auto.layers] == [layer.to_dict() for layer in real.layers]
    assert auto.output_shape == real.output_shape is not None


def test_a_model_broken_for_both_traces_raises_the_real_error(try_fake_on_anything) -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2))  # 3 features into a Linear(5, 2)
    with pytest.raises(ForwardError, match=r"module '1' \(Linear\).*mat1 and mat2 shapes cannot be multiplied"):
        summarize(model, input_size=(2, 4))


def test_a_lazy_model_is_traced_real_and_materialised_as_documented(try_fake_on_anything) -> None:
    with pytest.raises(ForwardError, match=r"a lazy module materialises on its first forward, in module '0' \(LazyLinear\)"):
        summarize(nn.Sequential(nn.LazyLinear(3)), input_size=(2, 4), trace="fake")
    model = nn.Sequential(nn.LazyLinear(3))
    auto = summarize(model, input_size=(2, 4))
    assert auto.trace == "real"
    assert auto.trace_fallback == "a lazy module materialises on its first forward, in module '0' (LazyLinear)"
    assert model[0].weight.shape == (3, 4) and auto.total_params == 3 * 4 + 3


@pytest.mark.cuda
def test_a_device_that_moves_the_model_is_traced_real(try_fake_on_anything) -> None:
    model = IrisMLP()
    s = summarize(model, input_size=(2, 4), device="cuda")
    assert s.trace == "real" and s.trace_fallback.startswith("device= moves the model from cpu to cuda")
    assert next(model.parameters()).device.type == "cpu"


def test_an_input_the_fake_trace_cannot_reach_is_traced_real(try_fake_on_anything) -> None:
    """A tensor inside an object pytree does not know (here a plain class) stays real."""

    class Box:
        def __init__(self, x: torch.Tensor) -> None:
            self.x = x

    class Unbox(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, box: Box) -> torch.Tensor:
            return self.fc(box.x)

    s = summarize(Unbox(), input_data=[Box(torch.randn(3, 4))])
    assert s.trace == "real" and s.output_shape == [3, 2]
    assert s.trace_fallback == ("aten.addmm.default got a real tensor that is no parameter, buffer or tensor "
                                "attribute of a module nor in the input's lists, tuples and dicts, in module 'fc' (Linear)")


class _TokenModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb, self.fc = nn.Embedding(100, 8), nn.Linear(8, 4)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(ids))


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("trace", ["auto", "fake"])
def test_a_wrong_input_gets_the_models_own_message_whatever_the_trace(device, trace) -> None:
    """Float token ids fail in the Embedding with and without values: that is the user's input,
    not a limit of the fake trace, so the message is the forward's own, with its fix."""
    with torch.device(device):
        model = _TokenModel()
    with pytest.raises(ForwardError, match=r"module 'emb' \(Embedding\).*pass dtypes=\[torch.long\]") as raised:
        summarize(model, input_size=(1, 16), trace=trace)
    assert raised.value.module_path == "emb"
    assert "cannot be traced" not in str(raised.value) and "cannot run this model" not in str(raised.value)
    s = summarize(model, input_size=(1, 16), dtypes=[torch.long], trace=trace)
    assert s.output_shape == [1, 16, 4] and s.macs == 16 * 8 * 4  # by hand: the Linear on 16 tokens
