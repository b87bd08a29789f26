"""Torch plumbing that every engine shares, and nothing else (no widget, no DOM).

One copy of each piece: unwrapping wrapped models and the ONE module walk (``walk``), device
parsing (``devices``), capture and restore of the model's state (``restore``), locating the
module where a forward failed (``failures``), nested inputs and outputs (``nested``), one host
read per device (``host``), pausing the cyclic GC (``gc``) and what a parameter tensor
really is when it is not a plain materialised float: packed, lazy, meta, complex, sparse,
parametrized (``tensors``). Every per-layer or
per-parameter result in modelpanel is keyed by the tree path that ``walk`` gives a module.
"""
