"""Throughput of ``evaluate`` against the course's plain evaluation loops (issue 5, point 6).

Run from the repository root:

    .venv/bin/python benchmarks/inference.py            # CPU, then CUDA when available
    .venv/bin/python benchmarks/inference.py --quick    # fewer repeats
    .venv/bin/python benchmarks/inference.py --threads 1  # steadier on a shared machine

CPU, from one run (methods interleaved round by round, medians):

* ``plain``: the course's cell, ``model.eval()``; ``with torch.no_grad(): model(X)`` on the
  whole tensor, ``torch.max``, ``(predicted == y).sum().item()``;
* ``batched``: the same loop over batches of 256;
* ``evaluate``: ``evaluate(model, X, y, batch_size=256)`` (which also computes probabilities,
  top-k, the confusion matrix and per-class figures, and restores the model).

For the course's Iris MLP (30 samples: overhead-dominated) and a small CNN (MNIST-shaped).

CUDA (only when ``torch.cuda.is_available()``, else "skipped: no CUDA"): a ResNet-50-like
model built from torch.nn, 224x224 images held in pageable host memory. The limit is the same
bf16 inference_mode loop with the data already on the GPU; reported are ``evaluate(...,
device="cuda", amp=True)`` and the course's no_grad loop over pageable host batches, as
shares of that limit (target: evaluate >= 97%).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from zoo import IrisMLP, SmallCNN  # noqa: E402

from modelpanel.inference import evaluate  # noqa: E402

BATCH = 256


def plain(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        outputs = model(X)
        _, predicted = torch.max(outputs, 1)
    model.train()
    return (predicted == y).sum().item() / len(y)


def batched(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch: int = BATCH) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch):
            _, predicted = torch.max(model(X[i : i + batch]), 1)
            correct += (predicted == y[i : i + batch]).sum().item()
    model.train()
    return correct / len(y)


def ours(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    return evaluate(model, X, y, batch_size=BATCH).accuracy


def interleaved(fns: dict[str, Callable[[], object]], rounds: int, reps: int) -> dict[str, float]:
    """Median seconds per call of each function, measured round by round side by side."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():  # warm-up: thread pools, allocator, first-call dispatch
        fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            times[name].append((time.perf_counter() - t0) / reps)
    return {k: statistics.median(v) for k, v in times.items()}


def cpu_section(quick: bool) -> None:
    print(f"## CPU ({platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)")
    g = torch.Generator().manual_seed(0)
    cases = [
        ("IrisMLP, 30 samples", IrisMLP(), torch.randn(30, 4, generator=g),
         torch.randint(0, 3, (30,), generator=g), 200),
        ("SmallCNN 1x28x28, 4096 samples", SmallCNN(1, 28, 10), torch.randn(4096, 1, 28, 28, generator=g),
         torch.randint(0, 10, (4096,), generator=g), 1),
    ]
    print(f"{'model':34s} {'method':9s} {'samples/s':>12s} {'vs plain':>9s}")
    for name, model, X, y, reps in cases:
        torch.manual_seed(0)
        accs = {plain(model, X, y), batched(model, X, y), ours(model, X, y)}
        assert len(accs) == 1, f"methods disagree on accuracy: {accs}"
        med = interleaved(
            {k: (lambda f=f, a=(model, X, y): f(*a)) for k, f in
             (("plain", plain), ("batched", batched), ("evaluate", ours))},
            rounds=3 if quick else 7, reps=reps if not quick else max(1, reps // 4),
        )
        for method, s in med.items():
            print(f"{name:34s} {method:9s} {len(X) / s:12,.0f} {med['plain'] / s:8.2f}x")


def resnet_like(num_classes: int = 1000) -> nn.Module:
    """ResNet-50's layout (bottleneck blocks 3-4-6-3, widths 64..2048) from torch.nn only."""

    class Bottleneck(nn.Module):
        def __init__(self, cin: int, width: int, stride: int) -> None:
            super().__init__()
            cout = width * 4
            self.body = nn.Sequential(
                nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout),
            )
            self.skip = (
                nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                if stride != 1 or cin != cout else nn.Identity()
            )
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.relu(self.body(x) + self.skip(x))

    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1),
    ]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            layers.append(Bottleneck(cin, width, stride if b == 0 else 1))
            cin = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
    return nn.Sequential(*layers)


def cuda_section(quick: bool) -> None:
    if not torch.cuda.is_available():
        print("## CUDA\nskipped: no CUDA")
        return
    dev = torch.device("cuda")
    print(f"## CUDA ({torch.cuda.get_device_name(dev)}, torch {torch.__version__})")
    torch.backends.cudnn.benchmark = True
    model = resnet_like().to(dev)
    n = 2048 if quick else 5120
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 3, 224, 224, generator=g)  # pageable host memory, as users have it
    y = torch.randint(0, 1000, (n,), generator=g)
    Xg, yg = X.to(dev), y.to(dev)

    def limit() -> None:  # same work as evaluate's core, data already on the GPU
        model.eval()
        correct = torch.zeros((), dtype=torch.long, device=dev)
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
            for i in range(0, n, BATCH):
                correct += (model(Xg[i : i + BATCH]).argmax(1) == yg[i : i + BATCH]).sum()
        correct.item()

    def course_gpu() -> None:  # no_grad, fp32, pageable batches moved one by one
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, n, BATCH):
                xb, yb = X[i : i + BATCH].to(dev), y[i : i + BATCH].to(dev)
                correct += (model(xb).argmax(1) == yb).sum().item()

    def ours_cuda() -> None:
        evaluate(model, X, y, device="cuda", batch_size=BATCH, amp=True, topk=5)

    med = interleaved(
        {"limit (data on GPU, bf16)": limit, "course loop (pageable, fp32)": course_gpu,
         "evaluate (amp=True)": ours_cuda},
        rounds=3 if quick else 5, reps=1,
    )
    lim = med["limit (data on GPU, bf16)"]
    print(f"{'method':30s} {'samples/s':>12s} {'share of limit':>15s}")
    for name, s in med.items():
        print(f"{name:30s} {n / s:12,.0f} {lim / s:14.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-cpu", action="store_true", help="only the CUDA section")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 gives steadier figures on a shared machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if not args.no_cpu:
        cpu_section(args.quick)
    cuda_section(args.quick)


if __name__ == "__main__":
    main()
