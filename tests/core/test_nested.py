"""Outputs that are not tensors (_core/nested.py): objects that hold tensors show their shapes.

Kinds: ``torch.distributions`` objects, plain objects with tensor attributes, named tuples
(``collections.namedtuple``, ``typing.NamedTuple``, torch.return_types, PackedSequence),
dataclasses (their own dict form), and cycles. Expected shapes are read from the tensors
themselves; bytes from ``numel() * element_size()``.
"""

from __future__ import annotations

import dataclasses
import json
from collections import namedtuple
from typing import NamedTuple

import torch
from torch import nn
from torch.distributions import Categorical, Normal

from modelpanel import summarize
from modelpanel._core.nested import _MAX_NESTING, iter_tensors, mirror_shapes, tensor_bytes
from modelpanel.summary.text import shape_text

Pair = namedtuple("Pair", "first second")


class Hidden(NamedTuple):
    h: torch.Tensor
    c: torch.Tensor


@dataclasses.dataclass
class Out:
    logits: torch.Tensor
    note: str = "x"


class Holder:
    def __init__(self) -> None:
        self.features = torch.zeros(2, 7)
        self.count = 3  # not a tensor: left out
        self._cache = torch.zeros(100)  # private: left out
        self.itself = self  # a cycle


def test_a_distribution_shows_its_parameters_shapes_under_its_type_name() -> None:
    loc, scale = torch.zeros(2, 3), torch.ones(2, 3)
    mirror = mirror_shapes(Normal(loc, scale))
    assert mirror == {"Normal": {"loc": list(loc.shape), "scale": list(scale.shape)}}
    logits = torch.zeros(4, 5)
    assert mirror_shapes(Categorical(logits=logits)) == {"Categorical": {"logits": [4, 5]}}
    assert json.loads(json.dumps(mirror)) == mirror
    assert tensor_bytes(Normal(loc, scale)) == 2 * loc.numel() * loc.element_size()


def test_a_plain_object_shows_its_public_tensor_attributes_once_even_in_a_cycle() -> None:
    holder = Holder()
    assert mirror_shapes(holder) == {"Holder": {"features": [2, 7]}}
    assert [t.shape for t in iter_tensors(holder)] == [holder.features.shape]
    assert tensor_bytes(holder) == holder.features.numel() * holder.features.element_size()
    assert mirror_shapes(object()) is None and mirror_shapes(nn.ReLU()) is None  # no tensors


def test_named_tuples_show_their_field_names() -> None:
    a, b = torch.zeros(1, 2), torch.zeros(3)
    assert mirror_shapes(Pair(a, (b, 7))) == {"Pair": {"first": [1, 2], "second": [[3], None]}}
    assert mirror_shapes(Hidden(a, b)) == {"Hidden": {"h": [1, 2], "c": [3]}}
    values, indices = torch.max(torch.zeros(2, 3), dim=1)
    assert mirror_shapes(torch.max(torch.zeros(2, 3), dim=1)) == {
        "max": {"values": list(values.shape), "indices": list(indices.shape)}}
    packed = nn.utils.rnn.pack_sequence([torch.zeros(3, 4), torch.zeros(2, 4)])
    assert mirror_shapes(packed) == {"PackedSequence": {  # its None index fields left out
        name: list(t.shape) for name, t in zip(packed._fields, packed) if t is not None}}
    assert set(mirror_shapes(packed)["PackedSequence"]) == {"data", "batch_sizes"}
    assert mirror_shapes((a, b)) == [[1, 2], [3]]  # a plain tuple stays a list


def test_dataclasses_keep_their_dict_form_and_depth_stays_bounded() -> None:
    assert mirror_shapes(Out(torch.zeros(1, 4))) == {"logits": [1, 4], "note": None}
    deep: object = torch.zeros(1)
    for _ in range(3 * _MAX_NESTING):
        deep = Pair(deep, None)
    mirror = mirror_shapes(deep)
    json.dumps(mirror)  # bounded: no tensor is reached that deep, so the object shows as None
    assert mirror is None and list(iter_tensors(deep)) == []


class Policy(nn.Module):
    """Returns a Normal over actions: (batch, 4) -> Normal(loc (batch, 2), scale (batch, 2))."""

    def __init__(self) -> None:
        super().__init__()
        self.mean = nn.Linear(4, 2)
        self.log_std = nn.Parameter(torch.zeros(2))

    def forward(self, x: torch.Tensor) -> Normal:
        return Normal(self.mean(x), self.log_std.exp().expand(x.shape[0], 2))


def test_a_module_returning_a_distribution_shows_it_in_the_summary_and_the_table() -> None:
    model = Policy()
    out = model(torch.zeros(3, 4))
    s = summarize(model, input_size=(3, 4))
    assert s.output_shape == {"Normal": {"loc": list(out.loc.shape), "scale": list(out.scale.shape)}}
    assert s.output_shape == {"Normal": {"loc": [3, 2], "scale": [3, 2]}}
    assert shape_text(s.output_shape) == "Normal(loc, scale=[3, 2])"
    assert shape_text({"Hidden": {"h": [1, 2], "c": [3]}}) == "Hidden(h=[1, 2], c=[3])"
    assert shape_text({"logits": [1, 10]}) == "{logits: [1, 10]}"  # a plain dict stays a dict
    assert "Normal(loc, scale=[3, 2])" in str(s)
