"""A panel that forgives mistakes, in a real JupyterLab (issue 12, points 4 and 5).

- A forward that raises gives a panel, not a traceback: the model's own row first, the shapes
  of the layers that ran before the failure, the failing row badged "failed here", and the
  kernel's message (``str(p.error)``) under the header. Screenshot: docs/gallery-error.png
  (written when missing, or rewritten with ``MODELPANEL_UPDATE_SCREENSHOT=1``).
- "Count MACs" on the header's MACs card runs the MAC pass in the kernel and shows the count;
  MACs counted from Python (``panel.summary.macs``) reach the card too, without a refresh.
- A model without submodules is one row; without an input the tree says how to get shapes.

Expected numbers come from the layer sizes (worked out below) and from the kernel.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_driver import REPO, kernel_value
from playwright.sync_api import expect
from test_panel_e2e import assert_clean, panel_root, rows

GALLERY_ERROR = REPO / "docs" / "gallery-error.png"

# fc2 expects 8 features but fc1 gives 10: the forward raises in fc2, after fc1 and relu ran.
FAILING = """\
import torch
from torch import nn
from zoo import IrisMLP
from modelpanel.panel import ModelPanel
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.relu, self.fc2 = nn.Linear(4, 10), nn.ReLU(), nn.Linear(8, 3)
    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))
model = Net()
p = ModelPanel(model, input_size=(1, 4))
p"""

SHAPES_JS = """els => els.map(e => ({
  path: e.dataset.path,
  shape: e.querySelector('.mp-shape').textContent,
  failed: e.querySelector('.mp-badge-failed')?.textContent ?? null,
  failedTitle: e.querySelector('.mp-badge-failed')?.title ?? null,
  status: e.querySelector('.mp-badge-unused')?.textContent ?? null,
}))"""


def macs_value(root: Any) -> Any:
    return root.locator('.mp-header-item[data-key="macs"] dd').first


def test_error_panel_and_macs_on_demand(open_notebook: Any, page: Any, artifacts: Path) -> None:
    nb = open_notebook([
        FAILING,
        "iris = IrisMLP()\nq = ModelPanel(iris, input_size=(1, 4))\nq",
        "iris2 = IrisMLP()\nr = ModelPanel(iris2, input_size=(2, 4))\nr",
        "lstm = nn.LSTM(4, 8)\ns = ModelPanel(lstm)\ns",
        "pass",
    ])
    scratch = 4

    # -- the failing forward: a panel, no traceback --------------------------------------------
    nb.run(0)  # raises CellError if the cell printed a traceback instead of the panel
    root = panel_root(nb, 0)
    error = kernel_value(nb, scratch, "str(p.error)")
    assert kernel_value(nb, scratch, "p.error.module_path") == "fc2"
    assert "with input shapes [[1, 10]]" in error and "expects 8 features" in error
    shown = root.locator(".mp-tree-row").evaluate_all(SHAPES_JS)
    by_path = {r["path"]: r for r in shown}
    assert [r["path"] for r in shown] == ["", "fc1", "relu", "fc2"]
    # fc1: Linear(4, 10) on a batch of 1 -> [1, 10]; relu keeps it; fc2 never returned.
    assert by_path["fc1"]["shape"] == "[1, 10]" and by_path["relu"]["shape"] == "[1, 10]"
    assert by_path["fc2"]["shape"] == "—"
    assert by_path["fc2"]["failed"] == "failed here" and by_path["fc2"]["failedTitle"] == error
    assert [r["path"] for r in shown if r["failed"]] == ["fc2"]
    assert all(r["status"] is None for r in shown)  # nothing after fc2: no "not reached" row
    expect(root.locator(".mp-tree-row.mp-failed-row")).to_have_count(1)
    expect(root.locator(".mp-forward-error-message")).to_have_text(error)
    expect(root.locator(".mp-forward-error-heading")).to_contain_text('module "fc2"')
    expect(root.locator(".mp-tree-note")).to_contain_text('raised in "fc2"')
    expect(root.locator(".mp-count-macs")).to_have_count(0)  # the MAC pass would fail the same way
    # Parameters need no forward: 4*10+10 + 0 + 8*3+3 = 77.
    expect(root.locator('.mp-header-item[data-key="total"] dd')).to_have_text("77")
    assert rows(root)[0]["params"] == "77"
    page.set_viewport_size({"width": 1400, "height": 1800})
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(artifacts / "lab-error-panel.png"))
    if os.environ.get("MODELPANEL_UPDATE_SCREENSHOT") == "1" or not GALLERY_ERROR.exists():
        GALLERY_ERROR.parent.mkdir(exist_ok=True)
        root.screenshot(path=str(GALLERY_ERROR))
    page.set_viewport_size({"width": 1400, "height": 1000})

    # -- Count MACs from the panel -------------------------------------------------------------
    nb.run(1)
    q = panel_root(nb, 1)
    expect(macs_value(q)).to_have_text("—")
    assert "panel.summary.macs" in (q.locator('.mp-header-item[data-key="macs"]').get_attribute("title") or "")
    q.locator(".mp-count-macs").click()
    # IrisMLP on one sample: fc1 4*10 + fc2 10*3 = 70 multiply-accumulates.
    expect(macs_value(q)).to_have_text("70", timeout=60_000)
    expect(q.locator(".mp-count-macs")).to_have_count(0)
    assert kernel_value(nb, scratch, "[q.summary.macs_counted, q._summary['macs']]") == [True, 70]

    # -- MACs counted from Python reach the card without a refresh ----------------------------
    nb.run(2)
    r = panel_root(nb, 2)
    expect(macs_value(r)).to_have_text("—")
    assert kernel_value(nb, scratch, "r.summary.macs") == 140  # a batch of 2: 2 * 70
    expect(macs_value(r)).to_have_text("140")

    # -- no submodules, no input: one row, and how to get shapes --------------------------------
    nb.run(3)
    s = panel_root(nb, 3)
    expect(s.locator(".mp-tree-row")).to_have_count(1)
    expect(s.locator(".mp-tree-count")).to_have_text("1 module")
    # nn.LSTM(4, 8): 4 gates * (8*4 + 8*8 + 8 + 8) = 448 parameters, all its own.
    assert rows(s)[0]["kind"] == "LSTM" and rows(s)[0]["params"] == "448"
    expect(s.locator(".mp-tree-note")).to_contain_text("pass input_size=(...) or input_data=...")
    assert "MACs need an input" in (s.locator('.mp-header-item[data-key="macs"]').get_attribute("title") or "")
    expect(s.locator(".mp-count-macs")).to_have_count(0)
    assert_clean(page)
