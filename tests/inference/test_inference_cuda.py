"""evaluate on a CUDA GPU: same results as on the CPU, the model back where it was.

Skipped (with the reason) where torch has no CUDA GPU, e.g. the CPU-only CI.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset
from zoo import SmallCNN

from modelpanel.errors import DeviceError
from modelpanel.inference import evaluate, predict

pytestmark = pytest.mark.cuda


@pytest.fixture
def case():
    torch.manual_seed(0)
    model = SmallCNN(in_channels=1, image_size=8, num_classes=4).double()  # float64: exact on both
    with torch.no_grad():
        model(torch.randn(16, 1, 8, 8, dtype=torch.float64))
    X = torch.randn(300, 1, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 4, (300,))
    return model, X, y


def test_cpu_model_evaluated_on_cuda_comes_back(case) -> None:
    model, X, y = case
    ref = evaluate(model, X, y, device="cpu", batch_size=64)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    ids = [id(p) for p in model.parameters()]
    r = evaluate(model, X, y, device="cuda", batch_size=64)
    assert r.device.startswith("cuda")
    assert torch.equal(r.predictions, ref.predictions)
    assert np.array_equal(r.confusion, ref.confusion)
    assert all(t.device.type == "cpu" for t in model.state_dict().values())
    assert [id(p) for p in model.parameters()] == ids
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert model.training


def test_cuda_model_with_loader_and_amp(case) -> None:
    model, X, y = case
    model = model.float().cuda()
    loader = DataLoader(TensorDataset(X.float(), y), batch_size=50)
    r = evaluate(model, loader, amp=True)
    assert r.n == 300 and r.device.startswith("cuda") and 0 <= r.accuracy <= 1
    assert next(model.parameters()).is_cuda
    out = predict(model, X.float(), device="cuda")
    assert out.device.type == "cpu" and out.shape == (300, 4)


def test_missing_gpu_index_lists_the_real_ones(case) -> None:
    model, X, y = case
    with pytest.raises(DeviceError, match=r"cuda:99.*cpu, cuda:0"):
        evaluate(model, X, y, device="cuda:99")


def test_out_of_range_targets_on_the_gpu_are_reported(case) -> None:
    from modelpanel.errors import InputError

    model, X, y = case
    y = y.clone()
    y[7] = 9
    with pytest.raises(InputError, match=r"class index 9 .*\(0\.\.3\)"):
        evaluate(model, X.cuda(), y.cuda(), device="cuda")
    assert all(t.device.type == "cpu" for t in model.state_dict().values())
