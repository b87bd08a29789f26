"""How an :class:`~modelpanel.inference.EvalResult` shows itself.

``repr(result)`` is one line for terminals and logs; ``result._repr_html_()`` is what a notebook
shows for a cell ending in ``result``: the same numbers, and the confusion matrix as a table.
Neither prints a tensor. Every class name goes through :func:`html.escape`: labels come from
the user and may contain markup.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from . import EvalResult

#: Confusion matrices with more classes than this are not written out as a table (an ImageNet
#: classifier's would be a million cells); ``result.confusion`` still holds every count.
MAX_TABLE_CLASSES = 30

_CELL = 'style="padding:1px 8px;text-align:{align}"'


def _g(x: float | None, digits: int = 4) -> str:
    return "None" if x is None else f"{x:.{digits}g}"


def eval_repr(r: EvalResult) -> str:
    """``EvalResult(accuracy=0.9333, loss=0.2134, n=30, device='cpu', seconds=0.0123)``.

    Floats to 4 significant digits (seconds to 3); with ``metric=`` the metric's name and value
    replace the accuracy; ``accuracy=None`` when the data came without targets.
    """
    if r.metric is not None:
        parts = [f"metric_name={r.metric_name!r}", f"metric={_g(r.metric)}"]
    else:
        parts = [f"accuracy={_g(r.accuracy)}"]
    if r.loss is not None:
        parts.append(f"loss={_g(r.loss)}")
    parts += [f"n={r.n}", f"device={r.device!r}", f"seconds={_g(r.seconds, 3)}"]
    return f"EvalResult({', '.join(parts)})"


def _summary_html(r: EvalResult) -> str:
    """The numbers of :func:`eval_repr` as a two-row table (accuracy as a percentage)."""
    if r.metric is not None:
        cells = [(r.metric_name or "metric", _g(r.metric))]
    else:
        cells = [("accuracy", "—" if r.accuracy is None else f"{r.accuracy:.2%}")]
    if r.loss is not None:
        cells.append(("loss", _g(r.loss)))
    cells += [("samples", f"{r.n:,}"), ("device", r.device), ("seconds", _g(r.seconds, 3))]
    cell = _CELL.format(align="left")
    head = "".join(f"<th {cell}>{html.escape(k)}</th>" for k, _ in cells)
    body = "".join(f"<td {cell}>{html.escape(v)}</td>" for _, v in cells)
    return f"<table><tr>{head}</tr><tr>{body}</tr></table>"


def confusion_html(confusion: np.ndarray, labels: list[str]) -> str:
    """``confusion[true, predicted]`` as a table: a row per true class, a column per prediction.

    ``labels`` name the classes (their indices where there are not as many names as classes).
    Over :data:`MAX_TABLE_CLASSES` classes, one line says where the counts are instead.
    """
    c = np.asarray(confusion)
    k = c.shape[0]
    if k > MAX_TABLE_CLASSES:
        return (
            f"<p>confusion matrix: {k}×{k} classes, too many to show here; "
            f"the counts are in <code>result.confusion</code>.</p>"
        )
    names = [str(x) for x in labels] if len(labels) == k else [str(i) for i in range(k)]
    left, right = _CELL.format(align="left"), _CELL.format(align="right")
    head = f"<th {left}>true \\ predicted</th>" + "".join(
        f"<th {right}>{html.escape(n)}</th>" for n in names
    )
    rows = [f"<tr>{head}</tr>"]
    for i, name in enumerate(names):
        counts = "".join(f"<td {right}>{int(v):,}</td>" for v in c[i])
        rows.append(f"<tr><th {left}>{html.escape(name)}</th>{counts}</tr>")
    return f"<table><caption>confusion matrix</caption>{''.join(rows)}</table>"


def eval_html(r: EvalResult) -> str:
    """The HTML a notebook shows: the headline numbers, then the confusion matrix if there is one."""
    parts = [_summary_html(r)]
    if r.confusion is not None:
        parts.append(confusion_html(r.confusion, r.labels))
    elif r.metric is None:
        parts.append("<p>No targets, so no accuracy or confusion matrix.</p>")
    return f'<div class="modelpanel-evalresult">{"".join(parts)}</div>'
