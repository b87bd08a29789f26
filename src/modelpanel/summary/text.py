"""``str(summary)``: a plain-text table in the spirit of torchinfo's, for terminals and CI logs.

"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def render(summary: Summary, note: str = "") -> str:
    """The whole table: one row per layer, then totals and the memory estimate."""
    counted = summary.macs_counted
    # A Status column only when some module did not run (or ran where no hook sees it).
    status = any(layer.status for layer in summary.layers)
    header = ("Layer (kind)", "Output shape", "Params", "Calls", "MACs") + (("Status",) if status else ())
    rows = [(summary.model_kind, shape_text(summary.output_shape), f"{summary.total_params:,}", "",
             f"{summary._macs:,}" if counted else "--") + (("",) if status else ())]  # fmt: skip
    for prefix, layer in zip(_tree_prefixes(summary), summary.layers):
        params = f"{layer.params:,}" + (" (shared)" if layer.shared else "")
        macs = layer.__dict__.get("_macs")  # never triggers the MAC pass itself
        rows.append((
            f"{prefix}{_printable(layer.name)} ({_printable(layer.kind)})",
            shape_text(layer.output_shape),
            params,
            "--" if layer.status == IN_TORCHSCRIPT else str(layer.calls),  # unknown, not 0
            "--" if macs is None else f"{macs:,}",
        ) + ((layer.status,) if status else ()))  # fmt: skip
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    numbers = 4  # the columns after the name that are right-aligned

    def line(cells: tuple[str, ...]) -> str:
        left = cells[0].ljust(widths[0])
        rest = "  ".join(c.rjust(w) for c, w in zip(cells[1 : 1 + numbers], widths[1 : 1 + numbers]))
        tail = "".join(f"  {c}" for c in cells[1 + numbers :])
        return f"{left}  {rest}{tail}".rstrip()

    rule_width = sum(widths) + 2 * (len(widths) - 1)
    heavy, light = "=" * rule_width, "-" * rule_width
    out = [heavy, line(header), heavy, *(line(r) for r in rows), heavy]
    out.append(f"Total params: {summary.total_params:,}")
    out.append(f"Trainable params: {summary.trainable_params:,}")
    out.append(f"Non-trainable params: {summary.non_trainable_params:,}")
    if counted:
        out.append(f"Total MACs: {summary._macs:,}")
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
