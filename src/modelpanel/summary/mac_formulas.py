"""FLOP formulas for multiply-add kernels that FlopCounterMode's registry lacks, and the rule
that names the ones still without a formula.

FlopCounterMode hands each formula the shapes of the op's tensors (``torch.Size``; other
arguments as they are, packed weights included) and ``out_shape``; a formula returns FLOPs,
2 per multiply-accumulate, like torch's own. Each is added only where torch has none.

* The RNN family. Every recurrent kernel does, per time step, batch row, layer and direction,
  the two gate matmuls ``W_ih x`` and ``W_hh h`` (``gates * hidden`` rows each: 4 for LSTM,
  3 for GRU, 1 for RNN) and, for an LSTM with ``proj_size``, the projection ``W_hr h``
  (``proj_size * hidden``); layer 0 reads ``input_size`` features, later layers the previous
  layer's output (``directions * (proj_size or hidden)``). "Time steps x batch rows" is the
  number of rows of the input: for a packed sequence, only the real steps. The fused kernels
  hide these matmuls from the counter: ``mkldnn_rnn_layer`` (oneDNN, CPU float32/bfloat16
  LSTM, one layer and direction per call), ``_cudnn_rnn`` and ``miopen_rnn`` (every layer at
  once; written from their schemas, untested on a GPU), ``_lstm_mps`` (untested), the dynamic
  quantized ``quantized_lstm`` / ``quantized_gru`` and the quantized cells. Float64, GRU and
  RNN on CPU run decomposed ``addmm``s that torch counts already.
* Quantized and packed linear layers (dynamic and static, fp16 and int8/int4 weights): the
  output's last dimension is ``out_features``, so MACs = input elements x out_features.
* Quantized convolutions with packed weights (``quantized::conv2d`` etc., transposed too):
  output elements x (weight elements per output channel), as torch counts ``convolution``;
  transposed, input elements x the same.
* ``mv``, ``addmv``, ``dot``, ``vdot``, ``addbmm``, ``_addmm_activation``, ``quantized::matmul``
  and the attention kernels laid out like ``scaled_dot_product_attention``.

``uncounted(name)`` is the rule for what no formula covers: see its docstring.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils import flop_counter

Formula = Callable[..., int]

# cuDNN's and MIOpen's RNN mode -> gates (aten/src/ATen/native/cudnn/RNN.cpp, miopen/RNN_miopen.cpp:
# RNN_RELU = 0, RNN_TANH = 1, LSTM = 2, GRU = 3).
_GATES_OF_MODE = {0: 1, 1: 1, 2: 4, 3: 3}


def _rows(shape: Sequence[int]) -> int:
    """Rows of an ``(..., features)`` tensor: time steps x batch for an RNN input."""
    return math.prod(shape[:-1])


def rnn_flops(rows: int, gates: int, input_size: int, hidden_size: int, proj_size: int,
              num_layers: int, directions: int) -> int:  # fmt: skip
    """FLOPs of a stacked RNN over ``rows`` (time step, batch row) pairs (see the module docstring)."""
    recurrent = proj_size or hidden_size
    per_row = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * recurrent
        per_row += directions * (gates * hidden_size * (layer_input + recurrent) + proj_size * hidden_size)
    return 2 * rows * per_row


def _cudnn_rnn(input: Any, weight: Any, weight_stride0: int, weight_buf: Any, hx: Any, cx: Any, mode: int,
               hidden_size: int, proj_size: int, num_layers: int, batch_first: bool, dropout: float,
               train: bool, bidirectional: bool, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:  # fmt: skip
    # input: (T, B, I), (B, T, I) or packed (sum(batch_sizes), I): rows either way.
    return rnn_flops(_rows(input), _GATES_OF_MODE[mode], input[-1], hidden_size, proj_size, num_layers,
                     2 if bidirectional else 1)  # fmt: skip


def _miopen_rnn(input: Any, weight: Any, weight_stride0: int, hx: Any, cx: Any, mode: int, hidden_size: int,
                num_layers: int, batch_first: bool, dropout: float, train: bool, bidirectional: bool,
                *args: Any, out_shape: Any = None, **kwargs: Any) -> int:  # fmt: skip
    return rnn_flops(_rows(input), _GATES_OF_MODE[mode], input[-1], hidden_size, 0, num_layers,
                     2 if bidirectional else 1)  # fmt: skip


def _mkldnn_rnn_layer(input: Any, weight0: Any, weight1: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    # One layer, one direction: weight0 = W_ih (gates*H, I), weight1 = W_hh (gates*H, H).
    return 2 * _rows(input) * (math.prod(weight0) + math.prod(weight1))


def _lstm_mps(input: Any, hx: Any, params: Any, has_biases: bool, num_layers: int, dropout: float,
              train: bool, bidirectional: bool, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:  # fmt: skip
    h, c = hx[0], hx[1]  # h: (L*D, B, proj_size or H), c: (L*D, B, H)
    proj = h[-1] if h[-1] != c[-1] else 0
    return rnn_flops(_rows(input), 4, input[-1], c[-1], proj, num_layers, 2 if bidirectional else 1)


def _quantized_rnn(gates: int) -> Formula:
    """``aten.quantized_lstm`` / ``quantized_gru``: both overloads share the formula's key."""

    def formula(input: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
        # .input: (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, ...)
        # .data:  (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)
        packed = isinstance(args[0], torch.Size) and len(args[0]) == 1
        hx, num_layers, bidirectional = (args[1], args[4], args[7]) if packed else (args[0], args[3], args[6])
        h = hx[0] if isinstance(hx[0], Sequence) else hx  # LSTM: [h, c]; GRU: h
        return rnn_flops(_rows(input), gates, input[-1], h[-1], 0, num_layers, 2 if bidirectional else 1)

    return formula


def _quantized_cell(gates: int) -> Formula:
    """``quantized::quantized_<kind>_cell_dynamic(input, hx, w_ih, w_hh, b_ih, b_hh)``."""

    def formula(input: Any, hx: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
        h = hx[0] if isinstance(hx[0], Sequence) else hx
        return rnn_flops(_rows(input), gates, input[-1], h[-1], 0, 1, 1)

    return formula


def _first_output(out_shape: Any) -> Any:
    return out_shape if isinstance(out_shape, torch.Size) else out_shape[0]


def _linear_like(input: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    # (..., in_features) -> (..., out_features): each input element meets each output feature once.
    return 2 * math.prod(input) * _first_output(out_shape)[-1]


def _matmul_like(a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return 2 * math.prod(_first_output(out_shape)) * a[-1]


def _packed_conv(input: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    # The weight is inside the packed parameters (a ScriptObject): the first non-shape argument.
    packed = next(a for a in args if isinstance(a, torch.ScriptObject))
    weight = packed.unpack()[0]  # (C_out, C_in/groups, *kernel); transposed: (C_in, C_out/groups, *kernel)
    per_channel = weight.numel() // weight.shape[0]
    return 2 * math.prod(input if packed.transpose() else out_shape) * per_channel


def _mv(self: Any, other: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return 2 * math.prod(self)  # mv: matrix elements; dot, vdot: vector elements


def _addmv(self: Any, mat: Any, vec: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return 2 * math.prod(mat)


def _addbmm(self: Any, batch1: Any, batch2: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return 2 * math.prod(batch1) * batch2[-1]


def _addmm_activation(self: Any, mat1: Any, mat2: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return 2 * math.prod(mat1) * mat2[-1]


def _sdpa(query: Any, key: Any, value: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    # Same count as torch gives the GPU kernels: 2 matmuls, causal masking not subtracted.
    return flop_counter.sdpa_flop_count(query, key, value)


def _trilinear(i1: Any, i2: Any, i3: Any, expand1: Any, expand2: Any, expand3: Any, sumdim: Any,
               *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """``aten._trilinear`` (nn.Bilinear, F.bilinear): every point of the broadcast iteration
    space is one product of three values added into the output: one MAC per point."""
    rank = len(i1) + len(expand1)
    full = [1] * rank
    for shape, expand in ((i1, expand1), (i2, expand2), (i3, expand3)):
        dims = iter(shape)
        for d in range(rank):
            if d not in expand:
                full[d] = max(full[d], next(dims, 1))
    return 2 * math.prod(full)


_LINEAR = (
    "quantized.linear quantized.linear_dynamic quantized.linear_dynamic_fp16 "
    "quantized.linear_dynamic_fp16_unpacked_weight quantized.linear_relu quantized.linear_relu_dynamic "
    "quantized.linear_relu_dynamic_fp16 quantized.linear_leaky_relu quantized.linear_tanh "
    "quantized.linear_with_input_q_dq_qweight_dq_output_fp32 "
    "quantized.linear_with_input_q_dq_qweight_dq_relu_output_fp32 "
    "_quantized.linear _quantized.linear_dynamic _quantized.wrapped_quantized_linear "
    "_quantized._wrapped_quantized_linear_prepacked _quantized.wrapped_fbgemm_linear_fp16_weight "
    "aten._wrapped_quantized_linear_prepacked aten.fbgemm_linear_int8_weight "
    "aten.fbgemm_linear_int8_weight_fp32_activation aten.fbgemm_linear_fp16_weight "
    "aten.fbgemm_linear_fp16_weight_fp32_activation aten._int_mm aten._weight_int8pack_mm "
    "aten._weight_int4pack_mm aten._weight_int4pack_mm_for_cpu aten._weight_int4pack_mm_with_scales_and_zeros "
    "aten._dyn_quant_matmul_4bit aten._mixed_dtypes_linear aten.mkldnn_linear "
    "onednn.qlinear_pointwise onednn.linear_dynamic_fp16 onednn.linear_relu_dynamic_fp16 "
    "mkldnn._linear_pointwise mkl._mkl_linear"
).split()
_PACKED_CONV = [
    f"{ns}.{op}"
    for ns in ("quantized", "_quantized")
    for op in (
        "conv1d conv2d conv3d conv1d_relu conv2d_relu conv3d_relu conv2d_add conv2d_add_relu "
        "conv1d_dynamic conv2d_dynamic conv3d_dynamic conv_transpose1d conv_transpose2d conv_transpose3d "
        "conv_transpose1d_dynamic conv_transpose2d_dynamic conv_transpose3d_dynamic"
    ).split()
]
_ATTENTION = (
    "aten._scaled_dot_product_flash_attention_for_cpu aten._scaled_dot_product_fused_attention_overrideable "
    "aten._scaled_dot_product_attention_math_for_mps"
).split()

FORMULAS: dict[str, Formula] = {
    "aten.mkldnn_rnn_layer": _mkldnn_rnn_layer,
    "aten._cudnn_rnn": _cudnn_rnn,
    "aten.miopen_rnn": _miopen_rnn,
    "aten._lstm_mps": _lstm_mps,
    "aten.quantized_lstm": _quantized_rnn(4),
    "aten.quantized_gru": _quantized_rnn(3),
    "quantized.quantized_lstm_cell_dynamic": _quantized_cell(4),
    "quantized.quantized_gru_cell_dynamic": _quantized_cell(3),
    "quantized.quantized_rnn_tanh_cell_dynamic": _quantized_cell(1),
    "quantized.quantized_rnn_relu_cell_dynamic": _quantized_cell(1),
    **dict.fromkeys(_LINEAR, _linear_like),
    **dict.fromkeys(_PACKED_CONV, _packed_conv),
    **dict.fromkeys(_ATTENTION, _sdpa),
    "quantized.matmul": _matmul_like,
    "aten.mv": _mv,
    "aten.dot": _mv,
    "aten.vdot": _mv,
    "aten.addmv": _addmv,
    "aten.addbmm": _addbmm,
    "aten._addmm_activation": _addmm_activation,
    "aten._trilinear": _trilinear,
}  # fmt: skip
"""Op (``namespace.name``, as ``str(torch.ops.<ns>.<name>)`` spells it) -> FLOP formula."""


def _packet(name: str) -> Any:
    namespace, _, op = name.partition(".")
    try:
        return getattr(getattr(torch.ops, namespace), op)
    except (AttributeError, RuntimeError):  # not in this build of torch
        return None


def extra_formulas() -> dict[Any, Formula]:
    """``custom_mapping`` for FlopCounterMode: ``FORMULAS`` for the ops this torch has and lacks formulas for."""
    registry = flop_counter.flop_registry
    extra: dict[Any, Formula] = {}
    for name, formula in FORMULAS.items():
        packet = _packet(name)
        if packet is not None and packet not in registry:
            extra[packet] = formula
    return extra


# Words that name a multiply-add kernel, as a whole "_"-separated part of the op's name
# ("conv2d", "mkldnn_rnn_layer", "linear_dynamic"; not "convert", "mvlgamma").
_MULTIPLY_ADD = re.compile(
    r"(?:^|_)(?:b?mm|addb?mm|baddbmm|addmv|mv|v?dot|matmul|einsum|q?linear|bilinear|trilinear|rnn|lstm|gru"
    r"|attention|cdist|transformer|q?conv(?:olution)?"
    # Linear algebra: solves, inverses and factorisations multiply and add too.
    r"|solve|inv|inverse|cholesky|triangular|lu|qr|svd|eigh?|eigvalsh?|lstsq|pinv)(?=$|_|\d)"
)
# Of those, the ones that do no multiply-add of their own: weight packing and its getters, the
# CUDA RNN cells that only apply the gates to matmuls counted before them, interpolation.
_FREE = re.compile(
    r"prepack|unpack|reorder|flatten_weight|convert_weight|pack_gemm|pack_quantized|quantize_weight"
    r"|upsample|^_thnn_fused_(?:lstm|gru)_cell$|check_errors"
    r"|^q?conv\w*_(?:stride|padding|dilation|groups|transpose|output_padding|sizes)$"
)


def uncounted(name: str) -> bool:
    """Whether an op that ran without a formula does multiply-add work the count misses.

    ``name`` is ``namespace.op`` (``"aten.mkldnn_rnn_layer"``). FlopCounterMode counts only
    matmuls, convolutions and attention: elementwise ops, reductions, normalisation, views and
    copies count 0 by design. So an op without a formula is reported when its name (after the
    namespace) has a part that names a multiply-add kernel (``mm``, ``bmm``, ``addmv``, ``mv``,
    ``dot``, ``matmul``, ``einsum``, ``linear``, ``conv*``, ``rnn``, ``lstm``, ``gru``,
    ``attention``, ``cdist``, ``transformer``, ``solve``/``inv``/``cholesky``/``qr``/``svd`` and
    the other factorisations (not norms: reductions count 0 by design), in any namespace,
    custom ops included), unless
    it is known to do none (weight packing, ``_thnn_fused_lstm_cell``/``_gru_cell``, upsampling).
    """
    op = name.rpartition(".")[2]
    return bool(_MULTIPLY_ADD.search(op)) and not _FREE.search(op)
