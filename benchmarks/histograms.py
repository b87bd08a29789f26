"""Weight-histogram refresh of a GPT-2-sized model: modelpanel vs the course's naive path.

Run from the repository root:

    .venv/bin/python benchmarks/histograms.py            # GPT-2 small, ~124M parameters
    .venv/bin/python benchmarks/histograms.py --quick    # fewer repeats, no exact path

Reports, from one run (timings interleaved, medians):

* the naive path: per parameter ``p.detach().cpu().numpy()`` + ``numpy.histogram(bins=64)``
  + mean/std/min/max, against ``weight_snapshot`` (sampled, the default on a CPU) and
  ``weight_snapshot(sample_size=None)`` (exact), as ratios;
* the bytes one refresh sends (counts + range buffers + the JSON of the records) against
  the raw weight bytes;
* the sampled refresh as a share of one training step (forward + backward + AdamW on a
  batch of 8 x 128 tokens) of the same model;
* many small tensors: ``weight_snapshot(linear_stack(2000))`` (4,000 tensors of 256 and
  16 values) against the naive path;
* with ``--baseline REV``: the same figures for ``stats.py`` as of git revision REV,
  timed in the same run, interleaved (before/after ratios on equal footing).

    .venv/bin/python benchmarks/histograms.py --baseline HEAD~2 --threads 1
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from zoo import GPT, GPTConfig, gpt2_small, linear_stack  # noqa: E402

from modelpanel.stats import weight_snapshot  # noqa: E402

BINS = 64


def naive_refresh(model: torch.nn.Module) -> list[tuple]:
    """What the course does: copy every weight to numpy and bin it there."""
    out = []
    for p in model.parameters():
        a = p.detach().cpu().numpy()
        counts, edges = np.histogram(a, bins=BINS)
        out.append((counts, edges, a.mean(), a.std(), a.min(), a.max()))
    return out


def baseline_snapshot(rev: str) -> Callable[..., object]:
    """``weight_snapshot`` of ``src/modelpanel/stats.py`` as of git revision ``rev``.

    The module and its relative imports are written from ``git show`` into a temporary
    package, so both versions run in this one process.
    """
    root = Path(__file__).resolve().parents[1]
    pkg = Path(tempfile.mkdtemp(prefix="modelpanel_baseline_")) / "modelpanel_baseline"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in ("stats.py", "_stats_kernels.py", "_stats_binning.py", "_wire.py", "errors.py"):
        shown = subprocess.run(
            ["git", "show", f"{rev}:src/modelpanel/{name}"],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if shown.returncode == 0:  # older revisions lack the later splits
            (pkg / name).write_text(shown.stdout)
    sys.path.insert(0, str(pkg.parent))
    return importlib.import_module("modelpanel_baseline.stats").weight_snapshot


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def train_step_seconds(model: GPT, steps: int, seed: int = 0) -> list[float]:
    """Seconds per training step (8 x 128 tokens, AdamW); the first step is a warm-up."""
    gen = torch.Generator().manual_seed(seed)
    vocab = model.config.vocab_size
    x = torch.randint(vocab, (8, 128), generator=gen)
    y = torch.randint(vocab, (8, 128), generator=gen)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, vocab), y.view(-1))
        loss.backward()
        opt.step()

    times = [timed(step) for _ in range(steps + 1)]
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each fast path")
    parser.add_argument("--exact-repeats", type=int, default=3, help="timed exact runs")
    parser.add_argument("--train-steps", type=int, default=2, help="timed training steps")
    parser.add_argument(
        "--threads", type=int, help="torch.set_num_threads for the run (numpy's path uses one)"
    )
    parser.add_argument("--small", action="store_true", help="GPT with 6 layers, d=384")
    parser.add_argument("--quick", action="store_true", help="2 repeats, no exact path")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--baseline", metavar="REV", help="also time stats.py as of this git revision"
    )
    parser.add_argument(
        "--small-tensors", type=int, default=2000, help="layers of linear_stack (0: skip)"
    )
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.exact_repeats, args.train_steps = 2, 0, 1

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.small:
        model = GPT(GPTConfig(n_layer=6, n_head=6, n_embd=384))
    else:
        model = gpt2_small()
    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    raw_bytes = sum(p.numel() * p.element_size() for p in params)

    base = baseline_snapshot(args.baseline) if args.baseline else None
    stack = linear_stack(args.small_tensors) if args.small_tensors else None
    # Warm-up (allocator, first-call dispatch), then interleave so noise hits all alike.
    naive_refresh(model)
    weight_snapshot(model)
    if base:
        base(model)
    times: dict[str, list[float]] = {}

    def run(key: str, fn: Callable[[], object]) -> None:
        times.setdefault(key, []).append(timed(fn))

    for r in range(max(args.repeats, args.exact_repeats)):
        if r < args.repeats:
            run("naive", lambda: naive_refresh(model))
            run("sampled", lambda: weight_snapshot(model))
            if base:
                run("base_sampled", lambda: base(model))
            if stack is not None:
                run("small_naive", lambda: naive_refresh(stack))
                run("small", lambda: weight_snapshot(stack))
                if base:
                    run("base_small", lambda: base(stack))
        if r < args.exact_repeats:
            run("exact", lambda: weight_snapshot(model, sample_size=None))
            if base:
                run("base_exact", lambda: base(model, sample_size=None))
    med = {k: statistics.median(v) for k, v in times.items() if v}

    snap = weight_snapshot(model)
    state = snap.to_hist_state(version=1)
    buffer_bytes = len(state["counts"]["view"]) + len(state["range"]["view"])
    records_bytes = len(json.dumps(snap.records).encode())
    sent = buffer_bytes + records_bytes

    step_times = train_step_seconds(model, args.train_steps) if args.train_steps else []
    step = statistics.median(step_times) if step_times else None

    fig = {
        "model": "GPT(6 layers, d=384)" if args.small else "GPT-2 small",
        "params": n_params,
        "tensors": len(snap.records),
        "sampled_tensors": sum(r["sampled"] for r in snap.records),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        # Other processes on the machine slow every path alike; quoted with the figures.
        "load_average_1min": os.getloadavg()[0],
        "median_s": med,
        "runs": {k: len(v) for k, v in times.items()},
        "naive_over_sampled": med["naive"] / med["sampled"],
        "naive_over_exact": med["naive"] / med["exact"] if "exact" in med else None,
        "bytes_sent": {"buffers": buffer_bytes, "records_json": records_bytes, "total": sent},
        "raw_weight_bytes": raw_bytes,
        "sent_over_raw": sent / raw_bytes,
        "train_step_s": step,
        "sampled_share_of_step": med["sampled"] / step if step else None,
        "baseline": args.baseline,
        "baseline_over_current": {
            k: med[f"base_{k}"] / med[k]
            for k in ("sampled", "exact", "small")
            if f"base_{k}" in med
        },
    }
    print(
        f"{fig['model']}: {n_params:,} parameters in {fig['tensors']} tensors "
        f"({fig['sampled_tensors']} sampled), torch threads {fig['torch_threads']}, "
        f"load average {fig['load_average_1min']:.1f}"
    )
    rev = args.baseline
    for key, label in (
        ("naive", "naive (cpu().numpy() + np.histogram)"),
        ("sampled", "weight_snapshot (sampled, default)"),
        ("base_sampled", f"  same at {rev}"),
        ("exact", "weight_snapshot (sample_size=None)"),
        ("base_exact", f"  same at {rev}"),
        ("small_naive", f"linear_stack({args.small_tensors}): naive"),
        ("small", f"linear_stack({args.small_tensors}): weight_snapshot"),
        ("base_small", f"  same at {rev}"),
    ):
        if key in med:
            print(f"  {label:40s} median {med[key] * 1e3:9.1f} ms over {len(times[key])} runs")
    for key, ratio in fig["baseline_over_current"].items():
        print(f"  {key}: {rev} / current = {ratio:.2f}x")
    if "small" in med:
        print(f"  linear_stack naive / weight_snapshot = {med['small_naive'] / med['small']:.2f}x")
    print(
        f"  naive / sampled = {fig['naive_over_sampled']:.1f}x"
        + (f", naive / exact = {fig['naive_over_exact']:.2f}x" if "exact" in med else "")
    )
    print(
        f"  bytes per refresh: buffers {buffer_bytes:,} (= 4*{BINS}*n + 16*n) + records JSON "
        f"{records_bytes:,} = {sent:,}; raw weights {raw_bytes:,} "
        f"({fig['sent_over_raw']:.2e} of raw)"
    )
    if step:
        print(
            f"  training step (8x128 tokens, AdamW): median {step:.2f} s over "
            f"{len(step_times)}; sampled refresh = {fig['sampled_share_of_step']:.1%} of a step"
        )
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))


if __name__ == "__main__":
    main()
