"""One panel for a torch.distributed job whose ranks were forked from the notebook kernel.

The kernel's panel cannot be reached from a fork (ipykernel drops what a forked process sends).
So a panel plays one of two roles, chosen without the user saying so:

- **kernel** (the process that made the panel): :class:`JobLink` makes a :class:`~.channel.Channel`
  the moment before the process first forks, reads it on a thread and applies each record to
  the panel as a single-process refresh would (``_progress``, ``_metrics``, ``_param_stats`` /
  ``_hist``, ``_diagnostics``) plus ``_job``; at the end of the cell that launched the job it
  reads what is left, and a ``ProcessRaisedException`` / ``ProcessExitedException`` from
  ``torch.multiprocessing`` marks the job failed with the rank, exception and message.
- **worker** (a forked process in which ``torch.distributed`` is initialised):
  :class:`WorkerSync` replaces the time-throttled flush. Ranks refresh together at the same
  count of loop iterations and ``log`` calls (a "tick"), every ~1 s as rank 0 measures it;
  at each refresh they combine over the job's process group (``training/distributed.py``,
  ``stats/sharded.py``) and rank 0 writes one record to the channel. Histograms follow
  ``hist_every`` and gradient norms ``diag_every`` as rank 0's clock says.

Faults: a collective that fails or times out (``job_timeout``) raises in the rank, which
``torch.multiprocessing`` turns into the other ranks' termination and an error in the kernel;
a rank whose ``with panel.progress(...)`` block raises reports it at once.
"""

from __future__ import annotations

import math
import multiprocessing.util
import os
import sys
import time
import weakref
from typing import Any

import numpy as np

from ..errors import format_exception
from ..stats.sharded import sharded_snapshot
from ..training.distributed import JobGroup, combine_metrics, job_grad_norms
from .channel import Channel, forked, on_fork

__all__ = ["JobLink", "WorkerSync", "process_failure"]

# Errors a rank gets because another rank went away (gloo, NCCL, the panel's own collectives):
# the failure to show is the other rank's, whichever process happened to exit first.
_PEER_LOSS = ("Connection closed by peer", "Connection reset by peer", "Broken pipe", "Timed out",
              "the panel's ", "remote process exited", "communicator was aborted", "DistNetworkError",
              "terminated with signal SIGTERM")


def secondary(failure: dict[str, Any]) -> bool:
    """Whether a rank's failure reads as the consequence of another rank's (see _PEER_LOSS)."""
    text = f"{failure.get('type', '')}: {failure.get('message', '')}"
    return any(marker in text for marker in _PEER_LOSS)

#: Seconds between the ranks' combined refreshes (rank 0 turns it into a count of ticks).
SYNC_SECONDS = 1.0


