"""Smoke test of the widget in marimo: tests/support/marimo_app.py served headless, opened in Chromium.

marimo hosts anywidgets itself (no Jupyter widget manager, no Backbone), so this checks that
the bundle renders with only the anywidget model API (``model.get``/``on``/buffers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from panel_tabs import open_tab

pytest.importorskip("marimo", reason="marimo is not installed (pip install marimo)")
APP = Path(__file__).resolve().parents[1] / "support" / "marimo_app.py"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def marimo_url(tmp_path):
    port = _free_port()
    env = dict(os.environ, HOME=str(tmp_path))  # marimo keeps its config under $HOME
    proc = subprocess.Popen(
        [sys.executable, "-m", "marimo", "run", str(APP), "--headless", "--host", "127.0.0.1",
         "--port", str(port), "--no-token"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
                pytest.fail(f"marimo did not start on {url}:\n{out[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_panel_renders_in_marimo(marimo_url, browser):
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(marimo_url)
        try:
            # The widget's root element (js/src/widget.ts), inside marimo's output area.
            root = page.locator(".modelpanel").first
            root.wait_for(state="visible", timeout=90_000)
            page.get_by_text("kernel side:").wait_for(timeout=30_000)
            # marimo mounts the widget in a shadow root: poll with a (piercing) locator.
            text, deadline = "", time.monotonic() + 30
            while "83" not in text and time.monotonic() < deadline:
                text = root.inner_text()
                time.sleep(0.2)
            # The parameter table is on its own tab (hidden text is not in inner_text).
            text += "\n" + open_tab(root, "parameters").inner_text()
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "marimo-panel.png"), full_page=True)
    finally:
        page.close()
    assert "83" in text and "Linear" in text and "0.weight" in text
    assert not [e for e in errors if "modelpanel" in e.lower() or "anywidget" in e.lower()], errors
