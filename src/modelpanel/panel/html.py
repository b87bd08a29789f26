"""A static picture of a panel: HTML that reads where widgets cannot render.

GitHub, nbviewer, nbconvert exports and CI logs show a notebook's ``text/html`` output but not
its widgets. :func:`render_snapshot` turns the panel's trait values (see docs/widget-state.md)
into a plain HTML fragment: totals, the layer tree as an indented table, the parameter table
with statistics, histograms and training curves as inline SVG, and the last evaluation.
:func:`render_page` wraps it into one self-contained offline page (``panel.save_html``).

No script, no external resource, no stylesheet the fragment depends on (GitHub strips them):
only tables, inline SVG and a few inline ``style`` attributes that degrade to plain tables.
Every string that comes from the model goes through :func:`html.escape`. The words are the
catalog's (panel/i18n.py) in the language of ``state["language"]``.

    state = panel._static_state()   # {"summary", "params", "hist", "metrics", "eval_result"}
    html_fragment = render_snapshot(state)
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..summary.text import human_bytes
from .i18n import t, use_language
from .wire import wire_to_array

__all__ = ["render_snapshot", "render_page"]

# Big models stay readable (and notebooks small): rows past these limits are summarised.
MAX_LAYER_ROWS = 200
MAX_PARAM_ROWS = 100
HIST_W, HIST_H = 120, 28
CURVE_W, CURVE_H = 360, 120

_TABLE = 'style="border-collapse:collapse;font-size:12px;margin:4px 0"'
_TD = 'style="padding:1px 8px;border-bottom:1px solid #ddd;text-align:{a}"'
_SECTION = 'style="margin:8px 0 2px 0;font-weight:bold"'


def _e(value: Any) -> str:
    """Escape anything for HTML text or an attribute value."""
    return html.escape(str(value), quote=True)


def _array(obj: Any) -> np.ndarray | None:
    """A numpy array from a wire dict (``{"view", "dtype", "shape"}``) or anything array-like."""
    if obj is None:
        return None
    if isinstance(obj, Mapping) and "view" in obj:
        return wire_to_array(obj)
    return np.asarray(obj)


def _int(n: Any) -> str:
    return f"{int(n):,}" if isinstance(n, (int, np.integer)) else "–"


def _num(x: Any) -> str:
    """Four significant digits; dashes for missing or non-finite values."""
    if x is None:
        return "–"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if not math.isfinite(v):
        return _e(v)
    return f"{v:.4g}"


def _shape(shape: Any) -> str:
    """``[1, 10]`` -> ``1×10``; nested shapes (tuples, dicts of outputs) written out."""
    if shape is None:
        return ""
    if isinstance(shape, Mapping):
        return "{" + ", ".join(f"{k}: {_shape(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, Sequence) and not isinstance(shape, str):
        if all(isinstance(d, (int, np.integer)) for d in shape):
            return "×".join(str(int(d)) for d in shape) if shape else "scalar"
        return "(" + ", ".join(_shape(s) for s in shape) + ")"
    return str(shape)


def _row(cells: Sequence[tuple[str, str]]) -> str:
    """One table row; each cell is (already-escaped html, align)."""
    return "<tr>" + "".join(f"<td {_TD.format(a=a)}>{c}</td>" for c, a in cells) + "</tr>"


def _head(names: Sequence[str]) -> str:
    cells = "".join(f'<th style="padding:1px 8px;text-align:left">{_e(n)}</th>' for n in names)
    return f"<tr>{cells}</tr>"


def _totals(summary: Mapping[str, Any]) -> str:
    kind = _e(summary.get("model_kind", "model"))
    parts = [
        f"<b>{kind}</b>",
        t("snapshot.totalParams", n=f"<b>{_int(summary.get('total_params'))}</b>"),
        t("snapshot.trainable", n=_int(summary.get("trainable_params"))),
        t("snapshot.nonTrainable", n=_int(summary.get("non_trainable_params"))),
        t("snapshot.paramSize", size=human_bytes(summary.get("param_bytes"))),
    ]
    if summary.get("macs") is not None:
        parts.append(t("snapshot.macs", n=_int(summary.get("macs"))))
    if summary.get("input_shapes"):
        parts.append(t("snapshot.input", shape=_e(_shape(summary["input_shapes"]))))
    mode = t("mode.train") if summary.get("training", True) else t("mode.eval")
    parts.append(t("snapshot.mode", mode=mode))
    devices = ", ".join(_e(d) for d in summary.get("devices") or [])
    if devices:
        parts.append(t("snapshot.device", device=devices))
    return "<div>" + " · ".join(parts) + "</div>"


def _tree(summary: Mapping[str, Any]) -> str:
    layers = list(summary.get("layers") or [])
    rows = [_head([t("snapshot.colLayer"), t("snapshot.colKind"), t("snapshot.colShape"), t("snapshot.colParams"),
                   t("snapshot.colFormula")])]
    for layer in layers[:MAX_LAYER_ROWS]:
        depth = max(int(layer.get("depth", 1)) - 1, 0)
        # Non-breaking spaces indent reliably where CSS padding is stripped.
        indent = "&nbsp;&nbsp;&nbsp;" * depth
        name = _e(layer.get("name") or layer.get("path", ""))
        calls = int(layer.get("calls") or 0)
        suffix = f" <small>(×{calls})</small>" if calls > 1 else ""
        shared = f" <small>{t('snapshot.shared')}</small>" if layer.get("shared") else ""
        rows.append(
            _row([
                (f"{indent}{name}{suffix}{shared}", "left"),
                (_e(layer.get("kind", "")), "left"),
                (_e(_shape(layer.get("output_shape"))), "left"),
                (_int(layer.get("params", 0)), "right"),
                (_e(layer.get("param_formula", "")), "left"),
            ])
        )
    if len(layers) > MAX_LAYER_ROWS:
        rows.append(_row([(t("snapshot.moreLayers", n=f"{len(layers) - MAX_LAYER_ROWS:,}"), "left")]))
    return f"<div {_SECTION}>{t('snapshot.layers')}</div><table {_TABLE}>{''.join(rows)}</table>"


def _hist_svg(counts: np.ndarray, lo: float, hi: float) -> str:
    """A histogram as one SVG path of bars (one element keeps big tables small)."""
    counts = np.asarray(counts, dtype=np.float64)
    top = counts.max() if counts.size else 0.0
    if top <= 0:
        return ""
    bw = HIST_W / len(counts)
    d = []
    for i, c in enumerate(counts):
        if c <= 0:
            continue
        h = max(c / top * HIST_H, 0.5)
        d.append(f"M{i * bw:.2f} {HIST_H}h{bw:.2f}v{-h:.2f}h{-bw:.2f}z")
    title = t("snapshot.range", lo=_num(lo), hi=_num(hi))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{HIST_W}" height="{HIST_H}" '
        f'viewBox="0 0 {HIST_W} {HIST_H}" role="img"><title>{_e(title)}</title>'
        f'<path d="{"".join(d)}" fill="#4c78a8"/></svg>'
    )


def _params(params: Sequence[Mapping[str, Any]], hist: Mapping[str, Any] | None) -> str:
    counts = ranges = None
    if hist:
        counts, ranges = _array(hist.get("counts")), _array(hist.get("range"))
    rows = [_head([t(f"snapshot.col{c}") for c in ("Parameter", "ParamShape", "Count", "Mean", "Std", "Min", "Max",
                                                   "Distribution")])]
    for p in list(params)[:MAX_PARAM_ROWS]:
        pid = int(p.get("id", -1))
        svg = ""
        if counts is not None and ranges is not None and 0 <= pid < len(counts):
            svg = _hist_svg(counts[pid], float(ranges[pid][0]), float(ranges[pid][1]))
        bad = ""
        if p.get("nan") or p.get("inf"):
            bad = f" <b>NaN {_int(p.get('nan', 0))} / Inf {_int(p.get('inf', 0))}</b>"
        names = ", ".join(_e(n) for n in p.get("names") or [])
        frozen = "" if p.get("trainable", True) else f" <small>{t('snapshot.frozen')}</small>"
        rows.append(
            _row([
                (f"{names}{frozen}{bad}", "left"),
                (_e(_shape(p.get("shape"))), "left"),
                (_int(p.get("numel", 0)), "right"),
                (_num(p.get("mean")), "right"),
                (_num(p.get("std")), "right"),
                (_num(p.get("min")), "right"),
                (_num(p.get("max")), "right"),
                (svg, "left"),
            ])
        )
    if len(params) > MAX_PARAM_ROWS:
        rows.append(_row([(t("snapshot.moreTensors", n=f"{len(params) - MAX_PARAM_ROWS:,}"), "left")]))
    return f"<div {_SECTION}>{t('snapshot.parameters')}</div><table {_TABLE}>{''.join(rows)}</table>"


def _curve_svg(name: str, steps: np.ndarray, values: np.ndarray) -> str:
    """A training curve as an SVG polyline with its first/last value written out."""
    ok = np.isfinite(steps) & np.isfinite(values)
    steps, values = steps[ok], values[ok]
    if steps.size == 0:
        return ""
    x0, x1 = float(steps.min()), float(steps.max())
    y0, y1 = float(values.min()), float(values.max())
    xs = (steps - x0) / ((x1 - x0) or 1.0) * (CURVE_W - 20) + 10
    ys = CURVE_H - 20 - (values - y0) / ((y1 - y0) or 1.0) * (CURVE_H - 35)
    # Thin long histories: a few hundred points draw the same line at this size.
    if xs.size > 400:
        keep = np.unique(np.linspace(0, xs.size - 1, 400).astype(int))
        xs, ys = xs[keep], ys[keep]
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    label = t("snapshot.curve", name=name, first=_num(values[0]), last=_num(values[-1]), min=_num(y0),
              x0=_num(x0), x1=_num(x1))
    return (
        f'<div><svg xmlns="http://www.w3.org/2000/svg" width="{CURVE_W}" height="{CURVE_H}" '
        f'viewBox="0 0 {CURVE_W} {CURVE_H}" role="img"><title>{_e(label)}</title>'
        f'<rect x="0" y="0" width="{CURVE_W}" height="{CURVE_H}" fill="#fff" stroke="#ccc"/>'
        f'<polyline points="{pts}" fill="none" stroke="#e45756" stroke-width="1.5"/>'
        f'<text x="10" y="{CURVE_H - 5}" font-size="11" fill="#333">{_e(label)}</text>'
        f"</svg></div>"
    )


def _metrics(metrics: Mapping[str, Any]) -> str:
    parts = []
    for name, series in metrics.items():
        if not isinstance(series, Mapping):
            continue
        steps, values = _array(series.get("step")), _array(series.get("value"))
        if steps is None or values is None or len(values) == 0:
            continue
        parts.append(_curve_svg(str(name), steps.astype(np.float64), values.astype(np.float64)))
    if not parts:
        return ""
    return f"<div {_SECTION}>{t('snapshot.training')}</div>" + "".join(parts)


def _eval(result: Mapping[str, Any]) -> str:
    acc = result.get("accuracy")
    items = [t("snapshot.accuracy", value=f"<b>{acc:.1%}</b>" if isinstance(acc, (int, float)) else "–")]
    if result.get("loss") is not None:
        items.append(t("snapshot.loss", value=_num(result["loss"])))
    if result.get("n") is not None:
        items.append(t("snapshot.samples", n=_int(result["n"])))
    if result.get("device"):
        items.append(t("snapshot.device", device=_e(result["device"])))
    if result.get("samples_per_s") is not None:
        items.append(t("eval.throughput", n=f"{float(result['samples_per_s']):,.0f}"))
    out = [f"<div {_SECTION}>{t('snapshot.evaluation')}</div><div>{' · '.join(items)}</div>"]
    confusion = _array(result.get("confusion"))
    classes = [str(c) for c in result.get("classes") or []]
    if confusion is not None and confusion.ndim == 2:
        if len(classes) != confusion.shape[0]:
            classes = [str(i) for i in range(confusion.shape[0])]
        rows = [_head([t("snapshot.truePredicted"), *classes])]
        for i, label in enumerate(classes):
            rows.append(
                _row([(f"<b>{_e(label)}</b>", "left")]
                     + [(_int(int(v)), "right") for v in confusion[i]])
            )
        out.append(f"<table {_TABLE}>{''.join(rows)}</table>")
    per_class = result.get("per_class") or []
    if per_class:
        rows = [_head([t("snapshot.colClass"), t("snapshot.colPrecision"), t("snapshot.colRecall"),
                       t("snapshot.colSupport")])]
        for pc in per_class:
            rows.append(_row([
                (_e(pc.get("label", "")), "left"),
                (_num(pc.get("precision")), "right"),
                (_num(pc.get("recall")), "right"),
                (_int(pc.get("support", 0)), "right"),
            ]))
        out.append(f"<table {_TABLE}>{''.join(rows)}</table>")
    return "".join(out)


def render_snapshot(state: Mapping[str, Any]) -> str:
    """An HTML fragment of the panel's state, readable without JavaScript.

    ``state`` holds the panel's trait values: ``summary`` (``_summary``), ``params``
    (``_params``), ``hist`` (``_hist``, arrays as wire dicts), ``metrics`` (``_metrics``) and
    ``eval_result`` (``_eval_result``); any of them may be missing or empty. ``language``
    (``"en"`` or ``"zh-CN"``; default English) picks the catalog of its words.
    """
    with use_language(state.get("language")):
        return _snapshot(state)


def _snapshot(state: Mapping[str, Any]) -> str:
    summary = state.get("summary") or {}
    parts = ['<div class="modelpanel-snapshot" style="font-family:sans-serif">']
    if summary:
        parts.append(_totals(summary))
        parts.append(_tree(summary))
    params = state.get("params") or []
    if params:
        parts.append(_params(params, state.get("hist")))
    metrics = state.get("metrics") or {}
    if metrics:
        parts.append(_metrics(metrics))
    if state.get("eval_result"):
        parts.append(_eval(state["eval_result"]))
    parts.append(f'<div style="color:#888;font-size:11px">{t("snapshot.footer")}</div></div>')
    return "".join(parts)


_PAGE_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; }
table td, table th { font-variant-numeric: tabular-nums; }
"""


def render_page(state: Mapping[str, Any], title: str = "modelpanel") -> str:
    """A whole self-contained HTML page (UTF-8, no network, no script) of the panel's state."""
    return (
        f"<!DOCTYPE html>\n<html lang=\"{_e(state.get('language') or 'en')}\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_PAGE_CSS}</style></head>"
        f"<body><h1>{_e(title)}</h1>{render_snapshot(state)}</body></html>\n"
    )


def static_state(summary: Any, summary_trait: Mapping[str, Any], snapshot: Any, log: Any,
                 eval_result: Any) -> dict[str, Any]:
    """A panel's state as plain data for a static (kernel-less) rendering.

    Keys: summary (``Summary.to_dict()`` with the live train flag), params (the weight
    records), hist (every tensor's counts, not only the watched ones), metrics (every series),
    eval_result; what ``render_snapshot`` and ``render_page`` read.
    """
    from .state import all_hist_state, metrics_state

    state = summary.to_dict()
    state["training"] = summary_trait.get("training", state["training"])
    return {
        "summary": state,
        "params": [] if snapshot is None else snapshot.records,
        "hist": None if snapshot is None else all_hist_state(snapshot),
        "metrics": metrics_state(log),
        "eval_result": eval_result,
    }
