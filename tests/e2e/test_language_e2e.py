"""The learners' language in a real JupyterLab and Notebook 7 (issue 12, point 9).

- ``ModelPanel(..., language="zh-CN")`` in an English JupyterLab: tabs, header, tree and
  table heads, the training and inference tabs and the cell's own progress line read Chinese;
  ``panel.language = "en"`` redraws the same view in English (kernel and DOM agree).
- The display language: with the language pack ``jupyterlab-language-pack-zh-CN`` (the ``dev``
  extra installs it) and the Language setting at ``zh_CN``, JupyterLab 4 and Notebook 7 write
  ``<html lang="zh-CN">``; a panel made without ``language=`` follows it, one made with
  ``language="en"`` does not.

Screenshot: tests/e2e/artifacts/language-zh-CN.png.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_driver import JupyterServer, kernel_value
from playwright.sync_api import expect
from test_panel_e2e import IRIS_SETUP, assert_clean, panel_root
from test_theme_e2e import TRAIN_AND_EVALUATE

ZH_TABS = ["模型", "参数", "训练", "推理"]
EN_TABS = ["Model", "Parameters", "Training", "Inference"]


def tab_labels(root: Any) -> list[str]:
    return [t.strip() for t in root.locator(".mp-tab").all_text_contents()]


def test_language_zh_cn_in_an_english_lab(open_notebook: Any, page: Any, artifacts: Path) -> None:
    setup = IRIS_SETUP.replace("input_size=(1, 4))", 'input_size=(1, 4), language="zh-CN")')
    nb = open_notebook([setup, TRAIN_AND_EVALUATE, 'p.language = "en"', ""], name="language")
    nb.run(0)
    root = panel_root(nb, 0)
    assert page.evaluate("document.documentElement.lang") in ("en", "en-US")  # Lab itself is English
    assert tab_labels(root) == ZH_TABS
    expect(root.locator('.mp-header-item[data-key="total"] dt')).to_have_text("参数")
    expect(root.locator(".mp-tree-head")).to_contain_text("输出形状")
    expect(root.locator(".mp-tree-row").first.locator(".mp-tree-name")).to_have_text("（模型）")
    root.locator('.mp-tab[data-tab="parameters"]').click()
    expect(root.locator('.mp-params th[data-key="mean"]')).to_have_text("均值")
    expect(root.locator(".mp-hist-title")).to_have_text("权重直方图")

    nb.run(1)  # 40 epochs, then evaluate
    line = nb.output(1).locator(".mp-line")
    expect(line.locator(".mp-bar-desc")).to_have_text("epoch")  # the user's own desc
    root.locator('.mp-tab[data-tab="training"]').click()
    expect(root.locator(".mp-metric-name").first).to_have_text("loss")
    root.locator('.mp-tab[data-tab="inference"]').click()
    expect(root.locator(".mp-eval-title")).to_have_text("推理（评估模式）")
    expect(root.locator(".mp-eval-accuracy dt")).to_have_text("准确率")
    expect(root.locator(".mp-eval-run")).to_have_text("运行")
    expect(root.locator(".mp-eval-classes th").first).to_have_text("类别")
    root.screenshot(path=str(artifacts / "language-zh-CN.png"))

    nb.run(2)  # panel.language = "en": the same view redraws in English
    expect(root.locator(".mp-tab").first).to_have_text("Model")
    assert tab_labels(root) == EN_TABS
    assert kernel_value(nb, 3, "[p.language, p._language]") == ["en", "en"]
    assert_clean(page)


@pytest.fixture(scope="module", params=["lab", "notebook"])
def chinese_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A server whose display language is Simplified Chinese (Settings > Language > 中文)."""
    if importlib.util.find_spec("jupyterlab_language_pack_zh_CN") is None:
        pytest.fail("jupyterlab-language-pack-zh-CN is missing: install the dev extra (pip install -e '.[dev]')")
    server = JupyterServer.start(request.param, tmp_path_factory.mktemp(f"{request.param}-zh"))
    # What the Language menu writes: the translator reads it when the page loads.
    settings = Path(server._tmp.name) / "settings" / "@jupyterlab" / "translation-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"locale": "zh_CN"}))
    try:
        yield server
    finally:
        server.stop()


def test_panel_follows_the_display_language(chinese_server: JupyterServer, open_notebook: Any, page: Any) -> None:
    english = IRIS_SETUP.replace("input_size=(1, 4))", 'input_size=(1, 4), language="en")')
    nb = open_notebook([IRIS_SETUP, english], server=chinese_server, name=f"display-{chinese_server.kind}")
    # The language pack is active: JupyterLab's own menus are Chinese, and it says so on <html>.
    expect(page.locator(".lm-MenuBar-itemLabel").first).to_have_text("文件")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    nb.run(0)
    root = panel_root(nb, 0)
    assert tab_labels(root) == ZH_TABS
    expect(root.locator(".mp-expand-all")).to_have_text("全部展开")
    nb.run(1)
    assert tab_labels(panel_root(nb, 1)) == EN_TABS  # the panel's own choice wins
    assert_clean(page)
