"""Fixtures shared by every test layer that needs them.

``browser`` is one headless Chromium for the whole session. Playwright's sync API runs one
event loop per process, so a second ``sync_playwright()`` while the first is open fails:
every browser test (tests/e2e, the offline snapshot page, marimo) takes this fixture instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM, MISSING_REASON


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
