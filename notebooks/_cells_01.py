"""Cells of notebooks/01_quickstart.ipynb (built by _build_notebooks.py)."""

CELLS = [
    ("md", r"""
# 01 · Quickstart: the Iris lesson with modelpanel

This is the classic first neural network: classify **Fisher's Iris flowers** (150 flowers,
4 measurements, 3 species) with a tiny multilayer perceptron **4 → 10 → 3**. Each step you
would usually write by hand (counting parameters, printing weight statistics, drawing a
progress bar, plotting the loss, evaluating on a test set) is done here by **one panel**.

Run the cells from top to bottom (Shift+Enter). Everything runs on a CPU in a few seconds;
no download is needed: the data set ships inside `modelpanel`.
"""),
    ("code", r"""
import torch
from torch import nn

from modelpanel.datasets import load_iris
from modelpanel import ModelPanel

# Tiny models on shared machines (Binder, a classroom server): one CPU thread is faster. By
# default torch starts one thread per host core, and they spend their time waiting on each other.
torch.set_num_threads(1)
torch.manual_seed(0)  # the same initial weights, and so the same numbers, on every run
"""),
    ("md", r"""
## 1. The data

`load_iris()` returns features `X` (float32, one row per flower) and labels `y`
(0 = setosa, 1 = versicolor, 2 = virginica). Fifty flowers of each species.
"""),
    ("code", r"""
iris = load_iris()
print(iris)
print("features:", iris.feature_names)
print("per class:", iris.class_counts())
print("first rows:\n", iris.X[:3], iris.y[:3])
"""),
    ("md", r"""
We keep 20 % of the flowers aside as a **test set** the model never trains on, with the same
share of each species in both parts (a *stratified* split). Then we **standardize** each
feature (zero mean, unit variance) with the statistics of the *training* set only, so nothing
about the test flowers leaks into training.
"""),
    ("code", r"""
train, test = iris.split(test_fraction=0.2, seed=42)
train, test = train.standardized(like=train), test.standardized(like=train)
print(len(train), "training flowers,", len(test), "test flowers")
print("test per class:", test.class_counts())
"""),
    ("md", r"""
## 2. The model: 4 → 10 → 3

Four inputs (the measurements), one hidden layer of ten ReLU units, three outputs (one score
per species; the largest score is the prediction).
"""),
    ("code", r"""
class IrisMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)   # input -> hidden
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)   # hidden -> class scores

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


model = IrisMLP()
"""),
    ("md", r"""
## 3. The panel

`ModelPanel(model, input_size=(1, 4))` runs one forward pass on a random input of that shape
to learn the shape of every layer's output, then shows the **layer tree**, the **parameter
table** and the **weight histograms**. Click a layer in the tree to see its parameters.
"""),
    ("code", r"""
panel = ModelPanel(model, input_size=(1, 4))
panel
"""),
    ("md", r"""
## 4. Where do the 83 parameters come from?

A `Linear(in, out)` layer holds a weight matrix of `out × in` numbers and one bias per output:

* `fc1 = Linear(4, 10)`: **4 × 10 + 10 = 50**
* `fc2 = Linear(10, 3)`: **10 × 3 + 3 = 33**
* ReLU has no parameters, so the total is **50 + 33 = 83**.

The panel's summary shows the same derivation for every layer:
"""),
    ("code", r"""
summary = panel.summary
for layer in summary.layers:
    print(f"{layer.path:5} {layer.kind:7} params={layer.params:3}  {layer.param_formula}")
print("total:", summary.total_params)
assert summary.total_params == 4 * 10 + 10 + 10 * 3 + 3 == 83
"""),
    ("md", r"""
The same table as text (what you get in a terminal, a CI log, or on GitHub where widgets
do not render):
"""),
    ("code", r"""
print(summary)
"""),
    ("md", r"""
## 5. Weight distributions before training

PyTorch initialises a `Linear(in, out)` layer with weights drawn uniformly from
`[-1/√in, +1/√in]`: ±0.5 for `fc1` (in = 4) and ±0.316 for `fc2` (in = 10). The histograms
in the panel show these flat distributions; the statistics agree:
"""),
    ("code", r"""
from modelpanel.stats import weight_snapshot

before = weight_snapshot(model)
for rec in before.records:
    print(f"{rec['names'][0]:10} shape={rec['shape']}  mean={rec['mean']:+.3f}  "
          f"std={rec['std']:.3f}  min={rec['min']:+.3f}  max={rec['max']:+.3f}")
"""),
    ("md", r"""
## 6. Training, with progress bars and a live loss curve

`panel.progress(...)` is a `tqdm` progress bar drawn inside the panel. You can use it in the
three ways `tqdm` allows:

1. **manual update**: `with panel.progress(total=...) as pbar:` and `pbar.update(1)`;
2. **wrapping an iterable**: `for xb, yb in panel.progress(loader, desc=..., unit=...)`;
3. **a postfix** with the latest numbers: `pbar.set_postfix(loss=...)`.

`panel.log(loss=loss, step=...)` adds a point to the live loss curve. You may pass the loss
tensor itself: the panel reads it a few times a second, not at every step, so logging does not
slow training down.

First 30 epochs with a manually updated bar:
"""),
    ("code", r"""
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loader = train.loader(batch_size=16, shuffle=True, seed=0)
step = 0

with panel.progress(total=30, desc="epochs (manual)") as pbar:
    for epoch in range(30):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            panel.log(loss=loss, step=step)
            step += 1
        pbar.set_postfix(loss=f"{loss.item():.3f}")
        pbar.update(1)
"""),
    ("md", r"""
Then 70 more epochs, this time wrapping the iterables: an outer bar over epochs and an inner
bar over the batches of each epoch (`leave=False` removes the inner bar when it finishes).
"""),
    ("code", r"""
epochs = panel.progress(range(30, 100), desc="epoch", unit="epoch")
for epoch in epochs:
    for xb, yb in panel.progress(loader, desc="batch", unit="batch", leave=False):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        panel.log(loss=loss, step=step)
        step += 1
    epochs.set_postfix(loss=loss)   # a tensor is fine: it is read only when the bar is drawn

print(f"final training loss: {loss.item():.4f}")
"""),
    ("md", r"""
## 7. The weights after training

`panel.refresh()` re-reads the weights (the progress loop also refreshes the histograms every
couple of seconds while it runs). Compare with the flat distributions from before training:
"""),
    ("code", r"""
panel.refresh()
after = weight_snapshot(model)
for b, a in zip(before.records, after.records):
    print(f"{a['names'][0]:10} std {b['std']:.3f} -> {a['std']:.3f}   "
          f"range [{b['min']:+.2f}, {b['max']:+.2f}] -> [{a['min']:+.2f}, {a['max']:+.2f}]")
"""),
    ("md", r"""
## 8. Test accuracy, in eval mode

`panel.evaluate(X, y)` runs the model **in eval mode** with gradients off, in batches, and
puts the model back exactly as it was (train mode here). It returns the accuracy, the
predictions and the confusion matrix (rows: true species, columns: predicted), and shows them
in the panel.
"""),
    ("code", r"""
result = panel.evaluate(test.X, test.y, device="cpu", batch_size=256,
                        labels=list(iris.target_names))
print(f"test accuracy: {result.accuracy:.1%} on {result.n} flowers")
print("confusion matrix (rows = true, columns = predicted):")
print(result.confusion)
print("model still in train mode:", model.training)
assert result.accuracy >= 0.85
"""),
    ("md", r"""
## 9. Keep it

The panel above is live only while the kernel runs. `panel.save_html(path)` writes one
self-contained HTML file (tree, parameter table, histograms, loss curve, test result) that
opens offline in any browser, e.g. to hand in or to share with students.
"""),
    ("code", r"""
import tempfile
from pathlib import Path

out = Path(tempfile.mkdtemp()) / "iris_panel.html"
panel.save_html(out)
print(out, f"{out.stat().st_size:,} bytes")
"""),
    ("md", r"""
**Next:** `02_cnn` (a convolutional network on images, BatchNorm, Dropout and eval mode),
`03_monitoring` (a transformer, histograms over time, gradient norms, a bad learning rate),
`04_inference` (devices, the confusion matrix, and what goes wrong without eval mode).
"""),
]
