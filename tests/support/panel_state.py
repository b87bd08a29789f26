"""Decode the panel's synced state back into rows, as js/src/core does in the browser.

Tests read the kernel's traits through these, so they check what the view would see.
"""

from __future__ import annotations

import json
import math
from typing import Any

from modelpanel.panel.wire import wire_to_array


def column(dictionary: dict[str, Any]) -> list[Any]:
    values = dictionary["values"]
    return [values[i] for i in wire_to_array(dictionary["index"]).tolist()]


def layers(summary_state: dict[str, Any]) -> list[dict[str, Any]]:
    """``_summary["layer_columns"]`` as one dict per layer (the keys of ``Layer.to_dict()``)."""
    c = summary_state["layer_columns"]
    n = c["n"]
    parents = wire_to_array(c["parent"]).tolist()
    path, name = json.loads(c["path"]), json.loads(c["name"])
    nums = {k: wire_to_array(c[k]).tolist() for k in ("depth", "calls", "params", "own_params", "trainable_params", "macs")}
    dicts = {k: column(c[k]) for k in ("kind", "param_formula", "status")}
    dicts.update({k: json.loads(c[k]) for k in ("input_shape", "output_shape")})
    shared = set(c["shared"])
    return [
        {
            "path": path[i], "name": name[i], "kind": dicts["kind"][i],
            "depth": nums["depth"][i], "parent": "" if parents[i] < 0 else path[parents[i]],
            "input_shape": dicts["input_shape"][i], "output_shape": dicts["output_shape"][i],
            "calls": nums["calls"][i], "params": int(nums["params"][i]),
            "own_params": int(nums["own_params"][i]), "trainable_params": int(nums["trainable_params"][i]),
            "macs": None if math.isnan(nums["macs"][i]) else int(nums["macs"][i]),
            "shared": i in shared, "param_formula": dicts["param_formula"][i],
            "status": dicts["status"][i],
        }
        for i in range(n)
    ]


def params(panel: Any) -> list[dict[str, Any]]:
    """``_params`` + ``_param_stats`` as the old per-tensor records (id = row)."""
    p, s = panel._params, panel._param_stats
    n = p["n"]
    stats = wire_to_array(s["stats"]).tolist()
    nonfinite = wire_to_array(s["nonfinite"]).tolist() if s["nonfinite"] is not None else [[0, 0]] * n
    numel = wire_to_array(p["numel"]).tolist()
    dtype, device = column(p["dtype"]), column(p["device"])
    frozen, sampled = set(p["frozen"]), set(s["sampled"])
    names, owners, shapes = (json.loads(p[k]) for k in ("names", "owners", "shape"))

    def num(v: float) -> float | None:
        return None if math.isnan(v) else v

    return [
        {"id": i, "names": names[i], "owners": owners[i], "shape": shapes[i],
         "numel": int(numel[i]), "dtype": dtype[i], "device": device[i], "trainable": i not in frozen,
         "mean": num(stats[i][0]), "std": num(stats[i][1]), "min": num(stats[i][2]), "max": num(stats[i][3]),
         "nan": nonfinite[i][0], "inf": nonfinite[i][1], "sampled": i in sampled}
        for i in range(n)
    ]
