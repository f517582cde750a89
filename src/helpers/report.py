"""Putting run results into the book's text (MyST-NB ``glue``), wherever the notebook runs."""

from __future__ import annotations


def glue(name, value, display=True):
    """``myst_nb.glue`` where MyST-NB is installed (the book build); print it elsewhere."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            print(f"{name}: {value}")
        return
    myst_glue(name, value, display=display)


def percent(x):
    return f"{100 * x:.1f}%"
