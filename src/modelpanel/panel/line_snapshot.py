"""The cell's progress line as a saved notebook keeps it: the bars of one run, as they ended.

:class:`~modelpanel.panel.progress_line.ProgressLine` is displayed like the panel
(panel/snapshot.py): the widget view, then a static output with a ``display_id``. That
output is empty while the loop runs (the live line is the only one on the page, and a loop
pays nothing for it) and is filled once, when the run ends, by :func:`line_bundle` from the
run's last ``_progress`` records, the ones the live line shows. A notebook reopened without
the kernel then shows the finished bar where the widget's "model not found" would be, as
tqdm.notebook's finished bar reads: description, percentage, bar, n/total, elapsed<remaining,
rate and postfix, plus how the loop ended (done, stopped, error) and its error message.

The meter text is tqdm's own ``format_meter`` on the record's figures (which came from the
bar's ``format_dict``), split around the bar as tqdm.notebook splits it; the live line
(js/src/logic/progress.ts) formats the same figures the same way. The words are the catalog's
(panel/i18n.py) in the line's ``_language`` ("" reads as English: the kernel does not know the
front end's display language). No script and no stylesheet the text depends on: inline styles
with JupyterLab's theme variables, so it stays a readable line where styles are stripped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from tqdm.std import tqdm

from .i18n import t, use_language
from .snapshot import static_html

__all__ = ["line_bundle", "meter"]

_ROW = ("display:flex;align-items:center;gap:6px;white-space:pre;"
        "font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,12px)")
_TRACK = ("display:inline-block;flex:0 1 240px;min-width:60px;height:10px;overflow:hidden;"
          "border:1px solid var(--jp-border-color2,#e0e0e0);border-radius:2px;"
          "background:var(--jp-layout-color2,#eee)")
# The fill's colour says how the loop ended, as tqdm.notebook's bar_style does (success, danger).
_FILL = {"done": "var(--jp-success-color1,#388e3c)", "running": "var(--jp-brand-color1,#1976d2)"}
_FAILED = "var(--jp-error-color1,#d32f2f)"
_MUTED = "color:var(--jp-ui-font-color2,#616161)"


def meter(record: Mapping[str, Any], **kwargs: Any) -> str:
    """tqdm's ``format_meter`` for one ``_progress`` record (``kwargs``: ``ncols``, ``bar_format``).

    The record holds the bar's own ``format_dict`` figures (training/progress.py ``_bar_record``):
    ``n``, ``total``, ``elapsed`` (s), ``rate`` (units/s), ``desc``, ``unit``, ``postfix``.
    """
    return tqdm.format_meter(record["n"], record["total"], record["elapsed"], prefix=record.get("desc") or "",
                             unit=record.get("unit") or "it", rate=record.get("rate"),
                             postfix=record.get("postfix") or None, **kwargs)


def _fraction(record: Mapping[str, Any]) -> float | None:
    """Done in [0, 1]; None without a total, or past it (tqdm then drops the total too)."""
    total, n = record.get("total"), record["n"]
    if not total or total <= 0 or n >= total + 0.5:
        return None
    return min(1.0, max(0.0, n / total))


def _parts(record: Mapping[str, Any]) -> tuple[str, str]:
    """The text left and right of the bar, as tqdm.notebook splits ``{l_bar}<bar/>{r_bar}``
    (no bar without a total: the whole meter goes right)."""
    if _fraction(record) is None:
        return "", meter(record, ncols=0)
    left, right = re.split(r"\|?<bar/>\|?", meter(record, bar_format="{l_bar}<bar/>{r_bar}"), maxsplit=1)
    return left, right


def _state(record: Mapping[str, Any]) -> str:
    state = str(record.get("state") or "")
    return t(f"progress.state{state.capitalize()}") if state else "?"


def _bar_html(record: Mapping[str, Any]) -> str:
    state = str(record.get("state") or "")
    left, right = _parts(record)
    frac = _fraction(record)
    width = (frac if frac is not None else (0.0 if state == "running" else 1.0)) * 100
    indent = 14 * min(int(record.get("level") or 0), 2)
    fill = f'<span class="mp-line-fill" style="display:block;height:100%;width:{width:.1f}%;background:{_FILL.get(state, _FAILED)}"></span>'
    row = (
        f'<div class="mp-line-bar" data-state="{escape(state)}" style="{_ROW};padding-left:{indent}px">'
        + (f"<span>{escape(left)}</span>" if left else "")
        + f'<span style="{_TRACK}">{fill}</span><span>{escape(right.strip())}</span>'
        f'<span class="mp-line-state" style="{_MUTED}">{escape(t("progress.endedState", state=_state(record)))}</span>'
        "</div>"
    )
    if record.get("error"):
        row += (f'<div class="mp-line-error" style="color:{_FAILED};white-space:pre-wrap;'
                f'font-size:12px;padding-left:{indent}px">{escape(str(record["error"]))}</div>')
    return row


def _bar_text(record: Mapping[str, Any]) -> str:
    """tqdm's text of a notebook bar (``format_meter`` with its 10-character bar) and the state."""
    indent = "  " * min(int(record.get("level") or 0), 2)
    line = f"{indent}{meter(record)} {t('progress.endedState', state=_state(record))}"
    return f"{line}\n{indent}  {record['error']}" if record.get("error") else line


def line_bundle(records: Sequence[Mapping[str, Any]], language: str = "") -> dict[str, str]:
    """The static output of one cell's line: ``text/plain`` and ``text/html``.

    ``records``: the run's ``_progress`` records, outermost bar first (as the line holds
    them); none (the loop still running, or a ``leave=False`` bar that finished and went)
    gives an empty output. ``language``: the line's ``_language``.
    """
    with use_language(language or None):
        plain = "\n".join(_bar_text(r) for r in records)
        body = "".join(_bar_html(r) for r in records)
    return {"text/plain": plain, "text/html": static_html(body, "mp-line-static")}
