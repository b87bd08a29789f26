"""Fixtures of the panel's tests: the same seed for every test, the Iris MLP and its panel."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo import IrisMLP

from modelpanel.panel import ModelPanel


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def iris() -> nn.Module:
    return IrisMLP()


@pytest.fixture
def panel(iris: nn.Module) -> ModelPanel:
    return ModelPanel(iris, input_size=(1, 4))
