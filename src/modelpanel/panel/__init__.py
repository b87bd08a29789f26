"""The anywidget that shows a model: :class:`ModelPanel` and what serves it.

``widget`` declares the one class and every synced trait; ``training`` and ``inference`` hold
the training session and the eval runner it delegates to; ``messages`` routes the view's
requests; ``wire`` puts numbers on the wire; ``html`` renders the static snapshot.
"""

from .widget import ModelPanel

__all__ = ["ModelPanel"]
