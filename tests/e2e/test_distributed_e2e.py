"""A distributed job in a real JupyterLab (issue 14, point 4): the job view and the launching
cell's line.

The notebook makes a panel in the kernel and forks 2 ranks with
``torch.multiprocessing.start_processes(..., start_method="fork")`` that join a gloo process
group and train a DDP model (the code of tests/distributed and notebooks/05_distributed). Then:

- the panel's job view, under the header whatever tab is open, reads world size 2 and backend
  gloo, one row per rank with its steps/s as the kernel's ``panel.job["rates"]`` has them, the
  slowest rank (the lower of those two rates, worked out here) highlighted and named, each
  rank's latest loss;
- the cell that ran ``start_processes`` has its own progress line with rank 0's bar, 40/40;
- a second job whose rank 1 raises after its loop: the cell fails, the job view's failure line
  names rank 1, the exception and its message, and the ranks' rates stay shown.

Every text of the job view reads at WCAG AA (4.5:1) in JupyterLab Light and Dark. Screenshots
go to tests/e2e/artifacts; Light's is docs/gallery-distributed.png (written when missing, or
rewritten with ``MODELPANEL_UPDATE_SCREENSHOT=1``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from jupyter_driver import REPO, CellError, kernel_value
from panel_tabs import open_tab
from playwright.sync_api import expect
from test_panel_e2e import assert_clean, panel_root
from test_theme_e2e import COLOR_JS, CONTRAST_JS, THEMES, WCAG_AA, set_theme

GALLERY = REPO / "docs" / "gallery-distributed.png"

SETUP = """\
import socket, time
import torch, torch.distributed as dist, torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from modelpanel import ModelPanel
torch.set_num_threads(1)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
panel = ModelPanel(model, input_size=(1, 8), grad_norms=True)
panel"""

TRAIN = """\
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def train(rank, port, fail):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        net = DDP(model)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        g = torch.Generator().manual_seed(rank)
        for step in panel.progress(range(40), desc="step"):
            x = torch.randn(32, 8, generator=g)
            loss = nn.functional.cross_entropy(net(x), (x[:, 0] > 0).long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            panel.log(loss=loss)
            time.sleep(0.05)
        if fail and rank == 1:  # after training, e.g. while saving: the rates are in by then
            raise ValueError("rank one failed on purpose")
    finally:
        dist.destroy_process_group()

def launch(fail=False):
    mp.start_processes(train, args=(free_port(), fail), nprocs=2, start_method="fork")"""

JOB_JS = """root => {
  const job = root.querySelector('.mp-job');
  const items = Object.fromEntries(Array.from(job.querySelectorAll('.mp-job-item'))
    .map(i => [i.dataset.key, i.querySelector('dd').textContent]));
  const rows = Array.from(job.querySelectorAll('tr.mp-job-rank')).map(tr => ({
    rank: Number(tr.dataset.rank), rate: tr.querySelector('.mp-job-rate').textContent,
    slowest: tr.classList.contains('mp-job-slowest'),
    badge: tr.querySelector('.mp-job-badge')?.textContent ?? null,
    bar: tr.querySelector('.mp-job-bar').getBoundingClientRect().width,
    bg: getComputedStyle(tr.querySelector('.mp-job-bar')).backgroundColor,
    cells: Array.from(tr.querySelectorAll('td')).map(td => td.textContent),
  }));
  const heads = Array.from(job.querySelectorAll('th')).map(th => th.textContent);
  return {items, rows, heads, failure: job.querySelector('.mp-job-failure')?.textContent ?? null};
}"""


def tqdm_rate(rate: float) -> str:
    """tqdm's rate_fmt, as the job view writes it: 12.34it/s, or 1.23s/it below one per second."""
    return f"{1 / rate:.2f}s/it" if rate < 1 else f"{rate:.2f}it/s"


@pytest.mark.parametrize("key", ["light", "dark"])
def test_job_view_and_the_launching_cells_line(key: str, open_notebook: Any, page: Any, lab_server: Any,
                                               artifacts: Path) -> None:
    set_theme(lab_server, None if key == "light" else THEMES[key])
    try:
        check_job(key, open_notebook, page, artifacts)
    finally:
        set_theme(lab_server, None)  # the session's other tests expect JupyterLab's default


def check_job(key: str, open_notebook: Any, page: Any, artifacts: Path) -> None:
    nb = open_notebook([SETUP, TRAIN, "launch()", "launch(fail=True)", ""], name=f"distributed-{key}")
    assert page.evaluate("() => document.body.dataset.jpThemeName") == THEMES[key]
    scratch = 4
    where = kernel_value(nb, scratch, "__import__('modelpanel').__file__")
    assert Path(where).resolve().is_relative_to(REPO / "src"), where
    nb.run(0)
    root = panel_root(nb, 0)
    expect(root.locator(".mp-job")).to_be_hidden()  # one process: no job
    nb.run(1)

    # -- a job that runs to its end ------------------------------------------------------------
    nb.run(2, timeout=120_000)
    job = kernel_value(nb, scratch, "panel.job")
    assert (job["world_size"], job["backend"], job["state"]) == (2, "gloo", "done")
    rates = job["rates"]
    assert len(rates) == 2 and all(r and r > 0 for r in rates)
    slowest = min(range(2), key=lambda r: rates[r])
    for tab in ("model", "parameters", "training", "inference"):  # whatever tab is open
        open_tab(root, tab)
        expect(root.locator(".mp-job")).to_be_visible()
    expect(root.locator('.mp-job-item[data-key="state"] dd')).to_have_text("done")
    shown = root.evaluate(JOB_JS)
    assert shown["items"]["world"] == "2" and shown["items"]["backend"] == "gloo"
    assert shown["items"]["step"] == "39"  # steps 0..39 logged
    assert shown["heads"] == ["Rank", "Throughput", "", "loss"]
    assert [r["rate"] for r in shown["rows"]] == [tqdm_rate(r) for r in rates]
    assert [r["rank"] for r in shown["rows"] if r["slowest"]] == [slowest]
    assert [r["badge"] for r in shown["rows"]] == ["slowest" if r == slowest else None for r in range(2)]
    # The slowest rank's bar is the shorter one (80 px is the fastest's) and takes another colour.
    bars = {r["rank"]: r for r in shown["rows"]}
    assert bars[slowest]["bar"] <= bars[1 - slowest]["bar"] and bars[1 - slowest]["bar"] == pytest.approx(80, abs=1)
    assert bars[slowest]["bg"] != bars[1 - slowest]["bg"]
    losses = [f"{v:.4g}" for v in job["metrics"]["loss"]]
    assert [float(r["cells"][3]) for r in shown["rows"]] == [float(v) for v in losses]
    # The launching cell's own line: rank 0's bar, to its end.
    line = nb.output(2).locator(".mp-line")
    expect(line.locator('.mp-bar[data-state="done"]')).to_have_count(1)
    expect(line.locator(".mp-bar-count")).to_contain_text("40/40")
    expect(line.locator(".mp-bar-desc")).to_have_text("step")

    # -- a job whose rank 1 raises ---------------------------------------------------------------
    with pytest.raises(CellError, match="rank one failed on purpose"):
        nb.run(3, timeout=120_000)
    failure = kernel_value(nb, scratch, "panel.job['failure']")
    assert failure == {"rank": 1, "type": "ValueError", "message": "rank one failed on purpose"}
    expect(root.locator(".mp-job-failure")).to_have_text("Rank 1 failed: ValueError: rank one failed on purpose")
    expect(root.locator('.mp-job-item[data-key="state"] dd')).to_have_text("failed")
    # The loop ended before the rank failed: its line stays done (tests/distributed checks a
    # failure inside the loop turning the line's bar to an error).
    expect(nb.output(3).locator('.mp-line .mp-bar[data-state="done"]')).to_have_count(1)
    shown = root.evaluate(JOB_JS)
    assert [r["rate"] for r in shown["rows"]] == [tqdm_rate(r) for r in kernel_value(nb, scratch, "panel.job['rates']")]

    # -- readable in this theme, and the pictures ----------------------------------------------
    open_tab(root, "training")
    page.mouse.move(0, 0)
    page.evaluate(f"() => {{ {COLOR_JS} }}")
    measured = root.evaluate(CONTRAST_JS, ".mp-job")
    texts = {m["text"] for m in measured}
    assert {"slowest", "Throughput"} <= texts and any(t.startswith("Rank 1 failed") for t in texts), texts
    low = [m for m in measured if m["ratio"] < WCAG_AA]
    assert not low, f"text under {WCAG_AA}:1 contrast:\n" + "\n".join(map(str, low))
    page.set_viewport_size({"width": 1400, "height": 1400})
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(artifacts / f"lab-distributed-{key}.png"))
    if key == "light" and (os.environ.get("MODELPANEL_UPDATE_SCREENSHOT") == "1" or not GALLERY.exists()):
        root.screenshot(path=str(GALLERY))
    page.set_viewport_size({"width": 1400, "height": 1000})
    assert_clean(page)
