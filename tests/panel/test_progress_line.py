"""The compact bar a ``panel.progress`` loop draws in its own cell (panel/progress_line.py).

A kernel is simulated with IPython's InteractiveShell plus a ``kernel`` attribute (what
ipykernel's shell has); ``IPython.display.display`` is replaced by a recorder, so "displayed"
means "handed to IPython's display in this cell".
"""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from zoo import IrisMLP

import modelpanel.training.progress as progress_mod
from modelpanel import ModelPanel
from modelpanel.panel.progress_line import ProgressLine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shown(monkeypatch) -> list:
    """What was passed to IPython's display()."""
    calls: list = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: calls.extend(objs))
    return calls


@pytest.fixture
def kernel(shown):
    """An IPython shell that looks like ipykernel's (it has a kernel), with our cell hooks."""
    shell = InteractiveShell.instance()
    shell.kernel = object()
    try:
        yield shell
    finally:
        forget(shell)


def forget(shell: InteractiveShell) -> None:
    """Remove our cell hooks from ``shell`` and drop it (the next test gets a fresh one)."""
    for event, fn in (("pre_run_cell", progress_mod._pre_run_cell),
                      ("post_run_cell", progress_mod._post_run_cell)):
        if fn in shell.events.callbacks[event]:
            shell.events.unregister(event, fn)
    progress_mod._HOOKED.clear()
    progress_mod._IN_CELL[0] = None
    InteractiveShell.clear_instance()


def run(shell: InteractiveShell, code: str) -> None:
    result = shell.run_cell(code, store_history=True)
    result.raise_error()


def lines(objs: list) -> list[ProgressLine]:
    return [o for o in objs if isinstance(o, ProgressLine)]


TRAIN = """\
for epoch in panel.progress(range(3), desc="epoch", mininterval=0):
    for batch in panel.progress(range(4), desc="batch"):
        seen.append(([dict(r) for r in panel._progress], [dict(r) for r in shown_lines()[-1]._progress]))
"""


def test_one_line_per_outermost_loop_with_the_panels_records(kernel, shown):
    kernel.user_ns.update(seen=[], shown_lines=lambda: lines(shown))
    run(kernel, "import torch\nfrom zoo import IrisMLP\nfrom modelpanel import ModelPanel\n"
                "model = IrisMLP()\npanel = ModelPanel(model, input_size=(1, 4), hist_every=None)")
    run(kernel, TRAIN)
    first = lines(shown)
    assert len(first) == 1  # the inner loop, opened three times, made none
    panel = kernel.user_ns["panel"]
    # While the loop ran, the line held exactly the panel's records (the same flush wrote both).
    seen = kernel.user_ns["seen"]
    assert len(seen) == 12 and all(line == mine for mine, line in seen)
    assert [r["desc"] for r in seen[-1][1]] == ["epoch", "batch"]
    assert first[0]._progress == panel._progress  # the end: 3/3 and 4/4, "done"
    assert [(r["desc"], r["n"], r["total"], r["state"]) for r in first[0]._progress] == [
        ("epoch", 3, 3, "done"), ("batch", 4, 4, "done")]

    run(kernel, TRAIN)  # the same cell again: a second line; the first keeps its final state
    second = lines(shown)[1]
    assert len(lines(shown)) == 2 and first[0]._progress[0]["id"] != second._progress[0]["id"]
    assert [r["desc"] for r in panel._progress] == ["epoch", "batch", "epoch", "batch"]
    assert second._progress == panel._progress[2:]
    assert first[0]._progress == panel._progress[:2]
    assert panel._training.lines == []  # no line is written to after its loop ended


def test_a_loop_in_the_cell_that_makes_the_panel_gets_its_line(kernel, shown):
    run(kernel, "from zoo import IrisMLP\nfrom modelpanel import ModelPanel\n"
                "model = IrisMLP()\npanel = ModelPanel(model, input_size=(1, 4), hist_every=None)\n"
                "for i in panel.progress(range(2)): pass")
    (line,) = lines(shown)
    assert [(r["n"], r["state"]) for r in line._progress] == [(2, "done")]


