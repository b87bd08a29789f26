"""Kept for code written before the package had folders: see :mod:`modelpanel.training.diagnostics`."""

from .training.diagnostics import ActivationMonitor, first_nonfinite, grad_norms

__all__ = ["ActivationMonitor", "first_nonfinite", "grad_norms"]
