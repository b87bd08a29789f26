"""Exports of a Summary: the text table to a depth and chosen columns, Markdown, pandas.

``Summary.table``, ``Summary.to_markdown`` and ``Summary.to_dataframe`` are these functions.

``depth`` and ``columns`` mean what torchinfo's ``depth=`` and ``col_names=`` mean: the root
is depth 0 and its children depth 1; a layer deeper than ``depth`` gets no row and is folded
into its ancestor at ``depth``. torchinfo's column names are accepted as aliases. Where the
figures differ from torchinfo 1.8.0's:

* Every row shows its whole subtree (params, Param %, MACs, Trainable), as ``str(summary)``
  does. torchinfo shows that only on rows at the depth limit and on leaves; a container above
  the limit shows the parameters its children do not hold ("--" for a plain Sequential), and
  the root row likewise ("--"), where ours shows the model's totals. A container that is
  never called itself (a ModuleList of blocks) shows, when folded, the MACs of the layers
  folded into it; torchinfo shows "--".
* One row per module in ``named_modules()`` order (a module called twice is one row with
  ``calls`` 2; one never called has '--' shapes); torchinfo lists calls in execution order
  and marks a repeated call "(recursive)".
* MACs come from torch's FlopCounterMode (matmuls and convolutions, attention included);
  torchinfo estimates them from each layer's parameter count and output size (so it counts
  bias adds and BatchNorm), and on a row at the depth limit adds up only its direct children
  that are leaves.
* No ``kernel_size`` column; ``depth=None`` (all rows) is the default, not 3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InputError, ModelPanelError
from . import text

if TYPE_CHECKING:
    import pandas

    from . import Summary

#: torchinfo's ``col_names`` -> ours (``params_percent`` and ``trainable`` are the same in both).
COLUMN_ALIASES = {"input_size": "input_shape", "output_size": "output_shape",
                  "num_params": "params", "mult_adds": "macs"}  # fmt: skip


def _check_depth(depth: Any) -> int | None:
    if depth is None or (isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0):
        return depth
    raise InputError(
        f"depth must be None (every layer) or an int >= 0 (0: the model's row only, 1: its "
        f"children, ...), got {depth!r}"
    )


def _check_columns(columns: Any) -> tuple[str, ...]:
    valid = ", ".join(repr(c) for c in text.HEADERS)
    aliases = ", ".join(f"{k!r} for {v!r}" for k, v in COLUMN_ALIASES.items())
    if isinstance(columns, str) or not isinstance(columns, Sequence):
        raise InputError(
            f"columns must be a list of column names, e.g. [{columns!r}], got {columns!r}; "
            f"valid names: {valid}"
        )
    checked: list[str] = []
    for name in columns:
        column = COLUMN_ALIASES.get(name, name) if isinstance(name, str) else None
        if column not in text.HEADERS:
            raise InputError(f"unknown column {name!r}: valid names are {valid} (torchinfo's {aliases})")
        if column in checked:
            raise InputError(f"column {name!r} is asked for twice (as {column!r}) in columns={list(columns)!r}")
        checked.append(column)
    return tuple(checked)


def _macs_note(summary: Summary, count: bool) -> str:
    """Count the MACs when ``count`` and possible; the 'Total MACs: --' reason otherwise."""
    if summary.macs_counted or summary._inputs is None:
        return ""  # counted, or no input: render() says to give one
    if not count:
        return 'not counted: add "macs" to columns, or read summary.macs'
    if summary._model_held is None and summary._model_ref() is None:
        return "not counted: the model has been deleted"
    try:
        summary._ensure_macs()
    except ModelPanelError as exc:  # e.g. the model was changed and now fails
        return f"not counted: {exc}"
    return ""


def table(summary: Summary, depth: int | None = None, columns: Sequence[str] = text.COLUMNS) -> str:
    """The text table of ``str(summary)``, to ``depth`` and with ``columns`` in the given order.

    Args:
        depth: the deepest layer shown (root 0, its children 1, ...); deeper layers are
            folded into their ancestor at ``depth``, whose row covers its whole subtree.
            None: every layer.
        columns: names from "input_shape", "output_shape", "params", "params_percent",
            "trainable", "calls", "macs", "status" (torchinfo's "input_size", "output_size",
            "num_params", "mult_adds" too). The layer name and kind always come first.
            "status" says why a module has no calls ("not called in eval mode", "never
            called", "inside TorchScript: not traced"); the default table adds it when some
            module has one.

    Each row's figures are its subtree's: params (each tensor once; "(shared)" when the
    module is also reachable under another path), Param % of ``total_params``, Trainable
    ("True", "False", "Partial", or "--" without parameters, as torchinfo), MACs (FLOPs / 2;
    on a folded container that is never called itself, those of the layers folded into it).
    Shapes are those of the first call; a single positional input is shown bare, ``[1, 4]``.
    With "macs" in ``columns`` the MAC pass (a second forward under FlopCounterMode) runs
    the first time, as for ``str(summary)``; without it, it never runs.
    See this module's docstring for where the figures differ from torchinfo's.

    Raises:
        InputError: ``depth`` is not None or an int >= 0, or ``columns`` holds an unknown or
            repeated name (the message lists the valid ones).

    >>> s = summarize(IrisMLP(), input_size=(1, 4))
    >>> s.table(depth=0, columns=["output_size", "num_params"]).splitlines()[1:4]
    ['Layer (kind)  Output shape  Params', '==================================', 'IrisMLP             [1, 3]      83']
    """
    depth, checked = _check_depth(depth), _check_columns(columns)
    return text.render(summary, _macs_note(summary, "macs" in checked), depth, checked)


# Markdown's inline syntax characters (links, emphasis, code, strikethrough, GitHub math),
# the cell separator, and the backslash itself; & < > become entities (HTML and entities).
# An underscore between two letters or digits cannot start or end emphasis (CommonMark's
# flanking rules), so "lm_head" stays as it is.
_MD_ESCAPE = re.compile(r"[\\`*\[\]|~$]|(?<![^\W_])_|_(?![^\W_])")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_RULE = re.compile(r"=+|-+")


def _md(cell: str) -> str:
    """One table cell as Markdown that renders to exactly ``cell`` (control characters as escapes)."""
    escaped = _MD_ESCAPE.sub(lambda m: "\\" + m[0], text._printable(cell).translate(_HTML))
    stripped = escaped.strip(" ")
    if stripped == escaped:
        return escaped
    # Markdown trims a cell's spaces: the tree prefix's indent is kept as no-break spaces.
    lead = len(escaped) - len(escaped.lstrip(" "))
    trail = len(escaped) - len(escaped.rstrip(" "))
    return "\u00a0" * lead + stripped + "\u00a0" * trail


def to_markdown(summary: Summary, depth: int | None = None,
                columns: Sequence[str] = text.COLUMNS) -> str:  # fmt: skip
    """The table of ``table(depth, columns)`` as a GitHub-flavoured Markdown table, then the totals.

    The rows and cells are the text table's; the totals and memory lines follow as a list.
    Every cell is escaped so that it renders as the literal text: module and class names
    with pipes, backticks, ``*``, ``_``, ``[``, ``$``, HTML or entities come out as written,
    control characters (newlines) as their escapes (``\\n``); leading spaces as no-break
    spaces. Checked with cmark-gfm, GitHub's renderer. Text stays as written, but a URL in a
    name may still be made a link (GFM's autolinks) and GitHub's post-processing
    (``:emoji:`` codes, @mentions) acts on rendered text: neither is Markdown syntax to escape.
    Runs the MAC pass like ``table`` when "macs" is in ``columns`` (the default).

    Raises:
        InputError: as ``table``.
    """
    depth, checked = _check_depth(depth), _check_columns(columns)
    note = _macs_note(summary, "macs" in checked)
    header, rows = text.table_cells(summary, depth, checked)
    # The totals are written once, by text.render: read them back so the two never differ.
    rendered = text.render(summary, note, depth, checked).splitlines()
    totals = [line for line in rendered[len(rows) + 4 :] if not _RULE.fullmatch(line)]

    def md_row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(_md(c) for c in cells) + " |"

    out = [md_row(header), "| :-- |" + " --: |" * len(checked), *map(md_row, rows), ""]
    out.extend(f"- {_md(line)}" for line in totals)
    return "\n".join(out) + "\n"


def to_dataframe(summary: Summary) -> pandas.DataFrame:
    """One row per layer (``summary.layers``' order, root excluded) as a pandas DataFrame.

    Columns are ``Layer``'s fields (``LAYER_FIELDS``): path, name, kind, depth, parent,
    input_shape and output_shape (lists, as on Layer; None when the module never ran),
    calls, params, own_params, trainable_params, macs, shared, param_formula. The MAC pass
    runs first if it has not (as ``str(summary)``); ``macs`` stays None where it cannot
    (no input given, or the model deleted or now failing). The index is 0..n-1.

    Raises:
        ImportError: pandas is not installed (``pip install pandas``); modelpanel does not
            depend on it.
    """
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "Summary.to_dataframe() needs pandas, which is not installed in this environment: "
            "pip install pandas (or use summary.to_dict()['layers'], the same rows as dicts)"
        ) from exc
    from . import LAYER_FIELDS  # (not at the top: summary/__init__ imports this module)

    _macs_note(summary, True)
    return pandas.DataFrame(summary.layer_rows(), columns=list(LAYER_FIELDS))
