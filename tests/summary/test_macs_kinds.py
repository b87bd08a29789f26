"""MACs of work torch's FLOP counter has no formula for, and the ops the count leaves out.

Expected values are computed here, outside modelpanel: the RNN family from the equations in
torch's nn.RNN / nn.LSTM / nn.GRU docs (per time step, batch row, layer and direction: one
``W_i* x`` and one ``W_h* h`` matmul per gate, 4 gates for LSTM, 3 for GRU, 1 for RNN; with
``proj_size`` the recurrent matmul reads ``proj_size`` features and ``W_hr`` adds
``hidden x proj_size``; layer 0 reads ``input_size``, later layers ``directions x (proj_size or
hidden)``), cross-checked against the model's own weight shapes and, where torch's decomposed
path runs (float64), against FlopCounterMode itself; linear and convolution layers from their
shapes and from the float model's count; single ops from their operands' shapes.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils.flop_counter import FlopCounterMode
from zoo import IrisMLP, assert_state_unchanged, snapshot_state

from modelpanel.summary import mac_formulas, summarize

tq = torch.ao.quantization
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


@pytest.fixture(autouse=True)
def _seed() -> Any:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        # torch's own notes: "LSTM with projections is not supported with oneDNN", and the
        # deprecation of torch.ao.quantization in favour of torchao.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def rnn_macs_by_hand(kind: str, input_size: int, hidden: int, num_layers: int, bidirectional: bool,
                     proj_size: int, rows: int) -> int:  # fmt: skip
    """The docs' equations, per (time step, batch row): see the module docstring."""
    gates, directions = GATES[kind], 2 if bidirectional else 1
    out = proj_size or hidden
    macs = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * out
        per_direction = gates * hidden * layer_input + gates * hidden * out + hidden * proj_size
        macs += directions * per_direction
    return rows * macs


def weight_elements(model: nn.Module) -> int:
    """Each element of a weight matrix (``weight_ih``, ``weight_hh``, ``weight_hr``) is one MAC per row."""
    return sum(p.numel() for name, p in model.named_parameters() if name.rpartition(".")[2].startswith("weight"))


