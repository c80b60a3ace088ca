"""Numbers the book's prose quotes, computed by the page itself.

``glue_number("n_models", len(models))`` stores a value under a name (myst-nb ``glue``,
not displayed); the markdown then writes ``{glue:text}`n_models:,d``` and the built page
shows the value the code computed in that build, so a retraining can never leave a stale
number in the text. NumPy scalars are turned into Python numbers first (myst-nb formats
the plain-text form, and ``np.int64(5)`` would not format as an integer).
"""

from __future__ import annotations

import numbers


def plain(value):
    """``value`` as a Python int, float, bool or str (NumPy scalars and 0-d arrays too)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def glue_number(name: str, value):
    """Glue ``value`` (a number or short text) under ``name`` without displaying it; returns
    the plain value so that a cell can also print or assert it."""
    from myst_nb import glue

    value = plain(value)
    glue(name, value, display=False)
    return value
