"""A saved notebook, reopened without the panel's kernel, shows the panel's latest snapshot (issue 12),
and the training cell shows its progress line as the loop ended.

A notebook trains a model with ``panel.progress`` and evaluates it, in a real kernel; while the
panel is live its snapshot output is hidden (one copy of the panel on the page). The notebook
is saved from the browser (Ctrl+S: the front end writes the outputs it holds, without widget
state: jupyterlab_widgets' ``saveState`` is off by default), every kernel is shut down, and the
notebook is opened again: a fresh kernel knows no widget, so jupyterlab_widgets renders "Error
displaying widget: model not found" for the view. The cell must show the snapshot instead,
with the trained numbers (read from the model and the log in the first kernel) and the time
it was taken, and the error must not be visible. The same for the training cell: the line's
static copy, not "model not found", with the figures the live line ended on. JupyterLab 4 and
Notebook 7.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_driver import JupyterServer, Notebook, kernel_value
from playwright.sync_api import expect

SETUP = """\
import torch
from zoo import IrisMLP
from modelpanel import ModelPanel
torch.manual_seed(0)
model = IrisMLP()
X, y = torch.randn(60, 4), torch.randint(0, 3, (60,))
panel = ModelPanel(model, input_size=(1, 4))
panel"""

TRAIN = """\
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for epoch in panel.progress(range(40), desc="epoch"):
    loss = torch.nn.functional.cross_entropy(model(X), y)
    opt.zero_grad(); loss.backward(); opt.step()
    panel.log(loss=loss)"""

EVALUATE = """\
import datetime
before = datetime.datetime.now().replace(microsecond=0)
result = panel.evaluate(X, y)
after = datetime.datetime.now()"""

# jupyterlab_widgets' WidgetRenderer is the output node; it gets this class only for an error.
WIDGET_ERROR = ".jp-OutputArea-output.jupyter-widgets"


def _shut_down_kernels(server: JupyterServer) -> None:
    """Delete every session (and so its kernel) through the server's REST API."""
    def call(method: str, path: str) -> Any:
        req = urllib.request.Request(f"{server.base_url}{path}?token={server.token}", method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    for session in call("GET", "/api/sessions"):
        call("DELETE", f"/api/sessions/{session['id']}")
    assert call("GET", "/api/kernels") == []


def expect_hidden_widget_error(cell: Any) -> None:
    """jupyterlab_widgets gave up on the cell's widget view once its manager was restored: the
    error is in the DOM (so the test sees the case it is about) but not visible."""
    expect(cell.locator(WIDGET_ERROR)).to_have_count(1, timeout=60_000)
    expect(cell.locator(WIDGET_ERROR)).to_contain_text("model not found")
    expect(cell.locator(WIDGET_ERROR)).to_be_hidden()
    expect(cell.get_by_text("Error displaying widget")).to_be_hidden()


@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_reopened_notebook_shows_the_latest_snapshot(kind: str, open_notebook: Any, page: Any,
                                                     request: pytest.FixtureRequest,
                                                     artifacts: Path) -> None:
    server = request.getfixturevalue(f"{kind}_server")
    nb = open_notebook([SETUP, TRAIN, EVALUATE, ""], server=server, name=f"saved-snapshot-{kind}")
    nb.run(0)
    live = nb.cell(0).locator(".modelpanel")
    expect(live.locator(".mp-tree")).to_be_visible(timeout=30_000)
    snapshot = nb.cell(0).locator(".modelpanel-static")
    expect(snapshot).to_have_count(1)  # displayed, and hidden while the live view is there
    expect(snapshot).to_be_hidden()
    view = live.element_handle()
    nb.run(1, timeout=120_000)
    # The training cell's own progress line, finished; its static copy (written when the loop
    # ended) hidden while the live line is there.
    line = nb.cell(1).locator(".mp-line")
    expect(line.locator('.mp-bar[data-level="0"]')).to_have_attribute("data-state", "done", timeout=30_000)
    meter = line.get_attribute("aria-label")  # tqdm's meter of the bar as it ended (the live view's)
    assert meter.startswith("epoch: 100% 40/40 ["), meter
    line_copy = nb.cell(1).locator(".mp-line-static")
    expect(line_copy).to_have_count(1)
    expect(line_copy).to_be_hidden()
    assert "40/40" in line_copy.text_content()  # written, not shown: no second bar on the page
    nb.run(2)
    expect(snapshot).to_be_hidden()
    # The snapshot was updated by its own display id: the live view is the same element (an
    # update of the view's output would have built a new one), still the only one.
    assert view.evaluate("el => el.isConnected") and live.count() == 1
    expect(snapshot).to_contain_text("accuracy")

    # The expected figures, from torch and the loop's own loss, not from the snapshot.
    expected = kernel_value(nb, 3, '{"loss": float(loss), "step": 39, "accuracy": float((model(X).argmax(1) == y).float().mean()), "before": str(before), "after": str(after)}')
    nb.page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    saved = None
    while time.monotonic() < deadline:
        saved = nbformat.read(nb.path, as_version=4)
        outs = saved.cells[1].outputs
        if any("accuracy" in o.get("data", {}).get("text/plain", "") for o in outs):
            break
        time.sleep(0.5)
    outs = saved.cells[1].outputs
    assert [sorted(o.get("data", {})) for o in outs] == [
        ["application/vnd.jupyter.widget-view+json"], ["text/html", "text/plain"]
    ], "saved outputs: the view alone, then the snapshot"
    assert [sorted(o.get("data", {})) for o in saved.cells[2].outputs] == [
        ["application/vnd.jupyter.widget-view+json"], ["text/html", "text/plain"]
    ], "saved training cell: the line's view, then its static copy"
    assert "widgets" not in saved.metadata  # the default: no widget state in the file
    _shut_down_kernels(server)

    # Reopen: a new page, a new kernel that has never seen the panel.
    page.goto("about:blank")
    page.goto(server.url_for(nb.path.relative_to(server.root).as_posix(), workspace=f"reopen-{kind}"))
    reopened = Notebook(page, server, nb.path, offset=1)
    cell = reopened.cell(0)
    expect_hidden_widget_error(cell)
    shown = cell.locator(".modelpanel-static")
    expect(shown).to_be_visible()
    assert cell.locator(".modelpanel").count() == 0  # no live view: what shows is the snapshot
    text = shown.inner_text()
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"saved-snapshot-{kind}.png"))

    assert "last loop epoch 40/40 it, done" in text
    assert f"loss {expected['loss']:.4g} at step {expected['step']}" in text
    assert f"accuracy {expected['accuracy']:.2%}" in text and "60 samples on cpu" in text
    taken = re.search(r"Snapshot taken (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)
    assert taken, text[:500]
    when = datetime.fromisoformat(taken.group(1))
    assert datetime.fromisoformat(expected["before"]) <= when <= datetime.fromisoformat(expected["after"])
    for needle in ("fc1", "fc2", "total params: 83"):
        assert needle in text, needle

    # The training cell: the finished line where jupyterlab_widgets would say "model not found".
    trained = reopened.cell(1)
    expect_hidden_widget_error(trained)
    bar = trained.locator(".mp-line-static .mp-line-bar")
    expect(bar).to_be_visible()
    assert trained.locator(".mp-line").count() == 0  # no live line: what shows is the copy
    assert bar.get_attribute("data-state") == "done"
    # The same figures the live line showed (its meter), split around the bar as tqdm.notebook
    # splits it, and how it ended.
    shown_line = " ".join(bar.inner_text().split())
    assert shown_line.startswith("epoch: 100% ")
    assert " ".join(meter.removeprefix("epoch: 100% ").split()) in shown_line
    assert shown_line.endswith("(done)")
    fill = trained.locator(".mp-line-static .mp-line-fill").bounding_box()
    track = trained.locator(".mp-line-static .mp-line-fill").locator("..").bounding_box()
    assert fill["width"] > 0 and abs(fill["width"] - track["width"]) <= 2  # full: 40 of 40
    trained.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"saved-line-{kind}.png"))
