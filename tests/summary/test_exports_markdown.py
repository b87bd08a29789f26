"""Summary.to_markdown(): the text table's rows, columns and totals, names rendered as written.

Rendered with cmark-gfm (GitHub's own renderer) with raw HTML allowed, so anything left
unescaped would show up as a tag or lose characters.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import torch
from table_reference import CNN_INPUT, parse_table, partly_frozen_cnn
from torch import nn
from zoo import HOSTILE_STRINGS, HostileNames

from modelpanel.summary import summarize


class _Cells(HTMLParser):
    """The text of every table cell and list item, and every tag, of rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.items: list[str] = []
        self.tags: set[str] = set()
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th", "li"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.rows[-1].append("".join(self._text))
        elif tag == "li":
            self.items.append("".join(self._text))
        if tag in ("td", "th", "li"):
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def render_markdown(markdown: str) -> _Cells:
    """Render with GitHub's cmark-gfm, raw HTML allowed (so unescaped markup would show as tags)."""
    cmarkgfm = pytest.importorskip("cmarkgfm")  # in the dev extra
    from cmarkgfm.cmark import Options

    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parsed = _Cells()
    parsed.feed(html)
    return parsed


@pytest.mark.parametrize("columns", [None, ["input_size", "trainable", "params_percent"], []])
def test_markdown_has_the_rows_columns_and_totals_of_the_text_table(columns) -> None:
    model = partly_frozen_cnn()
    s = summarize(model, input_size=CNN_INPUT)
    kwargs = {} if columns is None else {"columns": columns}
    for depth in (None, 1):
        markdown = s.to_markdown(depth=depth, **kwargs)
        text = s.table(depth=depth, **kwargs)
        titles, rows = parse_table(text)
        rendered = render_markdown(markdown)
        assert rendered.tags == {"table", "thead", "tbody", "tr", "th", "td", "ul", "li"}
        assert [[c.replace("\u00a0", " ") for c in r] for r in rendered.rows] == [titles, *rows]
        assert markdown.splitlines()[1] == "| :-- |" + " --: |" * (len(titles) - 1)
        totals = [line for line in text.splitlines()[len(rows) + 4 :] if set(line) - {"=", "-"}]
        assert rendered.items == totals and "Total params: 105,962" in totals


class MarkdownHostile(nn.Module):
    """Children named with Markdown syntax, control characters and spaces; a class named with a pipe."""

    NAMES = ("a|b", "`code` ``x``", "line\nbreak\ttab", "*em* _u_ **b**", "[x](javascript:alert(1))",
             "![img](x)", "~~s~~ $x$", "back\\slash \\|", "  padded  ", "&amp; &#60; <b>", "# h <!-- c -->",
             "snake_case_9", "__dunder__ _x y_ a__b", "é_ü _é_")  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        for name in self.NAMES:
            self.add_module(name, nn.Identity())
        self.add_module("k", type("K|`x`<i>*", (nn.ReLU,), {})())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for child in self.children():
            x = child(x)
        return x


@pytest.mark.parametrize("make", [HostileNames, MarkdownHostile])
def test_hostile_names_come_out_of_markdown_as_literal_text(make) -> None:
    model = make()
    s = summarize(model, input_size=(2, 4))
    rendered = render_markdown(s.to_markdown(columns=["output_shape", "params"]))
    assert rendered.tags == {"table", "thead", "tbody", "tr", "th", "td", "ul", "li"}  # no <img>, <a>, <code>...
    modules = list(model.named_modules())
    assert len(rendered.rows) == 1 + len(modules) and all(len(r) == 3 for r in rendered.rows)
    assert rendered.rows[1] == [type(model).__name__, "[2, 4]", f"{s.total_params:,}"]
    for row, (path, module) in zip(rendered.rows[2:], modules[1:]):
        # Control characters are written as their escapes, as in the text table.
        name = path.rpartition(".")[2].replace("\n", "\\n").replace("\t", "\\t")
        assert row[0].replace("\u00a0", " ").endswith(f"─{name} ({type(module).__name__})")
        assert row[1:] == ["[2, 4]", f"{sum(p.numel() for p in module.parameters()):,}"]
    markdown, text = s.to_markdown(), s.table(columns=[])
    # No name broke a line: one line per module between the rules, and per Markdown row.
    lines = text.splitlines()
    assert lines.index(lines[0], 3) - 3 == len(modules)
    table_lines = markdown.split("\n\n")[0].splitlines()
    assert len(table_lines) == 2 + len(modules) and all(line.startswith("| ") and line.endswith(" |") for line in table_lines)
    if make is HostileNames:
        assert all(h in text for h in HOSTILE_STRINGS)  # the text table is not HTML: kept as written
        assert "&lt;img src=x onerror=alert(1)&gt;" in markdown and "<" not in markdown
    else:
        assert "├─snake_case_9 (Identity)" in markdown  # nothing to escape inside a word
        assert "├─line\\nbreak\\ttab (Identity)" in text


def test_depth_two_prefix_keeps_its_indent_in_markdown() -> None:
    model = HostileNames()  # its last child holds a child: that row's prefix starts with spaces
    rendered = render_markdown(summarize(model, input_size=(2, 4)).to_markdown())
    assert rendered.rows[-1][0].startswith("\u00a0\u00a0└─")
