"""Write the teaching notebooks from their cell sources (outputs cleared).

The cells live in ``notebooks/_cells_0N.py``, one module per notebook, so their source stays
reviewable as plain Python: edit those, then run ``.venv/bin/python notebooks/_build_notebooks.py``.
tests/notebooks/test_notebooks.py checks that the committed .ipynb files match this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _cells_01 import CELLS as NB01  # noqa: E402
from _cells_02 import CELLS as NB02  # noqa: E402
from _cells_03 import CELLS as NB03  # noqa: E402
from _cells_04 import CELLS as NB04  # noqa: E402
from _cells_01_zh import CELLS as NB01_ZH  # noqa: E402
from _cells_05 import CELLS as NB05  # noqa: E402

NOTEBOOKS = {
    "01_quickstart.ipynb": NB01,
    "02_cnn.ipynb": NB02,
    "03_monitoring.ipynb": NB03,
    "04_inference.ipynb": NB04,
    "01_quickstart.zh-CN.ipynb": NB01_ZH,  # the Chinese edition of 01
    "05_distributed.ipynb": NB05,
}

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """One notebook from ``(kind, source)`` pairs; kind is "md" or "code"."""
    nb = nbformat.v4.new_notebook()
    # Without a kernelspec JupyterLab asks the reader to pick a kernel (docs: E2E.md §3).
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source) in enumerate(cells):
        source = source.strip("\n")
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        # Stable ids keep diffs small when the script is re-run.
        cell["id"] = f"cell-{i:02d}"
        nb.cells.append(cell)
    return nb


def render(name: str) -> str:
    """The exact text of one notebook file."""
    return nbformat.writes(build(NOTEBOOKS[name])) + "\n"


def main() -> None:
    for name in NOTEBOOKS:
        (HERE / name).write_text(render(name), encoding="utf-8")


if __name__ == "__main__":
    main()
