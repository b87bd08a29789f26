"""The panel in JupyterLab Light, Dark and Dark High Contrast: readable text, themed figures.

For each theme the Iris panel is opened with every figure drawn (histograms, the loss curve,
the "weights over time" heatmap, the confusion matrix), and in the browser:

- the WCAG contrast ratio of every piece of text in the tree rows (selected and not), the
  parameter table rows (highlighted for a histogram and not) and the header cards against its
  effective background (the computed colours; the text colour and the first backgrounds up
  the ancestors composited until an opaque one) is at least 4.5:1, WCAG AA for normal text;
- each figure's paper, as Plotly drew it (the background of its SVG), is the theme's own
  --jp-layout-color1 as JupyterLab defines it on <body>, and its tick labels are readable on it.

Colours are turned into numbers by the browser itself (painted on a canvas), so every CSS
syntax (named colours, color-mix, color(srgb ...)) is compared alike. The light test then
switches to Dark through JupyterLab's Settings menu, without a reload, and checks again: the
figures must follow.

The theme is chosen through JupyterLab's settings API before the page opens, and reset after.
Screenshots go to tests/e2e/artifacts/theme-*.png; ``MODELPANEL_UPDATE_SCREENSHOT=1`` also
rewrites docs/gallery-light.png and docs/gallery-dark.png (written anyway when missing).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_driver import REPO, JupyterServer, kernel_value
from panel_tabs import open_tab
from playwright.sync_api import expect
from test_panel_e2e import IRIS_SETUP, assert_clean, panel_root

GALLERY = {"light": REPO / "docs" / "gallery-light.png", "dark": REPO / "docs" / "gallery-dark.png"}
THEMES = {
    "light": "JupyterLab Light",
    "dark": "JupyterLab Dark",
    "high-contrast": "JupyterLab Dark High Contrast",
}
WCAG_AA = 4.5

# A short loop that leaves a loss curve and weight snapshots with steps (for the heatmap over
# time), then an evaluation on the test split (for the confusion matrix).
TRAIN_AND_EVALUATE = """\
import time
from modelpanel.datasets import load_iris
train, test = load_iris().split(test_fraction=0.2, seed=42)
train, test = train.standardized(like=train), test.standardized(like=train)
p.watch(hist_every=0.2)
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in p.progress(range(40), desc="epoch"):
    loss = torch.nn.functional.cross_entropy(model(train.X), train.y)
    opt.zero_grad(); loss.backward(); opt.step()
    p.log(loss=loss)
    time.sleep(0.02)
