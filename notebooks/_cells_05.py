"""Cells of notebooks/05_distributed.ipynb (built by _build_notebooks.py)."""

CELLS = [
    ("md", r"""
# 05 · One panel for a distributed training job

When a model outgrows one device, the training runs as several worker processes, one per
device, that form a `torch.distributed` process group. From a notebook they are **forked from
the kernel**: `torch.multiprocessing.start_processes(fn, nprocs=N, start_method="fork")`, which
is what accelerate's `notebook_launcher` and Lightning's `ddp_notebook` do underneath.

The panel made in the kernel follows all the ranks as **one job**: call `panel.progress`,
`panel.log` and `panel.watch` in every rank as usual. At each refresh (about once a second)
the ranks combine what they measured over their own process group: metrics averaged over ranks,
weight histograms of the whole model (shards binned where they live, counts summed), the global
gradient norm; rank 0 sends one record to the kernel through a pipe made before the fork.

Here: 2 ranks on the CPU with the `gloo` backend, first DistributedDataParallel, then FSDP2.
"""),
    ("code", r"""
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.nn.parallel import DistributedDataParallel as DDP

from modelpanel import ModelPanel

torch.set_num_threads(1)  # two ranks share this machine's cores


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, :4].sum(1) > x[:, 4:].sum(1)).long()
    return x, y


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
panel = ModelPanel(model, input_size=(1, 8), grad_norms=True)
panel
"""),
    ("md", r"""
Each rank trains on its own half of the data. `panel.log(loss=...)` in every rank: the
chart shows the mean over ranks and the job view each rank's latest value and steps/s.
"""),
    ("code", r"""
def train(rank, world_size, port, wrap):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                            rank=rank, world_size=world_size)
    try:
        if wrap == "fsdp":
            mesh = init_device_mesh("cpu", (world_size,))
            for layer in (model[0], model[2], model[4]):
                fully_shard(layer, mesh=mesh)   # each rank keeps a shard of every weight
            net = fully_shard(model, mesh=mesh)
        else:
            net = DDP(model)                    # each rank keeps a full replica
        x, y = make_data(2048, seed=rank)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        for epoch in panel.progress(range(4), desc="epoch"):
            for i in panel.progress(range(0, len(x), 64), desc="batch"):
                loss = nn.functional.cross_entropy(net(x[i:i + 64]), y[i:i + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
                panel.log(loss=loss)
    finally:
        dist.destroy_process_group()


mp.start_processes(train, args=(2, free_port(), "ddp"), nprocs=2, start_method="fork")
"""),
    ("code", r"""
job = panel.job
print(job["world_size"], job["backend"], job["state"])
print("steps/s per rank:", [round(r, 1) for r in job["rates"]])
print("global gradient norm:", round(job["grad_norm"], 4))
print("last loss (mean over ranks):", round(panel.history["loss"][-1][1], 4))
"""),
    ("md", r"""
The same loop with FSDP2: every weight is split over the two ranks (`fully_shard`; 32 rows
split 16 + 16, the 2 output rows 1 + 1). The histograms are of the **whole** weights, yet no
rank ever gathers one: each bins its shard over a range the ranks agreed on, and the counts are
summed. `panel.weights` notes how each tensor is placed.
"""),
    ("code", r"""
panel.clear_history()
mp.start_processes(train, args=(2, free_port(), "fsdp"), nprocs=2, start_method="fork")
print({w["name"]: w["note"] for w in panel.weights})
"""),
    ("md", r"""
When a rank fails, the panel says which and why, the other ranks are stopped
(`start_processes` terminates them) and the cell returns with the error:

```python
def bad(rank, world_size, port, wrap):
    ...
    raise ValueError("out of data")     # in rank 1
```

shows `rank 1: ValueError: out of data` on the panel's bars and in `panel.job["failure"]`.
"""),
]
