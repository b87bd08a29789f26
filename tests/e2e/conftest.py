"""Browser end-to-end fixtures: real JupyterLab / Notebook 7, real Chromium, real kernel.

Every test in tests/e2e is marked ``e2e`` automatically. Select them with ``-m e2e`` or leave
them out with ``-m "not e2e"``. They are skipped, with the reason, only when Debian's
chromium (``/usr/bin/chromium``) is missing. CI installs it, so there they run.

Fixture API (for test_panel_e2e.py, test_training_e2e.py, test_inference_e2e.py):

``lab_server`` / ``notebook_server`` (session)
    A :class:`jupyter_driver.JupyterServer` ("lab" or "notebook" kind) on 127.0.0.1, on a
    free port, with a random token and its own JUPYTER_* dirs. Its root is a temp dir,
    ``server.root``. Started from this interpreter, so the kernel imports modelpanel from
    the project's .venv. It is started on first use and stopped (kernels too) at the end of
    the session.
``browser`` (session)
    Playwright's Chromium ``Browser`` (Debian's build, headless, E2E.md's flags).
``page`` (function)
    A fresh ``BrowserContext`` (1400×1000) and its page. It records:

    - ``page.mp_dialogs``: alert/confirm/prompt messages, each one dismissed. A hostile model
      string that runs JS would show up here.
    - ``page.mp_errors``: uncaught page errors, minus Notebook 7's known "reading 'schema'".
    - ``page.mp_external``: requests to anything other than 127.0.0.1 (the bundle must not
      need any).

    The context is closed after the test. On failure a screenshot goes to
    tests/e2e/artifacts/<test name>-failure.png.
``open_notebook`` (function)
    ``open_notebook(cells, server=None, name=None) -> jupyter_driver.Notebook``. It writes
    ``cells`` (a list of code strings) to a new notebook under ``server.root`` (default
    ``lab_server``), opens it in ``page``, waits for a real kernel (E2E.md §4) and runs a
    hidden first cell that puts tests/ on ``sys.path``, so a cell can
    ``from zoo import IrisMLP``. The Notebook gives you:

    - ``nb.run(i)``: run cell i in place (Ctrl+Enter) and wait until it finishes. It returns
      the output locator and raises ``CellError`` with the traceback when the cell raised.
    - ``nb.output(i)``, ``nb.text(i)``, ``nb.cell(i)``: the cell's output locator, its
      output text and the cell's own locator.
    - ``nb.run_code(i, code)``: replace cell i's source with one line and run it.
    - ``jupyter_driver.kernel_value(nb, i, expr)``: evaluate a JSON-able expression in the
      kernel through cell i. Use it to assert on the kernel's side of the state.
``artifacts`` (session)
    ``Path`` of tests/e2e/artifacts/ (git-ignored), for screenshots.

Timing on the shared 2-CPU machine: a server starts in ~3-5 s and a notebook opens with its
kernel in ~6-9 s. ``import torch`` in the kernel adds ~3 s. Run several checks per notebook
rather than one notebook per check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, HAVE_CHROMIUM
from jupyter_driver import JupyterServer, Notebook

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Notebook 7.6 throws this on every page, with or without widgets (E2E.md §4): not ours.
KNOWN_PAGE_ERRORS = (re.compile(r"reading 'schema'"),)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything under tests/e2e as ``e2e``; skip it only when chromium is missing."""
    here = Path(__file__).resolve().parent
    skip = pytest.mark.skip(
        reason=f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium); "
        "the browser tests need it"
    )
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if not HAVE_CHROMIUM:
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the item so ``page`` can screenshot failures."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/e2e/artifacts/ (git-ignored): screenshots and other by-products of the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _server(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = JupyterServer.start(kind, tmp_path_factory.mktemp(f"{kind}-root"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A JupyterLab 4 server for the whole session (see the module docstring)."""
    yield from _server("lab", tmp_path_factory)


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A Notebook 7 server for the whole session (see the module docstring)."""
    yield from _server("notebook", tmp_path_factory)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, artifacts: Path) -> Iterator[Any]:
    """A page in a fresh context that records dialogs, page errors and off-host requests."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.mp_dialogs, pg.mp_errors, pg.mp_external = [], [], []

    def on_dialog(dialog: Any) -> None:
        pg.mp_dialogs.append(dialog.message)
        dialog.dismiss()

    def on_error(err: Any) -> None:
        text = str(err)
        if not any(p.search(text) for p in KNOWN_PAGE_ERRORS):
            pg.mp_errors.append(text)

    def on_request(req: Any) -> None:
        if not re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]", req.url) and not req.url.startswith(
            ("data:", "blob:", "about:")
        ):
            pg.mp_external.append(req.url)

    pg.on("dialog", on_dialog)
    pg.on("pageerror", on_error)
    pg.on("request", on_request)
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            try:
                pg.screenshot(
                    path=str(artifacts / f"{request.node.name}-failure.png"), full_page=True
                )
            except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
                pass
        context.close()


@pytest.fixture
def open_notebook(page: Any, request: pytest.FixtureRequest) -> Callable[..., Notebook]:
    """Factory: ``open_notebook(cells, server=None, name=None) -> Notebook`` (Lab by default)."""

    def _open(
        cells: list[str], server: JupyterServer | None = None, name: str | None = None
    ) -> Notebook:
        srv = server if server is not None else request.getfixturevalue("lab_server")
        return Notebook.open(page, srv, cells, name=name)

    return _open
