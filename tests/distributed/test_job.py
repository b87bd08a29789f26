"""One panel for a torch.distributed job forked from a real Jupyter kernel (issue 14).

A notebook built here with nbformat runs in a fresh ipykernel through nbclient. Its cells make
a panel in the kernel, fork 2 ranks with ``torch.multiprocessing.start_processes(...,
start_method="fork")`` that join a gloo process group and train a DDP model, then an FSDP2
model (``fully_shard`` over ``init_device_mesh("cpu", (2,))``, every layer's rows split
unevenly: 7 = 4 + 3, 5 = 3 + 2, 1 = 1 + 0), then a rank that raises and one that is killed.
The ranks save what they logged and, gathered by the test's own code (``full_tensor()``), the
full weights and gradients; the kernel compares the panel with numpy computations on those.
"""

from __future__ import annotations

import json
import time

import nbformat
import pytest
from nbclient import NotebookClient

SETUP = r'''
import json, os, signal, socket, tempfile, time, multiprocessing
import numpy as np, psutil, torch
import torch.distributed as dist, torch.multiprocessing as mp
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.nn.parallel import DistributedDataParallel as DDP
from modelpanel import ModelPanel

OUT = tempfile.mkdtemp()
STEPS = 24
SHM = sorted(os.listdir("/dev/shm"))

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.Tanh(), torch.nn.Linear(7, 5),
                               torch.nn.Tanh(), torch.nn.Linear(5, 1))

def full(t):  # the test's own gather, not modelpanel's
    return (t.full_tensor() if hasattr(t, "full_tensor") else t).detach().numpy().astype(np.float64)

def train(rank, model, panel, kind, port, fail):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        if kind == "fsdp":
            mesh = init_device_mesh("cpu", (2,))
            for i in (0, 2, 4):
                fully_shard(model[i], mesh=mesh)
            net = fully_shard(model, mesh=mesh)
        else:
            net = DDP(model)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        g = torch.Generator().manual_seed(100 + rank)
        logged = []
        for step in panel.progress(range(STEPS), desc="step"):
            loss = net(torch.randn(16, 3, generator=g)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            panel.log(loss=loss, rank_value=float(10 * rank + step))
            logged.append(loss.item())
            time.sleep(0.02)
            if fail == "raise" and rank == 1 and step == 5:
                raise ValueError("rank one failed on purpose")
            if fail == "kill" and rank == 1 and step == 5:
                os.kill(os.getpid(), signal.SIGKILL)
        weights = {n: full(p) for n, p in model.named_parameters()}
        grads = {n: full(p.grad) for n, p in model.named_parameters()}
        np.save(f"{OUT}/{kind}-loss-{rank}.npy", np.array(logged))
        if rank == 0:
            np.savez(f"{OUT}/{kind}-weights.npz", **weights)
            np.savez(f"{OUT}/{kind}-grads.npz", **grads)
    finally:
        dist.destroy_process_group()

def launch(kind, fail=None):
    model = make_model()
    panel = ModelPanel(model, input_size=(1, 3), grad_norms=True, hist_every=0.3)
    panel.job_timeout = 20
    port = free_port()
    start = time.monotonic()
    try:
        mp.start_processes(train, args=(model, panel, kind, port, fail), nprocs=2, start_method="fork")
    finally:
        LAUNCHED[kind] = (panel, port, time.monotonic() - start)

def leftovers(port):
    with socket.socket() as s:
        # SO_REUSEADDR: connections closed moments ago (TIME_WAIT) do not count, a listener does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
    return {"children": len(psutil.Process().children(recursive=True)) + len(multiprocessing.active_children()),
            "shm_same": sorted(os.listdir("/dev/shm")) == SHM}

def check(kind):
    panel, port, seconds = LAUNCHED[kind]
    job = panel.job
    losses = [np.load(f"{OUT}/{kind}-loss-{r}.npy") for r in (0, 1)]
    weights, grads = np.load(f"{OUT}/{kind}-weights.npz"), np.load(f"{OUT}/{kind}-grads.npz")
    hist = dict(panel.history["loss"])
    ranks = dict(panel.history["rank_value"])
    snap = panel._training.snapshot
    rows = []
    for i, rec in enumerate(panel.weights):
        w = weights[rec["name"]]
        if w.min() < w.max():
            counts, _ = np.histogram(w, bins=snap.bins, range=(w.min(), w.max()))
        else:  # one value (4.bias): numpy widens the range; the panel's convention is the last bin
            counts = np.zeros(snap.bins, np.int64)
            counts[-1] = w.size
        rows.append({"name": rec["name"], "counts": counts.tolist() == snap.counts[i].tolist(),
                     "range": [float(w.min()), float(w.max())] == snap.ranges[i].tolist(),
                     "mean": abs(rec["mean"] - w.mean()), "std": abs(rec["std"] - w.std()),
                     "numel": rec["numel"] == w.size, "note": rec["note"]})
    layer = {}
    for name, g in grads.items():
        owner = name.rpartition(".")[0]
        layer[owner] = layer.get(owner, 0.0) + float((g ** 2).sum())
    stats = panel.layer_stats
    return {
        "world_size": job["world_size"], "backend": job["backend"], "state": job["state"],
        "failure": job["failure"], "rates": job["rates"], "seconds": seconds,
        "steps": sorted(hist) == list(range(STEPS)),
        "loss_err": max(abs(hist[s] - (losses[0][s] + losses[1][s]) / 2) for s in range(STEPS)),
        "rank_value": [ranks[s] for s in range(STEPS)],
        "per_rank": [abs(a - b) for a, b in zip(job["metrics"]["loss"], (losses[0][-1], losses[1][-1]))],
        "weights": rows,
        "grad_norm": [job["grad_norm"], float(np.sqrt(sum((g ** 2).sum() for g in grads.values())))],
        "layer_norms": {k: [stats[k]["grad_norm"], float(np.sqrt(v))] for k, v in layer.items()},
        "leftovers": leftovers(port),
    }

LAUNCHED = {}
'''


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cells = [SETUP]
    for kind in ("ddp", "fsdp"):
        cells += [f'launch("{kind}")', f'print("RESULT", json.dumps(check("{kind}")))']
    for fail in ("raise", "kill"):
        cells.append(f'launch("{fail}", fail="{fail}")')
        cells.append(f'panel, port, seconds = LAUNCHED["{fail}"]\n'
                     f'print("RESULT", json.dumps({{"job": panel.job, "seconds": seconds, '
                     f'"progress": panel._progress, "leftovers": leftovers(port)}}))')
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for cell in nb.cells:
        if cell.source.startswith('launch("raise"') or cell.source.startswith('launch("kill"'):
            cell.metadata["tags"] = ["raises-exception"]
    return nb


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    nb = _notebook()
    start = time.monotonic()
    NotebookClient(nb, timeout=50, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}}).execute()
    out: dict[str, dict] = {}
    names = ["ddp", "fsdp", "raise", "kill"]
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream" and "RESULT " in o.text:
                line = next(x for x in o.text.splitlines() if x.startswith("RESULT "))
                out[names[len(out)]] = json.loads(line[len("RESULT "):])
    out["total_seconds"] = time.monotonic() - start
    errors = [o for c in nb.cells if "raises-exception" not in c.metadata.get("tags", [])
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    return out


@pytest.mark.parametrize("kind", ["ddp", "fsdp"])
def test_job_combined_in_the_kernel(results, kind):
    r = results[kind]
    assert (r["world_size"], r["backend"], r["state"], r["failure"]) == (2, "gloo", "done", None)
    # Each logged metric is the mean of what the two ranks logged at that step.
    assert r["steps"] and r["loss_err"] < 1e-6
    assert r["rank_value"] == [5.0 + s for s in range(24)]  # (step + (10 + step)) / 2
    assert max(r["per_rank"]) < 1e-6
    # The whole model's histograms, from shards (FSDP) or from rank 0's replica (DDP), equal
    # numpy.histogram of the gathered weights with the same edges.
    assert len(r["weights"]) == 6
    for row in r["weights"]:
        assert row["counts"] and row["range"] and row["numel"], row
        assert row["mean"] < 1e-6 and row["std"] < 1e-6, row
        assert row["note"] == ("DTensor S(0)" if kind == "fsdp" else ""), row
    norm, expected = r["grad_norm"]
    assert norm == pytest.approx(expected, rel=1e-5)
    assert set(r["layer_norms"]) == {"0", "2", "4"}
    for got, want in r["layer_norms"].values():
        assert got == pytest.approx(want, rel=1e-5)
    assert len(r["rates"]) == 2 and all(rate and rate > 0 for rate in r["rates"])
    assert r["leftovers"] == {"children": 0, "shm_same": True}


@pytest.mark.parametrize("kind", ["raise", "kill"])
def test_failing_rank_reported(results, kind):
    r = results[kind]
    failure = r["job"]["failure"]
    assert r["job"]["state"] == "failed" and failure["rank"] == 1
    if kind == "raise":
        assert (failure["type"], failure["message"]) == ("ValueError", "rank one failed on purpose")
    else:  # died without a word: detected from its exit
        assert failure["type"] == "ProcessExitedException" and "SIGKILL" in failure["message"]
    assert r["seconds"] < 20
    bar = r["progress"][0]
    assert bar["state"] == "error" and bar["error"].startswith("rank 1: ")
    assert r["leftovers"] == {"children": 0, "shm_same": True}


def test_file_runs_quickly(results):
    assert results["total_seconds"] < 90
