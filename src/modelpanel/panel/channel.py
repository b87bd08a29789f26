"""The channel from the ranks of a forked job to the kernel's panel.

ipykernel drops every message a forked process tries to send on the kernel's sockets
("attempted to send message from fork"), so a worker cannot update the widget itself. The
channel is a ``multiprocessing.Pipe(duplex=False)`` of the ``"fork"`` context (an ``os.pipe``
with length-prefixed framing) and a ``multiprocessing.Lock`` for its writers, made in the kernel
the moment before a fork (``os.register_at_fork(before=...)``), so that every forked rank
inherits the writing end. Why these:

- a pipe carries bytes only (no port to allocate, nothing in ``/dev/shm``; the lock's POSIX
  semaphore is unlinked at creation under the fork context), it is closed with the panel, and
  its reader polls with a timeout, so the kernel never blocks on a rank that died;
- ``Connection.send_bytes``/``recv_bytes`` frame each record (the pickled dict rank 0 sends per
  refresh) and ``poll(timeout)`` lets a reader thread stop when the panel closes;
- the lock keeps a failing rank's error report from interleaving with rank 0's record (writes
  above ``PIPE_BUF``, 4 KiB, are not atomic).

A ``torch.multiprocessing.SimpleQueue`` is the same pipe and lock behind a blocking ``get``;
a TCP store or shared memory would add a port or a segment to clean up.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["Channel", "on_fork"]

#: Seconds a writer waits for the lock (held by a rank killed mid-write: give up, not hang).
_LOCK_TIMEOUT = 10.0


class Channel:
    """One-way pipe from forked ranks to the kernel, with a reader thread in the kernel."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._reader, self._writer = ctx.Pipe(duplex=False)
        self._lock = ctx.Lock()
        self.owner_pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self.reading = threading.Lock()  # held while records are applied (thread or drain)

    def send(self, record: dict[str, Any]) -> None:
        """Write one record (from any rank); raises OSError when the kernel side is gone."""
        data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        if not self._lock.acquire(timeout=_LOCK_TIMEOUT):
            raise OSError("the panel's channel stayed locked (a rank died while writing)")
        try:
            self._writer.send_bytes(data)
        finally:
            self._lock.release()

    def drain(self, apply: Callable[[dict[str, Any]], None]) -> None:
        """Apply every record already written (in the kernel; returns when none is left)."""
        with self.reading:
            while not self._closed.is_set() and self._reader.poll(0):
                apply(pickle.loads(self._reader.recv_bytes()))

    def start_reader(self, apply: Callable[[dict[str, Any]], None]) -> None:
        """Start the kernel's reader thread once; it applies records as they arrive.

        ``apply`` is called on that thread: trait changes made there are sent to the front end
        while the notebook cell that launched the job is still blocked waiting for it.
        """
        if self._thread is not None or os.getpid() != self.owner_pid:
            return
        closed, reader, reading = self._closed, self._reader, self.reading

        def run() -> None:
            while not closed.is_set():
                try:
                    ready = reader.poll(0.25)
                except OSError:
                    return
                if ready:
                    with reading:
                        while not closed.is_set() and reader.poll(0):
                            apply(pickle.loads(reader.recv_bytes()))

        self._thread = threading.Thread(target=run, name="modelpanel-job-reader", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the reader and close both ends (in the kernel; safe to call twice)."""
        self._closed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        for end in (self._reader, self._writer):
            end.close()


# -- fork hooks: one registration for the process, dispatched to live listeners ---------------

_LISTENERS: weakref.WeakSet[Any] = weakref.WeakSet()
_FORKED = [False]  # True in a process forked from the one that imported this module


def on_fork(listener: Any) -> None:
    """Call ``listener.before_fork()`` / ``after_fork_parent()`` around each fork of this process.

    Held weakly: a deleted panel is forgotten.
    """
    _LISTENERS.add(listener)


def forked() -> bool:
    """Whether this process was forked from another that used modelpanel (one list read)."""
    return _FORKED[0]


def _before() -> None:
    for listener in list(_LISTENERS):
        listener.before_fork()


def _after_in_parent() -> None:
    for listener in list(_LISTENERS):
        listener.after_fork_parent()


def _after_in_child() -> None:
    _FORKED[0] = True


os.register_at_fork(before=_before, after_in_parent=_after_in_parent, after_in_child=_after_in_child)