class Wrap(nn.Module):
    """A container, so ``quantize_dynamic`` (which swaps children, never the root) reaches the module."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, *args: Any) -> Any:
        return self.inner(*args)


RNN_KINDS = [("LSTM", {}), ("LSTM", {"proj_size": 5}), ("GRU", {}), ("RNN", {"nonlinearity": "tanh"}),
             ("RNN", {"nonlinearity": "relu"})]  # fmt: skip
SHAPES = [(1, False, False), (2, True, False), (3, False, True), (2, True, True)]  # layers, bidirectional, batch_first


@pytest.mark.parametrize(("kind", "extra"), RNN_KINDS, ids=lambda v: str(v))
@pytest.mark.parametrize(("num_layers", "bidirectional", "batch_first"), SHAPES)
def test_rnn_family_by_hand_in_every_dtype(kind: str, extra: dict, num_layers: int, bidirectional: bool,
                                           batch_first: bool) -> None:  # fmt: skip
    steps, batch, input_size, hidden = 5, 3, 8, 16
    want = rnn_macs_by_hand(kind, input_size, hidden, num_layers, bidirectional, extra.get("proj_size", 0),
                            steps * batch)  # fmt: skip
    shape = (batch, steps, input_size) if batch_first else (steps, batch, input_size)
    for dtype in (torch.float32, torch.float64, torch.bfloat16):  # float32/bf16 LSTM: oneDNN's fused kernel
        model = getattr(nn, kind)(input_size, hidden, num_layers=num_layers, bidirectional=bidirectional,
                                  batch_first=batch_first, **extra).to(dtype)  # fmt: skip
        assert steps * batch * weight_elements(model) == want  # the docs and the weights agree
        s = summarize(model, input_size=shape)
        assert (s.macs, s.macs_excluded) == (want, []), dtype


def test_the_issue_example_and_where_torch_counts_right_it_agrees() -> None:
    lstm = nn.LSTM(8, 16)  # float32 on CPU: aten.mkldnn_rnn_layer
    assert summarize(lstm, input_size=(5, 1, 8)).macs == 5 * 1 * 4 * (8 * 16 + 16 * 16) == 7_680
    # float64 runs decomposed addmm's that FlopCounterMode counts on its own.
    model = nn.LSTM(8, 16, num_layers=2, bidirectional=True).double()
    x = torch.randn(5, 3, 8, dtype=torch.float64)
    with torch.no_grad(), FlopCounterMode(display=False) as plain:
        model(x)
    s32 = summarize(model.float(), input_data=x.float())
    assert s32.macs == plain.get_total_flops() // 2 == rnn_macs_by_hand("LSTM", 8, 16, 2, True, 0, 15)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_count_only_the_real_steps(kind: str, enforce_sorted: bool) -> None:
    lengths = [5, 3, 2] if enforce_sorted else [2, 5, 3]
    model = getattr(nn, kind)(8, 16, num_layers=2, bidirectional=True)
    padded = torch.randn(5, 3, 8)
    for dtype in (torch.float32, torch.float64):
        model = model.to(dtype)
        packed = pack_padded_sequence(padded.to(dtype), lengths, enforce_sorted=enforce_sorted)
        s = summarize(model, input_data=(packed,))
        assert s.macs == rnn_macs_by_hand(kind, 8, 16, 2, True, 0, sum(lengths)) == 10 * weight_elements(model)


class Tagger(nn.Module):
    """Embedding -> LSTM -> Linear, the usual sequence tagger."""

    def __init__(self) -> None:
        super().__init__()
        self.embed, self.lstm, self.head = nn.Embedding(50, 8), nn.LSTM(8, 16, batch_first=True), nn.Linear(16, 4)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(self.embed(ids))[0])


def test_rnn_work_lands_on_its_row_and_the_model_is_left_as_it_was() -> None:
    model = Tagger()
    model.train()
    before = snapshot_state(model)
    s = summarize(model, input_data=torch.randint(0, 50, (2, 7)))
    macs = {layer.path: layer.macs for layer in s.layers}
    assert_state_unchanged(model, before)
    lstm, head = rnn_macs_by_hand("LSTM", 8, 16, 1, False, 0, 14), 14 * 16 * 4
    assert (macs["embed"], macs["lstm"], macs["head"], s.macs) == (0, lstm, head, lstm + head)


@pytest.mark.parametrize(("mode", "kind"), [(0, "RNN"), (1, "RNN"), (2, "LSTM"), (3, "GRU")])
def test_cudnn_and_miopen_formulas_from_their_schemas(mode: int, kind: str) -> None:
    # Their kernels run only on GPUs: the formulas are called as FlopCounterMode calls them.
    cudnn, miopen = mac_formulas.FORMULAS["aten._cudnn_rnn"], mac_formulas.FORMULAS["aten.miopen_rnn"]
    for shape, proj, layers, bidirectional in itertools.product([(5, 3, 8), (10, 8)], [0, 5], [1, 3], [False, True]):
        if proj and kind != "LSTM":
            continue
        rows = 15 if len(shape) == 3 else 10  # (T, B, I) or packed (sum of lengths, I)
        want = 2 * rnn_macs_by_hand(kind, 8, 16, layers, bidirectional, proj, rows)
        got = cudnn(torch.Size(shape), [], 4, None, torch.Size([1, 3, 16]), None, mode, 16, proj, layers, False,
                    0.0, False, bidirectional, [], None, out_shape=None)  # fmt: skip
        assert got == want
        if not proj:
            got = miopen(torch.Size(shape), [], 4, torch.Size([1, 3, 16]), None, mode, 16, layers, False, 0.0,
                         False, bidirectional, [], None, out_shape=None)  # fmt: skip
            assert got == want


@pytest.mark.cuda
@pytest.mark.parametrize(("kind", "extra"), RNN_KINDS, ids=lambda v: str(v))
def test_cudnn_rnn_by_hand(kind: str, extra: dict) -> None:
    model = getattr(nn, kind)(8, 16, num_layers=2, bidirectional=True, **extra).cuda()
    packed = pack_padded_sequence(torch.randn(5, 3, 8, device="cuda"), [5, 3, 2])
    for x, rows in ((torch.randn(5, 3, 8, device="cuda"), 15), (packed, 10)):
        s = summarize(model, input_data=(x,))
        assert (s.macs, s.macs_excluded) == (rnn_macs_by_hand(kind, 8, 16, 2, True, extra.get("proj_size", 0), rows), [])


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval()


@pytest.mark.parametrize("dtype", [torch.qint8, torch.float16])
def test_dynamic_quantized_mlp(dtype: torch.dtype) -> None:
    model = tq.quantize_dynamic(mlp(), {nn.Linear}, dtype=dtype)
    s = summarize(model, input_size=(2, 4))
    assert (s.macs, s.macs_excluded) == (2 * (4 * 8 + 8 * 3), [])
    assert [layer.macs for layer in s.layers if layer.path in ("0", "2")] == [2 * 4 * 8, 2 * 8 * 3]


@pytest.mark.parametrize("dtype", [torch.qint8, torch.float16])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_dynamic_quantized_rnns_and_cells(dtype: torch.dtype, kind: str) -> None:
    rnn = getattr(nn, kind)(8, 16, num_layers=2, bidirectional=True)
    model = tq.quantize_dynamic(Wrap(rnn), {type(rnn)}, dtype=dtype)
    packed = pack_padded_sequence(torch.randn(5, 3, 8), [5, 3, 2])
    for x, rows in ((torch.randn(5, 3, 8), 15), (packed, 10)):
        s = summarize(model, input_data=(x,))
        assert (s.macs, s.macs_excluded) == (rnn_macs_by_hand(kind, 8, 16, 2, True, 0, rows), [])
    for cell, gates in ((nn.LSTMCell, 4), (nn.GRUCell, 3), (nn.RNNCell, 1)):
        model = tq.quantize_dynamic(Wrap(cell(8, 16)), {cell}, dtype=dtype)
        s = summarize(model, input_size=(3, 8))
        assert (s.macs, s.macs_excluded) == (3 * gates * 16 * (8 + 16), []), cell


class StaticNet(nn.Module):
    """Static (eager-mode) quantization: conv, grouped conv, transposed conv, conv1d, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.conv, self.grouped = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3, padding=1, groups=2)
        self.up, self.conv1d = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2), nn.Conv1d(6, 2, 2)
        self.fc = nn.Linear(2 * 168, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(self.grouped(self.conv(self.quant(x))))
        return self.dequant(self.fc(self.conv1d(y.flatten(2)).flatten(1)))


def test_static_quantized_conv_and_linear() -> None:
    x = torch.randn(2, 3, 8, 8)
    model = StaticNet().eval()
    float_macs = {layer.path: layer.macs for layer in summarize(model, input_data=x, macs=True).layers}
    model.qconfig = tq.get_default_qconfig("fbgemm")
    model.up.qconfig = tq.default_qconfig  # fbgemm's per-channel weights do not cover ConvTranspose
    prepared = tq.prepare(model)
    prepared(x)
    quantized = tq.convert(prepared)
    s = summarize(quantized, input_data=x)
    macs = {layer.path: layer.macs for layer in s.layers}
    by_hand = {
        "conv": 2 * 4 * 6 * 6 * (3 * 3 * 3),  # out elements x (C_in x k x k)
        "grouped": 2 * 4 * 6 * 6 * (2 * 3 * 3),  # C_in / groups = 2
        "up": 2 * 4 * 6 * 6 * (3 * 3 * 3),  # transposed: input elements x (C_out / groups x k x k)
        "conv1d": 2 * 2 * 168 * (6 * 2),  # 13 x 13 = 169 positions flattened, kernel 2
        "fc": 2 * 336 * 5,
    }
    assert {k: macs[k] for k in by_hand} == by_hand == {k: float_macs[k] for k in by_hand}
    assert (s.macs, s.macs_excluded) == (sum(by_hand.values()), [])


class FunctionalOps(nn.Module):
    """Matrix-vector, dot, batched add-matmul and int8 products called directly."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        v = a[0]
        out = torch.mv(a, v).sum() + torch.dot(v, v) + torch.vdot(v, v)  # 6x6, 6, 6
        out = out + torch.addmv(v, a, v).sum() + torch.addbmm(a, a.expand(3, 6, 6), a.expand(3, 6, 6)).sum()
        int8 = torch.ones(32, 64, dtype=torch.int8)
        out = out + torch._int_mm(int8, int8.t().contiguous()).sum()
        return out + torch.ops.aten._weight_int8pack_mm(torch.ones(4, 64), int8[:16], torch.ones(16)).sum()


def test_matrix_vector_and_int8_products() -> None:
    model = FunctionalOps()
    s = summarize(model, input_size=(6, 6))
    by_hand = 36 + 6 + 6 + 36 + 3 * 6 * 6 * 6 + 32 * 64 * 32 + 4 * 64 * 16
    assert (s.macs, s.macs_excluded) == (by_hand, [])


@torch.library.custom_op("modelpanel_test::fused_linear", mutates_args=())
def fused_linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return x @ weight.t()


class CustomKernel(nn.Module):
    """A Linear, then a custom op (a user's fused kernel) that FlopCounterMode cannot look into."""

    def __init__(self) -> None:
        super().__init__()
        self.fc, self.weight = nn.Linear(4, 4), nn.Parameter(torch.randn(3, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_linear(self.fc(x), self.weight)


class Distances(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cdist(x, x)


def test_ops_without_formula_are_listed_and_said() -> None:
    model = CustomKernel()
    s = summarize(model, input_size=(2, 4))
    assert s.to_dict()["macs_excluded"] is None  # not counted yet: like "macs"
    assert s.macs == 2 * 4 * 4  # the Linear; the custom op's work is in no figure...
    assert s.macs_excluded == ["modelpanel_test.fused_linear"]  # ...and that is said
    assert s.totals()["macs_excluded"] == s.to_dict()["macs_excluded"] == ["modelpanel_test.fused_linear"]
    assert "MACs exclude: modelpanel_test.fused_linear (no formula)" in str(s).splitlines()
    distances = Distances()
    assert summarize(distances, input_size=(2, 5, 4)).macs_excluded == ["aten._cdist_forward"]


def test_a_plain_model_excludes_nothing_and_no_input_knows_nothing() -> None:
    model = IrisMLP()
    s = summarize(model, input_size=(1, 4))
    assert s.macs_excluded == [] and s.to_dict()["macs_excluded"] == []
    assert "MACs exclude" not in str(s)
    assert summarize(model).macs_excluded is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("aten._cdist_forward", True), ("aten._native_multi_head_attention", True),
        ("aten._transformer_encoder_layer_fwd", True), ("onednn.qconv2d_pointwise", True),
        ("aten._sparse_mm", True), ("aten._grouped_mm", True), ("mylib.fused_linear", True),
        ("quantized.conv_transpose2d", True), ("aten.mkldnn_rnn_layer", True),
        ("aten._thnn_fused_gru_cell", False), ("aten._thnn_fused_lstm_cell", False),
        ("quantized.linear_prepack", False), ("quantized.conv2d_stride", False),
        ("quantized.conv_transpose2d_transpose", False), ("aten._cudnn_rnn_flatten_weight", False),
        ("aten.upsample_bilinear2d", False), ("prims.convert_element_type", False),
        ("aten.mvlgamma", False), ("aten.add", False), ("aten.native_layer_norm", False),
    ],
)  # fmt: skip
def test_the_uncounted_rule(name: str, expected: bool) -> None:
    assert mac_formulas.uncounted(name) is expected


def test_formula_names_are_spelled_as_torch_spells_its_ops() -> None:
    found = {name: mac_formulas._packet(name) for name in mac_formulas.FORMULAS}
    assert all(str(packet) == name for name, packet in found.items() if packet is not None)
    for core in ("aten.mkldnn_rnn_layer", "aten._cudnn_rnn", "aten.quantized_lstm", "quantized.linear_dynamic",
                 "quantized.conv2d", "aten.mv"):  # fmt: skip
        assert found[core] is not None, core


def test_bilinear_counts_one_mac_per_product_by_hand() -> None:
    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.b = nn.Bilinear(4, 6, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(x, x[:, :2].repeat(1, 3))

    s = summarize(Pair(), input_size=(3, 4))
    # out[n, o] = sum_ij x1[n, i] W[o, i, j] x2[n, j]: 3 rows x 5 outputs x 4 x 6 products.
    assert s.macs == 3 * 5 * 4 * 6 and s.macs_excluded == []
    assert {layer.path: layer.macs for layer in s.layers} == {"b": 3 * 5 * 4 * 6}


def test_linear_algebra_without_a_formula_is_named_and_norms_are_not() -> None:
    class Solve(nn.Module):
        def forward(self, a: torch.Tensor) -> torch.Tensor:
            spd = a @ a.mT + torch.eye(4)
            return torch.linalg.solve(spd, torch.nn.functional.normalize(a, dim=-1))

    s = summarize(Solve(), input_size=(2, 4, 4))
    assert s.macs == 2 * 4 * 4 * 4  # the a @ a.mT product, by hand
    assert s.macs_excluded == ["aten._linalg_solve_ex"]  # not the norm, not the error check
