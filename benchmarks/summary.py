"""What a summary costs, as a multiple of one bare forward, measured side by side in one run.

    .venv/bin/python benchmarks/summary.py [--repeats 15]

For each model: median time of a bare ``no_grad`` eval forward, ``summarize()`` (default: one
hooked forward, no MAC pass) and its two main parts, the MAC pass alone,
``torchinfo.summary(verbose=0)``, and, to justify the one global hook, a capture with one hook
per module instead (registered and removed each time, as a summary must). Timings interleave the
variants round by round, so a noisy shared machine slows them all alike; quote the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from zoo import SmallCNN, gpt2_tiny, linear_stack  # noqa: E402

from modelpanel._summary_capture import call_shapes, capture, mirror_shapes  # noqa: E402
from modelpanel._summary_macs import count_macs  # noqa: E402
from modelpanel._summary_params import count_params  # noqa: E402
from modelpanel.summary import summarize  # noqa: E402


def per_module_hooks(model: nn.Module, x: torch.Tensor) -> None:
    """The alternative design: a pre/post hook pair registered on every module."""
    records: dict[str, list] = {}
    handles = []

    def make(path: str) -> Callable:
        def hook(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
            rec = records.get(path)
            if rec is None:
                records[path] = [1, call_shapes(args, kwargs), mirror_shapes(output)]
            else:
                rec[0] += 1

        return hook

    for path, m in model.named_modules():
        handles.append(m.register_forward_hook(make(path), with_kwargs=True))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--clock", choices=("process", "wall"), default="process",
        help="process: this process's CPU time (steadier on a shared machine); wall: perf_counter",
    )  # fmt: skip
    parser.add_argument("--only", default="", help="run only the cases whose name contains this")
    opts = parser.parse_args()
    try:
        import torchinfo
    except ImportError:
        torchinfo = None

    torch.manual_seed(0)
    torch.set_num_threads(1)  # a shared 2-core box: one thread keeps the variants comparable
    cases = [
        ("linear_stack(2000), x (1, 16)", linear_stack(2000).eval(), torch.randn(1, 16)),
        ("SmallCNN, x (8, 1, 28, 28)", SmallCNN().eval(), torch.randn(8, 1, 28, 28)),
        ("gpt2_tiny(n_layer=4, d=128), ids (1, 64)",
         gpt2_tiny(vocab_size=2048, block_size=64, n_layer=4, n_head=4, n_embd=128).eval(),
         torch.randint(0, 2048, (1, 64))),
    ]  # fmt: skip
    clock = time.process_time if opts.clock == "process" else time.perf_counter
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, {opts.clock} time, "
          f"median of {opts.repeats}")  # fmt: skip
    for name, model, x in cases:
        if opts.only not in name:
            continue
        modules = list(model.named_modules())

        def bare(model: nn.Module = model, x: torch.Tensor = x) -> None:
            with torch.no_grad():
                model(x)

        variants: dict[str, Callable[[], object]] = {
            "bare forward": bare,
            "summarize() default": lambda model=model, x=x: summarize(model, input_data=x),
            "  its hooked forward": lambda model=model, x=x, modules=modules: capture(model, (x,), {}, modules),
            "  its counting (no forward)": lambda modules=modules: count_params(modules),
            "MAC pass alone": lambda model=model, x=x, modules=modules: count_macs(model, (x,), {}, modules),
            "per-module hooks (alt.)": lambda model=model, x=x: per_module_hooks(model, x),
        }
        if torchinfo is not None:
            variants["torchinfo.summary"] = lambda model=model, x=x: torchinfo.summary(
                model, input_data=x, verbose=0
            )
        for fn in variants.values():  # warm-up: allocator, lazy imports
            fn()
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(opts.repeats):
            for label, fn in variants.items():
                t0 = clock()
                fn()
                times[label].append(clock() - t0)
        base = statistics.median(times["bare forward"])
        print(f"\n{name}")
        for label, ts in times.items():
            med = statistics.median(ts)
            print(f"  {label:<26} {med * 1e3:9.2f} ms  {med / base:6.2f}x")


if __name__ == "__main__":
    main()
