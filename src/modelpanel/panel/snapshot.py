"""The panel's latest state as a static output of its own, kept current by ``display_id``.

A saved notebook keeps each output's display data; reopened without the panel's kernel,
JupyterLab 4 and Notebook 7 (one renderer: jupyterlab_widgets' ``WidgetRenderer``) show
"Error displaying widget: model not found" for the widget view, and nothing else of that
output: the renderer has no fallback to the bundle's ``text/html``. Only two things render
there without our code: widget state saved in the notebook's metadata, which both front ends
write only with the ``saveState`` setting (off by default; every panel would add its 1.2 MB
ES module), and a plain ``text/html`` output. So the panel is displayed as two outputs
(:meth:`SnapshotOutputs.display`):

1. the widget view alone (``application/vnd.jupyter.widget-view+json``), never updated: an
   ``update_display_data`` to it makes the front end call ``WidgetRenderer.renderModel``
   again, which wipes the view and builds a new one (losing the tab, selection, search and
   zoom that live in the view) and leaves the old one undisposed;
2. the snapshot (:func:`snapshot_bundle`: ``text/html`` and ``text/plain``), displayed with a
   ``display_id`` and replaced with ``update_display`` when a loop ends, after an evaluation,
   on ``refresh()`` and when MACs are counted (:meth:`SnapshotOutputs.published`). The front
   end routes the update by its id to the output it was displayed in, from any later cell
   or a Run-button message.

The snapshot's own ``<style>`` (:data:`FRONT_END_CSS`) hides it while a live panel view is in
the same output area (no second copy of the panel), and hides the widget output's error once
the view cannot be built (the reopened notebook shows the snapshot instead). Where the style
is stripped (GitHub) or no Jupyter front end draws the page (a terminal, nbconvert without
widget state), the snapshot is simply shown. With saved widget state, the view renders
from it and hides the snapshot as when live.

The cell's progress line (panel/progress_line.py) is displayed the same way, with its own
:class:`SnapshotOutputs` and content (panel/line_snapshot.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from ..summary import text
from ..summary.export import _macs_note
from .html import render_snapshot
from .i18n import t, use_language

if TYPE_CHECKING:
    from .widget import ModelPanel

__all__ = ["SnapshotOutputs", "snapshot_bundle", "state_lines", "static_html", "text_table", "with_snapshot"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# CSS :has() (Chromium 105, Firefox 121, Safari 15.4). ``.modelpanel`` is the live view's root
# (js/src/widget.ts; the cell's progress line, js/src/progressLine.ts, has it too).
# jupyterlab_widgets' WidgetRenderer is the ``.jp-OutputArea-output`` node itself and gets the
# ``jupyter-widgets`` class only when it shows an error (renderer.ts: "model not found", or a
# view that failed to build); around a live view it never has it.
FRONT_END_CSS = (
    "<style>"
    ".jp-OutputArea:has(.modelpanel) > .jp-OutputArea-child:has(.modelpanel-static)"
    "{display:none}"
    ".jp-OutputArea:has(.modelpanel-static) > .jp-OutputArea-child:has(> .jp-OutputArea-output.jupyter-widgets)"
    "{display:none}"
    "</style>"
)


def taken_at(now: datetime | None = None) -> str:
    """The kernel's local time, ``"2024-05-01 14:02:31 CEST"`` (seconds and zone name)."""
    when = now if now is not None else datetime.now().astimezone()
    return when.strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()


def _when(iso: str) -> str:
    """An ISO 8601 time (``_eval_result.finished_at``) written as :func:`taken_at` writes one."""
    try:
        return taken_at(datetime.fromisoformat(iso).astimezone())
    except (TypeError, ValueError):
        return str(iso)


def text_table(summary: Any) -> str:
    """The text table of ``str(summary)`` without running the model.

    ``str(summary)`` counts MACs first (one more forward); a snapshot must never run the
    user's model, so uncounted MACs read ``--`` with how to count them.
    """
    return text.render(summary, _macs_note(summary, count=False))


def _num(x: Any) -> str:
    return "--" if x is None else f"{float(x):.4g}"


def _state_word(state: Any) -> str:
    """A bar's state ("running", "done", "stopped", "error") in the catalog's words."""
    return t(f"progress.state{state.capitalize()}") if isinstance(state, str) and state else "?"


def state_lines(records: Iterable[Mapping[str, Any]], series: Mapping[str, Any],
                eval_result: Mapping[str, Any] | None, training: bool) -> list[str]:
    """Plain-text lines on training and evaluation, for the snapshot's header and text.

    ``records``: the ``_progress`` records (tqdm's ``format_dict`` figures); ``series``: metric
    name -> ``(steps, values, ...)`` as ``MetricLog.series()`` gives them; ``eval_result``:
    the ``_eval_result`` trait.
    """
    bars = [r for r in records if r.get("level", 0) == 0]
    if bars:
        last = bars[-1]
        total = "?" if last.get("total") is None else f"{last['total']:g}"
        desc = f"{last['desc']} " if last.get("desc") else ""
        training_line = t("stamp.lastLoop", desc=desc, n=f"{last.get('n', 0):g}", total=total,
                          unit=last.get("unit", "it"), state=_state_word(last.get("state")))
    else:
        training_line = t("stamp.noLoop")
    latest = []
    for name, (steps, values, *_rest) in series.items():
        if len(values):
            latest.append(t("stamp.metricAt", name=name, value=_num(values[-1]), step=_num(steps[-1])))
    if latest:
        training_line += t("stamp.lastMetrics", metrics=t("stamp.sep").join(latest))
    lines = [training_line]
    if eval_result:
        parts = []
        if eval_result.get("accuracy") is not None:
            parts.append(t("stamp.accuracy", value=f"{float(eval_result['accuracy']):.2%}"))
        if eval_result.get("loss") is not None:
            parts.append(t("stamp.loss", value=_num(eval_result["loss"])))
        parts.append(t("stamp.samplesOn", count=eval_result.get("n"), device=eval_result.get("device")))
        if eval_result.get("finished_at"):
            parts.append(t("stamp.at", when=_when(eval_result["finished_at"])))
        lines.append(t("stamp.evaluation", parts=t("stamp.sep").join(parts)))
    else:
        lines.append(t("stamp.noEvaluation"))
    lines.append(t("stamp.modelMode", mode=t("stamp.train" if training else "stamp.eval")))
    return lines


