"""PanelTqdm against tqdm's own behaviour, the bar board, and the bounded metric log."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from tqdm.std import tqdm

from modelpanel.errors import InputError
from modelpanel.panel.state import metrics_state
from modelpanel.panel.wire import wire_to_array
from modelpanel.training.metric_log import BoundedHistory, MetricLog
from modelpanel.training.progress import BarBoard, PanelTqdm


class Recorder:
    """Stands in for the panel: counts the board's change notifications."""

    def __init__(self) -> None:
        self.calls: list[bool] = []

    def __call__(self, force: bool) -> None:
        self.calls.append(force)


@pytest.fixture
def board() -> BarBoard:
    return BarBoard(Recorder())


def records(board: BarBoard) -> list[dict]:
    return board.snapshot()


def test_counts_postfix_and_desc_match_tqdm(board):
    ref = tqdm(total=10, desc="ref", file=io.StringIO())
    bar = PanelTqdm(total=10, desc="ref", board=board)
    for t in (ref, bar):
        t.update(3)
        t.update(2)
        t.set_postfix({"loss": 0.31234, "acc": 0.5}, lr=1e-3)
        t.set_description("train")
    assert bar.n == ref.n == 5
    assert bar.postfix == ref.postfix
    assert bar.desc == ref.desc == "train: "
    rec = records(board)[0]
    assert (rec["n"], rec["total"], rec["desc"], rec["postfix"]) == (5, 10, "train: ", ref.postfix)
    assert rec["state"] == "running" and rec["level"] == 0
    ref.close()
    bar.close()
    assert records(board)[0]["state"] == "done"


def test_rate_and_remaining_come_from_format_dict(board):
    bar = PanelTqdm(total=100, board=board, mininterval=0)
    bar.update(50)
    fd = bar.format_dict
    rec = records(board)[0]
    rate = fd["rate"] or (fd["n"] - fd["initial"]) / fd["elapsed"]
    assert rec["rate"] == pytest.approx(rate, rel=0.05)
    assert rec["remaining"] == pytest.approx(50 / rec["rate"], rel=0.05)
    assert rec["elapsed"] == pytest.approx(fd["elapsed"], abs=0.05)


def test_iterable_form_counts_and_finishes(board):
    bar = PanelTqdm(range(7), desc="epoch", unit="epoch", board=board)
    assert list(bar) == list(range(7))
    rec = records(board)[0]
    assert (rec["n"], rec["total"], rec["unit"], rec["state"]) == (7, 7, "epoch", "done")


def test_nested_inner_bar_replaces_itself_each_epoch(board):
    for _ in PanelTqdm(range(4), desc="epoch", board=board):
        for _ in PanelTqdm(range(5), desc="batch", board=board):
            recs = records(board)
            assert [r["level"] for r in recs] == [0, 1]
    recs = records(board)
    assert [(r["desc"], r["state"]) for r in recs] == [("epoch", "done"), ("batch", "done")]


def test_leave_false_bar_disappears_on_close(board):
    with PanelTqdm(total=2, board=board) as outer:
        for _ in PanelTqdm(range(3), board=board, leave=False):
            pass
        assert [r["id"] for r in records(board)] == [outer._board_id]
        outer.update(2)


def test_finished_runs_stay_listed_as_tqdm_leaves_them(board):
    """leave=True (tqdm's default): a finished loop's bars stay when the next loop starts,
    each run with its outer bar and the last inner bar, and its own final counts."""
    for total in (2, 3, 4):  # three "cells", each running a loop of its own length
        for _ in PanelTqdm(range(total), desc="epoch", board=board):
            for _ in PanelTqdm(range(5), desc="batch", board=board):
                pass
    recs = records(board)
    assert [(r["desc"], r["level"], r["n"], r["total"], r["state"]) for r in recs] == [
        ("epoch", 0, 2, 2, "done"), ("batch", 1, 5, 5, "done"),
        ("epoch", 0, 3, 3, "done"), ("batch", 1, 5, 5, "done"),
        ("epoch", 0, 4, 4, "done"), ("batch", 1, 5, 5, "done")]
    # Each record names its run: the id of the outermost bar it ran under.
    runs = [r["run"] for r in recs]
    assert runs[0::2] == [r["id"] for r in recs[0::2]] and runs[0::2] == runs[1::2]


