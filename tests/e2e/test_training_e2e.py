"""Live training in a real JupyterLab, in headless Chromium (issue 4).

One cell shows the panel; the next trains a small model for a few seconds the tqdm way
(``panel.progress`` + ``panel.log``). While that cell is still running, the bar's count and the
loss chart's point count are read from the DOM twice and must grow; after it finishes, what the
view shows is compared with what the kernel holds.

Then: a second ``display(p)`` after training shows the same bars and loss points as the first
view (the state lives in traits), and a NaN written into fc2's weight during a ``progress``
loop is named in the header's warning and badged on fc2's tree row (issue 4, points 4 and 5).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from jupyter_driver import kernel_value
from panel_tabs import open_tab
from playwright.sync_api import expect
from test_theme_e2e import COLOR_JS, CONTRAST_JS, WCAG_AA, set_theme

SETUP = """\
import re
import time
import torch
import torch.nn.functional as F
torch.manual_seed(0)
torch.set_num_threads(1)
from zoo import IrisMLP
from modelpanel import ModelPanel as Panel
model = IrisMLP()
p = Panel(model, input_size=(1, 4))
p"""

TRAIN = """\
x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in p.progress(range(3), desc="epoch"):
    for i in p.progress(range(150), desc="batch"):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        p.log(loss=loss)
        time.sleep(0.02)
