"""What the panel costs to build and what it sends: the targets of the "one system" issue.

1. Construction: ``ModelPanel(model, input_size=...)`` against ``summarize()`` of the same
   model, interleaved round by round (median and min ratio), on the 2,000 x Linear(16, 16) stack.
2. Initial synced state: the bytes of the panel's own traits (JSON without the binary
   buffers, plus the buffers) as the comm_open message carries them; not the bundle (_esm).
3. Training refreshes: ``watch(grad_norms=True, activations=True)`` on a 500-layer stack of
   Linear(16, 16) (1,000 tensors), 60 refreshes forced one after another with a step between:
   bytes of each update message, the first (which may carry the full state) and the largest
   after it, and whether they grow (the last 10 against refreshes 2-11).

    .venv/bin/python benchmarks/panel_wire.py
    .venv/bin/python benchmarks/panel_wire.py --rounds 15 --refreshes 60

Works against older code too (it reads whatever traits the panel has): to compare with the
code before the second wave, run it with ``PYTHONPATH=<checkout of 51a1443>/src``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from widget_wire import refresh_sizes  # noqa: E402
from zoo import linear_stack  # noqa: E402

import modelpanel  # noqa: E402
from modelpanel import ModelPanel, summarize  # noqa: E402

#: Traits of the widget machinery, not of the panel: left out of the state size.
_NOT_OURS = {"_esm", "_css", "_anywidget_id", "_dom_classes", "_view_count", "layout", "tabbable",
             "tooltip"}


def state_bytes(widget: Any) -> tuple[int, int]:
    """(JSON bytes, binary buffer bytes) of the widget's own synced state."""
    from ipywidgets.widgets.widget import _remove_buffers

    state = {k: v for k, v in widget.get_state().items()
             if k not in _NOT_OURS and not k.startswith(("_model_", "_view_"))}
    plain, _paths, buffers = _remove_buffers(state)
    return len(json.dumps(plain, separators=(",", ":"), default=str)), sum(len(b) for b in buffers)


def construction(rounds: int, n_layers: int) -> None:
    model = linear_stack(n_layers)
    summarize(model, input_size=(1, 16))  # warm-up: first-call costs out of the rounds
    ModelPanel(model, input_size=(1, 16)).close()
    t_sum, t_panel, ratios = [], [], []
    for _ in range(rounds):
        start = time.process_time()
        summarize(model, input_size=(1, 16))
        mid = time.process_time()
        panel = ModelPanel(model, input_size=(1, 16))
        end = time.process_time()
        panel.close()
        t_sum.append(mid - start)
        t_panel.append(end - mid)
        ratios.append((end - mid) / (mid - start))
    print(f"construction, linear_stack({n_layers}), {rounds} rounds (process time):")
    print(f"  summarize() median {1e3 * statistics.median(t_sum):.1f} ms; "
          f"ModelPanel() median {1e3 * statistics.median(t_panel):.1f} ms")
    print(f"  ModelPanel / summarize: median {statistics.median(ratios):.2f}x, "
          f"min-to-min {min(t_panel) / min(t_sum):.2f}x   (target <= 2x)")
    panel = ModelPanel(model, input_size=(1, 16))
    js, buf = state_bytes(panel)
    panel.close()
    print(f"  initial synced state: {js / 1e3:.1f} KB JSON + {buf / 1e3:.1f} KB buffers = "
          f"{(js + buf) / 1e3:.1f} KB   (target <= 400 KB, without the bundle)")


def training(refreshes: int, n_layers: int) -> None:
    torch.manual_seed(0)
    model = linear_stack(n_layers)
    n_tensors = sum(1 for _ in model.parameters())
    kwargs: dict[str, Any] = {"input_size": (1, 16)}
    panel = ModelPanel(model, **kwargs)
    sizes = refresh_sizes(panel, model, refreshes, torch.randn(32, 16))
    panel.close()
    sizes = [s for s in sizes if s]
    early, late = sizes[1:11], sizes[-10:]
    print(f"training, linear_stack({n_layers}) = {n_tensors} tensors, grad norms + activations, "
          f"{len(sizes)} refreshes with an update:")
    print(f"  first refresh {sizes[0] / 1e3:.1f} KB; after it: max {max(sizes[1:]) / 1e3:.1f} KB, "
          f"median {statistics.median(sizes[1:]) / 1e3:.1f} KB   (target < 100 KB each)")
    print(f"  growth: median of the last 10 / median of refreshes 2-11 = "
          f"{statistics.median(late) / statistics.median(early):.2f}   (target: no growth, ~1.0)")
    print(f"  all refreshes together: {sum(sizes) / 1e6:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--layers", type=int, default=2000)
    parser.add_argument("--refreshes", type=int, default=60)
    parser.add_argument("--train-layers", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"modelpanel from {Path(modelpanel.__file__).parent}; torch {torch.__version__}, 1 thread")
    construction(args.rounds, args.layers)
    training(args.refreshes, args.train_layers)


if __name__ == "__main__":
    main()
