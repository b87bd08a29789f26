"""Start a Jupyter server and drive a notebook in it with Playwright (used by conftest.py).

Kept apart from the fixtures so a benchmark or a one-off script can reuse it:

>>> with JupyterServer.start("lab", root) as server:        # doctest: +SKIP
...     nb = Notebook.open(page, server, ["print(1 + 1)"])
...     nb.run(0); assert nb.text(0).strip() == "2"

Everything here follows ../../../shared/E2E.md: the flags, the kernel-readiness wait and the
Ctrl+Enter rule come from what was measured to work on these machines.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[2]

# First cell of every notebook opened by the helpers: lets the kernel import tests/support/zoo.py.
KERNEL_PREAMBLE = f"import sys; sys.path.insert(0, {str(REPO / 'tests' / 'support')!r})"

# The idle indicator shows "idle" before any kernel exists; also wait for a real kernel name
# in the toolbar, or the first Ctrl+Enter is lost (4 of 10 Lab loads without this; E2E.md §4).
_KERNEL_READY_JS = """() => {
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const kn = document.querySelector('.jp-Toolbar-kernelName');
  const name = kn ? kn.textContent.trim() : '';
  return !!ind && ind.dataset.status === 'idle' && name !== '' && !/No Kernel/i.test(name);
}"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JupyterServer:
    """A JupyterLab or Notebook 7 server in its own process group and its own JUPYTER_* dirs.

    ``kind`` is "lab" or "notebook"; ``root`` is the server's root dir (notebooks go there);
    ``base_url`` is ``http://127.0.0.1:<port>``; ``token`` authenticates every request.
    """

    kind: str
    root: Path
    base_url: str
    token: str
    process: subprocess.Popen
    log_path: Path
    _tmp: Any = field(repr=False, default=None)

    @classmethod
    def start(cls, kind: str, root: Path, timeout: float = 90.0) -> JupyterServer:
        """Start ``python -m jupyter <kind>`` from this interpreter (so the kernel sees modelpanel)."""
        if kind not in ("lab", "notebook"):
            raise ValueError(f"kind must be 'lab' or 'notebook', got {kind!r}")
        root.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.TemporaryDirectory(prefix=f"mp-jupyter-{kind}-")
        home = Path(tmp.name)
        env = dict(os.environ)
        # Own config, data, runtime, settings and workspaces: no restored layouts or user config.
        for var, sub in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("IPYTHONDIR", "ipython"),
        ):
            (home / sub).mkdir()
            env[var] = str(home / sub)
        # No "fetch news?" toast covering the notebook.
        notif = home / "settings" / "@jupyterlab" / "apputils-extension"
        notif.mkdir(parents=True)
        (notif / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        # Lab 4 virtualises cells: off-screen cells are hidden, so Playwright cannot click a
        # cell below a tall widget. Render every cell.
        nbset = home / "settings" / "@jupyterlab" / "notebook-extension"
        nbset.mkdir(parents=True)
        (nbset / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        env.pop("ANYWIDGET_HMR", None)  # file watching threads are noise in tests
        env["PYTHONUNBUFFERED"] = "1"

        port, token = free_port(), secrets.token_hex(16)
        log_path = home / "server.log"
        cmd = [
            sys.executable, "-m", "jupyter", kind, "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_root=True",  # required when the tests run as root (CI containers)
        ]  # fmt: skip
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = cls(kind, root, f"http://127.0.0.1:{port}", token, proc, log_path, tmp)
        server._wait_ready(timeout)
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {self.kind} exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(
            f"jupyter {self.kind} not ready after {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, n: int = 40) -> str:
        """The last ``n`` lines of the server's log (attached to failures)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def url_for(self, rel_path: str, workspace: str | None = None) -> str:
        """The page that opens the notebook at ``rel_path`` (relative to root), token included.

        In Lab, ``workspace`` names a fresh workspace: without one, Lab restores the tabs of
        the previous page (the earlier tests' notebooks) next to the new one.
        """
        if self.kind == "lab":
            prefix = f"lab/workspaces/{workspace}/tree" if workspace else "lab/tree"
        else:
            prefix = "notebooks"
        return f"{self.base_url}/{prefix}/{rel_path}?token={self.token}"

    def stop(self) -> None:
        """Stop the server and the kernels it spawned (one process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> JupyterServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells with the python3 kernelspec set (no kernel dialog)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


class CellError(AssertionError):
    """A notebook cell raised in the kernel; the message holds the cell's traceback text."""


class Notebook:
    """One open notebook page: run cells in place and read their outputs.

    Cell indices count the cells passed to :meth:`open` (the hidden preamble cell is skipped).
    """

    def __init__(self, page: Any, server: JupyterServer, path: Path, offset: int) -> None:
        self.page = page
        self.server = server
        self.path = path
        self._offset = offset
        # Only the shown notebook's cells, should another notebook tab be open but hidden.
        self.cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    @classmethod
    def open(
        cls,
        page: Any,
        server: JupyterServer,
        cells: list[str],
        name: str | None = None,
        preamble: bool = True,
        timeout: float = 90_000,
    ) -> Notebook:
        """Write ``cells`` to a new notebook under the server root, open it and wait for a kernel.

        With ``preamble`` (default) a first cell that puts tests/ on the kernel's sys.path is
        added and run, so cells can ``from zoo import IrisMLP``.
        """
        name = name or f"nb-{secrets.token_hex(4)}"
        all_cells = ([KERNEL_PREAMBLE] if preamble else []) + list(cells)
        path = write_notebook(server.root / f"{name}.ipynb", all_cells)
        page.goto(server.url_for(path.relative_to(server.root).as_posix(), workspace=name))
        nb = cls(page, server, path, offset=1 if preamble else 0)
        nb.cells.first.wait_for(timeout=timeout)
        page.wait_for_function(_KERNEL_READY_JS, timeout=timeout)
        if preamble:
            nb._run_abs(0, timeout=timeout)
        return nb

    def cell(self, i: int) -> Any:
        """Locator of cell ``i``."""
        return self.cells.nth(i + self._offset)

    def output(self, i: int) -> Any:
        """Locator of cell ``i``'s output area(s)."""
        return self.cell(i).locator(".jp-OutputArea-output")

    def text(self, i: int) -> str:
        """All text in cell ``i``'s outputs."""
        out = self.output(i)
        return "\n".join(out.nth(k).inner_text() for k in range(out.count()))

    def run(self, i: int, timeout: float = 60_000) -> Any:
        """Run cell ``i`` in place (Ctrl+Enter), wait for it to finish; return its output locator.

        Raises :class:`CellError` with the traceback when the cell raised in the kernel.
        """
        return self._run_abs(i + self._offset, timeout)

    def _run_abs(self, k: int, timeout: float) -> Any:
        cell = self.cells.nth(k)
        prompt = cell.locator(".jp-InputPrompt")
        before = prompt.inner_text().strip()
        cell.scroll_into_view_if_needed()
        cell.locator(".cm-content").click()
        # Ctrl+Enter runs in place; Shift+Enter on the last cell would append a cell (E2E.md §4).
        self.page.keyboard.press("Control+Enter")
        # Execution counts only grow, so a new number means this run finished.
        self.page.wait_for_function(
            """([el, before]) => { const t = el.textContent.trim();
                 return /\\[\\d+\\]/.test(t) && t !== before; }""",
            arg=[prompt.element_handle(), before],
            timeout=timeout,
        )
        # Lab renders tracebacks and warnings with the same stderr mime type: tell them apart
        # by IPython's traceback header.
        stderr = cell.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        )
        for n in range(stderr.count()):
            text = stderr.nth(n).inner_text()
            if "Traceback (most recent call last)" in text:
                raise CellError(f"cell {k - self._offset} raised:\n{text}")
        return cell.locator(".jp-OutputArea-output")

    def set_source(self, i: int, code: str) -> None:
        """Replace cell ``i``'s source (one line is safest: the editor auto-indents new lines)."""
        self.cell(i).scroll_into_view_if_needed()
        editor = self.cell(i).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+A")
        # insert_text sends one input event: no auto-closed brackets or quotes doubling up.
        self.page.keyboard.insert_text(code)

    def run_code(self, i: int, code: str, timeout: float = 60_000) -> str:
        """Put ``code`` in cell ``i``, run it and return its output text (kernel-side checks)."""
        self.set_source(i, code)
        self.run(i, timeout)
        return self.text(i)


def kernel_value(nb: Notebook, i: int, expr: str, timeout: float = 60_000) -> Any:
    """Evaluate ``expr`` in the kernel through cell ``i`` and return it (JSON round trip).

    For assertions on the kernel's side of the state (E2E.md: the DOM can show a value the
    kernel never received).
    """
    marker = "KV:"
    text = nb.run_code(i, f"import json as _j; print({marker!r} + _j.dumps({expr}))", timeout)
    m = re.search(re.escape(marker) + r"(.*)", text)
    if not m:
        raise AssertionError(f"no value printed for {expr!r}; cell output was:\n{text}")
    return json.loads(m.group(1))
