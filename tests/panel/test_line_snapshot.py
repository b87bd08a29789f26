"""The cell's progress line as a saved notebook keeps it (panel/line_snapshot.py).

IPython's real display machinery records what the line publishes: an InteractiveShell with a
``kernel`` attribute (what ipykernel's shell has, so the line is displayed) and
``IPython.utils.capture.capture_output``, which keeps each display_data and
update_display_data with its ``display_id``. tqdm's clock (``tqdm.std.time``) is a fake one
the loops advance by hand, so every figure of the expected meters is worked out here from the
loop itself: n and total from the range, elapsed from the clock, the rate from the seconds
per step. The browser side (reopened without a kernel) is tests/e2e/test_saved_snapshot_e2e.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from test_progress_line import forget

from modelpanel.panel.line_snapshot import line_bundle

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FULL, HALF, QUARTER = "█" * 10, "█" * 5 + " " * 5, "██▌" + " " * 7  # tqdm's 10-cell bar


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """tqdm's clock, in seconds; a loop body moves it on."""
    now = [100.0]
    monkeypatch.setattr("tqdm.std.time", lambda: now[0])
    return now


@pytest.fixture
def shell(clock):
    """A kernel's shell (it has a kernel) with a panel ``panel``; ``clock`` in its namespace."""
    shell = InteractiveShell.instance()
    shell.kernel = object()
    shell.user_ns["clock"] = clock
    try:
        yield shell
    finally:
        forget(shell)


def make_panel(shell: InteractiveShell, language: str | None = None) -> None:
    cell(shell, "import torch\nfrom zoo import IrisMLP\nfrom modelpanel import ModelPanel\nmodel = IrisMLP()\n"
                f"panel = ModelPanel(model, input_size=(1, 4), hist_every=None, language={language!r})")


def cell(shell: InteractiveShell, code: str, fails: bool = False) -> None:
    result = shell.run_cell(code, store_history=True)
    if not fails:
        result.raise_error()
    else:
        assert result.error_in_exec is not None


def line_outputs(cap) -> tuple[str, dict, list[dict]]:
    """The line's display id, its first static output, and the updates sent to it."""
    (view, static, *rest) = [o for o in cap.outputs if not (o.data.get("text/html", "").count("modelpanel-taken"))]
    assert list(view.data) == [WIDGET_MIME] and not view.update
    display_id = static.transient["display_id"]
    updates = [o.data for o in rest if o.update and o.transient.get("display_id") == display_id]
    return display_id, static.data, updates


class _Rows(HTMLParser):
    """The text of each ``.mp-line-bar`` row, its data-state and the fill's width."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.errors: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "")
        if cls == "mp-line-bar":
            self.rows.append({"state": a.get("data-state"), "text": "", "width": None})
            self._in = "row"
        elif cls == "mp-line-error":
            self.errors.append("")
            self._in = "error"
        elif cls == "mp-line-fill":
            self.rows[-1]["width"] = re.search(r"(?:^|;)width:([\d.]+)%", a["style"]).group(1)

    def handle_data(self, data):
        if self._in == "row":
            self.rows[-1]["text"] += data
        elif self._in == "error":
            self.errors[-1] += data


def rows(html: str) -> _Rows:
    p = _Rows()
    p.feed(html)
    return p


NESTED = """\
steps = []
bar = panel.progress(range(3), desc="epoch")
for epoch in bar:
    for batch in panel.progress(range(2), desc="batch"):
        clock[0] += 0.25
    bar.set_postfix(loss=torch.tensor(0.25))
    steps.append(len([o for o in cap.outputs if o.update]))
