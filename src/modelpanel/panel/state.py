"""Records -> synced state: the summary and the weight snapshot as columns and binary buffers.

What the kernel sends is shaped for the wire, not for Python: one array per column (numbers as
typed buffers, repeated strings dictionary-encoded), decoded once in js/src/core into the rows
the views use. A training refresh sends only what changes (statistics, the watched histograms);
the static facts of each tensor travel at construction and on an explicit refresh. The shapes
are in docs/widget-state.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import ForwardError
from ..stats import WeightSnapshot
from ..summary import LAYER_FIELDS, Summary
from ..training.metric_log import MetricLog
from .wire import array_to_wire

_F = {name: i for i, name in enumerate(LAYER_FIELDS)}


def dictionary(values: Iterable[str]) -> dict[str, Any]:
    """``{"values": distinct strings, "index": buffer}``: row i is ``values[index[i]]``.

    The index is uint8 below 256 distinct values (a class name or a dtype per row costs a
    byte), else uint32.
    """
    values = list(values)
    distinct = list(dict.fromkeys(values))  # first-seen order
    position = {v: i for i, v in enumerate(distinct)}
    index = list(map(position.__getitem__, values))  # in C: this runs per tensor and per layer
    dtype = np.uint8 if len(distinct) <= 256 else np.uint32
    return {"values": distinct, "index": array_to_wire(np.array(index, dtype))}


def root_record(summary: Summary) -> dict[str, Any]:
    """The model itself as one layer record (``Layer.to_dict()``'s keys; path ``""``, depth 0).

    The tree's first row, so a model without submodules (``nn.LSTM(4, 8)``) still shows one,
    with its input and output shapes. ``Summary.layers`` stays root-excluded; the root's
    figures are the totals: ``params`` = ``total_params``, ``own_params`` = ``root_params``,
    ``macs`` = the model's MACs once counted, shapes ``input_shapes`` and ``output_shape``.
    """
    return {
        "path": "", "name": "", "kind": summary.model_kind, "depth": 0, "parent": "",
        "input_shape": summary.input_shapes, "output_shape": summary.output_shape,
        "calls": summary._root_calls, "params": summary.total_params, "own_params": summary.root_params,
        "trainable_params": summary.trainable_params, "macs": summary._macs, "shared": False,
        "param_formula": summary._root_formula, "status": "",
    }  # fmt: skip


def summary_state(summary: Summary, training: bool, error: ForwardError | None = None) -> dict[str, Any]:
    """The ``_summary`` trait: the totals, the root as ``root``, the layers as ``layer_columns``,
    and, when the panel's forward failed, the message (``error``) and where (``failed_path``)."""
    state = summary.totals()
    state["training"] = training
    state["root"] = root_record(summary)
    state["error"] = None if error is None else str(error)
    state["failed_path"] = None if error is None else (error.module_path or "")
    rows = summary.layer_rows()
    columns = list(zip(*rows)) if rows else [()] * len(LAYER_FIELDS)
    paths = list(columns[_F["path"]])
    row_of = {p: i for i, p in enumerate(paths)}
    macs = [np.nan if m is None else m for m in columns[_F["macs"]]]

    def numbers(name: str) -> dict[str, Any]:
        return _numbers(columns[_F[name]])

    state["layer_columns"] = {
        "n": len(rows),
        "path": _json(paths),
        "name": _json(columns[_F["name"]]),
        "parent": array_to_wire(np.array([row_of.get(p, -1) for p in columns[_F["parent"]]], np.int32)),
        "depth": numbers("depth"),
        "calls": numbers("calls"),
        "params": numbers("params"),
        "own_params": numbers("own_params"),
        "trainable_params": numbers("trainable_params"),
        "macs": array_to_wire(np.array(macs, np.float64)),
        "shared": [i for i, s in enumerate(columns[_F["shared"]]) if s],
        "kind": dictionary(columns[_F["kind"]]),
        "param_formula": dictionary(columns[_F["param_formula"]]),
        "input_shape": _json(columns[_F["input_shape"]]),
        "output_shape": _json(columns[_F["output_shape"]]),
        "status": dictionary(columns[_F["status"]]),
    }
    return state


def params_state(snapshot: WeightSnapshot) -> dict[str, Any]:
    """The ``_params`` trait: the static facts of each tensor (id = row), as columns.

    The nested lists (names, owners, shapes) travel as one JSON text each: ipywidgets walks
    every list in a state looking for buffers, and 4,000 tensors' small lists cost more to
    walk than to encode once. ``note`` says what a tensor is when it is not a plain
    materialised float (packed, lazy, meta, complex, sparse, parametrized; "" otherwise): a
    dictionary column, so a model without any costs one byte per row.
    """
    return {
        "n": len(snapshot),
        "names": _json(snapshot.names),
        "owners": _json(snapshot.owners),
        "shape": _json(snapshot.shapes),
        "numel": _numbers(snapshot.numels),
        "dtype": dictionary(snapshot.dtypes),
        "device": dictionary(snapshot.devices),
        "frozen": [i for i, t in enumerate(snapshot.trainable) if not t],
        "note": dictionary(snapshot.notes),
    }


def param_stats_state(snapshot: WeightSnapshot, version: int) -> dict[str, Any]:
    """The ``_param_stats`` trait: mean, std, min, max (float32; NaN = no finite value) and the
    NaN/Inf counts of every tensor (None when all are 0), as buffers (what a refresh resends)."""
    return {
        "version": int(version),
        "stats": array_to_wire(np.asarray(snapshot.stats[:, :4], np.float32).reshape(-1, 4)),
        # Nearly always all zero: then None, not 8 bytes per tensor on every refresh.
        "nonfinite": (array_to_wire(np.asarray(snapshot.stats[:, 4:6], np.uint32).reshape(-1, 2))
                      if np.any(snapshot.stats[:, 4:6]) else None),
        "sampled": np.flatnonzero(snapshot.sampled).tolist(),
    }


def hist_state(snapshot: WeightSnapshot, ids: Sequence[int], version: int,
               step: float | None) -> dict[str, Any]:
    """The ``_hist`` trait: binned counts and ranges of the watched tensors ``ids`` only."""
    ids = [i for i in ids if 0 <= i < len(snapshot)]
    return {
        "bins": snapshot.bins,
        "version": int(version),
        "step": step,
        "ids": ids,
        "counts": array_to_wire(np.asarray(snapshot.counts[ids], np.uint32).reshape(len(ids), snapshot.bins)),
        "range": array_to_wire(np.asarray(snapshot.ranges[ids], np.float64).reshape(len(ids), 2)),
    }


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _numbers(values: Sequence[float]) -> dict[str, Any]:
    """Whole numbers as uint32 when they fit (most counts), else float64 (exact to 2**53)."""
    arr = np.asarray(values, np.float64)
    if arr.size and (arr.min() < 0 or arr.max() >= 2**32 or np.any(arr != np.floor(arr))):
        return array_to_wire(arr)
    return array_to_wire(arr.astype(np.uint32))


def weight_records(snapshot: WeightSnapshot | None) -> list[dict[str, Any]]:
    """``panel.weights``: one plain record per tensor (see ModelPanel.weights for the keys)."""
    if snapshot is None:
        return []
    keys = ("shape", "numel", "dtype", "device", "trainable", "mean", "std", "min", "max", "nan", "inf",
            "nbytes", "note")
    records = []
    for r in snapshot.records:
        record = {"name": r["names"][0], "layer": r["owners"][0] if r["owners"] else "",
                  **{k: (list(r[k]) if k == "shape" else r[k]) for k in keys}}
        if record["device"] == "meta" or record["note"].startswith("lazy"):
            record["nan"] = record["inf"] = None  # no values: unknown, not "none found"
        records.append(record)
    return records


def metrics_state(log: MetricLog) -> dict[str, Any]:
    """Every series as ``{name: {"step", "value", "epoch_level"}}`` (the static HTML snapshot)."""
    return {
        name: {
            "step": array_to_wire(x, "float64"),
            "value": array_to_wire(y, "float64"),
            "epoch_level": epoch_level,
        }
        for name, (x, y, epoch_level) in log.series().items()
    }


def all_hist_state(snapshot: WeightSnapshot) -> dict[str, Any]:
    """Every tensor's counts and ranges as buffers: what the static HTML snapshot draws."""
    return {
        "bins": snapshot.bins,
        "counts": array_to_wire(snapshot.counts, "uint32"),
        "range": array_to_wire(snapshot.ranges, "float64"),
    }
