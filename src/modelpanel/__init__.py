"""modelpanel: a Jupyter widget that shows a PyTorch model you can explore and watch.

>>> from modelpanel import ModelPanel, summarize
"""

from .errors import DeviceError, ForwardError, InputError, ModelPanelError
from .summary import Layer, Summary, summarize

__all__ = [
    "DeviceError",
    "ForwardError",
    "InputError",
    "Layer",
    "ModelPanelError",
    "Summary",
    "summarize",
]
__version__ = "0.1.0"
