"""Putting run results into the book's text (MyST-NB ``glue``), wherever the notebook runs."""

from __future__ import annotations

# MyST-NB's mark on a value glued without being shown (myst_nb.ext.glue.GLUE_PREFIX)
GLUE_PREFIX = "application/papermill.record/"


def glue(name, value, display=True):
    """``myst_nb.glue`` where MyST-NB is installed (the book build).

    Where it is not but a notebook kernel is (the GPU machine, whose image lacks MyST-NB and
    its Sphinx stack), the same output that ``myst_nb.glue`` writes: the book reads glued
    values from the stored outputs, not from MyST-NB. Outside a kernel, printed.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        _glue_without_myst_nb(name, value, display)
        return
    myst_glue(name, value, display=display)


def _glue_without_myst_nb(name, value, display):
    try:
        from IPython import display as ipython_display, get_ipython
        from IPython.core.formatters import format_display_data
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        if display:
            print(f"{name}: {value}")
        return
    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = dict(name=name, mime_prefix=prefix)
    ipython_display.display({prefix + k: v for k, v in bundle.items()}, raw=True,
                            metadata=metadata)


def percent(x):
    return f"{100 * x:.1f}%"