"""

# What the training view shows right now: the bars' counts and the loss chart's points.
VIEW_JS = """root => {
  const bars = Array.from(root.querySelectorAll('.mp-bar')).map(b => ({
    level: b.dataset.level, state: b.dataset.state,
    count: b.querySelector('.mp-bar-count').textContent,
    desc: b.querySelector('.mp-bar-desc').textContent }));
  const plot = root.querySelector('.mp-metric-plot[data-name="loss"]');
  const points = plot && plot.data ? plot.data[0].x.length : 0;
  const drawn = plot ? plot.querySelectorAll('.scatterlayer .trace path.js-line').length : 0;
  // The x axis as drawn: it must follow the points (a chart stuck on its first range hides them).
  const xmax = plot && plot._fullLayout ? plot._fullLayout.xaxis.range[1] : null;
  const lastx = points ? plot.data[0].x[points - 1] : null;
  return {bars, points, drawn, xmax, lastx};
}"""


def start_cell(nb: Any, i: int) -> str:
    """Start cell ``i`` without waiting for it (the driver's run() waits); return its prompt."""
    cell = nb.cell(i)
    before = cell.locator(".jp-InputPrompt").inner_text().strip()
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    nb.page.keyboard.press("Control+Enter")
    return before


def total_batches(view: dict[str, Any]) -> int:
    """Batches done so far: finished epochs x 150 + the inner bar's count."""
    bars = {b["level"]: b for b in view["bars"]}
    epochs = int(bars["0"]["count"].split("/")[0])
    inner = int(bars["1"]["count"].split("/")[0]) if "1" in bars else 0
    return epochs * 150 + inner


def test_training_streams_while_the_cell_runs(open_notebook, page, artifacts):
    nb = open_notebook([SETUP, TRAIN, "# scratch"])
    nb.run(0, timeout=90_000)
    root = nb.output(0).locator(".modelpanel")
    expect(root).to_be_visible(timeout=60_000)

    before = start_cell(nb, 1)
    open_tab(root, "training")
    # First reading: once the inner bar and the loss chart have appeared.
    root.locator('.mp-bar[data-level="1"]').wait_for(timeout=30_000)
    root.locator('.mp-metric-plot[data-name="loss"] .main-svg').first.wait_for(timeout=30_000)
    first = root.evaluate(VIEW_JS)
    time.sleep(1.5)
    second = root.evaluate(VIEW_JS)
    prompt = nb.cell(1).locator(".jp-InputPrompt")
    still_running = prompt.inner_text().strip() in (before, "[*]:")
    assert still_running, "the training cell finished before the second reading; make it longer"
    assert total_batches(second) > total_batches(first) > 0, (first, second)
    assert second["points"] > first["points"] > 0, (first, second)
    assert second["drawn"] >= 1  # the line is on screen, not only in Plotly's data
    # The axis follows the new points: its end is past the first reading's and near the last x.
    assert second["xmax"] > first["xmax"] and second["xmax"] >= 0.9 * second["lastx"], (first, second)
    page.screenshot(path=str(artifacts / "training-live.png"))

    # Wait for the cell to finish, then the view must match the kernel's state.
    page.wait_for_function(
        "([el, b]) => { const t = el.textContent.trim(); return /\\[\\d+\\]/.test(t) && t !== b; }",
        arg=[prompt.element_handle(), before], timeout=60_000)
    kernel = kernel_value(nb, 2, "{'bars': [(b['level'], b['n'], b['total'], b['state']) for b in p._progress], "
                                 "'points': len(p.history['loss'])}")
    expect(root.locator('.mp-bar[data-level="0"] .mp-bar-count')).to_have_text("3/3")
    final = root.evaluate(VIEW_JS)
    assert [[str(lv), f"{n}/{t}", s] for lv, n, t, s in kernel["bars"]] == [
        [b["level"], b["count"], b["state"]] for b in final["bars"]]
    assert kernel["bars"] == [[0, 3, 3, "done"], [1, 150, 150, "done"]]
    assert final["points"] == kernel["points"] == 450
    # Weight distributions over time: one column per kernel snapshot, for the chosen tensor.
    hist = kernel_value(nb, 2, "{'T': len(p._training.hist), 'names': [w['name'] for w in p.weights]}")
    assert hist["T"] >= 2  # ~7 s of training at one snapshot per 2 s, plus the final one
    dist = root.locator(".mp-dist-plot")
    dist.locator(".main-svg").first.wait_for(timeout=10_000)
    assert dist.evaluate("el => el.data[0].customdata[0].length") == hist["T"]  # x holds the T + 1 cell edges
    assert root.locator(".mp-dist-select option").all_text_contents() == hist["names"]
    assert page.mp_errors == [] and page.mp_dialogs == [] and page.mp_external == []


# A short loop for the tests below: two epochs of twenty batches, logged every batch.
SHORT_TRAIN = """\
x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in p.progress(range(2), desc="epoch"):
    for i in p.progress(range(20), desc="batch"):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        p.log(loss=loss)
"""


def test_a_later_view_shows_the_same_progress_and_history(open_notebook, page):
    """Issue 4 point 5: state lives in traits, so a view opened after training shows it all."""
    nb = open_notebook([SETUP, SHORT_TRAIN, "display(p)", "# scratch"])
    nb.run(0, timeout=90_000)
    first_root = nb.output(0).locator(".modelpanel")
    expect(first_root).to_be_visible(timeout=60_000)
    nb.run(1, timeout=60_000)
    open_tab(first_root, "training")
    expect(first_root.locator('.mp-bar[data-level="0"] .mp-bar-count')).to_have_text("2/2")
    first_root.locator('.mp-metric-plot[data-name="loss"] .main-svg').first.wait_for(timeout=30_000)
    page.wait_for_function(
        "el => { const p = el.querySelector('.mp-metric-plot[data-name=\"loss\"]');"
        " return p && p.data && p.data[0].x.length === 40; }",
        arg=first_root.element_handle(), timeout=30_000)
    first = first_root.evaluate(VIEW_JS)

    nb.run(2, timeout=60_000)  # display(p) in a new cell: a second view of the same widget
    second_root = nb.output(2).locator(".modelpanel")
    expect(second_root).to_be_visible(timeout=30_000)
    open_tab(second_root, "training")  # a view opened after the loop starts on Model
    second_root.locator('.mp-metric-plot[data-name="loss"] .main-svg').first.wait_for(timeout=30_000)
    second = second_root.evaluate(VIEW_JS)

    assert [[b["level"], b["count"], b["state"]] for b in first["bars"]] == [
        ["0", "2/2", "done"], ["1", "20/20", "done"]], first
    assert [[b["level"], b["count"], b["state"], b["desc"]] for b in second["bars"]] == [
        [b["level"], b["count"], b["state"], b["desc"]] for b in first["bars"]]
    assert second["points"] == first["points"] == 40, (first, second)
    assert second["drawn"] >= 1
    points = kernel_value(nb, 3, "len(p.history['loss'])")
    assert points == 40
    assert page.mp_errors == [] and page.mp_dialogs == [] and page.mp_external == []


# A NaN written into fc2's weight halfway through the loop. No optimizer step follows it, so
# fc2 stays the only module holding a NaN (a step would spread it to fc1 through the grads).
NAN_TRAIN = """\
x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for i in p.progress(range(40), desc="step"):
    if i == 20:
        with torch.no_grad():
            model.fc2.weight[0, 0] = float('nan')
    loss = F.cross_entropy(model(x), y)
    p.log(loss=loss)
    if i < 20:
        opt.zero_grad(); loss.backward(); opt.step()
"""


def test_nan_weight_is_flagged_in_the_header_and_on_its_tree_row(open_notebook, page, artifacts):
    nb = open_notebook([SETUP, NAN_TRAIN, "# scratch"])
    nb.run(0, timeout=90_000)
    root = nb.output(0).locator(".modelpanel")
    expect(root).to_be_visible(timeout=60_000)
    warning = root.locator(".mp-header .mp-nonfinite")
    expect(warning).to_be_hidden()
    expect(root.locator(".mp-badge-nonfinite")).to_have_count(0)

    nb.run(1, timeout=60_000)
    diag = kernel_value(nb, 2, "p._diagnostics['nonfinite']")
    assert diag == {"loss": True, "first_layer": "fc2", "where": "weights"}
    expect(warning).to_be_visible(timeout=10_000)
    expect(warning).to_have_text("NaN/Inf in a logged metric and in weights, first at fc2")
    expect(root.locator('.mp-tree-row[data-path="fc2"] .mp-badge-nonfinite')).to_have_text("NaN/Inf")
    # fc1 and relu stay unflagged; the model's own row carries it too once its output is NaN.
    flagged = root.locator(".mp-tree-row:has(.mp-badge-nonfinite)")
    expect(flagged.first).to_be_attached()
    paths = set(flagged.evaluate_all("rows => rows.map(r => r.dataset.path)"))
    assert "fc2" in paths and paths <= {"fc2", ""}, paths
    # The parameter table marks the tensor itself, with its count in the NaN/Inf column.
    expect(root.locator('.mp-param-row[data-name="fc2.weight"]')).to_have_class(re.compile(r"\bmp-nonfinite\b"))
    expect(root.locator('.mp-param-row.mp-nonfinite')).to_have_count(1)
    root.locator(".mp-header").screenshot(path=str(artifacts / "training-nan-header.png"))
    open_tab(root, "model")
    root.locator(".mp-tree").screenshot(path=str(artifacts / "training-nan-tree.png"))
    root.screenshot(path=str(artifacts / "training-nan.png"))
    assert page.mp_errors == [] and page.mp_dialogs == [] and page.mp_external == []


# A ReLU net collapsed as after a too-large step (every pre-activation far below 0), trained
# briefly with every diagnostic on: the ReLU is dead, and the heatmap has its columns.
DEAD_SETUP = """\
import torch
torch.manual_seed(0)
from torch import nn
from modelpanel import ModelPanel
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
with torch.no_grad():
    model[0].bias.fill_(-100.0)
p = ModelPanel(model, input_size=(1, 4), hist_every=0.2, activations=True, grad_norms=True)
p"""

DEAD_TRAIN = """\
import time
x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for i in p.progress(range(30), desc="batch"):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    p.log(loss=loss)
    time.sleep(0.02)
"""

# The heatmap as drawn: its step axis, whether a colour bar is there, and whether the x title
# sits below every tick label (their boxes on screen).
HEATMAP_JS = """plot => {
  const ax = plot._fullLayout.xaxis;
  const title = plot.querySelector('.xtitle').getBoundingClientRect();
  const ticks = Array.from(plot.querySelectorAll('.xtick text')).map(t => t.getBoundingClientRect());
  return {tickvals: ax.tickvals, ticktext: Array.from(plot.querySelectorAll('.xtick text')).map(t => t.textContent),
          range: ax.range, colorbar: plot.querySelectorAll('.colorbar').length,
          clear: ticks.every(t => title.top >= t.bottom)};
}"""


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_flags_and_weights_over_time_read_in_light_and_dark(theme, lab_server, open_notebook, page, artifacts):
    set_theme(lab_server, theme)
    try:
        nb = open_notebook([DEAD_SETUP, DEAD_TRAIN, "# scratch"], name=f"flags-{theme.split()[-1].lower()}")
        assert page.evaluate("() => document.body.dataset.jpThemeName") == theme
        nb.run(0, timeout=90_000)
        root = nb.output(0).locator(".modelpanel")
        expect(root).to_be_visible(timeout=60_000)
        nb.run(1, timeout=60_000)
        kernel = kernel_value(nb, 2, "{'flags': p._diagnostics['flags'], 'steps': p._training.hist.items()[-1][0], "
                                     "'first': p._training.hist.items()[0][0]}")
        assert "dead" in kernel["flags"]["1"]
        page.evaluate(f"() => {{ {COLOR_JS} }}")

        panel = open_tab(root, "training")
        plot = panel.locator(".mp-dist-plot")
        expect(plot.locator(".colorbar")).to_have_count(1, timeout=20_000)
        expect(panel.locator(".mp-diag caption")).to_have_text("Per-layer diagnostics")
        heat = plot.evaluate(HEATMAP_JS)
        last = int(kernel["steps"])
        assert kernel["first"] == -1  # the weights before training are the first column
        assert heat["tickvals"][-1] == last and heat["range"] == [-1, last], heat
        assert all(float(v).is_integer() for v in heat["tickvals"]), heat
        assert all(re.fullmatch(r"-?\d+", t) for t in heat["ticktext"]), heat
        assert heat["colorbar"] == 1 and heat["clear"], heat
        flagged = panel.locator('.mp-diag tr.mp-flagged-row[data-path="1"]')
        expect(flagged.locator(".mp-badge-dead")).to_have_text("dead")
        expect(panel.locator('.mp-diag-advice li[data-flag="dead"]')).to_contain_text("LeakyReLU")
        measured = panel.evaluate(CONTRAST_JS, ".mp-diag tr.mp-flagged-row")
        measured += panel.evaluate(CONTRAST_JS, ".mp-diag-advice")
        panel.screenshot(path=str(artifacts / f"flags-training-{theme.split()[-1].lower()}.png"))

        tree = open_tab(root, "model")
        row = tree.locator('.mp-tree-row[data-path="1"]')
        expect(row.locator(".mp-badge-dead")).to_have_attribute("title", re.compile("^Dead units"))
        page.mouse.move(0, 0)
        measured += tree.evaluate(CONTRAST_JS, ".mp-tree-row.mp-flagged-row")
        assert {m["text"] for m in measured} >= {"dead", "1"}, measured
        low = [m for m in measured if m["ratio"] < WCAG_AA]
        assert not low, low
        assert page.mp_errors == [] and page.mp_dialogs == [] and page.mp_external == []
    finally:
        set_theme(lab_server, None)
