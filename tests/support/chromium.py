"""Where the browser tests find Chromium, and the flags that keep it quiet and offline-safe.

Playwright's own browser download cannot be reached on these machines, so every browser test
launches Debian's chromium (see ../shared/E2E.md §1).
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAVE_CHROMIUM = Path(CHROMIUM).is_file()
MISSING_REASON = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
