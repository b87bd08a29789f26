"""The inference view in a real JupyterLab, in headless Chromium (issue 5).

One notebook: a trained Iris model with test data set on the panel. In the browser: pick cpu,
press Run, see the accuracy and the confusion heatmap; the kernel's ``_eval_result`` must say
the same as the DOM and as a direct ``evaluate`` call. Then an error from the kernel (data of
the wrong shape) shows next to Run, and ``panel.evaluate`` from code updates the view.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jupyter_driver import kernel_value
from panel_tabs import open_tab
from playwright.sync_api import expect

SETUP = """\
import torch
from torch import nn
from modelpanel.datasets import load_iris
from modelpanel.inference import evaluate
from modelpanel.panel import ModelPanel
from zoo import IrisMLP

Panel = ModelPanel

torch.manual_seed(0)
train, test = load_iris().split(test_fraction=0.2, seed=42)
train, test = train.standardized(like=train), test.standardized(like=train)
model = IrisMLP()
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for _ in range(100):
    opt.zero_grad()
    nn.functional.cross_entropy(model(train.X), train.y).backward()
    opt.step()
expected = evaluate(model, test.X, test.y)
panel = Panel(model, input_size=(1, 4), eval_data=(test.X, test.y))
panel"""


def test_run_button_shows_accuracy_and_heatmap(
    open_notebook: Any, page: Any, artifacts: Path
) -> None:
    nb = open_notebook([SETUP, "", "", ""], name="inference")
    nb.run(0)
    view = open_tab(nb.output(0).locator(".modelpanel"), "inference").locator(".mp-inference")
    expect(view.locator(".mp-eval-data")).to_contain_text(
        "30 samples of shape [30, 4], with targets"
    )
    device = view.locator("select.mp-eval-device")
    expect(device.locator("option").first).to_have_text("cpu")
    device.select_option("cpu")
    view.locator("input.mp-eval-batch").fill("8")
    view.locator("button.mp-eval-run").click()

    accuracy = view.locator(".mp-eval-accuracy dd")
    expect(accuracy).to_have_text(re.compile(r"^\d+\.\d\d%$"), timeout=30_000)
    heatmap = view.locator(".mp-eval-confusion .main-svg .hm")
    expect(heatmap.first).to_be_attached(timeout=30_000)
    expect(view.locator(".mp-eval-device-used dd")).to_have_text("cpu")
    expect(view.locator(".mp-eval-throughput dd")).to_contain_text("samples/s")
    expect(view.locator(".mp-eval-error")).to_have_text("")

    kernel = kernel_value(
        nb,
        1,
        "{'acc': panel._eval_result['accuracy'], 'expected': expected.accuracy, "
        "'n': panel._eval_result['n'], 'training': model.training, "
        "'support': [r['support'] for r in panel._eval_result['per_class']]}",
    )
    assert kernel["acc"] == kernel["expected"] and kernel["n"] == 30
    assert kernel["training"] is True  # the click left the model in train mode
    assert accuracy.text_content() == f"{100 * kernel['acc']:.2f}%"
    shown_support = view.locator(".mp-eval-class-row td:last-child").all_text_contents()
    assert shown_support == [str(s) for s in kernel["support"]]
    # Plotly holds the matrix the kernel computed (z[true][predicted]).
    z = view.locator(".mp-eval-confusion.js-plotly-plot").evaluate("el => el.data[0].z")
    conf = kernel_value(nb, 1, "expected.confusion.tolist()")
    assert z == conf
    page.screenshot(path=str(artifacts / "inference-run.png"))

    # An error from the kernel: data that does not fit the model, shown next to Run.
    nb.run_code(2, "panel.set_eval_data(torch.randn(5, 7))")
    view.locator("button.mp-eval-run").click()
    expect(view.locator(".mp-eval-error")).to_contain_text("expects [N, 4]", timeout=30_000)
    assert kernel_value(nb, 1, "model.training") is True

    # panel.evaluate from code shows in the view too, class names from labels= included; a
    # hostile name stays text in the table and in Plotly's tick labels (no alert runs).
    hostile = "<img src=x onerror=alert(1)>"
    nb.run_code(3, f"r = panel.evaluate(test.X, test.y, labels=['setosa', {hostile!r}, 'virginica'])")
    expect(view.locator(".mp-eval-class-row td:first-child")).to_have_text(
        ["setosa", hostile, "virginica"], timeout=30_000
    )
    ticks = view.locator(".mp-eval-confusion .xtick text").all_text_contents()
    assert ticks == ["setosa", hostile, "virginica"], ticks
    assert view.locator(".mp-eval-confusion img").count() == 0
    assert page.mp_dialogs == [] and page.mp_errors == [] and page.mp_external == []
