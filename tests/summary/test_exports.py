"""Summary.table(depth, columns), to_markdown() and to_dataframe(), checked against the model.

Expected values come from the model itself (its parameters, shapes seen by our own torch
hooks here, MACs by hand from those shapes), from torchinfo 1.8.0 where its meaning is ours
(rows at a depth limit), and for Markdown from cmark-gfm, GitHub's own renderer.
"""

from __future__ import annotations

import copy
import gc
import math
import re
import sys
from html.parser import HTMLParser

import pytest
import torch
import torchinfo
from torch import nn
from zoo import (
    HOSTILE_STRINGS,
    HostileNames,
    IrisMLP,
    SmallCNN,
    assert_state_unchanged,
    gpt2_tiny,
    snapshot_state,
)

from modelpanel.errors import InputError
from modelpanel.summary import LAYER_FIELDS, summarize

COLUMNS = ("input_shape", "output_shape", "params", "params_percent", "trainable", "calls", "macs")
TORCHINFO_NAMES = {"input_size": "input_shape", "output_size": "output_shape", "num_params": "params",
                   "params_percent": "params_percent", "mult_adds": "macs", "trainable": "trainable"}  # fmt: skip
HEADERS = {"input_shape": "Input shape", "output_shape": "Output shape", "params": "Params",
           "params_percent": "Param %", "trainable": "Trainable", "calls": "Calls", "macs": "MACs"}  # fmt: skip
