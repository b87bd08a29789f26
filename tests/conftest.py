"""Fixtures shared by every test layer that needs them.

``browser`` is one headless Chromium for the whole session. Playwright's sync API runs one
event loop per process, so a second ``sync_playwright()`` while the first is open fails:
every browser test (tests/e2e, the offline snapshot page, marimo) takes this fixture instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The shared helpers (the model zoo, the widget wire shim, numpy references, the browser)
# live in tests/support; every test module imports them by bare name.
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from chromium import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM, MISSING_REASON  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``cuda`` are skipped, with the reason, where torch sees no CUDA device."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (its own download is unreachable here)."""
    if not HAVE_CHROMIUM:
        pytest.skip(MISSING_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
