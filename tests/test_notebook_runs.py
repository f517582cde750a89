"""Notebooks run twice in one kernel, and from the repository root as well as notebooks/."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
# The light chapters; the network chapters share their setup cell and their code paths.
LIGHT = ["02_cifar10_data", "07_comparison", "08_losses"]


def run_in_one_kernel(name, cwd, times=2):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    with client.setup_kernel():
        for _ in range(times):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)  # raises CellExecutionError on an error
    return nb


@pytest.mark.parametrize("name", LIGHT)
def test_runs_twice_in_one_kernel_from_notebooks_folder(name, monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "smoke")
    run_in_one_kernel(name, ROOT / "notebooks")


@pytest.mark.parametrize("name", ["02_cifar10_data"])
def test_runs_from_the_repository_root(name, monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "smoke")
    run_in_one_kernel(name, ROOT, times=1)  # a second run in one kernel is the test above's


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


def glued(nb):
    """``{name: text}`` of every value a notebook glued into its prose (MyST-NB's records)."""
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = output["data"]
                found[name] = data.get("application/papermill.record/text/markdown",
                                       data.get("application/papermill.record/text/plain"))
    return found


def test_the_stored_comparison_chapter_is_what_its_code_makes_of_the_stored_records(monkeypatch):
    # Chapter 7's prose is computed from the records; its stored outputs must be what today's
    # helpers make of today's records, so that a change to either without `make compare
    # PROFILE=fast` (which re-runs it) cannot leave the published chapter stale.
    from helpers import devices

    if devices.gpu_available():  # the chapter names the recipe "as it runs on this machine"
        pytest.skip("chapter 7 is stored as run on a CPU machine (`make compare` here)")
    monkeypatch.setenv("BOOK_PROFILE", "fast")
    stored = nbformat.read(ROOT / "notebooks" / "07_comparison.ipynb", as_version=4)
    fresh = nbformat.read(ROOT / "notebooks" / "07_comparison.ipynb", as_version=4)
    NotebookClient(fresh, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    before, after = glued(stored), glued(fresh)
    assert before, "the stored chapter 7 holds no glued values: run `make compare PROFILE=fast`"
    stale = sorted(name for name in before.keys() | after.keys()
                   if before.get(name) != after.get(name))
    assert not stale, ("chapter 7's stored text differs from what the code makes of the records "
                       f"now ({', '.join(stale)}): run `make compare PROFILE=fast` and commit it")
