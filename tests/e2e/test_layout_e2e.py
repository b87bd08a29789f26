"""The compact layout in a real JupyterLab (issue 12, points 1 and 10).

One notebook: the Iris panel, trained a few steps and evaluated, then a longer loop. In the
browser:

- the whole widget is at most 700 px tall on every tab (the tab body scrolls inside);
- the first loop opens the Training tab by itself (nobody had picked a tab); once the user has
  picked one, the next loop leaves it open and its progress shows in the running line above the
  tabs, read while the loop's cell still runs;
- switching tabs keeps the tree selection and the table's sort (each tab's DOM stays mounted);
- the keyboard: Left/Right/Home/End in the tab bar, arrows and Enter in the tree, "/" to the
  tree search, none of them reaching JupyterLab's notebook shortcuts (the active cell stays).

Screenshots of each tab go to tests/e2e/artifacts/layout-<tab>.png; the Training and Inference
ones also to docs/gallery-tabs-<tab>.png when missing or with ``MODELPANEL_UPDATE_SCREENSHOT=1``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from jupyter_driver import REPO, kernel_value
from panel_tabs import TAB_IDS, open_tab
from playwright.sync_api import expect
from test_panel_e2e import IRIS_SETUP, assert_clean, panel_root
from test_theme_e2e import TRAIN_AND_EVALUATE
from test_training_e2e import start_cell

GALLERY = {tab: REPO / "docs" / f"gallery-tabs-{tab}.png" for tab in ("training", "inference")}
MAX_HEIGHT = 700

# Long enough to be read twice while it runs: 3 epochs of 60 batches, ~20 ms each.
LONG_LOOP = """\
for epoch in p.progress(range(3), desc="epoch"):
    for i in p.progress(range(60), desc="batch"):
        loss = torch.nn.functional.cross_entropy(model(train.X), train.y)
        p.log(loss=loss)
        time.sleep(0.02)"""

ACTIVE_CELL_JS = """() => Array.from(document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')).findIndex(c => c.classList.contains('jp-mod-active'))"""


def selected_tab(root: Any) -> str:
    return root.locator('.mp-tab[aria-selected="true"]').get_attribute("data-tab")


def height(root: Any) -> float:
    return root.evaluate("el => el.getBoundingClientRect().height")


def test_tabs_fit_a_laptop_screen_and_keep_their_state(
    open_notebook: Any, page: Any, artifacts: Path
) -> None:
    nb = open_notebook([IRIS_SETUP, TRAIN_AND_EVALUATE, LONG_LOOP, ""], name="layout")
    scratch = 3
    nb.run(0)
    root = panel_root(nb, 0)
    assert selected_tab(root) == "model"
    assert [t.get_attribute("data-tab") for t in root.locator(".mp-tab").all()] == list(TAB_IDS)
    expect(root.locator(".mp-running")).to_be_hidden()

    # The first loop opens Training by itself: nobody picked a tab in this view.
    nb.run(1, timeout=120_000)
    expect(root.locator('.mp-tab[data-tab="training"]')).to_have_attribute("aria-selected", "true")
    expect(root.locator('.mp-metric-plot[data-name="loss"] .main-svg').first).to_be_visible()

    # Every tab fits: the header and tab bar plus a scrolling body, at most 700 px in all.
    page.set_viewport_size({"width": 1400, "height": 1100})  # room to see the whole widget
    heights = {}
    for tab in TAB_IDS:
        panel = open_tab(root, tab)
        if tab == "parameters":
            expect(panel.locator(".mp-hist-plot .main-svg").first).to_be_visible()
        if tab == "inference":
            expect(panel.locator(".mp-eval-confusion .main-svg").first).to_be_visible()
        heights[tab] = height(root)
        root.scroll_into_view_if_needed()
        root.screenshot(path=str(artifacts / f"layout-{tab}.png"))
        gallery = GALLERY.get(tab)
        if gallery and (os.environ.get("MODELPANEL_UPDATE_SCREENSHOT") == "1" or not gallery.exists()):
            root.screenshot(path=str(gallery))
    assert all(0 < h <= MAX_HEIGHT for h in heights.values()), heights
    # What does not fit scrolls inside the shown tab's panel, never the widget itself.
    assert root.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    overflow = open_tab(root, "training").evaluate("el => getComputedStyle(el).overflowY")
    assert overflow == "auto"
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Switching keeps each tab's state: the tree selection, the table's sort.
    open_tab(root, "model")
    root.locator('.mp-tree-row[data-path="fc2"] .mp-tree-name').click()
    open_tab(root, "parameters")
    expect(root.locator(".mp-param-row")).to_have_count(2)
    header = root.locator('.mp-params th[data-key="numel"]')
    header.click()
    expect(header).to_have_attribute("aria-sort", re.compile(r"^(ascending|descending)$"))
    sort = header.get_attribute("aria-sort")
    order = root.locator(".mp-param-row").evaluate_all("els => els.map(e => e.dataset.name)")
    numel = kernel_value(nb, scratch, "{n: p.numel() for n, p in model.fc2.named_parameters()}")
    assert sorted(order, key=lambda n: numel[n.split(".")[-1]], reverse=sort == "descending") == order
    for tab in ("training", "inference", "model"):
        open_tab(root, tab)
    expect(root.locator('.mp-tree-row.mp-selected[data-path="fc2"]')).to_have_count(1)
    open_tab(root, "parameters")
    expect(header).to_have_attribute("aria-sort", sort)
    assert root.locator(".mp-param-row").evaluate_all("els => els.map(e => e.dataset.name)") == order

    # The keyboard in the tab bar, then in the tree; no key reaches the notebook's shortcuts.
    active = page.evaluate(ACTIVE_CELL_JS)
    root.locator('.mp-tab[data-tab="parameters"]').focus()
    page.keyboard.press("ArrowRight")
    assert selected_tab(root) == "training"
    expect(root.locator('.mp-tab[data-tab="training"]')).to_be_focused()
    page.keyboard.press("End")
    assert selected_tab(root) == "inference"
    page.keyboard.press("ArrowRight")  # wraps round
    assert selected_tab(root) == "model"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Home")
    assert selected_tab(root) == "model"
    tree = root.locator(".mp-tree-body")
    tree.focus()
    page.keyboard.press("Home")
    # The model itself is the tree's first row (its path is ""); its layers follow.
    expect(root.locator(".mp-tree-row.mp-selected")).to_have_attribute("data-path", "")
    expect(tree).to_have_attribute("aria-activedescendant", re.compile(r"."))
    page.keyboard.press("ArrowDown")
    expect(root.locator(".mp-tree-row.mp-selected")).to_have_attribute("data-path", "fc1")
    page.keyboard.press("ArrowDown")
    expect(root.locator(".mp-tree-row.mp-selected")).to_have_attribute("data-path", "relu")
    page.keyboard.press("End")
    expect(root.locator(".mp-tree-row.mp-selected")).to_have_attribute("data-path", "fc2")
    page.keyboard.press("ArrowUp")
    expect(root.locator(".mp-tree-row.mp-selected")).to_have_attribute("aria-selected", "true")
    expect(root.locator(".mp-tree-row.mp-selected")).to_have_attribute("data-path", "relu")
    expect(root.locator(".mp-param-row")).to_have_count(0)  # relu holds no tensor
    # "/" from the table (another tab) opens Model and focuses the tree search.
    open_tab(root, "parameters")
    header.focus()
    page.keyboard.press("/")
    assert selected_tab(root) == "model"
    expect(root.locator(".mp-search")).to_be_focused()
    page.keyboard.type("fc")
    # The matches, under the model's row (the ancestor of every match).
    expect(root.locator(".mp-tree-row")).to_have_count(3)
    assert root.locator(".mp-tree-row").evaluate_all("els => els.map(e => e.dataset.path)") == ["", "fc1", "fc2"]
    assert page.evaluate(ACTIVE_CELL_JS) == active  # Up/Down/Home/End moved no notebook cell
    assert kernel_value(nb, scratch, "len(p.history['loss'])") == 40  # and ran nothing

    # A loop while the user is on Model: the tab stays, the running line shows the progress.
    root.locator(".mp-search").fill("")
    open_tab(root, "model")
    before = start_cell(nb, 2)
    line = root.locator(".mp-running")
    expect(line).to_be_visible(timeout=30_000)
    pattern = re.compile(r"^epoch \d/3 +\d+%( · batch \d+/60 +\d+%)?$")
    expect(line).to_have_text(pattern)
    first = line.inner_text()
    expect(line).not_to_have_text(first, timeout=10_000)  # it moves with the loop
    assert selected_tab(root) == "model"
    expect(root.locator('.mp-tab[data-tab="training"]')).to_have_class(re.compile(r"\bmp-tab-busy\b"))
    expect(root.locator(".mp-tree-row.mp-selected")).to_have_attribute("data-path", "relu")
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(artifacts / "layout-running-line.png"))
    prompt = nb.cell(2).locator(".jp-InputPrompt")
    page.wait_for_function(
        "([el, b]) => { const t = el.textContent.trim(); return /\\[\\d+\\]/.test(t) && t !== b; }",
        arg=[prompt.element_handle(), before],
        timeout=60_000,
    )
    expect(line).to_be_hidden()
    assert selected_tab(root) == "model"
    assert_clean(page)
