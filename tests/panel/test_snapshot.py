"""The static snapshot: readable HTML without JavaScript, escaped, and offline in Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from zoo import HOSTILE_STRINGS, HostileNames, IrisMLP, linear_stack

from modelpanel.inference import evaluate
from modelpanel.panel.html import HIST_H, MAX_LAYER_ROWS, render_page, render_snapshot
from modelpanel.panel.inference import eval_state
from modelpanel.panel.state import all_hist_state
from modelpanel.panel.wire import array_to_wire
from modelpanel.stats import weight_snapshot
from modelpanel.summary import summarize

# The only tags the snapshot writes itself; anything else came from a model string.
OUR_TAGS = {"div", "b", "small", "table", "tr", "td", "th", "svg", "title", "path", "rect",
            "polyline", "text"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def parse(fragment: str) -> _Tags:
    p = _Tags()
    p.feed(fragment)
    return p


def state_for(model, **summary_kwargs) -> dict:
    """The trait values a panel would hold, built from the real summary and statistics."""
    return {
        "summary": summarize(model, **summary_kwargs).to_dict(),
        "params": weight_snapshot(model).records,
        "hist": all_hist_state(weight_snapshot(model)),
        "metrics": {},
        "eval_result": None,
    }


@pytest.fixture
def iris_state():
    torch.manual_seed(0)
    return state_for(IrisMLP(), input_size=(1, 4))


def test_iris_snapshot_shows_totals_tree_and_formulas(iris_state):
    html = render_snapshot(iris_state)
    text = "".join(parse(html).text)
    assert "IrisMLP" in text and "total params: 83" in text
    for needle in ("fc1", "fc2", "relu", "Linear", "ReLU", "1×10", "1×3",
                   "weight 10×4 = 40 + bias 10 = 50", "weight 3×10 = 30 + bias 3 = 33"):
        assert needle in text, needle
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        assert name in text
    assert "<script" not in html.lower() and "<style" not in html.lower()
    assert set(parse(html).tags) <= OUR_TAGS


def test_statistics_match_numpy(iris_state):
    torch.manual_seed(0)
    w = IrisMLP().fc1.weight.detach().numpy().astype(np.float64)
    text = "".join(parse(render_snapshot(iris_state)).text)
    for value in (w.mean(), w.std(), w.min(), w.max()):
        assert f"{value:.4g}" in text


def test_histograms_are_drawn_from_counts(iris_state):
    html = render_snapshot(iris_state)
    paths = re.findall(r'<path d="([^"]*)"', html)
    assert len(paths) == 4  # one histogram per parameter tensor
    counts = np.frombuffer(bytes(iris_state["hist"]["counts"]["view"]), dtype="<u4").reshape(
        iris_state["hist"]["counts"]["shape"])
    for row, d in zip(counts, paths):
        bars = re.findall(r"v(-[\d.]+)", d)
        assert len(bars) == int((row > 0).sum())
        heights = [-float(b) for b in bars]
        assert max(heights) == pytest.approx(HIST_H)  # the fullest bin fills the box
        # Heights keep the counts' proportions (the smallest drawn bar is at least 0.5 px).
        nonzero = row[row > 0]
        assert heights == pytest.approx(list(np.maximum(nonzero / nonzero.max() * HIST_H, 0.5)), abs=0.01)


def test_hostile_names_are_escaped():
    state = state_for(HostileNames(), input_size=(2, 4))
    html = render_snapshot(state)
    for raw in HOSTILE_STRINGS:
        assert raw not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = parse(html)
    assert set(parsed.tags) <= OUR_TAGS  # no <img>, <script> or <b> from a name
    # The text a reader sees is the names themselves, unchanged.
    joined = "".join(parsed.text)
    for raw in HOSTILE_STRINGS:
        assert raw in joined


def test_metrics_and_eval_result_render():
    torch.manual_seed(0)
    model = IrisMLP()
    x, y = torch.randn(30, 4), torch.arange(30) % 3
    result = evaluate(model, x, y, labels=["setosa", "versicolor", "<virginica>"])
    steps = np.arange(50, dtype=np.float64)
    state = state_for(model, input_size=(1, 4))
    state["metrics"] = {"loss": {"step": array_to_wire(steps), "value": array_to_wire(np.exp(-steps / 10)),
                                 "epoch_level": False}}
    state["eval_result"] = eval_state(result)
    html = render_snapshot(state)
    text = "".join(parse(html).text)
    points = re.search(r'<polyline points="([^"]*)"', html).group(1).split()
    assert len(points) == 50
    assert "loss: 1 → 0.007447 (min 0.007447)" in text
    assert f"accuracy: {result.accuracy:.1%}" in text
    assert "&lt;virginica&gt;" in html and "<virginica>" not in html
    # The confusion matrix cells, row by row, as the table shows them.
    cells = re.findall(r"<td [^>]*>([^<]*)</td>", html.split("true \\ predicted")[1])
    numbers = [int(c.replace(",", "")) for c in cells if c.replace(",", "").isdigit()]
    assert numbers[:9] == [int(v) for v in result.confusion.flatten()]


def test_empty_and_partial_states():
    assert "modelpanel static snapshot" in render_snapshot({})
    html = render_snapshot({"summary": {"model_kind": "X", "layers": []}, "params": [], "hist": {}})
    assert "<b>X</b>" in html
    # A NaN statistic is written as text, not a crash.
    params = [{"id": 0, "names": ["w"], "shape": [2], "numel": 2, "mean": None, "std": None,
               "min": None, "max": None, "nan": 2, "inf": 0}]
    assert "NaN 2" in render_snapshot({"params": params})


def test_big_models_are_truncated():
    model = linear_stack(n=MAX_LAYER_ROWS + 50, width=2)
    html = render_snapshot(state_for(model, input_size=(1, 2)))
    assert "… 50 more layers" in html
    assert "… 400 more tensors" in html  # 250 modules × 2 tensors, 100 shown
    assert len(html) < 200_000


def test_page_is_a_whole_document_with_escaped_title(iris_state):
    page = render_page(iris_state, title="<Iris> & co")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>&lt;Iris&gt; &amp; co</title>" in page
    assert render_snapshot(iris_state) in page
    assert not re.search(r"(src|href)=", page)  # nothing to fetch


def test_page_opens_offline_in_chromium(tmp_path, iris_state, browser):
    path = tmp_path / "panel.html"
    path.write_text(render_page(iris_state, title="Iris MLP"), encoding="utf-8")
    requests, failed, errors = [], [], []
    page = browser.new_page()
    try:
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        body = page.inner_text("body")
        svg_count = page.locator("svg").count()
        width = page.evaluate("document.querySelector('svg path').getBBox().width")
    finally:
        page.close()
    assert requests == [path.as_uri()] and not failed and not errors
    assert "Iris MLP" in body and "fc1" in body and "83" in body and "50" in body
    assert svg_count == 4 and width > 0  # the histograms really draw


def test_trained_panel_state_renders_curve_and_evaluation():
    """The real panel's trait values after a short training run and an evaluation."""
    from modelpanel import ModelPanel

    torch.manual_seed(0)
    model = IrisMLP()
    panel = ModelPanel(model, input_size=(1, 4))
    x, y = torch.randn(60, 4), torch.arange(60) % 3
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in panel.progress(range(40), desc="step"):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        panel.log(loss=loss, step=step)
    result = panel.evaluate(x, y)
    html = render_snapshot(panel._static_state())
    text = "".join(parse(html).text)
    points = re.search(r'<polyline points="([^"]*)"', html).group(1).split()
    assert len(points) == 40
    assert f"accuracy: {result.accuracy:.1%}" in text and "samples: 60" in text
    assert "total params: 83" in text and text.count("fc1.weight") == 1
    panel.close()


def test_panel_save_html_opens_offline(tmp_path, browser):
    """``panel.save_html(path)`` (wired by ModelPanel) writes the page; it opens from file://."""
    from modelpanel import ModelPanel

    torch.manual_seed(0)
    panel = ModelPanel(IrisMLP(), input_size=(1, 4))
    assert hasattr(panel, "save_html"), "ModelPanel.save_html(path) is missing (issue 6, item 3)"
    path = tmp_path / "saved panel.html"
    panel.save_html(path)
    page_text = path.read_text(encoding="utf-8")
    assert page_text.startswith("<!DOCTYPE html>")
    assert render_snapshot(panel._static_state()) in page_text
    failed: list[str] = []
    page = browser.new_page()
    try:
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(path.as_uri())
        body = page.inner_text("body")
    finally:
        page.close()
    assert not failed
    assert "fc1" in body and "83" in body and "weight 10×4 = 40 + bias 10 = 50" in body
