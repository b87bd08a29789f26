"""Summary.table(depth, columns) and to_dataframe(), checked against the model and torchinfo.

Expected values come from the model itself (its parameters, shapes seen by torch hooks of
the test's own, MACs by hand from those shapes: tests/support/table_reference.py) and from
torchinfo 1.8.0 where its meaning is ours (rows at a depth limit). Markdown:
test_exports_markdown.py.
"""

from __future__ import annotations

import gc
import sys

import pytest
import torch
import torchinfo
from table_reference import (
    CNN_INPUT,
    expected_cell,
    hand_macs,
    parse_table,
    partly_frozen_cnn,
    torch_records,
)
from torch import nn
from zoo import HostileNames, IrisMLP, SmallCNN, assert_state_unchanged, gpt2_tiny, snapshot_state

from modelpanel.errors import InputError
from modelpanel.summary import LAYER_FIELDS, summarize

COLUMNS = ("input_shape", "output_shape", "params", "params_percent", "trainable", "calls", "macs")
TORCHINFO_NAMES = {"input_size": "input_shape", "output_size": "output_shape", "num_params": "params",
                   "params_percent": "params_percent", "mult_adds": "macs", "trainable": "trainable"}  # fmt: skip
HEADERS = {"input_shape": "Input shape", "output_shape": "Output shape", "params": "Params",
           "params_percent": "Param %", "trainable": "Trainable", "calls": "Calls", "macs": "MACs"}  # fmt: skip


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


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
                          "'params_percent', 'trainable', 'calls', 'macs', 'status' \\(torchinfo's 'input_size' for 'input_shape'"),
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
    s._hold_weakly()  # as a panel's summary: the model may go
    del model
    gc.collect()
    assert "Total MACs: -- (not counted: the model has been deleted)" in s.table(columns=["macs"])
    assert "not counted: the model has been deleted" in s.to_markdown()
    df = s.to_dataframe()
    assert df["macs"].isna().all() and list(df["params"]) == [50, 0, 33]


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


def test_the_text_table_lines_up_chinese_module_names() -> None:
    """A CJK character takes two terminal columns (Unicode East Asian Width "W"): padding by
    len() would push every number after a Chinese name one column right per character."""
    import unicodedata

    model = nn.Sequential()
    model.add_module("编码器", nn.Linear(4, 8))
    model.add_module("relu", nn.ReLU())
    model.add_module("输出层", nn.Linear(8, 3))
    text = str(summarize(model, input_size=(1, 4)))

    def columns(line: str) -> int:  # terminal columns, from the Unicode database itself
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)

    rows = [line for line in text.splitlines() if line.startswith(("├─", "└─"))]
    assert len(rows) == 3
    assert len({columns(line) for line in rows}) == 1, rows  # every row ends in the same column
    params = {line.split()[0][2:]: line.split()[-3] for line in rows}  # Params, Calls, MACs last
    assert params == {"编码器": "40", "relu": "0", "输出层": "27"}  # 4*8 + 8; 8*3 + 3
