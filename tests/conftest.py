"""Shared fixtures for the helpers' unit tests.

TensorFlow's C++ logs are silenced and ``helpers`` is imported before ``keras``, so its
environment settings (oneDNN) take effect as they do in the notebooks.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import io  # noqa: E402
import tarfile  # noqa: E402
from pathlib import Path  # noqa: E402

import helpers  # noqa: E402,F401  (before keras)
import keras  # noqa: E402,F401
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import data  # noqa: E402

# `make test` (CI) draws the same fuzz cases every run (--hypothesis-profile=make-test): a
# failure that a re-run would not repeat must not decide whether a change lands. Run pytest
# without it to explore new cases.
settings.register_profile("make-test", derandomize=True)


# ----------------------------------------------------------------------------- images


def image_bytes(pixels, fmt="png"):
    """Encode an (h, w, 3) uint8 array as PNG or JPEG bytes."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG" if fmt == "png" else "JPEG", quality=95)
    return buf.getvalue()


def random_pixels(rng, size=(32, 32)):
    """A random image of 4x4-pixel blocks: distinct, and JPEG keeps it close."""
    coarse = rng.integers(0, 256, size=(-(-size[0] // 4), -(-size[1] // 4), 3), dtype=np.uint8)
    return coarse.repeat(4, axis=0).repeat(4, axis=1)[: size[0], : size[1]]


class TinyDataset:
    """A tiny CIFAR-10 image-folder dataset: 10 classes x 2 train + 1 test images, 32x32.

    ``entries`` maps layout names (``top/train/<class>/<file>``) to encoded bytes and
    ``pixels`` the same names to the arrays encoded (exact for PNG). Tests may change
    ``entries`` before writing it as a folder, a ``.tar.gz`` or a ``.tar``.
    """

    def __init__(self, root, fmt="png", train_per_class=2, test_per_class=1, seed=0,
                 top="tiny-cifar10", simple=False):
        self.root = Path(root)
        self.fmt = fmt
        self.top = top
        rng = np.random.default_rng(seed)
        self.entries = {}
        self.pixels = {}
        suffix = "png" if fmt == "png" else "jpg"
        for split, per_class in (("train", train_per_class), ("test", test_per_class)):
            for label, class_name in enumerate(data.CLASSES):
                for i in range(per_class):
                    if simple:  # flat colour: tiny files, for fuzzing
                        px = np.full((32, 32, 3), (label * 25, i * 60, 200), dtype=np.uint8)
                    else:
                        px = random_pixels(rng)
                    name = f"{top}/{split}/{class_name}/{i:04d}.{suffix}"
                    self.entries[name] = image_bytes(px, fmt)
                    self.pixels[name] = px

    def expected(self, split):
        """``(x, y)`` as the loader must return them (sorted by label, then entry name)."""
        names = sorted(
            (n for n in self.pixels if n.split("/")[-3] == split),
            key=lambda n: (data.CLASSES.index(n.split("/")[-2]), n),
        )
        x = np.stack([self.pixels[n] for n in names])
        y = np.array([[data.CLASSES.index(n.split("/")[-2])] for n in names], dtype=np.uint8)
        return x, y

    def write_folder(self, name="folder"):
        folder = self.root / name
        for entry, blob in self.entries.items():
            path = folder / entry
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
        return folder

    def write_tar(self, name="tiny.tar.gz", extra=()):
        """Write the entries (and ``extra`` (TarInfo, bytes or None) members) as a tar."""
        path = self.root / name
        mode = "w:gz" if name.endswith((".gz", ".tgz")) else "w"
        with tarfile.open(path, mode) as tar:
            for entry, blob in self.entries.items():
                info = tarfile.TarInfo(entry)
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
            for info, blob in extra:
                if blob is not None:
                    info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob) if blob is not None else None)
        return path


@pytest.fixture
def tiny(tmp_path):
    """A factory of TinyDataset objects writing under a fresh ``tmp_path/data`` folder."""
    root = tmp_path / "data"
    root.mkdir()

    def make(**kwargs):
        return TinyDataset(root, **kwargs)

    return make


@pytest.fixture(autouse=True)
def cifar10_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own, empty decoded-array cache: the real one is never touched."""
    cache = tmp_path_factory.mktemp("cifar10-cache")
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(cache))
    return cache


def tree(folder):
    """Every path under ``folder`` (relative) with its size, for before/after comparisons."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): (p.lstat().st_size if not p.is_dir() else -1)
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def snapshot():
    return tree


def pytest_configure(config):
    # Keras' TensorFlow backend converts tensors with np.array(x, copy=False): harmless noise
    config.addinivalue_line(
        "filterwarnings",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
    )


# ----------------------------------------------------------------------------- a JAX process


@pytest.fixture
def on_jax():
    """``on_jax(script, timeout)``: run ``script`` in a fresh Python process on Keras' JAX
    backend (this process is on TensorFlow), and fail with its output unless it ends by
    printing "ok"."""
    import subprocess
    import sys

    pytest.importorskip("jax")
    src = Path(__file__).resolve().parents[1] / "src"

    def run(script, timeout=600):
        env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(src))
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0 and done.stdout.strip().endswith("ok"), (
            done.stdout[-2000:] + done.stderr[-3000:])

    return run

