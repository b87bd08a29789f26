"""Pausing Python's cyclic garbage collector while modelpanel builds many small objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic GC inside; restore the caller's setting (on or off) afterwards.

    Summaries and snapshots of 2,000-layer models build tens of thousands of small lists and
    tuples. Every 700 of them start a young collection, and some of those cascade into a pass
    over the user's whole heap (a loaded torch alone is 200,000 objects): measured 30-130 ms
    inside a snapshot that otherwise takes 40 ms. Nothing built here forms a cycle, so
    collection waits until the work is done (deferred, not skipped: see
    ``benchmarks/summary.py --gc-heap``).
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
