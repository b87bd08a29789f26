"""A model on the meta device in a real JupyterLab (issue 13, item 3), next to a real one.

- The fake trace counted the MACs: the header shows them at once, with no "Count MACs" button,
  and says where they came from; a real-traced model keeps the button.
- The header's training-memory card shows what one AdamW step needs, as Summary.memory() says.
- Meta tensors have no values: the histogram view draws none and says why; a real model's
  first tensors still get theirs.

Expected figures come from the kernel (``p.summary``) and from the layer sizes.
"""

from __future__ import annotations

from typing import Any

from jupyter_driver import kernel_value
from panel_tabs import open_tab
from playwright.sync_api import expect
from test_panel_e2e import assert_clean, panel_root

META = """\
import torch
from zoo import IrisMLP
from zoo_large import LlamaShape, llama
from modelpanel.panel import ModelPanel
shape = LlamaShape(vocab_size=32000, dim=1024, n_layers=8, n_heads=16, n_kv_heads=4, hidden_dim=4096)
big = llama(shape, device="meta")
p = ModelPanel(big, input_size=(1, 256), dtypes=[torch.long])
p"""


def card(root: Any, key: str) -> Any:
    return root.locator(f'.mp-header-item[data-key="{key}"]')


def test_a_meta_model_panel_shows_macs_memory_and_no_histograms(open_notebook: Any, page: Any) -> None:
    nb = open_notebook([META, "iris = IrisMLP()\nq = ModelPanel(iris, input_size=(1, 4))\nq", "pass"])
    scratch = 2
    nb.run(0)
    root = panel_root(nb, 0)
    assert kernel_value(nb, scratch, "p.summary.trace") == "fake"
    macs = kernel_value(nb, scratch, "p.summary.macs")
    # 256 tokens through 8 blocks of q, o (1024^2), k, v (256 x 1024), gate/up/down (3 x 1024 x 4096),
    # and the head (32000 x 1024), plus attention's 2 x 16 heads x 256^2 x 64 per block.
    by_hand = 256 * (8 * (2 * 1024**2 + 2 * 256 * 1024 + 3 * 1024 * 4096) + 32000 * 1024) + 8 * 2 * 16 * 256**2 * 64
    assert macs == by_hand
    expect(card(root, "macs").locator("dd").first).to_have_text(f"{macs / 1e9:.1f}B")  # 40.6B
    expect(card(root, "macs").locator("button")).to_have_count(0)
    assert "traced with fake tensors" in (card(root, "macs").get_attribute("title") or "")
    training = kernel_value(nb, scratch, "p.summary.memory('AdamW').training")
    expect(card(root, "train-memory").locator("dt")).to_have_text("to train (AdamW)")
    assert 2**30 <= training < 1000 * 2**30  # ~186 M float32 parameters x (1 + grad + 2 AdamW states) + activations
    expect(card(root, "train-memory").locator("dd")).to_have_text(f"{training / 2**30:.1f} GiB")

    params = open_tab(root, "parameters")
    expect(params.locator(".mp-hist .mp-hint").first).to_have_text(
        "No histograms or statistics: on the meta device, tensors have shapes and dtypes but no values."
    )
    expect(params.locator(".mp-hist-plot")).to_have_count(0)
    # No values, so no statistics: mean, std, min, max and the NaN/Inf count all read "—".
    first = params.locator(".mp-param-row").first.locator("td")
    assert [first.nth(i).inner_text() for i in range(6, 11)] == ["—"] * 5

    nb.run(1)
    real = panel_root(nb, 1)
    assert kernel_value(nb, scratch, "q.summary.trace") == "real"
    expect(card(real, "macs").locator("button")).to_have_text("Count MACs")
    open_tab(real, "parameters")
    expect(real.locator(".mp-hist-plot")).to_have_count(4)  # fc1.weight, fc1.bias, fc2.weight, fc2.bias
    assert_clean(page)