def test_finished_runs_are_bounded_oldest_first(board):
    keep = BarBoard.keep_runs
    for i in range(keep + 5):
        for _ in PanelTqdm(range(1), desc=f"run {i}", board=board):
            pass
    recs = records(board)
    assert [r["desc"] for r in recs] == [f"run {i}" for i in range(5, keep + 5)]
    # A running loop is never dropped, and counts as one of the kept runs.
    with PanelTqdm(total=3, desc="live", board=board):
        recs = records(board)
        assert len(recs) == keep and recs[-1]["desc"] == "live" and recs[0]["desc"] == "run 6"


def test_leave_false_runs_go_and_leave_true_ones_stay(board):
    for _ in PanelTqdm(range(2), desc="kept", board=board):
        pass
    for _ in PanelTqdm(range(2), desc="gone", board=board, leave=False):
        for _ in PanelTqdm(range(2), desc="inner", board=board):
            pass
    # tqdm.notebook hides only the leave=False bar itself; its inner leave=True bar stays.
    assert [(r["desc"], r["state"]) for r in records(board)] == [("kept", "done"), ("inner", "done")]


def test_stopped_and_failed_runs_stay_listed(board):
    for i in PanelTqdm(range(10), desc="broke", board=board):
        if i == 3:
            break
    with pytest.raises(ValueError), PanelTqdm(total=5, desc="raised", board=board):
        raise ValueError("nan loss")
    for _ in PanelTqdm(range(2), desc="next", board=board):
        pass
    assert [(r["desc"], r["state"], r["error"]) for r in records(board)] == [
        ("broke", "stopped", "stopped at 3/10"), ("raised", "error", "ValueError: nan loss"),
        ("next", "done", "")]


def test_exception_in_with_block_shows_error_and_position(board):
    with pytest.raises(ValueError), PanelTqdm(total=10, board=board) as bar:
        bar.update(4)
        raise ValueError("loss exploded")
    rec = records(board)[0]
    assert (rec["n"], rec["state"], rec["error"]) == (4, "error", "ValueError: loss exploded")


def test_keyboard_interrupt_in_with_block(board):
    with pytest.raises(KeyboardInterrupt), PanelTqdm(total=10, board=board) as bar:
        bar.update(2)
        raise KeyboardInterrupt
    rec = records(board)[0]
    assert (rec["n"], rec["state"], rec["error"]) == (2, "error", "KeyboardInterrupt")


def test_loop_left_early_is_stopped_where_it_stopped(board):
    def train():
        for i in PanelTqdm(range(10), board=board):
            if i == 3:
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        train()
    rec = records(board)[0]
    assert (rec["n"], rec["state"], rec["error"]) == (3, "stopped", "stopped at 3/10")


