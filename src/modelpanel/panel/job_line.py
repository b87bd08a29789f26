"""The progress line of the cell that launches a distributed job.

A loop run in the kernel draws a :class:`~.progress_line.ProgressLine` under its own cell. The
loops of a job run in forked ranks, whose displays ipykernel drops, and the kernel's reader
thread may not display either: a display made from a thread lands in whichever cell the kernel
last attributed that thread to, not necessarily the one launching the job. So the line is
displayed from the one place that is in the launching cell and in the kernel's main thread:
the ``os.register_at_fork(before=...)`` hook (:mod:`.channel`), as
``torch.multiprocessing.start_processes`` forks the first rank (the frames of the fork's caller
tell; accelerate's ``notebook_launcher`` and Lightning's ``ddp_notebook`` call it too). Other
forks (a DataLoader's workers, ``multiprocessing.Pool``) draw nothing.

The line waits, empty, until the first record from a rank reaches a panel in the kernel: that
panel's :class:`~.job.JobLink` claims it and from then on writes rank 0's bars of the job's
run to it with the same records it gives the panel (``_progress``), from the reader thread, as
it does for the panel's traits. When the cell ends, a line that got no bars (no rank used a
panel, or the job failed before its first refresh) is taken out of the cell's output.
"""

from __future__ import annotations

import sys
import threading

from ..training.progress import in_cell
from .progress_line import ProgressLine, _in_kernel

__all__ = ["claim", "cell_ended", "open_line"]

_LOCK = threading.Lock()
_PENDING: list[ProgressLine] = []  # displayed in the running cell, not yet claimed by a panel
_SHOWN: list[tuple[ProgressLine, object]] = []  # every line of the running cell, with its display handle


def launching_job() -> bool:
    """Whether the fork now being made comes from ``torch.multiprocessing.start_processes``."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "torch.multiprocessing.spawn":
            return True
        frame = frame.f_back
    return False


def open_line() -> None:
    """Before a fork: display the launching cell's line, once per job, if the fork starts one.

    Only in the kernel's main thread, inside a cell (where a display reaches that cell's
    output), and not while an earlier line of the same cell still waits for its job's records.
    """
    if _PENDING or threading.current_thread() is not threading.main_thread():
        return
    if not in_cell() or not _in_kernel() or not launching_job():
        return
    line = ProgressLine(run=-1)
    handle = line.show(view_handle=True)
    with _LOCK:
        _PENDING.append(line)
        _SHOWN.append((line, handle))


def claim(language: str) -> ProgressLine | None:
    """The line waiting for a job's records, for the panel that got the first one (any thread)."""
    with _LOCK:
        line = _PENDING.pop() if _PENDING else None
    if line is not None:
        line._language = language
    return line


def cell_ended() -> None:
    """The cell ended: a line without bars leaves its output; none waits for a later cell."""
    with _LOCK:
        shown = list(_SHOWN)
        _SHOWN.clear()
        _PENDING.clear()
    for line, handle in shown:
        if not line._progress:
            if handle is not None:
                handle.update({}, raw=True)  # an empty output: nothing drawn, nothing saved
            line.close()
