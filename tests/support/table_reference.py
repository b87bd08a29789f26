"""Expected values for the summary exports' tests, from torch and by hand (never from modelpanel).

``parse_table`` reads the cells back out of a ``Summary.table()`` text table.
"""

from __future__ import annotations

import copy
import math
import re

import torch
from torch import nn
from zoo import SmallCNN

CNN_INPUT = (2, 1, 28, 28)


def parse_table(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and row cells of a text table (columns found from the right-aligned headers)."""
    lines = text.splitlines()
    heavy = lines[0]
    header = lines[1]
    rows = lines[3 : lines.index(heavy, 3)]
    spans = [m.span() for m in re.finditer(r"\S+(?: \S+)*", header)]
    titles = [header[a:b] for a, b in spans]
    parsed = []
    for line in rows:
        if len(spans) == 1:
            parsed.append([line.rstrip()])
            continue
        # The tree prefix may hold double spaces ("│   ├─"); the names here hold none.
        prefix, name, second = re.fullmatch(r"([│├└─ ]*)(.*?\S)(?:\s{2,}(\S.*?))?\s*", line[: spans[1][1]]).groups()
        cells = [prefix + name, second or ""]
        cells += [line[spans[j - 1][1] : spans[j][1]].strip() for j in range(2, len(spans))]
        parsed.append(cells)
    return titles, parsed


def torch_records(model: nn.Module, x: torch.Tensor) -> dict[str, list]:
    """path -> [input shape, output shape, calls], from torch forward hooks on a copy."""
    model = copy.deepcopy(model).eval()
    records: dict[str, list] = {}

    def hook(path: str):
        def record(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
            records.setdefault(path, [list(args[0].shape), list(out.shape), 0])[2] += 1

        return record

    for path, module in model.named_modules():
        module.register_forward_hook(hook(path))
    with torch.no_grad():
        model(x)
    return records


def hand_macs(model: nn.Module, records: dict[str, list], extra: dict[str, int] | None = None) -> dict[str, int]:
    """MACs per path, by hand: Conv2d and Linear from their output shapes, plus ``extra`` (work
    done in a module's own forward); a module's figure adds up its whole subtree."""
    own = dict.fromkeys((p for p, _ in model.named_modules()), 0) | (extra or {})
    for path, m in model.named_modules():
        out = records[path][1] if path in records else None
        if isinstance(m, nn.Conv2d):
            own[path] = math.prod(out) * (m.in_channels // m.groups) * math.prod(m.kernel_size)
        elif isinstance(m, nn.Linear):
            own[path] = math.prod(out[:-1]) * m.in_features * m.out_features
    return {p: sum(v for q, v in own.items() if q == p or not p or q.startswith(p + ".")) for p in own}


def trainable_word(module: nn.Module) -> str:
    flags = [p.requires_grad for p in module.parameters()]
    return "--" if not flags else "True" if all(flags) else "False" if not any(flags) else "Partial"


def expected_cell(column: str, model: nn.Module, path: str, records: dict, macs: dict) -> str:
    """One cell of our table, from the model (path "" is the root row)."""
    module = model.get_submodule(path)
    n = sum(p.numel() for p in module.parameters())
    total = sum(p.numel() for p in model.parameters())
    input_shape, output_shape, calls = records[path]
    return {
        "input_shape": str(input_shape),
        "output_shape": str(output_shape),
        "params": f"{n:,}",
        "params_percent": f"{100 * n / total:.2f}%" if n else "--",
        "trainable": trainable_word(module),
        "calls": str(calls) if path else "",
        "macs": f"{macs[path]:,}",
    }[column]


def partly_frozen_cnn() -> nn.Module:
    """SmallCNN with every Trainable word: True, False, Partial and -- (no parameters)."""
    model = SmallCNN()
    model.features[0].weight.requires_grad_(False)  # features.0 and features: Partial
    model.classifier[4].requires_grad_(False)  # classifier.4: False
    return model
