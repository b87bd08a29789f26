"""summarize() on CUDA: moving a CPU model for the pass and back, and MACs of the GPU kernels.

Skipped where no CUDA device is available.
"""

from __future__ import annotations

import pytest
import torch
from zoo import IrisMLP, SmallCNN, assert_state_unchanged, gpt2_tiny, snapshot_state

from modelpanel.summary import summarize

pytestmark = pytest.mark.cuda


def test_cpu_model_runs_on_cuda_and_comes_back() -> None:
    torch.manual_seed(0)
    model = SmallCNN()
    before = snapshot_state(model)
    s = summarize(model, input_size=(2, 1, 28, 28), device="cuda")
    assert_state_unchanged(model, before)  # back on the CPU, same tensors, same values
    on_cpu = summarize(model, input_size=(2, 1, 28, 28))
    assert s.devices == ["cpu"]  # the model's own placement is what the summary reports
    assert [layer.output_shape for layer in s.layers] == [layer.output_shape for layer in on_cpu.layers]
    assert s.macs == on_cpu.macs  # the lazy MAC pass moves it again, and back
    assert_state_unchanged(model, before)


def test_cuda_model_with_cpu_input_data_and_attention_macs() -> None:
    torch.manual_seed(0)
    model = gpt2_tiny().cuda()
    ids = torch.randint(0, 512, (2, 16))  # on the CPU: moved to the model's device
    s = summarize(model, input_data=ids)
    assert s.devices == ["cuda:0"] and s.total_params == 136_960
    cpu_macs = summarize(gpt2_tiny(), input_data=ids, macs=True).macs  # counted while the model lives
    assert s.macs == cpu_macs  # flash / efficient attention counted like the CPU kernel
    half = summarize(IrisMLP().cuda().half(), input_size=(1, 4))
    assert half.dtypes == ["float16"] and half.param_bytes == 83 * 2
