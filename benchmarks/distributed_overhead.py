"""What following a distributed job in the panel costs: a 2-rank gloo DDP loop on the CPU.

One job, forked as a notebook does (``torch.multiprocessing.start_processes(...,
start_method="fork")``) from a process that holds a ModelPanel. Inside it the ranks run rounds
of two epochs of the same loop, in alternating order (bare first in even rounds, monitored
first in odd ones) so drift hits both alike:

- ``bare``       the DDP step alone, over a plain ``range``;
- ``monitored``  the same over ``panel.progress(...)`` with ``panel.log(loss=loss)`` every step,
                 histograms at their default rate (``hist_every=2.0``): the ranks combine over
                 their process group about once a second and rank 0 writes to the kernel.

Prints rank 0's median seconds per epoch of each and their ratio (target: monitored at most
3% slower).

    .venv/bin/python benchmarks/distributed_overhead.py                  # 7 rounds of 3 s epochs
    .venv/bin/python benchmarks/distributed_overhead.py --rounds 9 --steps 600
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from modelpanel import ModelPanel  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def run(rank: int, model: nn.Module, panel: ModelPanel, port: int, rounds: int, steps: int,
        out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        net = DDP(model)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        g = torch.Generator().manual_seed(rank)
        x, y = torch.randn(steps, 32, 64, generator=g), torch.randint(0, 10, (steps, 32), generator=g)

        def epoch(monitored: bool) -> float:
            dist.barrier()
            start = time.perf_counter()
            for i in panel.progress(range(steps), desc="step") if monitored else range(steps):
                loss = nn.functional.cross_entropy(net(x[i]), y[i])
                opt.zero_grad()
                loss.backward()
                opt.step()
                if monitored:
                    panel.log(loss=loss)
            dist.barrier()
            return time.perf_counter() - start

        epoch(False)
        epoch(True)  # warm-up: the panel's process group is made at the first refresh
        times: dict[str, list[float]] = {"bare": [], "monitored": []}
        for r in range(rounds):
            for monitored in ((False, True) if r % 2 == 0 else (True, False)):
                times["monitored" if monitored else "bare"].append(epoch(monitored))
        if rank == 0:
            with open(out, "w") as f:
                f.write(repr(times))
    finally:
        dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=400, help="steps per epoch")
    args = parser.parse_args()
    model = make_model()
    panel = ModelPanel(model, input_size=(1, 64))  # hist_every=2.0: the default
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "times")
        mp.start_processes(run, args=(model, panel, free_port(), args.rounds, args.steps, out),
                           nprocs=2, start_method="fork")
        panel._link.cell_ended(None)  # what the notebook's post-cell hook does
        times = eval(Path(out).read_text())  # noqa: S307 - our own repr of floats
    bare, monitored = statistics.median(times["bare"]), statistics.median(times["monitored"])
    job = panel.job
    print(f"2 ranks, gloo, DDP MLP {sum(p.numel() for p in model.parameters()):,} params, "
          f"{args.steps} steps/epoch, {args.rounds} rounds")
    print(f"bare       {bare:.3f} s/epoch  ({args.steps / bare:.0f} steps/s)")
    print(f"monitored  {monitored:.3f} s/epoch  ({args.steps / monitored:.0f} steps/s)")
    print(f"ratio monitored/bare: {monitored / bare:.3f} (target <= 1.03)")
    print(f"panel.job: world_size={job['world_size']} backend={job['backend']} "
          f"steps={len(panel.history['loss'])} histogram refreshes={len(panel._training.hist)}")


if __name__ == "__main__":
    main()
