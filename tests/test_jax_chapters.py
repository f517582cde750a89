"""The network chapters run on Keras' JAX backend too (smoke profile).

The lent GPU machine has JAX but no TensorFlow, and a reader may have either: the chapters'
code must not depend on TensorFlow where Keras offers a backend-neutral way. Each notebook runs
in its own kernel with KERAS_BACKEND=jax; the ablations are left out to keep the test short
(on this CPU every new JAX model compiles for a minute or more).
"""

import json
from pathlib import Path

import pytest

papermill = pytest.importorskip("papermill")
pytest.importorskip("jax")

ROOT = Path(__file__).resolve().parents[1]


def run_on_jax(name, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("BOOK_PROFILE", "smoke")
    out = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(
        ROOT / "notebooks" / f"{name}.ipynb", out, parameters={"ABLATIONS": False},
        cwd=str(ROOT / "notebooks"), kernel_name="python3", progress_bar=False,
    )
    outputs = json.dumps([c.get("outputs", []) for c in json.loads(out.read_text())["cells"]])
    assert "on jax" in outputs, "the chapter must say which backend ran it"
    assert '"output_type": "error"' not in outputs


class TestVGGsOnJax:  # a class each, so that xdist's loadscope may give them different workers
    @pytest.mark.parametrize("name", ["03_vgg16", "04_vgg16_bigconv"])
    def test_runs(self, name, tmp_path, monkeypatch):
        run_on_jax(name, tmp_path, monkeypatch)


class TestGoogLeNetAndResNetOnJax:
    @pytest.mark.parametrize("name", ["05_googlenet", "06_resnet18"])
    def test_runs(self, name, tmp_path, monkeypatch):
        run_on_jax(name, tmp_path, monkeypatch)


class TestBatchnormOnJax:
    def test_the_re_estimate_inside_fit_works_on_jax(self):
        # JAX's trainer holds the variables in its own state during fit: the callback's
        # in-place re-estimate must reach the validation that follows it
        import os
        import subprocess
        import sys

        env = dict(os.environ, KERAS_BACKEND="jax")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             str(ROOT / "tests" / "test_batchnorm.py")],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
        )
        assert done.returncode == 0, done.stdout[-3000:]
        assert " passed" in done.stdout and "skipped" not in done.stdout