class JobLink:
    """The panel's link to distributed jobs: the channel and the job as last reported."""

    def __init__(self, panel: Any) -> None:
        self._panel = weakref.ref(panel)
        self.owner_pid = os.getpid()
        self.channel: Channel | None = None
        self.job: dict[str, Any] | None = None
        self.forked_in_cell = False
        on_fork(self)

    # -- kernel side ---------------------------------------------------------------------------

    def before_fork(self) -> None:
        if self.channel is None and os.getpid() == self.owner_pid:
            self.channel = Channel()
            _install_cell_hook()
            _LINKS.add(self)

    def after_fork_parent(self) -> None:
        if self.channel is not None and os.getpid() == self.owner_pid:
            self.forked_in_cell = True
            self.channel.start_reader(self._apply)

    def cell_ended(self, exc: BaseException | None) -> None:
        """The cell that forked ended: apply what the ranks wrote, then any failure it raised."""
        self.forked_in_cell = False
        if self.channel is None:
            return
        self.channel.drain(self._apply)
        failure = process_failure(exc)
        if failure is not None:
            self._apply({"kind": "error", **failure})

    def close(self) -> None:
        if self.channel is not None and os.getpid() == self.owner_pid:
            self.channel.close()
            self.channel = None

    def _apply(self, record: dict[str, Any]) -> None:
        panel = self._panel()
        if panel is None:
            return
        try:
            if record.get("kind") == "error":
                self._fail(panel, record)
            else:
                self._refresh(panel, record)
        except Exception as exc:  # noqa: BLE001 - a bad record must not kill the reader thread
            panel._set_error(f"distributed job: {format_exception(exc)}")

    def _refresh(self, panel: Any, record: dict[str, Any]) -> None:
        session = panel._training
        traits: dict[str, Any] = {"_progress": record["progress"]}
        session.last_records = record["progress"]
        if record["metrics"]:
            session.log.extend(record["metrics"])
            if session.log.has_new:
                traits["_metrics"] = session._metrics_delta(session.log.take_new())
        if record["snapshot"] is not None:
            traits.update(session.history_traits(record["snapshot"]))
        diag = False
        if record["grads"] is not None:
            session.grad_norms, session.grad = True, record["grads"]
            diag = session._flag(record["bad_grads"], "grads") or True
        if record["acts"] is not None:
            session.activations, session.acts = True, record["acts"]
            diag = True
        if diag or record["snapshot"] is not None:
            traits["_diagnostics"] = session._diagnostics_state()
        previous = self.job or {}
        latest = dict(previous.get("metrics", {}))
        for name, values in record["latest"].items():
            old = latest.get(name, [None] * len(values))
            latest[name] = [v if v is not None else o for v, o in zip(values, old)]
        rates = record["rates"]
        known = [(r, i) for i, r in enumerate(rates) if r is not None]
        self.job = {
            "world_size": record["world_size"], "backend": record["backend"],
            "state": "running" if record["running"] else "done",
            "step": record["step"], "unit": record["unit"], "rates": rates,
            "slowest": min(known)[1] if len(known) > 1 else None,
            "metrics": latest,
            "grad_norm": record["grad_norm"] if record["grads"] is not None else previous.get("grad_norm"),
            "failure": previous.get("failure"),
        }
        if self.job["failure"] is not None:
            self.job["state"] = "failed"
        traits["_job"] = self.job
        panel._publish(**traits)

    def _fail(self, panel: Any, record: dict[str, Any]) -> None:
        failure = {"rank": record["rank"], "type": record["type"], "message": record["message"]}
        known = (self.job or {}).get("failure")
        # The first cause wins: a rank that only lost its peer never replaces the rank that
        # raised; torch.multiprocessing names whichever exited first, which can be either.
        if known is not None and (secondary(failure) or not secondary(known)):
            return
        job = dict(self.job or {"world_size": None, "backend": None, "step": None, "unit": "it",
                                "rates": [], "slowest": None, "metrics": {}, "grad_norm": None})
        job.update(state="failed", failure=failure)
        self.job = job
        text = f"rank {failure['rank']}: {failure['type']}: {failure['message']}"
        session = panel._training
        records = [dict(r, state="error", error=text) if r["state"] == "running" else r
                   for r in session.last_records]
        session.last_records = records
        panel._publish(_job=job, _progress=records)


def process_failure(exc: BaseException | None) -> dict[str, Any] | None:
    """``{"rank", "type", "message"}`` of a ``torch.multiprocessing`` failure in ``exc``'s chain.

    ``ProcessRaisedException``: the rank's exception, read from the last line(s) of the
    traceback it carries. ``ProcessExitedException`` (a rank that died without a word, e.g.
    killed or ``os._exit``): its exit code or signal. None for any other exception.
    """
    from torch.multiprocessing import ProcessExitedException, ProcessRaisedException

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ProcessRaisedException):
            lines = exc.msg.rstrip().splitlines()
            # The exception's own text follows the traceback's last indented line.
            last = max((i for i, line in enumerate(lines) if line.startswith(" ")), default=-1)
            kind, _, message = "\n".join(lines[last + 1:]).partition(": ")
            return {"rank": exc.error_index, "type": kind.strip(), "message": message.strip()}
        if isinstance(exc, ProcessExitedException):
            return {"rank": exc.error_index, "type": "ProcessExitedException", "message": exc.msg}
        exc = exc.__cause__ or exc.__context__
    return None


_LINKS: weakref.WeakSet[JobLink] = weakref.WeakSet()
_HOOKED: list[Any] = []


