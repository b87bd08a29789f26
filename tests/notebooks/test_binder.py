"""The Binder launch, simulated on this machine: a fresh environment built only from binder/.

What repo2docker does for this repository, step by step, without Docker:

1. clone the repository: here, a copy of the files git tracks (or would track: untracked files
   that are not ignored), so no .venv, no node_modules, no built bundle come along;
2. its base image provides Python, Node 20 and Jupyter; the kernel side of that is ipykernel,
   installed here into a fresh ``python -m venv``;
3. ``pip install -r binder/requirements.txt`` from the repository root;
4. run ``binder/postBuild``;
5. open notebooks/01_quickstart.ipynb: here, execute it top to bottom in that environment.

One substitution, because this machine has no internet beyond PyPI/npm: the PyTorch CPU index
line is pointed at a local folder holding the same ``torch-*+cpu`` wheel
(``MODELPANEL_TORCH_WHEELS``, default /opt/wheels). pip's cache is reused, so a repeat run
installs from disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
TORCH_INDEX_LINE = "--extra-index-url https://download.pytorch.org/whl/cpu"
WHEELS = Path(os.environ.get("MODELPANEL_TORCH_WHEELS", "/opt/wheels"))

pytestmark = pytest.mark.notebooks  # it executes notebook 01; CI runs it with the notebooks


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 900) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def _lap(timings: dict[str, float], name: str, start: float) -> None:
    """Record and print one stage's time (visible with ``pytest -s``, also when a later stage fails)."""
    timings[name] = time.perf_counter() - start
    print(f"\nbinder simulation: {name}: {timings[name]:.1f} s", flush=True)


def _clone(dest: Path) -> None:
    """The files a clone of the repository would hold (committed or about to be)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _base_python() -> str:
    """The system interpreter (not this .venv's), as a fresh image would have."""
    candidate = Path(sys.base_prefix) / "bin" / "python3"
    return str(candidate if candidate.exists() else shutil.which("python3"))


def test_binder_files_ask_for_cpu_torch_and_this_package():
    lines = [ln.strip() for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    reqs = [ln for ln in lines if ln and not ln.startswith("#")]
    assert TORCH_INDEX_LINE in reqs
    assert any(r.startswith("torch==") and r.endswith("+cpu") for r in reqs)
    assert "." in reqs  # the package itself, built from the checkout
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    # No environment.yml: repo2docker would then ignore requirements.txt's pip options.
    assert not (ROOT / "binder" / "environment.yml").exists()


def test_binder_simulation_runs_notebook_01(tmp_path):
    wheels = sorted(WHEELS.glob("torch-*+cpu-*.whl")) if WHEELS.is_dir() else []
    if not wheels:
        pytest.skip(f"no local CPU torch wheel in {WHEELS}; set MODELPANEL_TORCH_WHEELS to a folder with one")
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node and npm are needed to build the widget (repo2docker's base image has Node 20)")
    timings: dict[str, float] = {}
    repo = tmp_path / "repo"
    _clone(repo)
    assert not (repo / ".venv").exists() and not (repo / "js" / "node_modules").exists()
    assert not (repo / "src" / "modelpanel" / "static" / "widget.js").exists()

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    venv = tmp_path / "venv"
    t = time.perf_counter()
    _run([_base_python(), "-m", "venv", str(venv)], repo, env)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    py = str(venv / "bin" / "python")
    # The kernel part of repo2docker's base environment.
    _run([py, "-m", "pip", "install", "-q", "ipykernel"], repo, env)
    _lap(timings, "venv + base", t)

    text = (repo / "binder" / "requirements.txt").read_text()
    assert text.count(TORCH_INDEX_LINE) == 1
    local = repo / "binder" / "requirements.local.txt"
    local.write_text(text.replace(TORCH_INDEX_LINE, f"--find-links {WHEELS}"))
    t = time.perf_counter()
    # --no-compile: skip writing .pyc for all of torch up front (this step took 70 s with it,
    # 30 s without, one run each); Python compiles what the notebook imports when it imports it.
    _run([py, "-m", "pip", "install", "-q", "--no-compile", "-r", str(local)], repo, env)
    _lap(timings, "pip install -r binder/requirements.txt", t)

    t = time.perf_counter()
    out = _run([str(repo / "binder" / "postBuild")], repo, env)
    _lap(timings, "postBuild", t)
    assert "modelpanel ready" in out

    where = _run([py, "-c", "import json, modelpanel, torch; print(json.dumps("
                  "[modelpanel.__file__, torch.__version__, torch.version.cuda]))"], tmp_path, env)
    module_file, torch_version, cuda = json.loads(where)
    assert module_file.startswith(str(venv)), f"modelpanel came from {module_file}, not the Binder env"
    assert torch_version.endswith("+cpu") and cuda is None

    # A kernelspec for the fresh environment, found through JUPYTER_PATH only.
    kernels = tmp_path / "jupyter" / "kernels" / "binder-sim"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [py, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Binder simulation", "language": "python",
        "env": {"PATH": env["PATH"], "VIRTUAL_ENV": str(venv)},
    }))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(tmp_path / "jupyter")
    try:
        nb = nbformat.read(repo / "notebooks" / "01_quickstart.ipynb", as_version=4)
        t = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="binder-sim",
                       resources={"metadata": {"path": str(repo / "notebooks")}}).execute()
        _lap(timings, "notebook 01", t)
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old
    texts = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "total: 83" in texts and "test accuracy" in texts
