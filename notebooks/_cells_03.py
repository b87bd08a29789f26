"""Cells of notebooks/03_monitoring.ipynb (built by _build_notebooks.py)."""

CELLS = [
    ("md", r"""
# 03 · Monitoring training: histograms over time, gradient norms, activation statistics

A small **transformer** (built from `torch.nn` only) learns a counting task. We train it
twice, with a sensible learning rate and with a deliberately bad one, and let the panel watch:

* **weight histograms over time**: how each weight distribution moves during training;
* **gradient norms** per layer: how hard each layer is being pushed;
* **activation statistics** per layer: mean, spread and the fraction of exact zeros (dead ReLUs).

The task: a sequence of 16 tokens (0–7); is token `1` more frequent than token `2`?
"""),
    ("code", r"""
import torch
from torch import nn

from modelpanel.training.diagnostics import ActivationMonitor, grad_norms
from modelpanel import ModelPanel

# Tiny models on shared machines (Binder, a classroom server): one CPU thread is faster. By
# default torch starts one thread per host core, and they spend their time waiting on each other.
torch.set_num_threads(1)
VOCAB, LENGTH = 8, 16


def make_counting(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, VOCAB, (n, LENGTH), generator=g)
    ones, twos = (x == 1).sum(1), (x == 2).sum(1)
    tie = ones == twos
    x[tie, 0] = 1                      # break ties, so every sequence has an answer
    y = ((x == 1).sum(1) > (x == 2).sum(1)).long()
    return x, y


X_train, y_train = make_counting(1000, seed=0)
X_test, y_test = make_counting(500, seed=1)
print(X_train[:2], y_train[:2], "share of class 1:", y_train.float().mean().item())
"""),
    ("code", r"""
class TinyTransformer(nn.Module):
    def __init__(self, d_model=32, heads=4, layers=2, classes=2):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.pos = nn.Parameter(torch.zeros(1, LENGTH, d_model))
        block = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=2 * d_model,
                                           dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) + self.pos)
        return self.head(h.mean(dim=1))   # average over positions, then classify


torch.manual_seed(0)
model = TinyTransformer()
panel = ModelPanel(model, input_data=X_train[:1])
panel.watch(hist_every=0.5, grad_norms=True, activations=True)
panel
"""),
    ("code", r"""
print(panel.summary)
"""),
    ("md", r"""
## A training function that records what the panel shows

The panel draws the histograms over time, the gradient norms and the activation statistics
live. To talk about them in text as well, the function below also keeps, once per epoch, the
largest gradient norm (`modelpanel.training.diagnostics.grad_norms`, one read per epoch, not per step).
"""),
    ("code", r"""
def train(model, panel, lr, epochs=5, seed=0):
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    history = []
    bar = panel.progress(range(epochs), desc=f"lr={lr}", unit="epoch")
    for epoch in bar:
        for idx in torch.randperm(len(X_train), generator=order).split(50):
            optimizer.zero_grad()
            loss = loss_fn(model(X_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            panel.log(loss=loss)
        norms, _ = grad_norms(model)
        finite = [v for v in norms.values() if v is not None]
        history.append({"epoch": epoch, "loss": loss.item(),
                        "max_grad_norm": max(finite) if finite else float("nan")})
        bar.set_postfix(loss=loss)
    result = panel.evaluate(X_test, y_test)
    return history, result


good_history, good = train(model, panel, lr=1e-3)
for h in good_history:
    print(h)
print(f"lr=1e-3: test accuracy {good.accuracy:.1%}")
"""),
    ("md", r"""
## The same model with a learning rate 500 × too large

A new model and a new panel, trained with `lr=0.5`. Watch the panel: the loss curve jumps
around instead of going down, the gradient norms are far larger, the weight histograms spread
out within the first refreshes, and the activation statistics grow by orders of magnitude.
"""),
    ("code", r"""
torch.manual_seed(0)
bad_model = TinyTransformer()
bad_panel = ModelPanel(bad_model, input_data=X_train[:1])
bad_panel.watch(hist_every=0.5, grad_norms=True, activations=True)
bad_history, bad = train(bad_model, bad_panel, lr=0.5)
for h in bad_history:
    print(h)
print(f"lr=0.5: test accuracy {bad.accuracy:.1%} (guessing gives about 50 %)")
bad_panel
"""),
    ("md", r"""
## What the statistics reveal

Compare the two runs side by side: the spread of the weights, and the activations of each
feed-forward block (the input of its ReLU) on the test set (measured with an `ActivationMonitor`, the same hooks
the panel attaches while a progress loop runs).
"""),
    ("code", r"""
def weight_std(m):
    return torch.cat([p.detach().flatten() for p in m.parameters()]).std().item()


def activation_stats(m):
    monitor = ActivationMonitor(m)
    monitor.attach()
    try:
        with torch.no_grad():
            m(X_test)
        stats = monitor.read()
    finally:
        monitor.detach()   # hooks off again: the model is left as it was
    # linear1 feeds each block's ReLU: its spread tells how large the activations have grown.
    return {k: v for k, v in stats.items() if k.endswith("linear1")}


print(f"weight std: good {weight_std(model):.3f}   bad {weight_std(bad_model):.3f}")
print(f"max grad norm in the last epoch: good {good_history[-1]['max_grad_norm']:.3g}   "
      f"bad {bad_history[-1]['max_grad_norm']:.3g}")
for name in ("good", "bad"):
    m = model if name == "good" else bad_model
    for path, s in activation_stats(m).items():
        print(f"{name:4} {path:28} mean={s['mean']:+.3f}  std={s['std']:.3f}")
assert good.accuracy > bad.accuracy
"""),
    ("md", r"""
**Reading the signs.** A healthy run has a falling loss, gradient norms that shrink as the
model learns, and weight distributions that change gradually. With a too-large learning rate
the first steps throw the weights far from their initial scale, the loss stops improving, and
the model ends near chance. The fix is a smaller learning rate (or a warm-up); the panel shows
the problem within the first seconds of training instead of after the last epoch.
"""),
]
