"""The fake trace's targets (issue 13), run by ``benchmarks/summary.py --trace`` or alone:

    .venv/bin/python benchmarks/summary_trace.py [--repeats 3]

1. GPT-2 small (124 M, torch.nn) at 512 tokens: ``summarize()`` with MACs <= 0.2x a bare forward;
2. ResNet-50 (torch.nn) at 16 x 3 x 224 x 224: <= 0.1x;
3. Llama 3 70B built on the meta device: wall time and peak RSS growth of ``summarize()``;
4. peak RSS growth of a fake summary of GPT-2 small, against the model's own bytes (and the
   real trace's; measured by the kernel: tests/support/peak_memory.py);
5. the one-off cost of the first fake trace in a process (imports, FakeTensorMode's caches),
   quoted apart: each of 3-5 runs in a fresh process.

Warm timings interleave the variants round by round (medians; the machine is shared), on
one CPU thread, after one warm-up call of each.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

SUPPORT = str(Path(__file__).resolve().parents[1] / "tests" / "support")
sys.path.insert(0, SUPPORT)

from zoo import gpt2_small  # noqa: E402
from zoo_large import resnet50  # noqa: E402

from modelpanel.summary import summarize  # noqa: E402


def _rounds(variants: dict[str, Callable[[], object]], repeats: int, clock: Callable[[], float]) -> dict[str, float]:
    for fn in variants.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(repeats):
        for label, fn in variants.items():
            gc.collect()
            t0 = clock()
            fn()
            times[label].append(clock() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _targets(repeats: int, clock: Callable[[], float]) -> None:
    cases = [
        ("GPT-2 small (124 M), ids (1, 512)", gpt2_small().eval(), dict(input_size=(1, 512), dtypes=[torch.long]), 0.2),
        ("ResNet-50, x (16, 3, 224, 224)", resnet50().eval(), dict(input_size=(16, 3, 224, 224)), 0.1),
    ]  # fmt: skip
    for name, model, kwargs, target in cases:
        x = torch.zeros(kwargs["input_size"], dtype=kwargs.get("dtypes", [torch.float32])[0])

        def bare(model=model, x=x) -> None:
            with torch.no_grad():
                model(x)

        variants = {
            "bare forward": bare,
            "summarize() + .macs (auto)": lambda model=model, kw=kwargs: summarize(model, **kw).macs,
            "trace='fake' (MACs in it)": lambda model=model, kw=kwargs: summarize(model, **kw, trace="fake"),
            "trace='real'": lambda model=model, kw=kwargs: summarize(model, **kw, trace="real"),
            "trace='real' + .macs": lambda model=model, kw=kwargs: summarize(model, **kw, trace="real").macs,
        }
        med = _rounds(variants, repeats, clock)
        base = med["bare forward"]
        print(f"\n{name}  (target: summarize() with MACs <= {target}x a bare forward)")
        for label, t in med.items():
            print(f"  {label:<28} {t * 1e3:10.1f} ms  {t / base:6.3f}x")
        del model


_FRESH = r"""
import sys, time
sys.path.insert(0, {support!r})
import torch
torch.set_num_threads(1)
from peak_memory import peak_rss_growth
from zoo import gpt2_small, gpt2_tiny
from zoo_large import llama
from modelpanel import summarize
what = {what!r}
if what == "first-use":
    model = gpt2_tiny()
    t0 = time.perf_counter(); summarize(model, input_size=(1, 16), dtypes=[torch.long], trace="fake"); t1 = time.perf_counter()
    summarize(model, input_size=(1, 16), dtypes=[torch.long], trace="fake"); t2 = time.perf_counter()
    print(t1 - t0, t2 - t1)
else:
    summarize(gpt2_tiny(), input_size=(1, 8), dtypes=[torch.long], trace="fake")  # the one-off imports first
    model = gpt2_small() if what == "gpt2" else llama(device="meta")
    size = sum(p.nbytes for p in model.parameters()) if what == "gpt2" else 0
    kwargs = dict(input_size=(1, 512 if what == "gpt2" else 128), dtypes=[torch.long])
    t0 = time.perf_counter()
    grown, s = peak_rss_growth(lambda: summarize(model, **kwargs))
    wall = time.perf_counter() - t0
    real = peak_rss_growth(lambda: summarize(model, **kwargs, trace="real"))[0] if what == "gpt2" else 0
    print(wall, grown, size, s.trace, s.macs, real)
"""


def _fresh(what: str) -> list[float]:
    out = subprocess.run([sys.executable, "-c", _FRESH.format(support=SUPPORT, what=what)],
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return [float(v) if v.replace(".", "").replace("e-", "").isdigit() else v for v in out]


def trace_section(clock: Callable[[], float], repeats: int = 3) -> None:
    """Print the issue-13 figures (see the module doc)."""
    torch.set_num_threads(1)
    _targets(repeats, clock)
    first = [_fresh("first-use") for _ in range(3)]
    print("\nfirst fake trace in a fresh process (gpt2_tiny, 16 tokens), 3 processes:")
    print(f"  first call {statistics.median(f[0] for f in first) * 1e3:8.1f} ms, "
          f"second {statistics.median(f[1] for f in first) * 1e3:6.1f} ms (median)")  # fmt: skip
    wall, grown, size, trace, macs, real = _fresh("gpt2")
    print(f"\nGPT-2 small, ids (1, 512), fresh process: {trace} trace in {wall * 1e3:.0f} ms, peak RSS grew "
          f"{grown / 2**20:.1f} MiB = {grown / size:.1%} of the model's {size / 2**20:.0f} MiB (trace='real': "
          f"{real / 2**20:.0f} MiB); MACs {int(macs):,}")
    wall, grown, _, trace, macs, _ = _fresh("llama70b")
    print(f"Llama 3 70B on meta, ids (1, 128), fresh process: {trace} trace in {wall:.2f} s, "
          f"peak RSS grew {grown / 2**20:.1f} MiB; MACs {int(macs):,}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock", choices=("process", "wall"), default="process")
    opts = parser.parse_args()
    print(f"torch {torch.__version__}, 1 thread, {opts.clock} time, median of {opts.repeats}")
    trace_section(time.process_time if opts.clock == "process" else time.perf_counter, opts.repeats)
