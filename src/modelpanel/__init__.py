"""modelpanel: a Jupyter widget that shows a PyTorch model you can explore and watch.

>>> from modelpanel import ModelPanel, summarize
"""

from .errors import DeviceError, ForwardError, InputError, ModelPanelError

__all__ = ["DeviceError", "ForwardError", "InputError", "ModelPanelError"]
__version__ = "0.1.0"
