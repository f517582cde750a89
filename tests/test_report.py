"""helpers.report.glue: the same stored output with or without MyST-NB (the GPU image lacks it)."""

import builtins

import IPython
import pytest
from IPython.core.interactiveshell import InteractiveShell

from helpers import report


@pytest.fixture
def shown(monkeypatch):
    """Every display() call, as (args, kwargs), in a kernel-like IPython session."""
    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: calls.append((a, k)))
    import myst_nb.ext.glue as myst_glue

    monkeypatch.setattr(myst_glue, "ipy_display", lambda *a, **k: calls.append((a, k)))
    InteractiveShell.instance()  # get_ipython() now finds a shell
    yield calls
    InteractiveShell.clear_instance()


def without_myst_nb(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.startswith("myst_nb"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)


@pytest.mark.parametrize("display", [True, False])
def test_glue_without_myst_nb_writes_what_myst_nb_writes(shown, monkeypatch, display):
    value = "85.2% test accuracy"
    report.glue("name", value, display=display)
    without_myst_nb(monkeypatch)
    report.glue("name", value, display=display)
    (with_myst, without) = shown
    assert with_myst == without
    assert with_myst[1]["metadata"]["scrapbook"] == {
        "name": "name", "mime_prefix": "" if display else report.GLUE_PREFIX}


def test_glue_outside_a_kernel_prints(monkeypatch, capsys):
    InteractiveShell.clear_instance()
    without_myst_nb(monkeypatch)
    report.glue("name", "value")
    report.glue("hidden", "value", display=False)
    assert capsys.readouterr().out == "name: value\n"
