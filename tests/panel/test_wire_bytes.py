"""What the panel sends: state that does not grow with training, and whole histories on request.

Byte counts are deterministic (no timing): each refresh is forced by turning the throttles off.
The speed side of the same targets is in benchmarks/panel_wire.py.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn
from widget_wire import refresh_sizes
from zoo import IrisMLP, linear_stack

from modelpanel import ModelPanel

TREE = {"fc1", "relu", "fc2"}


def test_bytes_per_refresh_do_not_grow_with_training() -> None:
    torch.manual_seed(0)
    model = linear_stack(100)  # 200 tensors
    panel = ModelPanel(model, input_size=(1, 16))
    sizes = refresh_sizes(panel, model, 40, torch.randn(8, 16))
    assert all(s > 0 for s in sizes), sizes
    # Appends only: the 40th refresh is no bigger than the 2nd (the 1st may differ).
    assert max(sizes[20:]) <= 1.02 * max(sizes[1:20]), sizes
    # Per refresh: statistics of 200 tensors (24 B each as buffers), 4 watched histograms,
    # 100 layers' diagnostics and one metric point; nothing like 200 x 64 bins of counts.
    assert max(sizes) < 40_000, max(sizes)
    panel.close()


def test_initial_state_of_a_2000_layer_stack_is_columns_not_rows() -> None:
    from ipywidgets.widgets.widget import _remove_buffers

    panel = ModelPanel(linear_stack(2000), input_size=(1, 16))
    ours = {k: v for k, v in panel.get_state().items() if k.startswith("_") and k not in
            ("_esm", "_css", "_anywidget_id", "_dom_classes", "_view_count") and not k.startswith(("_model_", "_view_"))}
    plain, _, buffers = _remove_buffers(ours)
    total = len(json.dumps(plain)) + sum(len(memoryview(b).cast("B")) for b in buffers)
    assert total < 400_000, total  # was 2.7 MB as one dict per layer and per tensor
    assert len(panel._hist["ids"]) == 4  # histograms of what the views draw, not of 4,000 tensors
    panel.close()


def test_a_compiled_model_watched_in_training_reports_by_tree_path() -> None:
    torch.manual_seed(0)
    model = IrisMLP()
    compiled = torch.compile(model, backend="eager")
    panel = ModelPanel(compiled, input_size=(2, 4))
    panel.watch(grad_norms=True, activations=True)
    panel.diag_every = 0.0
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in panel.progress(range(3)):
        loss = nn.functional.cross_entropy(compiled(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        panel.log(loss=loss)
    stats = panel.layer_stats
    # Every key is a tree row (was "_orig_mod.fc1", ...). Whether dynamo runs the activation
    # hooks of every submodule of a compiled model on every pass is torch's business: the
    # gradient norms, read from .grad, are always there.
    assert set(stats) <= TREE and {"fc1", "fc2"} <= set(stats)
    assert set(panel._diagnostics["grad_norms"]) == {"fc1", "fc2"}
    # By hand: fc2's gradient norm from the model itself.
    expect = torch.cat([model.fc2.weight.grad.flatten(), model.fc2.bias.grad]).norm().item()
    assert stats["fc2"]["grad_norm"] == np.float64(expect) or abs(stats["fc2"]["grad_norm"] - expect) < 1e-6
    assert {w["layer"] for w in panel.weights} == {"fc1", "fc2"}
    panel.close()


def test_a_first_display_bins_the_first_tensors_and_a_view_gets_any_other() -> None:
    from widget_wire import Wire, send_from_view

    from modelpanel.panel.wire import wire_to_array
    from modelpanel.stats import weight_snapshot

    torch.manual_seed(0)
    model = linear_stack(60)  # 120 tensors: more than the first display bins
    panel = ModelPanel(model, input_size=(1, 16))
    expected = weight_snapshot(model)  # every tensor binned, independently
    np.testing.assert_array_equal(wire_to_array(panel._hist["counts"]), expected.counts[:4])
    wire = Wire(panel)
    send_from_view(panel, {"kind": "hist_watch", "id": "w", "view": "v1", "ids": [3, 110]})
    reply = wire.customs()[-1]
    assert reply["ok"] is True and reply["ids"] == [3, 110]
    assert reply["counts"] == expected.counts[[3, 110]].tolist()
    assert sum(reply["counts"][1]) == 16 * 16  # the weight of layer 55: every value binned
    panel.close()
