"""What watching training in the panel costs: steps/s bare vs monitored, in one process.

Modes, run in alternating order every round so drift (thermal, other processes) hits all alike:

- ``bare``            the training step alone;
- ``tqdm_item``       the baseline people use: ``tqdm.notebook.tqdm`` with
                      ``set_postfix(loss=loss.item())`` every step (a host sync per step);
- ``progress_log``    ``panel.progress`` + ``panel.log(loss=loss)`` every step, histograms off;
- ``progress_hist``   the same with weight histograms at their default throttle (2 s);
- ``all_diag``        the same plus gradient norms and activation statistics.

For each: median steps/s over the rounds, the ratio to bare, and host syncs per second
(calls of Tensor.item / .cpu / .tolist / __float__, counted by wrapping them).

    .venv/bin/python benchmarks/training_overhead.py                 # CPU, SmallCNN
    .venv/bin/python benchmarks/training_overhead.py --rounds 5 --seconds 4

On a machine with CUDA the same modes run on a ResNet-like model on the GPU afterwards
(``--no-cuda`` skips it); without CUDA that part is skipped with a note.
``tqdm.notebook.tqdm`` runs headless here: it builds its ipywidgets and updates their traits
exactly as in a notebook, only no front end receives the messages.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from zoo import SmallCNN  # noqa: E402

from modelpanel.panel import ModelPanel  # noqa: E402

MODES = ("bare", "tqdm_item", "progress_log", "progress_hist", "all_diag")


Panel = ModelPanel


class SyncCounter:
    """Counts host reads of tensors while active (wraps a few torch.Tensor methods)."""

    NAMES = ("item", "cpu", "tolist", "__float__")

    def __init__(self) -> None:
        self.calls = 0
        self._orig = {n: getattr(torch.Tensor, n) for n in self.NAMES}
        for name, original in self._orig.items():
            def counted(t: torch.Tensor, *a: Any, _o: Any = original, **k: Any) -> Any:
                self.calls += 1
                return _o(t, *a, **k)
            setattr(torch.Tensor, name, counted)

    def restore(self) -> None:
        for name, original in self._orig.items():
            setattr(torch.Tensor, name, original)


class BasicBlock(nn.Module):
    """ResNet's basic block (two 3x3 convs, BatchNorm, identity or 1x1 shortcut)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.short(x))


