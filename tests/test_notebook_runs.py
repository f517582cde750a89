"""Notebooks run twice in one kernel, and from the repository root as well as notebooks/."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
# The light chapters; the network chapters share their setup cell and their code paths.
LIGHT = ["02_cifar10_data", "07_comparison", "08_losses"]


def run_twice(name, cwd):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    with client.setup_kernel():
        for _ in range(2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)  # raises CellExecutionError on an error
    return nb


@pytest.mark.parametrize("name", LIGHT)
def test_runs_twice_in_one_kernel_from_notebooks_folder(name, monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "smoke")
    run_twice(name, ROOT / "notebooks")


@pytest.mark.parametrize("name", ["02_cifar10_data"])
def test_runs_from_the_repository_root(name, monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "smoke")
    run_twice(name, ROOT)


def test_outside_the_repository_the_setup_cell_says_where_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")
    nb = nbformat.read(ROOT / "notebooks" / "08_losses.ipynb", as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    # Run only the setup cell, in a kernel that cannot import helpers: hide the package by
    # running from an empty folder with a Python that has no access to the editable install.
    code = setup.source.replace("import helpers", "import helpers_not_installed_here as helpers")
    nb.cells = [nbformat.v4.new_code_cell(code)]
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(Exception, match="run this notebook from the repository's notebooks/ folder"):
        client.execute()
