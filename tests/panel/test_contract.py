"""The seams between the kernel and the views, checked from both sides.

- js/src/model.ts's ``interface Model`` names exactly the traits ModelPanel syncs;
- js/test/fixtures/*.json are what tests/support/make_js_fixtures.py makes from real panels now;
- the three version strings agree (pyproject.toml, modelpanel.__version__, js/package.json).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import anywidget
import make_js_fixtures
import tomllib

import modelpanel
from modelpanel import ModelPanel

ROOT = Path(__file__).resolve().parents[2]


def model_ts_traits() -> list[str]:
    text = (ROOT / "js" / "src" / "model.ts").read_text(encoding="utf-8")
    body = re.search(r"export interface Model \{(.*?)\n\}", text, re.S)
    assert body, "js/src/model.ts has no 'export interface Model {...}'"
    return re.findall(r"^\s*(\w+)\??:", body.group(1), re.M)


def python_traits() -> list[str]:
    """Synced traits ModelPanel declares itself (not anywidget's or ipywidgets' own)."""
    base = set(anywidget.AnyWidget.class_trait_names(sync=True))
    return sorted(set(ModelPanel.class_trait_names(sync=True)) - base)


def test_model_ts_mirrors_the_python_traits() -> None:
    ts = model_ts_traits()
    assert len(ts) == len(set(ts)), "a trait is listed twice in model.ts"
    assert sorted(ts) == python_traits()


def test_js_fixtures_are_made_from_the_current_kernel_state() -> None:
    assert make_js_fixtures.main(["--check"]) == 0, (
        "js/test/fixtures are stale: run .venv/bin/python tests/support/make_js_fixtures.py"
    )


def test_version_strings_agree() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package = json.loads((ROOT / "js" / "package.json").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == modelpanel.__version__ == package["version"]