r = p.evaluate(test.X, test.y, labels=list(test.target_names))"""

# Shared by the checks below: a CSS colour as [r, g, b, a] (0-255, alpha 0-1), painted by the
# browser; the WCAG contrast ratio; the effective background of an element.
COLOR_JS = """
const __mpCanvas = document.createElement('canvas');
__mpCanvas.width = __mpCanvas.height = 1;
const __mpCtx = __mpCanvas.getContext('2d', {willReadFrequently: true});
window.mpRGBA = (css) => {
  __mpCtx.clearRect(0, 0, 1, 1);
  __mpCtx.fillStyle = 'rgba(0,0,0,0)';
  __mpCtx.fillStyle = css;
  __mpCtx.fillRect(0, 0, 1, 1);
  const d = __mpCtx.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2], d[3] / 255];
};
window.mpOver = (top, bottom) => [0, 1, 2].map(i => top[3] * top[i] + (1 - top[3]) * bottom[i]).concat([1]);
window.mpLum = (c) => {
  const f = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
};
window.mpRatio = (a, b) => {
  const [hi, lo] = [mpLum(a), mpLum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
window.mpBackground = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = mpRGBA(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break;
  }
  let bg = [255, 255, 255, 1];  // the canvas under a page with no opaque background
  for (const c of layers.reverse()) bg = mpOver(c, bg);
  return bg;
};
"""

# Every visible element with its own text inside `selector` (under root), with its contrast.
CONTRAST_JS = """(root, selector) => {
  const out = [];
  for (const box of root.querySelectorAll(selector)) {
    for (const el of [box, ...box.querySelectorAll('*')]) {
      const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
      if (!own || !el.getClientRects().length || el.closest('[hidden]')) continue;
      const bg = mpBackground(el);
      const fg = mpOver(mpRGBA(getComputedStyle(el).color), bg);
      out.push({
        where: selector, cls: box.className, tag: el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''),
        text: own.slice(0, 30), ratio: Math.round(mpRatio(fg, bg) * 100) / 100,
        fg: fg.slice(0, 3).map(Math.round), bg: bg.slice(0, 3).map(Math.round),
      });
    }
  }
  return out;
}"""

# Each drawn figure: the paper as drawn (the SVG's background), the theme's layout colour on
# <body>, and the worst tick label contrast on the paper.
FIGURES_JS = """root => {
  const layout = mpRGBA(getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim());
  return Array.from(root.querySelectorAll('.js-plotly-plot')).map(plot => {
    const svg = plot.querySelector('.main-svg');
    const paper = mpRGBA(getComputedStyle(svg).backgroundColor);
    const ticks = Array.from(plot.querySelectorAll('.xtick text, .ytick text')).map(t => {
      const s = getComputedStyle(t);
      const c = mpRGBA(s.fill);
      c[3] *= Number(s.fillOpacity || 1);
      return mpRatio(mpOver(c, paper), paper);
    });
    return {cls: plot.className.replace(/\\s*js-plotly-plot/, ''), paper, layout,
            ticks: ticks.length, worstTick: ticks.length ? Math.min(...ticks) : null};
  });
}"""

PLOTS = (".mp-hist-plot", ".mp-metric-plot", ".mp-dist-plot", ".mp-eval-confusion")


def set_theme(server: JupyterServer, theme: str | None) -> None:
    """Save JupyterLab's theme setting through its settings API (None: back to the default)."""
    raw = json.dumps({"theme": theme} if theme else {})
    req = urllib.request.Request(
        f"{server.base_url}/lab/api/settings/@jupyterlab/apputils-extension:themes",
        data=json.dumps({"raw": raw}).encode(),
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status in (200, 204), resp.status


@pytest.fixture
def lab_theme(lab_server: JupyterServer) -> Iterator[Any]:
    """``lab_theme(name)`` saves the theme for the next page load; the default comes back after."""
    try:
        yield lambda theme: set_theme(lab_server, theme)
    finally:
        set_theme(lab_server, None)  # the session's other tests expect JupyterLab's default


def open_themed_panel(open_notebook: Any, page: Any, theme: str) -> tuple[Any, Any]:
    """The Iris panel after training and an evaluation, every figure drawn, in ``theme``."""
    nb = open_notebook(
        [IRIS_SETUP, TRAIN_AND_EVALUATE, ""], name=f"theme-{theme.split()[-1].lower()}"
    )
    assert page.evaluate("() => document.body.dataset.jpThemeName") == theme
    # The kernel must run this checkout's modelpanel, so the page shows this checkout's bundle.
    where = kernel_value(nb, 2, "__import__('modelpanel').__file__")
    assert Path(where).resolve().is_relative_to(REPO / "src"), where
    nb.run(0)
    root = panel_root(nb, 0)
    nb.run(1, timeout=120_000)
    open_tab(root, "parameters")  # histograms draw once their tab shows; the others draw hidden
    for sel in PLOTS:
        expect(root.locator(f"{sel} .main-svg").first).to_be_attached(timeout=30_000)
    page.evaluate(f"() => {{ {COLOR_JS} }}")
    return nb, root


def pick_rows(root: Any, page: Any) -> None:
    """fc2 selected in the tree, fc2.weight alone picked for a histogram: both states shown."""
    open_tab(root, "model")
    root.locator('.mp-tree-row[data-path="fc2"] .mp-tree-name').click()
    expect(root.locator('.mp-tree-row.mp-selected[data-path="fc2"]')).to_have_count(1)
    open_tab(root, "parameters")
    root.locator('.mp-param-row[data-name="fc2.weight"]').click()
    expect(root.locator(".mp-param-row.mp-plotted")).to_have_count(1)
    expect(root.locator(".mp-param-row:not(.mp-plotted)")).to_have_count(1)
    page.mouse.move(0, 0)  # no row under the pointer: hover is not the state measured


def check_contrast(root: Any) -> None:
    """Every text in tree rows, table rows and header cards reads at WCAG AA on its background.

    Only shown text is measured, so each tab is opened in turn; it ends on Parameters.
    """
    measured = []
    for tab, selectors in (("model", (".mp-tree-row", ".mp-header-item")), ("parameters", (".mp-param-row",))):
        open_tab(root, tab)
        root.page.mouse.move(0, 0)  # no row under the pointer: hover is not the state measured
        for selector in selectors:
            measured += root.evaluate(CONTRAST_JS, selector)
    kinds = {(m["where"], "mp-selected" in m["cls"] or "mp-plotted" in m["cls"]) for m in measured}
    assert kinds >= {
        (".mp-tree-row", True),
        (".mp-tree-row", False),
        (".mp-param-row", True),
        (".mp-param-row", False),
        (".mp-header-item", False),
    }, kinds
    low = [m for m in measured if m["ratio"] < WCAG_AA]
    assert not low, f"text under {WCAG_AA}:1 contrast:\n" + "\n".join(map(str, low))


def check_figures(root: Any) -> list[dict[str, Any]]:
    """Each figure kind is drawn, on the theme's layout colour, with readable tick labels."""
    figures = root.evaluate(FIGURES_JS)
    drawn = {sel for sel in PLOTS for f in figures if sel.lstrip(".") in f["cls"].split()}
    assert drawn == set(PLOTS), figures
    for f in figures:
        assert f["paper"][3] == 1 and f["layout"][3] == 1, f
        assert f["paper"] == f["layout"], (
            f"{f['cls']}: paper {f['paper']} is not the theme's {f['layout']}"
        )
        if f["ticks"]:
            assert f["worstTick"] >= WCAG_AA, f
    return figures


def layout_luminance(page: Any) -> float:
    return page.evaluate(
        "() => mpLum(mpRGBA(getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim()))"
    )


def panel_pictures(root: Any, page: Any, *paths: Path) -> None:
    """The whole panel: the window is made taller than it first, or Lab's notebook clips it."""
    size = page.viewport_size
    height = root.evaluate("el => el.getBoundingClientRect().height")
    page.set_viewport_size({"width": size["width"], "height": int(height) + 400})
    root.scroll_into_view_if_needed()
    for path in paths:
        path.parent.mkdir(exist_ok=True)
        root.screenshot(path=str(path))
    page.set_viewport_size(size)


def save_pictures(root: Any, page: Any, artifacts: Path, key: str) -> None:
    gallery = GALLERY.get(key)
    update = gallery and (
        os.environ.get("MODELPANEL_UPDATE_SCREENSHOT") == "1" or not gallery.exists()
    )
    panel_pictures(root, page, artifacts / f"theme-{key}.png", *([gallery] if update else []))


@pytest.mark.parametrize("key", ["light", "dark", "high-contrast"])
def test_theme_is_readable_and_figures_follow_it(
    key: str, lab_theme: Any, open_notebook: Any, page: Any, artifacts: Path
) -> None:
    lab_theme(THEMES[key])
    nb, root = open_themed_panel(open_notebook, page, THEMES[key])
    lum = layout_luminance(page)
    assert (lum > 0.8) if key == "light" else (lum < 0.05), (key, lum)  # the theme really applied
    pick_rows(root, page)
    check_contrast(root)
    check_figures(root)
    save_pictures(root, page, artifacts, key)

    if key == "light":
        # Switched in the running page: the widget's CSS follows by itself, the figures must
        # be redrawn by the view (its observer on <body>'s theme attributes).
        page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
        # The Theme submenu's entry has no menuitem role in Lab 4.6: found by its label.
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).hover()
        page.get_by_role("menuitem", name="JupyterLab Dark", exact=True).click()
        page.wait_for_function("() => document.body.dataset.jpThemeName === 'JupyterLab Dark'")
        page.wait_for_function(
            f"r => ({FIGURES_JS})(r).every(f => f.paper.join() === f.layout.join())",
            arg=root.element_handle(),
            timeout=10_000,
        )
        assert layout_luminance(page) < 0.05
        page.mouse.move(0, 0)
        check_contrast(root)
        check_figures(root)
        panel_pictures(root, page, artifacts / "theme-light-switched-to-dark.png")
    assert_clean(page)
