"""The bar in the cell that runs the loop, and evaluation's time, in a real browser (issue 12).

The panel is displayed in the first cell; the second runs ``for epoch in p.progress(range(3),
desc="epoch")`` slowly. While it runs, the bar must be in the SECOND cell's own output (as
tqdm.notebook draws it), and after it ends it must read 3/3, done, as the panel does. Then
``p.evaluate(...)`` from code: the panel says where the result came from and at what time (the
kernel's finished_at), and no longer "No evaluation data yet". JupyterLab and Notebook 7.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jupyter_driver import kernel_value
from playwright.sync_api import expect
from test_training_e2e import start_cell

SETUP = """\
import time
import torch
from zoo import IrisMLP
from modelpanel import ModelPanel
torch.manual_seed(0)
model = IrisMLP()
p = ModelPanel(model, input_size=(1, 4))
p"""

LOOP = """\
for epoch in p.progress(range(3), desc="epoch"):
    time.sleep(1.5)
"""

EVALUATE = "r = p.evaluate(torch.randn(12, 4), torch.randint(0, 3, (12,)), batch_size=5)"


@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_loop_draws_its_bar_in_its_own_cell(kind: str, open_notebook: Any, page: Any,
                                            request: pytest.FixtureRequest, artifacts: Path) -> None:
    server = request.getfixturevalue(f"{kind}_server")
    nb = open_notebook([SETUP, LOOP, EVALUATE, "", ""], server=server, name=f"cell-progress-{kind}")
    nb.run(0)
    panel = nb.output(0).locator(".modelpanel")
    expect(panel.locator(".mp-tree")).to_be_visible(timeout=30_000)

    start_cell(nb, 1)
    line = nb.cell(1).locator(".jp-OutputArea-output .mp-line")
    bar = line.locator('.mp-bar[data-level="0"]')
    # While the cell runs: the bar is in this cell's output, counting.
    expect(bar.locator(".mp-bar-count")).to_have_text(["1/3"], timeout=30_000)
    assert bar.get_attribute("data-state") == "running"
    assert bar.locator(".mp-bar-desc").text_content() == "epoch"
    assert "it/s" in bar.locator(".mp-bar-meta").text_content() or "s/it" in bar.locator(".mp-bar-meta").text_content()
    assert nb.output(0).locator(".mp-line").count() == 0  # not in the panel's cell
    line.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"cell-progress-running-{kind}.png"))

    # After the loop: the bar stays, finished, in the cell and in the panel.
    expect(bar).to_have_attribute("data-state", "done", timeout=30_000)
    expect(bar.locator(".mp-bar-count")).to_have_text("3/3")
    expect(bar.locator(".mp-bar-percent")).to_have_text("100%")
    expect(panel.locator('.mp-bar[data-level="0"] .mp-bar-count')).to_have_text("3/3")
    assert line.get_attribute("aria-label").startswith("epoch: 100% 3/3 [00:04<00:00,")

    # Evaluation from code: where it came from and when, not "No evaluation data yet".
    nb.run(2)
    origin = panel.locator(".mp-eval-origin")
    expect(origin).to_contain_text("Result from panel.evaluate(...) at ", timeout=30_000)
    when = kernel_value(nb, 3, "p._eval_result['finished_at']")
    assert origin.text_content() == f"Result from panel.evaluate(...) at {when[11:19]}."
    expect(panel.locator(".mp-eval-when dd")).to_have_text(when[11:19])
    expect(panel.locator(".mp-eval-batch-used dd")).to_have_text("5")
    assert "No evaluation data yet" not in panel.locator(".mp-inference").text_content()
    line.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"cell-progress-done-{kind}.png"))
    assert page.mp_errors == [] and page.mp_dialogs == [] and page.mp_external == []