def test_ipython_cell_error_upgrades_stopped_bar_to_error():
    """In a real IPython shell the cell's exception becomes the bar's reason."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.user_ns["BarBoard"], shell.user_ns["PanelTqdm"] = BarBoard, PanelTqdm
        shell.user_ns["calls"] = Recorder()
        shell.run_cell("board = BarBoard(calls)", store_history=True)
        shell.run_cell("for i in PanelTqdm(range(10), board=board):\n"
                       "    if i == 5: raise KeyError('bad batch')", store_history=True)
        rec = shell.user_ns["board"].snapshot()[0]
        assert (rec["n"], rec["state"], rec["error"]) == (5, "error", "KeyError: 'bad batch'")
        # A bar another cell left open (no `with`, never closed) does not push the next one down.
        shell.run_cell("left = PanelTqdm(total=3, board=board)", store_history=True)
        shell.run_cell("again = PanelTqdm(total=3, board=board)", store_history=True)
        recs = shell.user_ns["board"].snapshot()
        assert [(r["id"], r["level"], r["state"]) for r in recs if r["state"] == "running"] == [
            (shell.user_ns["again"]._board_id, 0, "running")]
        # The runs before it stay listed, each saying how it ended.
        assert [r["state"] for r in recs] == ["error", "stopped", "running"]
    finally:
        InteractiveShell.clear_instance()


def test_display_is_throttled_by_tqdm(board):
    calls = board._on_change.calls
    for _ in PanelTqdm(range(20000), board=board, mininterval=10):
        pass
    # open (forced) + close (forced) and at most tqdm's first refresh: no per-step calls.
    assert len(calls) <= 4


def test_tensor_postfix_is_read_only_when_drawn(board, monkeypatch):
    reads = []
    original = torch.Tensor.__float__
    monkeypatch.setattr(torch.Tensor, "__float__", lambda t: reads.append(1) or original(t))
    bar = PanelTqdm(total=100, board=board)
    for i in range(100):
        bar.set_postfix(loss=torch.tensor(1.0 / (i + 1)))
        bar.update()
    assert len(reads) == 0
    assert records(board)[0]["postfix"] == "loss=0.01"
    assert len(reads) == 1


def test_file_and_disable_keywords(board):
    off = PanelTqdm(range(3), board=board, disable=True)
    assert list(off) == [0, 1, 2]
    assert records(board) == []


def test_bounded_history_keeps_recent_exact_and_thins_old():
    hist = BoundedHistory(keep_exact=100)
    for start in range(0, 10_000, 37):  # uneven batches, as drains arrive
        hist.extend(range(start, min(start + 37, 10_000)))
    items = hist.items()
    assert len(items) <= 200
    assert items[-100:] == list(range(9_900, 10_000))
    assert items[0] == 0 and items == sorted(items)


def test_metric_log_series_steps_and_epochs():
    log = MetricLog(keep_exact=50)
    for i in range(500):
        log.add(loss=torch.tensor(float(i)), lr=0.1)
        if i % 100 == 99:
            log.add(epoch=i // 100, loss=float(i))
    log.drain()
    state = metrics_state(log)
    assert set(state) == {"loss", "lr", "loss (epoch)"}
    x = wire_to_array(state["loss"]["step"])
    y = wire_to_array(state["loss"]["value"])
    assert len(x) <= 100 and np.array_equal(x[-50:], np.arange(450, 500))
    assert np.array_equal(x, y)
    assert state["loss (epoch)"]["epoch_level"] is True
    assert list(wire_to_array(state["loss (epoch)"]["step"])) == [0, 1, 2, 3, 4]
    log.add(step=1000, loss=1.0)
    log.add(loss=2.0)
    log.drain()
    assert list(log.series()["loss"][0][-2:]) == [1000, 1001]


def test_metric_log_reads_tensors_in_one_transfer(monkeypatch):
    calls = {"cpu": 0, "item": 0}
    for name in calls:
        original = getattr(torch.Tensor, name)

        def counted(self, *a, _name=name, _orig=original, **k):
            calls[_name] += 1
            return _orig(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counted)
    log = MetricLog()
    w = torch.ones(3, requires_grad=True)
    for _ in range(1000):
        loss = (w * 2).sum()
        log.add(loss=loss, acc=torch.tensor(0.5))
    assert calls == {"cpu": 0, "item": 0}
    assert log.pending == 2000
    log.drain()
    assert calls == {"cpu": 1, "item": 0}
    assert log.series()["loss"][1][-1] == 6.0
    assert not log.series()["loss"][1].dtype == object


def test_metric_log_flags_nonfinite_and_rejects_bad_values():
    log = MetricLog()
    log.add(loss=torch.tensor(float("nan")))
    log.add(loss=1.0, acc=torch.tensor(math.inf))
    log.drain()
    assert log.nonfinite == ["loss", "acc"]
    with pytest.raises(InputError, match="0-d tensors"):
        log.add(loss=torch.ones(3))
    with pytest.raises(InputError, match="numbers or 0-d"):
        log.add(loss="0.3")
    with pytest.raises(InputError, match="at least one metric"):
        log.add(step=3)


def test_slow_steps_after_fast_ones_still_refresh(board):
    """No dynamic miniters: after 10,000 fast steps, a slow one is drawn on time."""
    import time

    calls = board._on_change.calls
    bar = PanelTqdm(total=20_000, board=board, mininterval=0.05)
    for _ in range(10_000):
        bar.update()
    before = len(calls)
    time.sleep(0.06)
    bar.update()
    assert len(calls) == before + 1, (before, len(calls))
    assert bar.miniters == 1 and not bar.dynamic_miniters
    bar.close()


def test_tqdm_meter_fixture_is_tqdms_current_output():
    """js/test/fixtures/tqdm_meter.json (the JS meter's reference) is what this tqdm prints."""
    import make_tqdm_meter

    assert make_tqdm_meter.main(["--check"]) == 0, (
        "stale: run .venv/bin/python tests/support/make_tqdm_meter.py")