def test_leave_false_outer_bar_leaves_the_line_empty(kernel, shown):
    run(kernel, "from zoo import IrisMLP\nfrom modelpanel import ModelPanel\n"
                "model = IrisMLP()\npanel = ModelPanel(model, input_size=(1, 4), hist_every=None)")
    run(kernel, "for i in panel.progress(range(2), leave=False): pass")
    (line,) = lines(shown)
    assert line._progress == []  # tqdm.notebook hides a leave=False bar when it ends


def test_nothing_displayed_outside_ipython(shown):
    assert InteractiveShell.initialized() is False
    model = IrisMLP()
    panel = ModelPanel(model, input_size=(1, 4), hist_every=None)
    for _ in panel.progress(range(3), desc="epoch"):
        pass
    assert shown == [] and panel._training.lines == []
    assert [(r["n"], r["state"]) for r in panel._progress] == [(3, "done")]


def test_nothing_displayed_by_the_run_button(kernel, shown, monkeypatch):
    """The Run button's handler runs between cells: its progress bar has no cell to go to."""
    from modelpanel import inference

    monkeypatch.setattr(inference, "PROGRESS_AFTER_S", -1.0)  # every evaluation gets a bar
    run(kernel, "import torch\nfrom zoo import IrisMLP\nfrom modelpanel import ModelPanel\n"
                "model = IrisMLP()\npanel = ModelPanel(model, input_size=(1, 4), hist_every=None)\n"
                "panel.set_eval_data(torch.randn(8, 4), torch.randint(0, 3, (8,)))")
    panel = kernel.user_ns["panel"]
    reply = panel._runner.on_run({"kind": "evaluate", "device": "cpu", "batch_size": 4}, [])
    assert reply["n"] == 8 and lines(shown) == []
    assert panel._training.board._next_id > 1  # a bar did run, in the panel only
    run(kernel, "r = panel.evaluate(torch.randn(8, 4), torch.randint(0, 3, (8,)))")
    assert len(lines(shown)) == 1  # from a cell, evaluate's batches show there


def test_terminal_ipython_displays_nothing(shown):
    shell = InteractiveShell.instance()  # no .kernel: terminal IPython has no widget front end
    try:
        shell.user_ns["seen"] = []
        run(shell, "from zoo import IrisMLP\nfrom modelpanel import ModelPanel\n"
                   "model = IrisMLP()\npanel = ModelPanel(model, input_size=(1, 4), hist_every=None)")
        run(shell, "for i in panel.progress(range(2)): pass")
        assert lines(shown) == []
    finally:
        forget(shell)


def test_line_keeps_neither_panel_nor_model_alive(kernel, shown):
    model = IrisMLP()
    kernel.user_ns["model"] = model
    run(kernel, "from modelpanel import ModelPanel\n"
                "panel = ModelPanel(model, input_size=(1, 4), hist_every=None)\n"
                "with panel.progress(total=5) as bar: bar.update(5)")
    (line,) = lines(shown)
    panel = kernel.user_ns["panel"]
    # Nothing the line holds is the panel, its session or its board.
    held = gc.get_referents(line.__dict__) + list(line._trait_values.values())
    assert not any(obj is panel or obj is panel._training or obj is panel._training.board for obj in held)
    model_ref = weakref.ref(model)
    del model
    for name in ("model", "panel", "bar", "_", "__", "___"):
        kernel.user_ns.pop(name, None)
    panel.close()
    del panel
    gc.collect()
    assert model_ref() is None  # the panel's weak reference to the model is not made strong
    assert line._progress[0]["n"] == 5  # the line still shows how its loop ended
    line.close()


def test_model_ts_mirrors_the_line_traits():
    import anywidget

    text = (ROOT / "js" / "src" / "model.ts").read_text(encoding="utf-8")
    body = re.search(r"export interface ProgressLineModel \{(.*?)\n\}", text, re.S)
    assert body, "js/src/model.ts has no 'export interface ProgressLineModel {...}'"
    ts = sorted(re.findall(r"^\s*(\w+)\??:", body.group(1), re.M))
    base = set(anywidget.AnyWidget.class_trait_names(sync=True))
    assert ts == sorted(set(ProgressLine.class_trait_names(sync=True)) - base)
    line = ProgressLine(run=1)
    assert line._progress == []
    line.close()