def resnet_like(num_classes: int = 1000) -> nn.Module:
    """A ResNet-18-shaped network (about 11.7 M parameters) for the GPU run."""
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                               nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def make_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], torch.Tensor]:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> torch.Tensor:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def run_mode(mode: str, panel: Panel, step: Callable[[], torch.Tensor], steps: int,
             sync: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) for ``steps`` steps watched the way ``mode`` says."""
    panel.watch(hist_every=2.0 if mode in ("progress_hist", "all_diag") else None,
                grad_norms=mode == "all_diag", activations=mode == "all_diag")
    sync()
    start = time.perf_counter()
    cpu_start = time.process_time()
    if mode == "bare":
        for _ in range(steps):
            step()
    elif mode == "tqdm_item":
        from tqdm.notebook import tqdm as notebook_tqdm

        with contextlib.redirect_stdout(io.StringIO()):  # headless: its display() prints a repr
            bar = notebook_tqdm(range(steps), desc="batch")
            for _ in bar:
                loss = step()
                bar.set_postfix(loss=loss.item())
    else:
        for _ in panel.progress(range(steps), desc="batch"):
            loss = step()
            panel.log(loss=loss)
    sync()
    return time.perf_counter() - start, time.process_time() - cpu_start


def bench(device: str, model: nn.Module, x: torch.Tensor, y: torch.Tensor, input_size: tuple,
          rounds: int, seconds: float) -> dict[str, dict[str, float]]:
    model.to(device)
    x, y = x.to(device), y.to(device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    panel = Panel(model, input_size=input_size, device=device)
    step = make_step(model, x, y)
    for _ in range(5):  # warm-up (allocator, cudnn autotune, lazy init)
        step()
    sync()
    start = time.perf_counter()
    for _ in range(10):
        step()
    sync()
    per_step = (time.perf_counter() - start) / 10
    steps = max(20, int(seconds / per_step))
    rates: dict[str, list[float]] = {m: [] for m in MODES}
    syncs: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    for r in range(rounds):
        order = MODES if r % 2 == 0 else tuple(reversed(MODES))
        for mode in order:
            counter = SyncCounter()
            try:
                elapsed, cpu_s = run_mode(mode, panel, step, steps, sync)
            finally:
                counter.restore()
            rates[mode].append(steps / elapsed)
            cpu[mode].append(cpu_s / steps)
            syncs[mode].append(counter.calls / elapsed)
    panel.close()
    bare = statistics.median(rates["bare"])
    bare_cpu = statistics.median(cpu["bare"])
    out = {}
    print(f"\n{device}: {type(model).__name__}, batch {x.shape[0]}, {steps} steps per run, "
          f"{rounds} rounds (median)")
    # CPU seconds per step (this process only) are far steadier than wall time on a shared
    # machine; on CUDA they measure the host side only, so read the wall columns there.
    print(f"{'mode':<15}{'steps/s':>10}{'vs bare':>10}{'overhead':>10}{'syncs/s':>10}"
          f"{'cpu ms/step':>13}{'cpu overhead':>14}")
    for mode in MODES:
        rate = statistics.median(rates[mode])
        sps = statistics.median(syncs[mode])
        c = statistics.median(cpu[mode])
        out[mode] = {"steps_per_s": rate, "ratio": rate / bare, "syncs_per_s": sps, "cpu_s_per_step": c}
        print(f"{mode:<15}{rate:>10.1f}{rate / bare:>10.3f}{(bare / rate - 1) * 100:>9.1f}%{sps:>10.1f}"
              f"{c * 1e3:>13.2f}{(c / bare_cpu - 1) * 100:>13.1f}%")
    return out


def per_step_cost(iterations: int = 100_000) -> None:
    """The monitoring's own cost per step, with no model: robust to a noisy machine.

    A ``for`` over ``panel.progress`` with ``panel.log(loss=t)`` of a 0-d tensor, against the
    same loop over a plain range with the same tensor op; the difference divided by the
    iterations is what every training step pays, whatever the model.
    """
    panel = Panel(nn.Linear(2, 2), input_size=(1, 2), hist_every=None)
    t = torch.zeros(())
    times = {"bare": [], "panel": [], "tqdm_std": []}
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(iterations):
            t.add_(1)
        times["bare"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in panel.progress(range(iterations)):
            t.add_(1)
            panel.log(loss=t)
        times["panel"].append(time.perf_counter() - start)
        from tqdm.std import tqdm as std_tqdm
        start = time.perf_counter()
        for _ in std_tqdm(range(iterations), file=io.StringIO()):
            t.add_(1)
        times["tqdm_std"].append(time.perf_counter() - start)
    panel.close()
    bare = statistics.median(times["bare"])
    print(f"reference: one t.add_(1) loop iteration costs {bare / iterations * 1e6:.1f} us here")
    for name in ("panel", "tqdm_std"):
        extra = (statistics.median(times[name]) - bare) / iterations * 1e6
        label = "progress + log(loss=tensor)" if name == "panel" else "plain tqdm.std (no log)"
        print(f"per-step cost of {label}: {extra:.1f} us (median of 3 x {iterations} iterations)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="target length of one run")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads on CPU")
    parser.add_argument("--no-cuda", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    x = torch.randn(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))
    bench("cpu", SmallCNN(), x, y, (1, 1, 28, 28), args.rounds, args.seconds)
    print()
    per_step_cost()
    if args.no_cuda:
        return
    if not torch.cuda.is_available():
        print("\ncuda: skipped (torch.cuda.is_available() is False)")
        return
    torch.backends.cudnn.benchmark = True
    x = torch.randn(64, 3, 224, 224)
    y = torch.randint(0, 1000, (64,))
    bench("cuda", resnet_like(), x, y, (1, 3, 224, 224), args.rounds, args.seconds)


if __name__ == "__main__":
    main()