def snapshot_bundle(panel: ModelPanel, now: datetime | None = None) -> dict[str, str]:
    """The snapshot's display data: ``text/plain`` (the full text table, then the training and
    evaluation lines and the time) and ``text/html`` (``render_snapshot`` under a header with
    the same lines and time), as of ``now`` (default: the kernel's clock)."""
    state = panel._static_state()
    training = bool(state["summary"].get("training"))
    panel._training.log.drain()  # values still queued on the device (as panel.history reads)
    now = now if now is not None else datetime.now().astimezone()

    def header_lines(language: str | None) -> list[str]:
        with use_language(language):
            lines = state_lines(panel._training.last_records, panel._training.log.series(),
                                panel._eval_result, training)
            return [t("stamp.taken", when=taken_at(now)), *lines]

    # text/plain follows str(summary), the headless table, which is English; the HTML the panel.
    stamp, *lines = header_lines(None)
    plain = "\n".join([text_table(panel.summary), *lines, stamp])
    header = "<br>".join(escape(line) for line in header_lines(state.get("language")))
    body = static_html(
        f'<div class="modelpanel-taken" style="color:#666;font-size:11px;font-family:sans-serif">'
        f"{header}</div>{render_snapshot(state)}"
    )
    return {"text/plain": plain, "text/html": body}


def static_html(inner: str, kind: str = "") -> str:
    """``inner`` as a snapshot output's ``text/html``: in the ``.modelpanel-static`` root that
    :data:`FRONT_END_CSS` hides while a live view shares its output area, with that style.
    ``kind``: one more class on the root (``"mp-line-static"`` for the cell's progress line)."""
    classes = f"modelpanel-static {kind}" if kind else "modelpanel-static"
    return f'<div class="{classes}">{FRONT_END_CSS}{inner}</div>'


def _worth_a_snapshot(traits: Mapping[str, Any]) -> bool:
    """Whether a publish is one the snapshot follows: a loop's end (no bar left running), a new
    evaluation, or a new ``_summary`` (``refresh()``, MACs counted)."""
    if "_summary" in traits or traits.get("_eval_result") is not None:
        return True
    records = traits.get("_progress")
    return bool(records) and not any(r.get("state") == "running" for r in records)


class SnapshotOutputs:
    """The snapshot outputs of one panel (one per display), updated together.

    ``bundle`` makes the snapshot's display data; ``on_error`` gets a message when making or
    sending it failed (the panel shows it next to the widget): a snapshot must never break
    a training loop or an evaluation.
    """

    def __init__(self, bundle: Callable[[], dict[str, str]], on_error: Callable[[str], None]) -> None:
        self._bundle = bundle
        self._on_error = on_error
        self.display_ids: list[str] = []

    def display(self, widget_bundle: Any, *, view_handle: bool = False) -> Any:
        """Display the widget view, then the snapshot with a new display id (see the module
        docstring for why they are two outputs). ``view_handle``: give the view's output a
        display id too, and return its DisplayHandle (a caller that may take the view out
        again); else None."""
        from IPython.display import display

        data, metadata = widget_bundle if isinstance(widget_bundle, tuple) else (widget_bundle, {})
        view = display({WIDGET_MIME: data[WIDGET_MIME]}, metadata=metadata, raw=True,
                       **({"display_id": True} if view_handle else {}))
        try:
            snapshot = self._bundle()
        except Exception as exc:  # noqa: BLE001 - the widget is shown; say why the snapshot is not
            self._on_error(f"static snapshot: {type(exc).__name__}: {exc}")
            return view
        handle = display(snapshot, raw=True, display_id=True)
        if handle is not None:
            self.display_ids.append(handle.display_id)
        return view

    def update(self) -> None:
        """Replace every displayed snapshot with the current one."""
        if not self.display_ids:
            return
        from IPython.display import update_display

        try:
            data = self._bundle()
            for display_id in self.display_ids:
                update_display(data, raw=True, display_id=display_id)
        except Exception as exc:  # noqa: BLE001 - see the class docstring
            self._on_error(f"static snapshot: {type(exc).__name__}: {exc}")

    def published(self, traits: Mapping[str, Any]) -> None:
        """Called with each publish's traits: update when it is one the snapshot follows."""
        if self.display_ids and _worth_a_snapshot(traits):
            self.update()


def with_snapshot(bundle: Any, make: Callable[[], dict[str, str]]) -> Any:
    """A widget's mime bundle with the snapshot's ``text/plain`` and ``text/html`` beside the
    view, for callers of ``_repr_mimebundle_`` itself (one output; IPython's display uses
    :meth:`SnapshotOutputs.display`). A failure leaves the bundle as it was."""
    if bundle is None:
        return None
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    try:
        data = {**data, **make()}
    except Exception:  # noqa: BLE001 - the snapshot must never hide the widget
        pass
    return data, metadata