"""


def test_static_line_is_empty_while_running_and_written_once_when_the_loop_ends(shell):
    make_panel(shell)
    with capture_output() as cap:
        shell.user_ns["cap"] = cap
        cell(shell, NESTED)
    display_id, first, updates = line_outputs(cap)
    # Shown while the loop ran: nothing (the live line is the only copy); no update per step.
    assert first["text/plain"] == "" and 'class="mp-line-bar"' not in first["text/html"]
    assert "modelpanel-static mp-line-static" in first["text/html"]
    assert shell.user_ns["steps"] == [0, 0, 0]
    (final,) = updates  # one update, at the end: the outer loop's, not the inner loops'
    # By hand: 3 epochs of 2 x 0.25 s -> elapsed 1.5 s, 0.5 s per epoch = 2.00 it/s; the inner
    # loop's last run: 2 steps of 0.25 s -> 4.00 it/s in 0.5 s.
    assert final["text/plain"] == (
        f"epoch: 100%|{FULL}| 3/3 [00:01<00:00,  2.00it/s, loss=0.25] (done)\n"
        f"  batch: 100%|{FULL}| 2/2 [00:00<00:00,  4.00it/s] (done)")
    html = rows(final["text/html"])
    assert [(r["state"], r["width"]) for r in html.rows] == [("done", "100.0"), ("done", "100.0")]
    assert html.rows[0]["text"] == "epoch: 100%3/3 [00:01<00:00,  2.00it/s, loss=0.25](done)"
    assert html.errors == []
    assert shell.user_ns["panel"]._training.lines == []  # no line is written to after its run


def test_a_second_cell_gets_a_line_and_a_static_output_of_its_own(shell):
    make_panel(shell)
    with capture_output() as cap:
        cell(shell, "for i in panel.progress(range(2), desc='a'): clock[0] += 1")
        cell(shell, "for i in panel.progress(range(4), desc='b'): clock[0] += 1")
    ids = [o.transient["display_id"] for o in cap.outputs if "display_id" in o.transient and not o.update]
    assert len(ids) == 2 and ids[0] != ids[1]
    ends = {o.transient["display_id"]: o.data["text/plain"] for o in cap.outputs if o.update}
    assert ends == {ids[0]: f"a: 100%|{FULL}| 2/2 [00:02<00:00,  1.00it/s] (done)",
                    ids[1]: f"b: 100%|{FULL}| 4/4 [00:04<00:00,  1.00it/s] (done)"}


def test_a_loop_stopped_by_break_says_stopped_where_it_stopped(shell):
    make_panel(shell)
    with capture_output() as cap:
        cell(shell, "for i in panel.progress(range(4), desc='epoch'):\n"
                    "    if i == 2: break\n"
                    "    clock[0] += 0.5")
    _id, _first, (final,) = line_outputs(cap)
    # Two steps of 0.5 s done: 2/4 = 50%, 1.0 s elapsed, 2.00 it/s, (4 - 2) / 2 = 1 s left.
    assert final["text/plain"].splitlines()[0] == f"epoch:  50%|{HALF}| 2/4 [00:01<00:01,  2.00it/s] (stopped)"
    html = rows(final["text/html"])
    assert [(r["state"], r["width"]) for r in html.rows] == [("stopped", "50.0")]
    assert html.errors == ["stopped at 2/4"]


def test_a_loop_that_raised_says_error_with_the_exception(shell):
    make_panel(shell)
    with capture_output() as cap:
        cell(shell, "for i in panel.progress(range(4), desc='epoch'):\n"
                    "    (line,) = panel._training.lines  # the cell's line, while it runs\n"
                    "    if i == 1: raise ValueError('bad batch 1')\n"
                    "    clock[0] += 0.5", fails=True)
    _id, _first, (stopped, final) = line_outputs(cap)
    # The loop's generator closed as the exception left it ("stopped"); the cell's end told
    # which exception: one more update, in the cell's own output as in the panel.
    assert "(stopped)" in stopped["text/plain"]
    first, error = final["text/plain"].splitlines()
    assert first == f"epoch:  25%|{QUARTER}| 1/4 [00:00<00:01,  2.00it/s] (error)"
    assert "ValueError" in error and "bad batch 1" in error
    html = rows(final["text/html"])
    assert [(r["state"], r["width"]) for r in html.rows] == [("error", "25.0")]
    assert "bad batch 1" in html.errors[0]
    # The live line says so too, as the panel does (the same records).
    panel = shell.user_ns["panel"]
    line = shell.user_ns["line"]
    assert [r["state"] for r in line._progress] == ["error"] and line._progress == panel._progress


def test_leave_false_leaves_nothing_unless_it_stopped_early(shell):
    make_panel(shell)
    with capture_output() as cap:
        cell(shell, "for i in panel.progress(range(3), leave=False): clock[0] += 1")
    _id, first, updates = line_outputs(cap)
    assert first["text/plain"] == "" and updates == []  # as tqdm: a finished leave=False bar goes
    # tqdm.notebook keeps a leave=False bar that stopped short (its "danger" style): so do we.
    with capture_output() as cap:
        cell(shell, "for i in panel.progress(range(3), leave=False):\n    if i == 1: break\n    clock[0] += 1")
    _id, _first, (final,) = line_outputs(cap)
    assert final["text/plain"].startswith(" 33%|") and "1/3 [00:01<00:02,  1.00it/s] (stopped)" in final["text/plain"]


def test_the_static_line_speaks_the_lines_language(shell):
    make_panel(shell, language="zh-CN")
    with capture_output() as cap:
        cell(shell, "for i in panel.progress(range(2), desc='轮次'): clock[0] += 1")
    _id, _first, (final,) = line_outputs(cap)
    assert final["text/plain"] == f"轮次: 100%|{FULL}| 2/2 [00:02<00:00,  1.00it/s] （已完成）"
    assert "（已完成）" in final["text/html"] and "done" not in final["text/html"].replace('data-state="done"', "")


def test_a_failing_static_line_never_breaks_the_loop(shell, monkeypatch):
    make_panel(shell)

    def broken(*_a, **_k):
        raise RuntimeError("line renderer broke")

    monkeypatch.setattr("modelpanel.panel.progress_line.line_bundle", broken)
    with capture_output() as cap:
        cell(shell, "n = 0\nfor i in panel.progress(range(3)): n += 1")
    assert shell.user_ns["n"] == 3  # the loop ran to its end
    assert not [o for o in cap.outputs if o.update and "modelpanel-taken" not in o.data.get("text/html", "")]
    assert "line renderer broke" in shell.user_ns["panel"]._error  # said next to the panel


def test_bundle_without_a_total_and_escaped():
    record = {"n": 9, "total": None, "elapsed": 3.6, "rate": 2.5, "desc": "<b>&", "unit": "batch",
              "postfix": "", "state": "done", "error": "", "level": 0}
    data = line_bundle([record])
    # tqdm without a total: the count and the elapsed time, no percentage and no bar.
    assert data["text/plain"] == "<b>&: 9batch [00:03,  2.50batch/s] (done)"
    assert "<b>" not in data["text/html"] and "&lt;b&gt;&amp;: 9batch [00:03,  2.50batch/s]" in data["text/html"]
    assert [(r["state"], r["width"]) for r in rows(data["text/html"]).rows] == [("done", "100.0")]
    assert line_bundle([]) == {"text/plain": "", "text/html": line_bundle([])["text/html"]}
    assert 'class="mp-line-bar"' not in line_bundle([])["text/html"]
