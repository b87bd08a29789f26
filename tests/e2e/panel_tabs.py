"""The panel's tabs in the browser tests: open one before touching what it holds.

Every tab's DOM stays mounted (hidden toggles), so counts and texts can be read from any tab;
a click, a fill, a visibility check or a screenshot needs its tab shown.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

TAB_IDS = ("model", "parameters", "training", "inference")


def open_tab(root: Any, tab: str) -> Any:
    """Click ``tab``'s label in the panel ``root``; return its (now visible) panel's locator."""
    if tab not in TAB_IDS:
        raise ValueError(f"tab must be one of {TAB_IDS}, got {tab!r}")
    root.locator(f'.mp-tab[data-tab="{tab}"]').click()
    expect(root.locator(f'.mp-tab[data-tab="{tab}"]')).to_have_attribute("aria-selected", "true")
    panel = root.locator(f'.mp-tabpanel[data-tab="{tab}"]')
    expect(panel).to_be_visible()
    return panel
