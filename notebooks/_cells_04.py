"""Cells of notebooks/04_inference.ipynb (built by _build_notebooks.py)."""

CELLS = [
    ("md", r"""
# 04 · Inference: the device, the confusion matrix, and eval mode

Once a model is trained we want to know how good it is: run it on data it has never seen,
count what it gets right, and see *which* mistakes it makes. This notebook trains the shapes
CNN from `02_cnn` for a few seconds, then evaluates it with the panel.
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
shapes = make_shapes(n_per_class=200, size=16, seed=0)
train, test = shapes.split(test_fraction=0.25, seed=0)


def shapes_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 4),
    )


model = shapes_cnn()
panel = ModelPanel(model, input_size=(1, 1, 16, 16))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
for epoch in panel.progress(range(5), desc="training", unit="epoch"):
    for xb, yb in train.loader(batch_size=32, seed=epoch):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        panel.log(loss=loss)
panel
"""),
    ("md", r"""
## Evaluate on a chosen device

`panel.evaluate(X, y, device=..., batch_size=...)` moves the model to `device` for the run
(a GPU when you have one), feeds the data in batches, and moves the model back. The list of
devices this kernel can use is shown in the panel, next to its *Run* button.
`set_eval_data` gives that button the data to use.
"""),
    ("code", r"""
device = "cuda" if torch.cuda.is_available() else "cpu"
panel.set_eval_data(test.X, test.y, labels=list(test.target_names))
result = panel.evaluate(test.X, test.y, device=device, batch_size=128,
                        labels=list(test.target_names), loss_fn=nn.CrossEntropyLoss())
print(f"device={result.device}  accuracy={result.accuracy:.1%}  loss={result.loss:.3f}  "
      f"{result.samples_per_s:,.0f} images/s")
print("model is back where it was:", next(model.parameters()).device, "| train mode:", model.training)
"""),
    ("md", r"""
## The confusion matrix

Row *i*, column *j* counts the test images of class *i* that the model called class *j*. The
diagonal holds the correct answers; anything off the diagonal is a specific confusion (a
rounded square taken for a circle, say). Precision: of the images the model *called* a class,
how many were right. Recall: of the images that *are* that class, how many it found.
"""),
    ("code", r"""
names = list(test.target_names)
print(" " * 10 + "".join(f"{n:>10}" for n in names))
for name, row in zip(names, result.confusion):
    print(f"{name:>10}" + "".join(f"{int(v):>10}" for v in row))
print()
for pc in result.per_class:
    print(f"{pc['label']:>10}  precision={pc['precision']:.2f}  recall={pc['recall']:.2f}  support={pc['support']}")
assert result.confusion.sum() == len(test)
"""),
    ("md", r"""
## What goes wrong without eval mode

A hand-written evaluation loop that forgets `model.eval()` runs BatchNorm and Dropout in their
*training* behaviour. Three things go wrong (each shown on a copy, so our model stays intact):

1. **Different answers each time**: Dropout is random.
2. **Answers that depend on the batch**: BatchNorm normalises with the statistics of the batch
   it is given. One image at a time (a batch of one) is normalised with itself.
3. **A damaged model**: every train-mode forward pass updates BatchNorm's running statistics.
   Checking one class in train mode leaves statistics of *crosses only* in the model, so even
   a later, correct, eval-mode evaluation of all classes gives worse numbers.
"""),
    ("code", r"""
def accuracy(m, X, y, batch_size):
    with torch.no_grad():
        preds = torch.cat([m(xb).argmax(1) for xb in X.split(batch_size)])
    return (preds == y).float().mean().item()


probe = copy.deepcopy(model).train()                # forgot model.eval()
runs = [accuracy(probe, test.X, test.y, 128) for _ in range(3)]
print("1. train mode, three runs:   ", ", ".join(f"{a:.1%}" for a in runs))

probe = copy.deepcopy(model).train()
print(f"2. train mode, batches of 4: {accuracy(probe, test.X, test.y, 4):.1%}")

probe = copy.deepcopy(model)
before = panel.evaluate(test.X, test.y).accuracy
probe.train()
crosses = test.y == 3
accuracy(probe, test.X[crosses], test.y[crosses], 10)   # "how well does it do on crosses?"
after = ModelPanel(probe, input_size=(1, 1, 16, 16)).evaluate(test.X, test.y).accuracy
print(f"3. eval-mode accuracy before {before:.1%}, after checking the crosses in train mode {after:.1%}")
"""),
    ("code", r"""
checked = panel.evaluate(test.X, test.y)
print(f"panel.evaluate (eval mode, every time): {checked.accuracy:.1%} == {result.accuracy:.1%}")
assert checked.accuracy == result.accuracy
assert model.training      # the panel put the model back in train mode
"""),
]