def _install_cell_hook() -> None:
    """After each cell, links that forked during it read what is left (once per shell)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or any(s is shell for s in _HOOKED):
        return
    shell.events.register("post_run_cell", _post_run_cell)
    _HOOKED.append(shell)


def _post_run_cell(result: Any) -> None:
    for link in list(_LINKS):
        if link.forked_in_cell:
            link.cell_ended(getattr(result, "error_in_exec", None))


# -- worker side -------------------------------------------------------------------------------


def worker_for(session: Any, link: JobLink, timeout: float) -> WorkerSync | None:
    """The session's worker role when this process is a rank of a forked job, else None.

    Checked on every progress/log call: one list read in a process that was never forked.
    """
    if session.worker is not None or not forked() or link.channel is None:
        return session.worker
    if os.getpid() == link.owner_pid:
        return None
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return None
    session.worker = WorkerSync(session, link.channel, timeout)
    session.board.tick = session.worker.tick
    # Run as the rank's process exits (multiprocessing's exit handlers, also after
    # torch.multiprocessing caught the rank's exception and called sys.exit(1)): report it.
    multiprocessing.util.Finalize(None, session.worker.report_exit, exitpriority=100)
    return session.worker


class WorkerSync:
    """A rank's refreshes: at agreed ticks, combined over the job, rank 0 writing the record."""

    def __init__(self, session: Any, channel: Channel, timeout: float) -> None:
        self.session = session
        self.channel = channel
        self.timeout = timeout
        self.group: JobGroup | None = None
        self.ticks = 0
        self.next_sync = 1
        now = time.monotonic()
        self.last_sync, self.last_ticks = now, 0
        self.last_hist = now
        self.last_diag = -math.inf

    def tick(self) -> None:
        """One loop iteration or ``log`` call; refreshes when the agreed tick is reached."""
        self.ticks += 1
        if self.ticks >= self.next_sync:
            self.sync(final=False)

    def flush(self, force: bool) -> None:
        """A bar opened or closed: when the outermost bar closed, refresh once more (all ranks)
        if it ran to its end, or report the exception it ended with."""
        board = self.session.board
        if not force or board.running():
            return
        records = board.snapshot()
        if not records:
            return
        outer = max(records, key=lambda r: (r["run"], -r["level"]))
        if outer["state"] == "done":
            self.sync(final=True)
        elif outer["state"] == "error":
            self.report(outer["error"])

    def report_exit(self) -> None:
        """At process exit: the exception that ends the rank, if any, to the kernel."""
        exc = sys.exc_info()[1]
        if isinstance(exc, SystemExit) and exc.code not in (0, None):
            exc = exc.__context__ or exc
        if exc is not None and not isinstance(exc, (SystemExit, KeyboardInterrupt)):
            self.report(format_exception(exc))

    def report(self, text: str) -> None:
        """Send this rank's failure to the kernel (best effort: the rank is failing anyway)."""
        import torch.distributed as dist

        kind, _, message = text.partition(": ")
        try:
            self.channel.send({"kind": "error", "rank": dist.get_rank(), "type": kind, "message": message})
        except OSError:
            pass

    def sync(self, final: bool) -> None:
        """Combine over the job (a collective: every rank calls it at the same tick)."""
        try:
            self._sync(final)
        except Exception as exc:
            self.report(format_exception(exc))
            raise

    def _sync(self, final: bool) -> None:
        if self.group is None:
            self.group = JobGroup(self.timeout)
        s, g, now = self.session, self.group, time.monotonic()
        records = s.board.snapshot()
        running = [r for r in records if r["state"] == "running"]
        # The innermost bar of the latest run (its rate is the rank's steps/s), ended or not.
        last = [r for r in records if r["run"] == records[-1]["run"]] if records else []
        inner = max(last, key=lambda r: r["level"]) if last else None
        ticks, elapsed = self.ticks - self.last_ticks, now - self.last_sync
        every = max(1, int(ticks / elapsed * SYNC_SECONDS)) if ticks > 0 and elapsed > 0 else 1
        hist_due = s.hist_every is not None and (final or now - self.last_hist >= s.hist_every)
        diag_due = (s.grad_norms or s.activations) and (final or now - self.last_diag >= s.diag_every)
        rate = inner["rate"] if inner is not None and inner["rate"] is not None else math.nan
        # One all_gather: each rank's rate, and rank 0's decisions for everyone.
        head = g.all_gather(np.array([self.ticks, rate, every, hist_due, diag_due], np.float64))
        every, hist_due, diag_due = int(head[0, 2]), bool(head[0, 3]), bool(head[0, 4])
        self.next_sync, self.last_sync, self.last_ticks = self.ticks + every, now, self.ticks
        if hist_due:
            self.last_hist = now
        if diag_due:
            self.last_diag = now
        s.log.drain()
        gathered = g.gather_object(s.log.take_points())
        model = s._model()
        grads = job_grad_norms(model, g) if diag_due and s.grad_norms else None
        snapshot = sharded_snapshot(model, g.all_reduce, g.rank, bins=s.bins) if hist_due else None
        acts = s.monitor.read() if diag_due and s.monitor is not None and s.monitor.attached else None
        if g.rank != 0:
            return
        assert gathered is not None
        metrics, latest = combine_metrics(gathered)
        self.channel.send({
            "kind": "sync", "world_size": g.world_size, "backend": g.backend,
            "running": bool(running), "progress": records, "step": s.log.last_step,
            "unit": inner["unit"] if inner is not None else "it",
            "rates": [None if math.isnan(r) else float(r) for r in head[:, 1]],
            "metrics": metrics, "latest": latest, "snapshot": snapshot,
            "grads": None if grads is None else grads[0], "grad_norm": None if grads is None else grads[1],
            "bad_grads": None if grads is None else grads[2], "acts": acts,
        })
