"""Regenerate js/test/fixtures/*.json: the real kernel state of two panels, as the view gets it.

    .venv/bin/python tests/support/make_js_fixtures.py          # rewrite the fixtures
    .venv/bin/python tests/support/make_js_fixtures.py --check  # exit 1 if they are stale

The vitest suite renders these, so the JS tests run on what the Python side really sends; the
check runs in pytest (tests/panel/test_contract.py), so a change to the wire that leaves the
fixtures behind fails CI. Binary buffers are stored as ``{"__b64__": ...}`` in place of the
memoryview (js/test/helpers.ts revives them as DataViews).
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
FIXTURES = HERE.parents[1] / "js" / "test" / "fixtures"

#: Traits written to the fixtures (the state a freshly displayed panel has).
TRAITS = ("_summary", "_params", "_param_stats", "_hist", "_error")


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        return {"__b64__": base64.b64encode(value.tobytes()).decode("ascii")}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def fixtures() -> dict[str, str]:
    """File name -> JSON text, made from real panels (seeded)."""
    from zoo import HostileNames, IrisMLP

    from modelpanel import ModelPanel

    out = {}
    for name, make in (("iris.json", IrisMLP), ("hostile.json", HostileNames)):
        torch.manual_seed(0)
        panel = ModelPanel(make(), input_size=(1, 4))
        state = {t: _plain(getattr(panel, t)) for t in TRAITS}
        panel.close()
        out[name] = json.dumps(state, indent=1, ensure_ascii=False) + "\n"
    return out


def main(argv: list[str]) -> int:
    made = fixtures()
    if "--check" in argv:
        stale = [n for n, text in made.items() if (FIXTURES / n).read_text(encoding="utf-8") != text]
        if stale:
            print(f"stale JS fixtures: {', '.join(stale)}; run: .venv/bin/python {Path(__file__).relative_to(HERE.parents[1])}")
            return 1
        return 0
    for name, text in made.items():
        (FIXTURES / name).write_text(text, encoding="utf-8")
        print(f"wrote {FIXTURES / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
