"""Records -> synced state (panel/state.py): columns and buffers, checked against the records."""

from __future__ import annotations

import json

import numpy as np
from panel_state import layers, params
from zoo import HostileNames, gpt2_tiny

from modelpanel import ModelPanel, summarize
from modelpanel.panel.state import hist_state, summary_state
from modelpanel.panel.wire import wire_to_array
from modelpanel.stats import weight_snapshot

BINS = 16


def test_hist_state_sends_binned_counts_only() -> None:
    snap = weight_snapshot(gpt2_tiny(), bins=BINS)
    ids = [0, 5, 7]
    state = hist_state(snap, ids, version=3, step=12.0)
    assert state["bins"] == BINS and state["version"] == 3 and state["step"] == 12.0
    assert state["ids"] == ids
    counts, ranges = wire_to_array(state["counts"]), wire_to_array(state["range"])
    assert state["counts"]["dtype"] == "uint32" and state["range"]["dtype"] == "float64"
    np.testing.assert_array_equal(counts, snap.counts[ids])
    np.testing.assert_array_equal(ranges, snap.ranges[ids])
    # Only the watched tensors travel: 3 rows of counts, whatever the model's size.
    assert len(state["counts"]["view"]) == 4 * BINS * 3 and len(state["range"]["view"]) == 16 * 3


def test_layer_columns_decode_to_the_summary_rows() -> None:
    for model, kw in ((gpt2_tiny(), {"input_data": __import__("torch").zeros(1, 8, dtype=__import__("torch").long)}),
                      (HostileNames(), {"input_size": (2, 4)})):
        s = summarize(model, **kw)
        state = summary_state(s, training=False)
        json.dumps({k: v for k, v in state.items() if k != "layer_columns"})
        assert layers(state) == s.to_dict()["layers"]


def test_param_columns_and_stats_decode_to_the_weight_records() -> None:
    model = gpt2_tiny()
    model.wpe.weight.requires_grad_(False)
    panel = ModelPanel(model)
    snap = weight_snapshot(model)
    got = params(panel)
    for rec, want in zip(got, snap.records):
        for key in ("names", "owners", "shape", "numel", "dtype", "device", "trainable", "nan", "inf", "sampled"):
            assert rec[key] == want[key], key
        for key in ("mean", "std", "min", "max"):  # float32 on the wire
            assert rec[key] == np.float32(want[key]), key
    panel.close()
