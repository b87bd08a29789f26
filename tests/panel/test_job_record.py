"""The kernel side of a distributed job's record (panel/job.py JobLink), without forking:
which rank is the slowest, from the rates rank 0 gathered."""

from __future__ import annotations

import pytest
import torch

from modelpanel import ModelPanel


def record(rates):
    return {"kind": "sync", "world_size": len(rates), "backend": "gloo", "running": True, "progress": [],
            "step": 3.0, "unit": "it", "rates": rates, "metrics": [], "latest": {}, "snapshot": None,
            "grads": None, "grad_norm": None, "bad_grads": None, "acts": None}


@pytest.mark.parametrize(("rates", "slowest"), [
    ([74.9, 71.2], 1),
    ([3.0, 5.0, 4.0], 0),
    ([0.0, 0.0], None),        # tqdm's rate before a bar ticked: nothing measured yet
    ([0.0, 2.0], None),        # one measured rate: nothing to compare it with
    ([None, 2.0, 1.5], 2),
])
def test_slowest_is_the_lowest_measured_rate(rates, slowest):
    model = torch.nn.Linear(2, 1)
    panel = ModelPanel(model, input_size=(1, 2))
    panel._link._apply(record(rates))
    assert panel.job["slowest"] == slowest
    assert panel.job["rates"] == rates and panel._job == panel.job


def test_a_cause_replaces_a_peer_loss_report_everywhere():
    """Rank 0 reports losing its peer first; rank 1's own failure (known later, from
    torch.multiprocessing) replaces it in panel.job and on the bars the first report failed."""
    model = torch.nn.Linear(2, 1)
    panel = ModelPanel(model, input_size=(1, 2))
    bar = {"id": 1, "level": 0, "run": 1, "desc": "step", "n": 3, "total": 24, "unit": "it", "rate": 2.0,
           "elapsed": 1.5, "remaining": 10.5, "postfix": "", "state": "running", "error": ""}
    panel._link._apply(dict(record([2.0, 2.0]), progress=[bar]))
    peer = "Read error [127.0.0.1]:9427: Connection reset by peer"
    panel._link._apply({"kind": "error", "rank": 0, "type": "RuntimeError", "message": peer})
    assert panel._progress[0]["error"] == f"rank 0: RuntimeError: {peer}"
    panel._link._apply({"kind": "error", "rank": 1, "type": "ProcessExitedException",
                        "message": "process 1 terminated with signal SIGKILL"})
    assert panel.job["failure"]["rank"] == 1 and panel.job["state"] == "failed"
    assert panel._progress[0]["state"] == "error"
    assert panel._progress[0]["error"] == "rank 1: ProcessExitedException: process 1 terminated with signal SIGKILL"
    # A later peer-loss report changes nothing.
    panel._link._apply({"kind": "error", "rank": 0, "type": "RuntimeError", "message": peer})
    assert panel.job["failure"]["rank"] == 1
