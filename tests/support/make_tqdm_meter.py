"""Regenerate js/test/fixtures/tqdm_meter.json: tqdm's own ``format_meter`` text for sample bars.

    .venv/bin/python tests/support/make_tqdm_meter.py          # rewrite the fixture
    .venv/bin/python tests/support/make_tqdm_meter.py --check  # exit 1 if it is stale

Each sample is a ``format_dict`` (what PanelTqdm reads); the fixture pairs the ``_progress``
record the kernel makes of it (training/progress.py ``_bar_record``'s fields) with the line
``tqdm.format_meter(..., ncols=0)`` prints, which js/src/logic/progress.ts ``meterLine`` must
reproduce character for character (js/test/logic/progress.test.ts).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tqdm.std import tqdm

FIXTURE = Path(__file__).resolve().parents[2] / "js" / "test" / "fixtures" / "tqdm_meter.json"

# (n, total, elapsed s, rate /s or None, prefix, unit, postfix): ties of Python's rounding
# (1/8 = 12.5 %, rate 0.125), slow rates (inverted to s/it), hours, no total, n past total.
SAMPLES: list[tuple[Any, ...]] = [
    (9, 20, 3.6, 2.5, "epoch", "it", "loss=0.31"),
    (1, 8, 0.4, 2.5, "epoch", "it", ""),
    (2, 3, 1.0, 2.0, "", "it", ""),
    (3, 10, 24.0, 0.125, "train: ", "batch", "loss=1.23e+03, acc=0.5"),
    (150, 150, 7.3, 20.54794520547945, "batch", "it", ""),
    (7, None, 3.6, 12.5, "stream", "img", ""),
    (40, 1000, 3725.0, 123.456, "epoch", "it", "lr=0.001"),
    (110, 100, 10.0, 11.0, "over", "it", ""),
    (0, 5, 0.0, None, "start", "it", ""),
    (4, 4, 4.0, 1.0, "done", "epoch", ""),
    (999, 1000, 59.99, 16.65, "", "sample", "x=<b>"),
]


def fixture() -> str:
    cases = []
    for n, total, elapsed, rate, prefix, unit, postfix in SAMPLES:
        meter = tqdm.format_meter(n, total, elapsed, ncols=0, prefix=prefix, unit=unit,
                                  rate=rate, postfix=postfix or None)
        remaining = (total - n) / rate if rate and total else None
        record = {"id": 1, "level": 0, "run": 1, "desc": prefix, "n": n, "total": total,
                  "unit": unit, "rate": rate, "elapsed": elapsed, "remaining": remaining,
                  "postfix": postfix, "state": "done" if total and n == total else "running",
                  "error": ""}
        cases.append({"record": record, "meter": meter})
    return json.dumps(cases, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = fixture()
    if "--check" in argv:
        return 0 if FIXTURE.read_text(encoding="utf-8") == text else 1
    FIXTURE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
