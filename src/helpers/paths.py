"""Where the project's folders are, wherever a notebook is started from."""

from __future__ import annotations

from pathlib import Path


class ProjectNotFoundError(RuntimeError):
    pass


def project_root():
    """The repository root: found from the package (editable install) or the working dir.

    Notebooks may be started in ``notebooks/`` or at the repository root; results and figures
    land in the same place either way.
    """
    candidates = [Path(__file__).resolve().parents[2], Path.cwd(), *Path.cwd().parents]
    for folder in candidates:
        if (folder / "_toc.yml").exists() and (folder / "src" / "helpers").is_dir():
            return folder
    raise ProjectNotFoundError(
        "Cannot find the book's repository (a folder with _toc.yml and src/helpers). Run the "
        "notebooks from inside the cloned repository, e.g. its notebooks/ folder, after "
        "`pip install -e .` there."
    )
