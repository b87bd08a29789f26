"""The teaching notebooks: committed as built (outputs cleared), and each runs top to bottom.

Also the GitHub/nbviewer case: a saved notebook whose widget state is gone still shows the
panel's static snapshot (nbconvert to HTML without ``metadata.widgets``).

    .venv/bin/python -m pytest tests/notebooks/test_notebooks.py -q -s      # -s prints each run time
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
# The promise for a CPU: each notebook under two minutes. Override on slower machines.
BUDGET_S = float(os.environ.get("MODELPANEL_NOTEBOOK_BUDGET_S", "120"))


def _builder():
    spec = importlib.util.spec_from_file_location("_build_notebooks", NOTEBOOK_DIR / "_build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILDER = _builder()
NAMES = sorted(BUILDER.NOTEBOOKS)


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel of this interpreter; raises CellExecutionError."""
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def test_notebooks_are_listed():
    assert NAMES == ["01_quickstart.ipynb", "01_quickstart.zh-CN.ipynb", "02_cnn.ipynb", "03_monitoring.ipynb",
                     "04_inference.ipynb", "05_distributed.ipynb"]
    on_disk = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
    assert on_disk == NAMES, "a notebook exists that _build_notebooks.py does not write (or the reverse)"


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_matches_builder(name):
    """Edit notebooks/_cells_*.py and run the builder; never edit the .ipynb by hand."""
    committed = (NOTEBOOK_DIR / name).read_text(encoding="utf-8")
    assert committed == BUILDER.render(name), (
        f"notebooks/{name} differs from what notebooks/_build_notebooks.py writes; "
        "run `.venv/bin/python notebooks/_build_notebooks.py`"
    )
    nb = nbformat.reads(committed, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, record_property):
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    start = time.perf_counter()
    execute(nb, NOTEBOOK_DIR)
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 1))
    print(f"\n{name}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert seconds < BUDGET_S, f"{name} took {seconds:.0f} s; the budget is {BUDGET_S:.0f} s on a CPU"


@pytest.mark.notebooks
def test_saved_notebook_shows_snapshot_without_widget_state(tmp_path):
    """What GitHub and nbviewer show: the panel's snapshot output, as it was after the last
    loop and evaluation (later cells update it by its display id), without widget state."""
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import sys, json, torch\n"
            f"sys.path.insert(0, {str(ROOT / 'tests' / 'support')!r})\n"
            "from zoo import IrisMLP\n"
            "from modelpanel import ModelPanel\n"
            "torch.manual_seed(0)\n"
            "model = IrisMLP()\n"
            "X, y = torch.randn(50, 4), torch.randint(0, 3, (50,))\n"
            "panel = ModelPanel(model, input_size=(1, 4))"
        ),
        nbformat.v4.new_code_cell("panel"),
        nbformat.v4.new_code_cell(
            "opt = torch.optim.SGD(model.parameters(), lr=0.5)\n"
            "for epoch in panel.progress(range(20), desc='epoch'):\n"
            "    loss = torch.nn.functional.cross_entropy(model(X), y)\n"
            "    opt.zero_grad(); loss.backward(); opt.step()\n"
            "    panel.log(loss=loss)"
        ),
        nbformat.v4.new_code_cell(
            "result = panel.evaluate(X, y)\n"
            "with torch.no_grad():\n"
            "    acc = float((model.eval()(X).argmax(1) == y).float().mean()); model.train()\n"
            "print(json.dumps({'loss': float(loss), 'accuracy': acc}))"
        ),
    ]
    execute(nb, tmp_path, timeout=120)
    printed = "".join(o.get("text", "") for o in nb.cells[3].outputs if o.get("name") == "stdout")
    expected = json.loads(printed.strip().splitlines()[-1])
    view, snap = nb.cells[1].outputs
    assert list(view["data"]) == ["application/vnd.jupyter.widget-view+json"]  # the live widget
    data = snap["data"]
    assert sorted(data) == ["text/html", "text/plain"]
    plain = data["text/plain"]
    assert "Total params: 83" in plain and "fc1 (Linear)" in plain, "the full text table"
    for text in (plain, data["text/html"]):
        assert "last loop epoch 20/20 it, done" in text
        assert f"loss {expected['loss']:.4g} at step 19" in text
        assert f"accuracy {expected['accuracy']:.2%}, 50 samples on cpu" in text
        assert "Snapshot taken " in text
    # The training cell: its progress line's view, then the static line nbclient kept current
    # by display id: tqdm's meter of the finished bar (20 of the range's 20) and how it ended.
    line_view, line = nb.cells[2].outputs
    assert list(line_view["data"]) == ["application/vnd.jupyter.widget-view+json"]
    assert line["data"]["text/plain"].startswith("epoch: 100%|██████████| 20/20 [")
    assert line["data"]["text/plain"].endswith("] (done)")

    nb.metadata.pop("widgets", None)  # GitHub/nbviewer: no widget manager, no state
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "modelpanel-snapshot" in html
    snapshot = html[html.index("modelpanel-snapshot"):]
    for needle in ("IrisMLP", "fc1", "fc2", "total params: <b>83</b>",
                   "weight 10×4 = 40 + bias 10 = 50", "weight 3×10 = 30 + bias 3 = 33",
                   f"accuracy: <b>{expected['accuracy']:.1%}</b>"):
        assert needle in snapshot, needle
    assert snapshot.count("<svg") >= 5  # the four weight histograms and the loss curve
    assert 'class="mp-line-bar" data-state="done"' in html and "20/20 [" in html
