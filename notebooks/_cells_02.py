"""Cells of notebooks/02_cnn.ipynb (built by _build_notebooks.py)."""

CELLS = [
    ("md", r"""
# 02 · A small CNN: shapes through the network, BatchNorm, Dropout and eval mode

A convolutional network that tells four shapes apart (circle, square, triangle, cross) in
16 × 16 grey-scale images. The images are **generated** by `modelpanel.datasets.make_shapes`
(random position, size, brightness and noise; the same images for the same seed), so nothing
is downloaded. Training takes a few seconds on a CPU.
"""),
    ("code", r"""
import copy

import torch
from torch import nn

from modelpanel.datasets import make_shapes
from modelpanel import ModelPanel

# Tiny models on shared machines (Binder, a classroom server): one CPU thread is faster. By
# default torch starts one thread per host core, and they spend their time waiting on each other.
torch.set_num_threads(1)
torch.manual_seed(0)
shapes = make_shapes(n_per_class=200, size=16, noise=0.15, seed=0)
train, test = shapes.split(test_fraction=0.25, seed=0)
print(shapes, "->", len(train), "train /", len(test), "test")
"""),
    ("md", r"""
What the network sees: one example of each class (`#` bright, `+` medium, `.` dark).
"""),
    ("code", r"""
def ascii_image(img):
    def char(v):
        return " " if v < 0.3 else "." if v < 0.5 else "+" if v < 0.7 else "#"
    return ["".join(char(v) for v in row) for row in img[0].tolist()]

examples = [ascii_image(train.X[(train.y == c).nonzero()[0, 0]]) for c in range(4)]
print("   ".join(f"{name:16}" for name in train.target_names))
for rows in zip(*examples):
    print("   ".join(rows))
"""),
    ("md", r"""
## The network

Two convolution blocks (convolution → **BatchNorm** → ReLU → 2 × 2 max-pool), then a small
classifier with **Dropout**. Each pool halves the image: 16 → 8 → 4.
"""),
    ("code", r"""
class ShapesCNN(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),   # 1×16×16 -> 8×16×16
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),                              # -> 8×8×8
            nn.Conv2d(8, 16, kernel_size=3, padding=1),  # -> 16×8×8
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),                              # -> 16×4×4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),                                 # -> 256
            nn.Dropout(0.3),
            nn.Linear(16 * 4 * 4, 32),
            nn.ReLU(),
            nn.Linear(32, classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


model = ShapesCNN()
panel = ModelPanel(model, input_size=(1, 1, 16, 16))
panel
"""),
    ("md", r"""
## Shapes through the network

The panel ran one forward pass and recorded each layer's output shape. A `Conv2d(c_in, c_out,
3)` holds `c_out × c_in × 3 × 3` weights plus `c_out` biases; a `BatchNorm2d(c)` holds a
scale and a shift per channel (2c parameters) and two running statistics that are *buffers*,
not parameters.
"""),
    ("code", r"""
for layer in panel.summary.layers:
    if layer.depth == 2:
        print(f"{layer.path:14} {layer.kind:12} -> {str(layer.output_shape):16} "
              f"params={layer.params:5}  {layer.param_formula}")
print("total parameters:", panel.summary.total_params)
"""),
    ("md", r"""
## Training, with live weight histograms

`panel.watch(hist_every=0.5)` refreshes the weight histograms every half second while a
progress loop runs, and keeps the snapshots: the panel can show how each distribution moves
during training (histograms over time).
"""),
    ("code", r"""
panel.watch(hist_every=0.5)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loader = train.loader(batch_size=32, shuffle=True, seed=0)

step = 0
epochs = panel.progress(range(8), desc="epoch", unit="epoch")
for epoch in epochs:
    for xb, yb in panel.progress(loader, desc="batch", leave=False):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        panel.log(loss=loss, step=step)
        step += 1
    epochs.set_postfix(loss=loss)
print(f"last batch loss: {loss.item():.3f}")
"""),
    ("md", r"""
## Why eval mode matters

BatchNorm and Dropout behave differently while training:

* **Dropout** (train mode) zeroes a random 30 % of the features at every call, so the same
  image gives different scores twice in a row.
* **BatchNorm** (train mode) normalises with the statistics *of the current batch*, so an
  image's prediction depends on which other images share its batch, and every forward pass
  **updates the running statistics** stored in the model.

`model.eval()` switches both to their inference behaviour: no dropout, and the running
statistics learnt during training.
"""),
    ("code", r"""
x = test.X[:4]
probe = copy.deepcopy(model)   # a copy: train-mode forwards would change the model's BatchNorm statistics

probe.train()
with torch.no_grad():
    a, b = probe(x), probe(x)
print("train mode, same input twice, max difference:", f"{(a - b).abs().max():.3f}")

probe.eval()
with torch.no_grad():
    c, d = probe(x), probe(x)
print("eval mode,  same input twice, max difference:", f"{(c - d).abs().max():.3f}")
assert torch.equal(c, d)
"""),
    ("code", r"""
probe = copy.deepcopy(model)
bn = probe.features[1]
before = bn.running_mean.clone()
probe.train()
with torch.no_grad():
    probe(test.X)                      # a forward pass in train mode, "just to look"
print("BatchNorm running mean changed by a train-mode forward:",
      f"{(bn.running_mean - before).abs().max():.4f}")
"""),
    ("md", r"""
`panel.evaluate` always runs in eval mode and puts the model back as it found it, so it is
safe to call in the middle of training. Compare with a hand-written evaluation that forgot
`model.eval()` (done on a copy):
"""),
    ("code", r"""
probe = copy.deepcopy(model)
probe.train()
with torch.no_grad():
    forgot = (probe(test.X).argmax(1) == test.y).float().mean().item()

result = panel.evaluate(test.X, test.y)
print(f"accuracy without eval mode: {forgot:.1%}   with panel.evaluate (eval mode): {result.accuracy:.1%}")
print("model still in train mode:", model.training)
assert result.accuracy >= 0.8
"""),
]
