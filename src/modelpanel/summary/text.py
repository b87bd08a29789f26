"""``str(summary)``: a plain-text table in the spirit of torchinfo's, for terminals and CI logs.

"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wcwidth import wcswidth

from .capture import IN_TORCHSCRIPT

if TYPE_CHECKING:
    from . import Summary

_SHAPE_WIDTH = 28


def human_bytes(n: int | None) -> str:
    """1536 -> '1.50 KiB'; None -> '--'."""
    if n is None:
        return "--"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n:,} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a CJK character takes two (module names such as
    ``编码器`` in a Chinese lesson), so padding by ``len`` would misalign the table."""
    width = wcswidth(text)
    return width if width >= 0 else len(text)  # -1: a control character; count characters


def shape_text(shape: Any) -> str:
    """A mirrored shape as short text: [1, 10]; nested structures compactly; '--' if unknown.

    Tuples/lists read ``([1, 10], [1, 5])``, dicts ``{logits: [1, 10]}``, and an object or
    named tuple (``{"Normal": {"loc": [2, 3], "scale": [2, 3]}}``, see ``_core.nested``)
    ``Normal(loc=[2, 3], scale=[2, 3])``; fields of one shape share it:
    ``Normal(loc, scale=[2, 3])``. Cut to the column's width with "…".
    """
    text = _shape_text(shape)
    return text if len(text) <= _SHAPE_WIDTH else text[: _SHAPE_WIDTH - 1] + "…"


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, dict):
        fields = _object_fields(shape)
        if fields is not None:
            kind, inner = fields
            texts = [_shape_text(v) for v in inner.values()]
            if len(set(texts)) == 1 and len(texts) > 1:  # Normal(loc, scale=[2, 3])
                return f"{kind}({', '.join(inner)}={texts[0]})"
            return f"{kind}(" + ", ".join(f"{k}={t}" for k, t in zip(inner, texts)) + ")"
        return "{" + ", ".join(f"{k}: {_shape_text(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list) and all(isinstance(d, int) for d in shape):
        return "[" + ", ".join(str(d) for d in shape) + "]"
    return "(" + ", ".join(_shape_text(s) for s in shape) + ")"


def _object_fields(shape: dict) -> tuple[str, dict] | None:
    """``(type name, fields)`` when ``shape`` has the object form ``{"Type": {field: ...}}``:
    one key, a class-like name (an identifier starting upper-case), mapping to a non-empty dict."""
    if len(shape) != 1:
        return None
    (kind, inner), = shape.items()
    if isinstance(inner, dict) and inner and kind.isidentifier() and kind[:1].isupper():
        return kind, inner
    return None


def _printable(text: str) -> str:
    # Module names are arbitrary strings: keep control characters from moving the cursor.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _tree_prefixes(summary: Summary) -> list[str]:
    """'│ ├─' style prefixes, from each layer's parent and whether it is its parent's last child."""
    last_child: dict[str, str] = {}
    for layer in summary.layers:
        last_child[layer.parent] = layer.path
    is_last = {layer.path: last_child[layer.parent] == layer.path for layer in summary.layers}
    prefixes = []
    for layer in summary.layers:
        parts = []
        path = layer.parent
        while path:
            parts.append("  " if is_last.get(path, True) else "│ ")
            path = path.rpartition(".")[0]
        parts.reverse()
        parts.append("└─" if is_last[layer.path] else "├─")
        prefixes.append("".join(parts))
    return prefixes


#: The columns of ``str(summary)``, in order; ``Summary.table(columns=...)`` picks from HEADERS.
COLUMNS = ("output_shape", "params", "calls", "macs")
HEADERS = {"input_shape": "Input shape", "output_shape": "Output shape", "params": "Params",
           "params_percent": "Param %", "trainable": "Trainable", "calls": "Calls", "macs": "MACs",
           "status": "Status"}  # fmt: skip


def _row(title: str, columns: tuple[str, ...], total: int, params: int, trainable: int, shared: bool,
         calls: str, input_shape: Any, output_shape: Any, macs: int | None,
         status: str = "") -> tuple[str, ...]:  # fmt: skip
    """One table row: the title cell, then the chosen columns' cells (subtree figures)."""
    if isinstance(input_shape, list) and len(input_shape) == 1:
        input_shape = input_shape[0]  # one positional input, shown bare as torchinfo does
    cells = {
        "input_shape": shape_text(input_shape),
        "output_shape": shape_text(output_shape),
        "params": f"{params:,}" + (" (shared)" if shared else ""),
        "params_percent": f"{params / total:.2%}" if params and total else "--",
        # torchinfo's words: all, none or some of the parameters require grad.
        "trainable": ("--" if not params else "True" if trainable == params
                      else "False" if not trainable else "Partial"),
        "calls": calls,
        "macs": "--" if macs is None else f"{macs:,}",
        "status": status,
    }  # fmt: skip
    return (title, *(cells[c] for c in columns))


def table_cells(summary: Summary, depth: int | None = None,
                columns: tuple[str, ...] = COLUMNS) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:  # fmt: skip
    """The header and the rows as text cells: the root, then each layer up to ``depth``.

    Never triggers the MAC pass (uncounted MACs read '--').
    """
    header = ("Layer (kind)", *(HEADERS[c] for c in columns))
    total = summary.total_params
    rows = [_row(summary.model_kind, columns, total, total, summary.trainable_params, False, "",
                 summary.input_shapes, summary.output_shape, summary._macs)]  # fmt: skip
    layers = summary.layers
    for i, (prefix, layer) in enumerate(zip(_tree_prefixes(summary), layers)):
        if depth is not None and layer.depth > depth:
            continue  # folded into its ancestor at ``depth``, whose figures cover its subtree
        macs = layer.__dict__.get("_macs")  # never triggers the MAC pass itself
        if macs is not None and not layer.calls and layer.depth == depth:
            macs = _folded_macs(layers, i)
        rows.append(_row(
            f"{prefix}{_printable(layer.name)} ({_printable(layer.kind)})", columns, total,
            layer.params, layer.trainable_params, layer.shared,
            "--" if layer.status == IN_TORCHSCRIPT else str(layer.calls),  # unknown, not 0
            layer.input_shape, layer.output_shape, macs, layer.status,
        ))  # fmt: skip
    return header, rows


def _folded_macs(layers: list, i: int) -> int:
    """MACs of the subtree of ``layers[i]``, a module never called (a ModuleList of blocks).

    FlopCounterMode books work on the modules that ran, so such a container counts 0 while
    its children ran: folded, its row must show theirs. Adds its outermost called
    descendants (named_modules() order lists a subtree contiguously after its root).
    """
    inside, counted, total = layers[i].path + ".", None, 0
    for layer in layers[i + 1 :]:
        if not layer.path.startswith(inside):
            break
        if layer.calls and not (counted and layer.path.startswith(counted)):
            total += layer.__dict__.get("_macs") or 0
            counted = layer.path + "."
    return total


def render(summary: Summary, note: str = "", depth: int | None = None,
           columns: tuple[str, ...] = COLUMNS) -> str:  # fmt: skip
    """The whole table: one row per layer (to ``depth``; all when None), then totals and memory.

    ``columns`` are names from HEADERS, already checked (``export.table`` checks a user's).
    """
    counted = summary.macs_counted
    if columns == COLUMNS and any(layer.status for layer in summary.layers):
        # The default table adds a Status column when some module did not run (or ran where
        # no hook sees it, inside TorchScript).
        columns = (*COLUMNS, "status")
    header, rows = table_cells(summary, depth, columns)
    widths = [max(_width(r[i]) for r in (header, *rows)) for i in range(len(header))]
    # Numbers right-aligned; the Status words (the last column, when shown) left-aligned.
    numbers = len(header) - 1 - (1 if "status" in columns else 0)

    def line(cells: tuple[str, ...]) -> str:
        left = cells[0] + " " * (widths[0] - _width(cells[0]))
        rest = "  ".join(" " * (w - _width(c)) + c for c, w in zip(cells[1 : 1 + numbers], widths[1 : 1 + numbers]))
        tail = "".join(f"  {c}" for c in cells[1 + numbers :])
        return f"{left}  {rest}{tail}".rstrip()

    rule_width = sum(widths) + 2 * (len(widths) - 1)
    heavy, light = "=" * rule_width, "-" * rule_width
    out = [heavy, line(header), heavy, *(line(r) for r in rows), heavy]
    out.append(f"Total params: {summary.total_params:,}")
    out.append(f"Trainable params: {summary.trainable_params:,}")
    out.append(f"Non-trainable params: {summary.non_trainable_params:,}")
    out.extend(f"  Note: {remark}" for remark in summary.param_notes)
    if counted:
        out.append(f"Total MACs: {summary._macs:,}")
        if summary._macs_excluded:
            out.append(f"MACs exclude: {', '.join(summary._macs_excluded)} (no formula)")
    else:
        out.append("Total MACs: -- (" + (note or "give input_size or input_data to count them") + ")")
    out.append(light)
    out.append(f"Input size: {human_bytes(summary.input_bytes)}")
    out.append(f"Forward activations: {human_bytes(summary.activation_bytes)}")
    out.append(f"Parameters: {human_bytes(summary.param_bytes)}")
    out.append(f"Buffers: {human_bytes(summary.buffer_bytes)}")
    out.append(f"Estimated total: {human_bytes(summary.total_bytes)}")
    out.append(heavy)
    return "\n".join(out)