CNN_INPUT = (2, 1, 28, 28)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def parse_table(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and row cells of a text table (columns found from the right-aligned headers)."""
    lines = text.splitlines()
    heavy = lines[0]
    header = lines[1]
    rows = lines[3 : lines.index(heavy, 3)]
    spans = [m.span() for m in re.finditer(r"\S+(?: \S+)*", header)]
    titles = [header[a:b] for a, b in spans]
    parsed = []
    for line in rows:
        if len(spans) == 1:
            parsed.append([line.rstrip()])
            continue
        # The tree prefix may hold double spaces ("│   ├─"); the names here hold none.
        prefix, name, second = re.fullmatch(r"([│├└─ ]*)(.*?\S)(?:\s{2,}(\S.*?))?\s*", line[: spans[1][1]]).groups()
        cells = [prefix + name, second or ""]
        cells += [line[spans[j - 1][1] : spans[j][1]].strip() for j in range(2, len(spans))]
        parsed.append(cells)
    return titles, parsed


def torch_records(model: nn.Module, x: torch.Tensor) -> dict[str, list]:
    """path -> [input shape, output shape, calls], from torch forward hooks on a copy."""
    model = copy.deepcopy(model).eval()
    records: dict[str, list] = {}

    def hook(path: str):
        def record(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
            records.setdefault(path, [list(args[0].shape), list(out.shape), 0])[2] += 1

        return record

    for path, module in model.named_modules():
        module.register_forward_hook(hook(path))
    with torch.no_grad():
        model(x)
    return records


def hand_macs(model: nn.Module, records: dict[str, list], extra: dict[str, int] | None = None) -> dict[str, int]:
    """MACs per path, by hand: Conv2d and Linear from their output shapes, plus ``extra`` (work
    done in a module's own forward); a module's figure adds up its whole subtree."""
    own = dict.fromkeys((p for p, _ in model.named_modules()), 0) | (extra or {})
    for path, m in model.named_modules():
        out = records[path][1] if path in records else None
        if isinstance(m, nn.Conv2d):
            own[path] = math.prod(out) * (m.in_channels // m.groups) * math.prod(m.kernel_size)
        elif isinstance(m, nn.Linear):
            own[path] = math.prod(out[:-1]) * m.in_features * m.out_features
    return {p: sum(v for q, v in own.items() if q == p or not p or q.startswith(p + ".")) for p in own}


def trainable_word(module: nn.Module) -> str:
    flags = [p.requires_grad for p in module.parameters()]
    return "--" if not flags else "True" if all(flags) else "False" if not any(flags) else "Partial"


def expected_cell(column: str, model: nn.Module, path: str, records: dict, macs: dict) -> str:
    """One cell of our table, from the model (path "" is the root row)."""
    module = model.get_submodule(path)
    n = sum(p.numel() for p in module.parameters())
    total = sum(p.numel() for p in model.parameters())
    input_shape, output_shape, calls = records[path]
    return {
        "input_shape": str(input_shape),
        "output_shape": str(output_shape),
        "params": f"{n:,}",
        "params_percent": f"{100 * n / total:.2f}%" if n else "--",
        "trainable": trainable_word(module),
        "calls": str(calls) if path else "",
        "macs": f"{macs[path]:,}",
    }[column]


def partly_frozen_cnn() -> nn.Module:
    """SmallCNN with every Trainable word: True, False, Partial and -- (no parameters)."""
    model = SmallCNN()
    model.features[0].weight.requires_grad_(False)  # features.0 and features: Partial
    model.classifier[4].requires_grad_(False)  # classifier.4: False
    return model


@pytest.mark.parametrize("name", [*COLUMNS, *TORCHINFO_NAMES])
def test_each_column_shows_what_the_model_has(name: str) -> None:
    model = partly_frozen_cnn()
    column = TORCHINFO_NAMES.get(name, name)
    x = torch.randn(CNN_INPUT)
    records = torch_records(model, x)
    macs = hand_macs(model, records)
    before = snapshot_state(model)
    s = summarize(model, input_data=x)
    titles, rows = parse_table(s.table(columns=[name]))
    assert_state_unchanged(model, before)
    assert titles == ["Layer (kind)", HEADERS[column]]
    paths = [p for p, _ in model.named_modules()]
    assert rows[0][0] == "SmallCNN" and len(rows) == len(paths)
    for row, path in zip(rows[1:], paths[1:]):
        module = model.get_submodule(path)
        assert row[0].endswith(f"{path.rpartition('.')[2]} ({type(module).__name__})")
    assert [row[1] for row in rows] == [expected_cell(column, model, p, records, macs) for p in paths]
    assert s.macs_counted == (column == "macs")  # only the MACs column runs the MAC pass


def test_columns_come_in_the_order_given_and_agree_with_each_column_alone() -> None:
    model = partly_frozen_cnn()
    s = summarize(model, input_size=CNN_INPUT)
    alone = {c: [row[1] for row in parse_table(s.table(columns=[c]))[1]] for c in COLUMNS}
    for order in (COLUMNS, COLUMNS[::-1], ("macs", "calls", "params", "input_shape", "trainable", "output_shape", "params_percent")):
        titles, rows = parse_table(s.table(columns=list(order)))
        assert titles[1:] == [HEADERS[c] for c in order]
        for j, column in enumerate(order, start=1):
            assert [row[j] for row in rows] == alone[column], column
    assert s.table(columns=list(TORCHINFO_NAMES)) == s.table(columns=list(TORCHINFO_NAMES.values()))
    only_names = parse_table(s.table(columns=()))
    assert only_names[0] == ["Layer (kind)"] and len(only_names[1]) == len(s.layers) + 1


@pytest.mark.parametrize("make", [IrisMLP, gpt2_tiny, HostileNames, lambda: nn.Linear(4, 4)])
@pytest.mark.parametrize("with_input", [True, False])
def test_table_with_its_defaults_is_str(make, with_input: bool) -> None:
    model = make()
    kwargs = {}
    if with_input:
        kwargs = {"input_size": (1, 8), "dtypes": [torch.long]} if make is gpt2_tiny else {"input_size": (2, 4)}
    s = summarize(model, **kwargs)
    table = s.table()
    assert table == str(s) == s.table(depth=None, columns=["output_shape", "params", "calls", "macs"])
    assert s.macs_counted == with_input


def test_depth_folds_deeper_layers_into_their_ancestor() -> None:
    b, t, d = 1, 8, 64
    model = gpt2_tiny(n_embd=d)
    x = torch.randint(0, 512, (b, t))
    records = torch_records(model, x)  # ("h", a ModuleList, is never called: it has no record)
    attention = {f"h.{i}.attn": 2 * b * t * t * d for i in range(2)}  # q @ k^T and attn @ v
    macs = hand_macs(model, records, attention)
    s = summarize(model, input_data=x)
    paths = [p for p, _ in model.named_modules()]
    depth_of = {p: p.count(".") + 1 if p else 0 for p in paths}
    params = {p: sum(t.numel() for t in model.get_submodule(p).parameters()) for p in paths}
    for depth in range(6):
        _, rows = parse_table(s.table(depth=depth, columns=["params", "macs"]))
        shown = [p for p in paths if depth_of[p] <= depth]
        assert len(rows) == len(shown)
        for row, path in zip(rows, shown):
            kind = type(model.get_submodule(path)).__name__
            assert row[0].endswith(f"{path.rpartition('.')[2]} ({kind})" if path else "GPT")
            # A row's figures cover its subtree, so a folded layer's figures stay counted.
            assert row[1].removesuffix(" (shared)") == f"{params[path]:,}"
            # The never-called ModuleList books no work itself: its row shows its blocks' work
            # when they are folded into it, and 0 beside their own rows (as str(summary)).
            folded = depth_of[path] == depth
            assert row[2] == f"{macs[path] if path in records or folded else 0:,}", path
    everything = s.table(columns=["params"])
    assert s.table(depth=4, columns=["params"]) == everything  # the deepest layer is at depth 4
    assert s.table(depth=100, columns=["params"]) == everything
    # The tree prefixes of the rows kept are those of the full table.
    full_rows = {r[0] for r in parse_table(everything)[1]}
    assert {r[0] for r in parse_table(s.table(depth=2, columns=["params"]))[1]} <= full_rows


def test_rows_at_the_depth_limit_agree_with_torchinfo() -> None:
    model = SmallCNN()
    s = summarize(model, input_size=CNN_INPUT)
    stats = torchinfo.summary(model, input_size=CNN_INPUT, depth=1, verbose=0)
    infos = [i for i in stats.summary_list if i.depth == 1]
    names = ["input_size", "output_size", "num_params", "params_percent", "trainable"]
    _, rows = parse_table(s.table(depth=1, columns=names))
    assert [r[0] for r in rows[1:]] == [f"{'├─' if i < len(infos) - 1 else '└─'}{info.var_name} ({info.class_name})"
                                        for i, info in enumerate(infos)]  # fmt: skip
    for row, info in zip(rows[1:], infos):
        theirs = [str(info.input_size), str(info.output_size), info.num_params_to_str(True),
                  info.params_percent(stats.total_params, True).strip(), info.trainable]  # fmt: skip
        assert row[1:] == theirs
    assert rows[0][1:3] == [str(list(CNN_INPUT)), str(stats.summary_list[0].output_size)]

    # A nested model two levels down: the Blocks at the limit carry their subtree's params.
    gpt = gpt2_tiny()
    kw = {"input_size": (1, 8), "dtypes": [torch.long]}
    stats = torchinfo.summary(gpt, depth=2, verbose=0, **kw)
    ours = parse_table(summarize(gpt, **kw).table(depth=2, columns=["output_size", "num_params"]))[1][1:]
    theirs = [i for i in stats.summary_list if 1 <= i.depth <= 2]
    assert [r[0].rpartition("─")[2] for r in ours] == [f"{i.var_name} ({i.class_name})" for i in theirs]
    for row, info in zip(ours, theirs):
        if info.executed:
            assert row[1] == str(info.output_size)
        if info.depth == 2:  # torchinfo shows a whole subtree only at the limit (and on leaves)
            assert row[2] == info.num_params_to_str(True)


@pytest.mark.parametrize("depth", [-1, 1.5, True, "1"])
def test_bad_depth_is_refused_with_the_valid_values(depth) -> None:
    model = IrisMLP()
    s = summarize(model, input_size=(1, 4))
    before = snapshot_state(model)
    for export in (s.table, s.to_markdown):
        with pytest.raises(InputError, match=r"depth must be None \(every layer\) or an int >= 0"):
            export(depth=depth)
    assert_state_unchanged(model, before)
    assert not s.macs_counted


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["kernel_size"], "unknown column 'kernel_size': valid names are 'input_shape', 'output_shape', 'params', "
                          "'params_percent', 'trainable', 'calls', 'macs' \\(torchinfo's 'input_size' for 'input_shape'"),
        (["params", "num_params"], "column 'num_params' is asked for twice \\(as 'params'\\)"),
        ("params", r"columns must be a list of column names, e.g. \['params'\]"),
        ([["params"]], "unknown column \\[\\'params\\'\\]"),
        (None, "columns must be a list of column names"),
    ],
)  # fmt: skip
def test_bad_columns_are_refused_with_the_valid_names(columns, message: str) -> None:
    s = summarize(IrisMLP(), input_size=(1, 4))
    for export in (s.table, s.to_markdown):
        with pytest.raises(InputError, match=message):
            export(columns=columns)
    assert not s.macs_counted


def test_the_mac_pass_runs_only_when_macs_are_shown() -> None:
    model = IrisMLP()
    s = summarize(model, input_size=(1, 4))
    before = snapshot_state(model)
    text = s.table(columns=["params"])
    assert 'Total MACs: -- (not counted: add "macs" to columns, or read summary.macs)' in text
    assert "not counted" in s.to_markdown(columns=["output_size"])
    assert not s.macs_counted
    assert "Total MACs: 70" in s.table(columns=["mult_adds"])  # 4×10 + 10×3
    assert s.macs_counted
    assert_state_unchanged(model, before)
    no_input = summarize(model)
    assert "Total MACs: -- (give input_size or input_data to count them)" in no_input.table(columns=["params"])


def test_a_deleted_model_is_said_so_and_leaves_macs_empty() -> None:
    model = IrisMLP()
    s = summarize(model, input_size=(1, 4))
    del model
    gc.collect()
    assert "Total MACs: -- (not counted: the model has been deleted)" in s.table(columns=["macs"])
    assert "not counted: the model has been deleted" in s.to_markdown()
    df = s.to_dataframe()
    assert df["macs"].isna().all() and list(df["params"]) == [50, 0, 33]


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


def torch_rows(model: nn.Module, records: dict, macs: dict) -> list[dict]:
    """The rows to_dataframe() must give, from the model and torch hooks."""
    rows = []
    for path, module in list(model.named_modules())[1:]:
        params = list(module.parameters())
        own = list(module.parameters(recurse=False))
        rows.append({
            "path": path, "name": path.rpartition(".")[2], "kind": type(module).__name__,
            "depth": path.count(".") + 1, "parent": path.rpartition(".")[0],
            "input_shape": [records[path][0]], "output_shape": records[path][1], "calls": records[path][2],
            "params": sum(p.numel() for p in params), "own_params": sum(p.numel() for p in own),
            "trainable_params": sum(p.numel() for p in params if p.requires_grad), "macs": macs[path],
        })  # fmt: skip
    return rows


def test_dataframe_has_one_row_per_layer_with_layer_fields() -> None:
    pytest.importorskip("pandas")  # in the dev extra
    model = partly_frozen_cnn()
    x = torch.randn(CNN_INPUT)
    records = torch_records(model, x)
    before = snapshot_state(model)
    s = summarize(model, input_data=x)
    df = s.to_dataframe()
    assert_state_unchanged(model, before)
    assert s.macs_counted  # the MAC pass ran, as for str(summary)
    assert list(df.columns) == list(LAYER_FIELDS) and list(df.index) == list(range(len(df)))
    expected = torch_rows(model, records, hand_macs(model, records))
    got = df.to_dict("records")
    assert [{k: r[k] for k in expected[0]} for r in got] == expected
    assert [r["shared"] for r in got] == [False] * len(got)
    assert got[1]["param_formula"] == "weight 16×1×3×3 = 144 + bias 16 = 160"
    assert [tuple(r.values()) for r in got] == [tuple(layer.to_dict().values()) for layer in s.layers]

    tied = summarize(gpt2_tiny()).to_dataframe().set_index("path")
    assert tied.loc["lm_head", "shared"] and tied["macs"].isna().all() and tied["output_shape"].isna().all()
    alone = summarize(nn.Linear(4, 4), input_size=(1, 4)).to_dataframe()
    assert alone.empty and list(alone.columns) == list(LAYER_FIELDS)


def test_dataframe_without_pandas_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    s = summarize(IrisMLP(), input_size=(1, 4))
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` raise ImportError
    with pytest.raises(ImportError, match=r"needs pandas, which is not installed .*: pip install pandas"):
        s.to_dataframe()
