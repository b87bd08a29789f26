"""ProgressLine: the compact bar a ``panel.progress`` loop draws in the output of its own cell.

The panel may be displayed far above the cell that trains; tqdm.notebook draws its bar where
the loop runs, and so does this. One ProgressLine is displayed when the outermost bar of a loop
opens (a *run*, :class:`~modelpanel.training.progress.BarBoard`); the panel's
:class:`~modelpanel.panel.training.TrainingSession` then writes the same ``_progress`` records
it sends the panel (only those of this run) to it, in the same throttled flush, and stops when
the run ends: the line keeps showing how the loop ended, as a tqdm bar does.

It is a second anywidget with a small bundle of its own (js/src/progressLineEntry.ts, the
panel's progress view without Plotly). The line holds no
reference to the panel or the model: the panel's weak references are unaffected.

Like the panel, it is displayed as two outputs (panel/snapshot.py: the widget view, then a
static output with a ``display_id``), so a saved notebook reopened without the kernel shows
the finished bar instead of "model not found". The static output stays empty while the loop
runs and is written once, by :meth:`ProgressLine.finished` when the run ends
(panel/line_snapshot.py).
"""

from __future__ import annotations

import pathlib
from importlib.resources import files
from typing import Any

import anywidget
import traitlets

from ..training.progress import in_cell
from .line_snapshot import line_bundle
from .snapshot import SnapshotOutputs

__all__ = ["ProgressLine", "display_line"]

# A bundle of its own (js/src/progressLineEntry.ts: the progress view, no Plotly): every
# widget instance carries its ES module, so each training cell's line adds ~44 KB (25 KB of it
# the two word catalogs), not the panel's 1.2 MB, to the messages and to the saved notebook.
_BUNDLE = pathlib.Path(str(files("modelpanel") / "static")) / "progress_line.js"

# Without a built bundle the panel explains how to build it; the line stays quiet.
_NO_BUNDLE_ESM = "export default { render() {} };"


class ProgressLine(anywidget.AnyWidget):
    """The bars of one run, drawn compactly in the cell that runs it (``_progress`` records)."""

    _esm = _BUNDLE if _BUNDLE.is_file() else _NO_BUNDLE_ESM
    _progress = traitlets.List(help="this run's _progress records, as the panel has them").tag(sync=True)
    _language = traitlets.Unicode("", help="the panel's _language: the words of the line").tag(sync=True)

    def __init__(self, run: int, language: str = "", **kwargs: Any) -> None:
        super().__init__(_language=language, **kwargs)
        self.run = run  # the id of the run's outermost bar
        self.final: list[dict[str, Any]] | None = None  # the records the run ended with
        self.snapshot_error = ""  # why the static output could not be written ("" = it was)
        self._snapshots = SnapshotOutputs(self._bundle, self._on_snapshot_error)

    def __repr__(self) -> str:
        return f"ProgressLine(run={self.run}, bars={len(self._progress)})"

    def _bundle(self) -> dict[str, str]:
        return line_bundle(self.final or [], self._language)

    def _on_snapshot_error(self, message: str) -> None:
        self.snapshot_error = message

    def _ipython_display_(self) -> None:
        """Two outputs: the view, and the static line a saved notebook keeps (empty until
        :meth:`finished`)."""
        self._snapshots.display(super()._repr_mimebundle_())

    def finished(self) -> None:
        """The run ended: write the static output from the records the line holds now.

        Called when the run ends, never per step; again only if those records changed since
        (a loop that stopped early turns out to have failed when its cell raises). Records
        that are none (a ``leave=False`` bar that went) leave the output empty, unsent.
        """
        final = [dict(r) for r in self._progress]
        if final != (self.final or []):
            self.final = final
            self._snapshots.update()


def display_line(run: int, language: str = "") -> ProgressLine | None:
    """Display a ProgressLine for run ``run`` in the running cell's output, and return it.
    ``language``: the panel's ``_language`` ("" = the front end's display language).

    None, and nothing displayed, outside a Jupyter kernel's cell: plain Python and terminal
    IPython have no widget front end, and a widget message handler (the panel's Run button)
    runs outside any cell, where a display would be lost.
    """
    if not in_cell() or not _in_kernel():
        return None
    from IPython.display import display

    line = ProgressLine(run, language)
    display(line)
    return line


def _in_kernel() -> bool:
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
