"""modelpanel: a Jupyter widget that shows a PyTorch model you can explore and watch.

>>> from modelpanel import ModelPanel, summarize
"""

from .errors import DeviceError, ForwardError, InputError, ModelPanelError
from .inference import EvalResult
from .panel import ModelPanel
from .summary import Layer, Summary, summarize

__all__ = [
    "DeviceError",
    "EvalResult",
    "ForwardError",
    "InputError",
    "Layer",
    "ModelPanel",
    "ModelPanelError",
    "Summary",
    "summarize",
]
__version__ = "0.1.0"
