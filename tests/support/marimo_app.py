"""A marimo app that shows a ModelPanel: the widget in marimo's anywidget host.

    .venv/bin/marimo run tests/support/marimo_app.py        # or: marimo edit tests/support/marimo_app.py

tests/e2e/test_marimo.py runs it headless and checks the panel renders in Chromium.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import torch
    from torch import nn

    from modelpanel import ModelPanel

    return ModelPanel, mo, nn, torch


@app.cell
def _(ModelPanel, nn, torch):
    torch.manual_seed(0)
    # The course's Iris MLP: 4 -> 10 -> 3, 83 parameters.
    model = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 3))
    panel = ModelPanel(model, input_size=(1, 4))
    return (panel,)


@app.cell
def _(mo, panel):
    view = mo.ui.anywidget(panel)
    view  # noqa: B018 - marimo shows a cell's last expression
    return (view,)


@app.cell
def _(mo, panel):
    mo.md(f"kernel side: **{panel.summary.total_params}** parameters")
    return


if __name__ == "__main__":
    app.run()
