"""What a summary costs, as a multiple of one bare forward, measured side by side in one run.

    .venv/bin/python benchmarks/summary.py [--repeats 15] [--before GIT_REF] [--gc-heap 300000] [--trace]

For each model: median time of a bare ``no_grad`` eval forward, ``summarize()`` (default: one
hooked forward, no MAC pass), the same followed by ``to_dict()`` (what the panel sends) and by
reading ``.layers`` (Layer objects are made on that first read), its two main parts, a forward
with a global hook that does nothing (what torch's hooked call path alone costs), the MAC
pass alone, ``torchinfo.summary(verbose=0)``, and, to justify the one global hook, a capture
with one hook per module instead (registered and removed each time, as a summary must).
``--before REF`` adds ``summarize()`` as it was at that git commit, timed in the same rounds.

Timings interleave the variants round by round, so a noisy shared machine slows them all
alike; quote the ratios of medians. The ratio of minimums (best round of each) is printed
beside them: noise only ever adds time, so it is the steadier figure for comparing two
versions of the code. Garbage is collected before each timed call: otherwise a full
collection, set off by whatever earlier variants left behind, lands inside whichever variant
happens to allocate at that moment (seen: one variant's median at 5x its minimum).

Each case also times ``summarize(trace="real")`` and ``trace="fake"`` (MACs included in fake;
``+ .macs`` adds the real path's MAC pass), so "auto" (the default) is seen next to both.
``--trace`` adds the issue-13 targets (``benchmarks/summary_trace.py``): GPT-2 small at 512
tokens and ResNet-50 at 16 x 3 x 224 x 224, fake vs a bare forward; the 70B meta Llama's wall
time and peak memory; GPT-2 small's peak memory under a fake summary; the one-off cost of
the first fake trace in a fresh process.

``--gc-heap N`` adds what that collection costs a user: with N small objects alive (a
notebook's heap) and no collection between calls, ``summarize()`` on the 2,000-layer stack
as shipped (the cyclic GC paused inside) against the same with the GC left running.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from zoo import IrisMLP, SmallCNN, gpt2_tiny, linear_stack  # noqa: E402

from modelpanel._core.nested import call_shapes, mirror_shapes  # noqa: E402
from modelpanel._core.walk import walk_modules  # noqa: E402
from modelpanel.summary import summarize  # noqa: E402
from modelpanel.summary.capture import capture  # noqa: E402
from modelpanel.summary.macs import count_macs  # noqa: E402
from modelpanel.summary.params import count_params  # noqa: E402


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


def noop_hook_forward(model: nn.Module, x: torch.Tensor) -> None:
    """The floor of any hook-based summary: one global forward hook that does nothing."""
    handle = nn.modules.module.register_module_forward_hook(lambda *args: None, with_kwargs=True)
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
        nn.modules.module._global_forward_hooks_with_kwargs.pop(handle.id, None)


def summarize_at(ref: str, into: Path) -> Callable[..., object]:
    """``summarize`` as it was at git commit ``ref`` (its src/modelpanel, imported under another name)."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "archive", ref, "src/modelpanel"], cwd=root, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    package = into / "modelpanel_before"
    (into / "src" / "modelpanel").rename(package)
    (package / "__init__.py").write_text("")  # its submodules only: no widget imports
    sys.path.insert(0, str(into))
    # Before the second wave summary was one module (summary.py); after it, a package whose
    # __init__ holds summarize: either imports as modelpanel_before.summary.
    return importlib.import_module("modelpanel_before.summary").summarize


