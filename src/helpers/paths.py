"""Where the project's folders are, wherever a notebook is started from."""

from __future__ import annotations

import contextlib
import os
import secrets
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


@contextlib.contextmanager
def atomic_write(path, mode="w"):
    """Open a new file that replaces ``path`` only once the block ends without an error: a run
    killed while writing leaves the old file whole and, at most, a hidden ``.*.tmp`` beside it.

    The temporary file gets the umask's usual mode (``tempfile.mkstemp`` makes files readable
    by their owner only, and ``os.replace`` keeps that mode: records came out -rw-------).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
