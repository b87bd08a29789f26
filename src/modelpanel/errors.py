"""Exceptions that modelpanel raises: each names what was wrong and how to fix it."""

from __future__ import annotations


def format_exception(exc: BaseException | None) -> str:
    """An exception as shown to the user: ``"ValueError: boom"``, or the class name alone.

    One formatter for every place that reports someone else's exception (message replies,
    progress bars, forward errors), so a message-less exception never reads ``"KeyError: "``.
    """
    if exc is None:
        return ""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ModelPanelError(Exception):
    """Base class of every error modelpanel raises on purpose."""


class InputError(ModelPanelError, ValueError):
    """The input given to modelpanel has the wrong kind, shape or value."""


class ForwardError(ModelPanelError, RuntimeError):
    """The model's forward raised; the message names the module path and the shapes it got.

    The original exception is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, module_path: str | None = None) -> None:
        super().__init__(message)
        self.module_path = module_path


class DeviceError(ModelPanelError, ValueError):
    """A device was asked for that is unknown or not available in this kernel."""