def gc_section(heap_size: int, repeats: int) -> None:
    """summarize() with the GC paused inside (as shipped) or left on, in a heap of ``heap_size``."""
    import contextlib

    import modelpanel.summary as summary_module

    heap = [{"k": [i]} for i in range(heap_size)]  # live objects every full collection walks
    model, x = linear_stack(2000).eval(), torch.randn(1, 16)
    shipped = summary_module.gc_paused
    variants = {"GC paused inside (shipped)": shipped, "GC left on": contextlib.nullcontext}
    times: dict[str, list[float]] = {k: [] for k in variants}
    try:
        for _ in range(repeats):
            for label, pause in variants.items():
                summary_module.gc_paused = pause
                t0 = time.process_time()
                summarize(model, input_data=x)
                times[label].append(time.process_time() - t0)
    finally:
        summary_module.gc_paused = shipped
    print(f"\nlinear_stack(2000), {len(heap):,} objects alive, no gc.collect() between calls")
    for label, ts in times.items():
        print(f"  {label:<28} median {statistics.median(ts) * 1e3:7.2f} ms  mean {statistics.mean(ts) * 1e3:7.2f} ms"
              f"  max {max(ts) * 1e3:7.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--clock", choices=("process", "wall"), default="process",
        help="process: this process's CPU time (steadier on a shared machine); wall: perf_counter",
    )  # fmt: skip
    parser.add_argument("--only", default="", help="run only the cases whose name contains this")
    parser.add_argument("--before", default="", help="also time summarize() as of this git commit")
    parser.add_argument("--gc-heap", type=int, default=0, help="also time the GC pause in a heap of this many objects")
    parser.add_argument("--trace", action="store_true", help="also run the fake-trace targets (minutes)")
    opts = parser.parse_args()
    before = None
    if opts.before:
        before = summarize_at(opts.before, Path(tempfile.mkdtemp(prefix="summary-before-")))
    try:
        import torchinfo
    except ImportError:
        torchinfo = None

    torch.manual_seed(0)
    torch.set_num_threads(1)  # a shared 2-core box: one thread keeps the variants comparable
    cases = [
        ("IrisMLP, x (1, 4)", IrisMLP().eval(), torch.randn(1, 4)),
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
        tree = walk_modules(model)

        def bare(model: nn.Module = model, x: torch.Tensor = x) -> None:
            with torch.no_grad():
                model(x)

        def counting(model: nn.Module = model) -> None:
            count_params(walk_modules(model))

        variants: dict[str, Callable[[], object]] = {
            "bare forward": bare,
            "summarize() default": lambda model=model, x=x: summarize(model, input_data=x),
            "  trace='real'": lambda model=model, x=x: summarize(model, input_data=x, trace="real"),
            "  trace='fake' (+MACs)": lambda model=model, x=x: summarize(model, input_data=x, trace="fake"),
            "  default + .macs": lambda model=model, x=x: summarize(model, input_data=x).macs,
            "  trace='real' + .macs": lambda model=model, x=x: summarize(model, input_data=x, trace="real").macs,
            "  + to_dict() (panel)": lambda model=model, x=x: summarize(model, input_data=x).to_dict(),
            "  + .layers": lambda model=model, x=x: summarize(model, input_data=x).layers,
            "  its hooked forward": lambda x=x, tree=tree: capture(tree, (x,), {}),
            "  its walk + counting": counting,
            "no-op global hook (floor)": lambda model=model, x=x: noop_hook_forward(model, x),
        }  # fmt: skip
        if before is not None:
            variants[f"summarize() at {opts.before[:10]}"] = lambda model=model, x=x: before(model, input_data=x)
        variants.update({
            "MAC pass alone": lambda x=x, tree=tree: count_macs(tree, (x,), {}),
            "per-module hooks (alt.)": lambda model=model, x=x: per_module_hooks(model, x),
        })  # fmt: skip
        if torchinfo is not None:
            variants["torchinfo.summary"] = lambda model=model, x=x: torchinfo.summary(
                model, input_data=x, verbose=0
            )
        for fn in variants.values():  # warm-up: allocator, lazy imports
            fn()
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(opts.repeats):
            for label, fn in variants.items():
                gc.collect()
                t0 = clock()
                fn()
                times[label].append(clock() - t0)
        base = statistics.median(times["bare forward"])
        base_min = min(times["bare forward"])
        print(f"\n{name}")
        print(f"  {'':<26} {'median':>9}     {'ratio':>6}  {'min ratio':>9}")
        for label, ts in times.items():
            med = statistics.median(ts)
            print(f"  {label:<26} {med * 1e3:9.2f} ms  {med / base:6.2f}x  {min(ts) / base_min:8.2f}x")

    if opts.gc_heap:
        gc_section(opts.gc_heap, opts.repeats)
    if opts.trace:
        from summary_trace import trace_section

        trace_section(clock)


if __name__ == "__main__":
    main()
