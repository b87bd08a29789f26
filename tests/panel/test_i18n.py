"""The panel's words (panel/i18n.py, strings/*.json): one catalog shared with the views, in
English and Simplified Chinese; ``ModelPanel(..., language=...)`` and ``panel.language``.

The views' side is js/test/views/i18n.test.ts (no English word left in a zh-CN panel) and
js/test/logic/i18n.test.ts (every key a source names exists).
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

import pytest
import torch
from test_progress_line import kernel, lines, run, shown  # noqa: F401 - fixtures
from zoo import IrisMLP, assert_state_unchanged, snapshot_state

from modelpanel import ModelPanel
from modelpanel.errors import InputError
from modelpanel.inference import evaluate
from modelpanel.panel.html import render_page, render_snapshot
from modelpanel.panel.i18n import SUPPORTED, catalog, normalize_language, translate
from modelpanel.panel.inference import eval_state
from modelpanel.stats import weight_snapshot
from modelpanel.summary import summarize

STRINGS = files("modelpanel") / "strings"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u201c\u201d]")  # ideographs, Chinese punctuation
# zh-CN messages written in Latin letters in Chinese material too: names of quantities and code.
SAME_IN_CHINESE = {"header.macs", "params.colNonfinite", "params.colTrainableTitle", "flag.nonfinite"}


def load(language: str) -> dict[str, str]:
    return json.loads((STRINGS / f"{language}.json").read_text(encoding="utf-8"))


def base(key: str) -> str:
    return key.removesuffix("_one")


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    files_there = sorted(p.name for p in STRINGS.iterdir() if p.name.endswith(".json"))
    assert files_there == sorted(f"{lang}.json" for lang in SUPPORTED)
    en, zh = load("en"), load("zh-CN")
    assert {base(k) for k in en} == {base(k) for k in zh}
    assert len(en) > 200
    for messages in (en, zh):
        for key, text in messages.items():
            # A singular (English) has the placeholders of its plural; each key its language's.
            assert base(key) in messages, key
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(en[base(key)])), key
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(zh[base(key)])), key


def test_chinese_is_chinese() -> None:
    zh, en = load("zh-CN"), load("en")
    not_chinese = sorted(k for k, text in zh.items() if not CJK.search(text) and k not in SAME_IN_CHINESE)
    assert not_chinese == []
    assert all(zh[k] == en[k] for k in SAME_IN_CHINESE)
    # Terms of the Chinese deep-learning course tradition.
    assert (zh["tabs.parameters"], zh["nonfinite.weights"], zh["nonfinite.grads"], zh["tabs.training"],
            zh["tree.colLayer"], zh["params.colShape"], zh["eval.batchSize"]) == (
        "参数", "权重", "梯度", "训练", "层", "形状", "批大小")


def test_snapshot_words_need_no_escaping() -> None:
    # html.py puts the catalog's text into HTML as it is (the values it fills in are escaped).
    for language in SUPPORTED:
        for key, text in load(language).items():
            if key.startswith(("snapshot.", "mode.", "eval.throughput")):
                assert not re.search(r"[<>&\"]", text), (language, key)


@pytest.mark.parametrize(("spelt", "meant"), [
    ("en", "en"), ("en-US", "en"), ("en_GB", "en"), ("EN", "en"),
    ("zh", "zh-CN"), ("zh-CN", "zh-CN"), ("zh_CN", "zh-CN"), ("zh-cn", "zh-CN"), ("zh-Hans", "zh-CN"),
    (None, None),
])
def test_normalize_language_reads_the_usual_spellings(spelt, meant) -> None:
    assert normalize_language(spelt) == meant


@pytest.mark.parametrize("bad", ["fr", "zh-TW", "zh-Hant", "", "english", 1, ["zh"]])
def test_unsupported_language_lists_the_supported_ones(bad) -> None:
    with pytest.raises(InputError) as info:
        normalize_language(bad)
    message = str(info.value)
    assert repr(bad) in message and "'en'" in message and "'zh-CN'" in message and "None" in message


def test_translate_fills_placeholders_and_english_singulars() -> None:
    assert translate("en", "tree.count", n=1) == "1 module"
    assert translate("en", "tree.count", n=3) == "3 modules"
    assert translate("zh-CN", "tree.count", n=3) == "3 个模块"
    assert translate("zh-CN", "tabs.model") == "模型"
    assert translate("en", "no.such.key") == "no.such.key"
    assert catalog("zh-CN") is catalog("zh-CN")  # read once


def test_panel_language_is_validated_synced_and_switchable() -> None:
    model = IrisMLP()
    before = snapshot_state(model)
    with pytest.raises(InputError, match="'zh-CN'"):
        ModelPanel(model, input_size=(1, 4), language="klingon")
    assert_state_unchanged(model, before)
    panel = ModelPanel(model, input_size=(1, 4), language="zh_CN")
    assert panel._language == "zh-CN" and panel.language == "zh-CN"
    assert panel._training.language == "zh-CN"
    panel.language = "en-US"
    assert panel._language == "en" and panel._training.language == "en"
    panel.language = None
    assert panel._language == "" and panel.language is None
    with pytest.raises(InputError):
        panel.language = "fr"
    assert panel._language == ""
    assert ModelPanel(model, input_size=(1, 4))._language == ""  # default: the front end's language


def test_the_static_snapshot_speaks_the_panels_language() -> None:
    torch.manual_seed(0)
    model = IrisMLP()
    x, y = torch.randn(30, 4), torch.arange(30) % 3
    panel = ModelPanel(model, input_size=(1, 4), language="zh-CN")
    panel.evaluate(x, y)
    zh = panel._repr_mimebundle_()[0]["text/html"]
    for word in ("总参数量", "可训练", "层", "输出形状", "均值", "标准差", "准确率", "精确率", "召回率", "静态快照"):
        assert word in zh, word
    for english in ("total params", "Output shape", "Precision", "static snapshot", "Evaluation"):
        assert english not in zh, english
    assert '<html lang="zh-CN">' in render_page(panel._static_state())
    # English stays exactly what it was, and is the default of a state without a language.
    summary = summarize(model, input_size=(1, 4))
    state = {"summary": summary.to_dict(), "params": weight_snapshot(model).records,
             "eval_result": eval_state(evaluate(model, x, y))}
    en = render_snapshot(state)
    assert "total params: <b>83</b>" in en and "Precision" in en and "总参数量" not in en
    assert render_snapshot({**state, "language": "zh-CN"}).count("总参数量：<b>83</b>") == 1


def test_the_cells_progress_line_gets_the_panels_language(kernel, shown) -> None:  # noqa: F811
    run(kernel, "from zoo import IrisMLP\nfrom modelpanel import ModelPanel\nmodel = IrisMLP()\n"
                "panel = ModelPanel(model, input_size=(1, 4), hist_every=None, language='zh')")
    run(kernel, "for i in panel.progress(range(2)): pass")
    run(kernel, "panel.language = 'en'\nfor i in panel.progress(range(2)): pass")
    assert [line._language for line in lines(shown)] == ["zh-CN", "en"]


def test_every_layer_status_the_kernel_writes_has_words_in_both_languages() -> None:
    """Layer.status is a fixed English phrase; the tree maps each to a catalog key (tree.ts)."""
    from modelpanel import summary

    statuses = {getattr(summary, name) for name in ("IN_TORCHSCRIPT", "NEVER_CALLED", "NOT_CALLED_IN_EVAL",
                                                    "NOT_REACHED", "PACKED_WEIGHTS")}
    source = (Path(__file__).parents[2] / "js" / "src" / "views" / "tree.ts").read_text(encoding="utf-8")
    mapped = dict(re.findall(r'^  "([^"]+)": "(tree\.status\w+)",$', source, re.M))
    assert set(mapped) == statuses
    for language in ("en", "zh-CN"):
        messages = load(language)
        assert all(key in messages and f"{key}Title" in messages for key in mapped.values()), language
