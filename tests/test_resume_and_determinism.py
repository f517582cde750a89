"""Runs that survive a kill, and runs that repeat exactly (issue: runs that survive)."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import keras
import pytest

from helpers import training

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    import helpers
    import keras
    from helpers import data, training

    backup_dir, out, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    deterministic = len(sys.argv) > 4
    if deterministic:
        training.make_deterministic(0)
    else:
        keras.utils.set_random_seed(0)
    (x, y), _ = data.synthetic_cifar10(train_per_class=16, test_per_class=2)
    x = data.standardize(x, *data.channel_stats(x))
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    steps = 5  # 160 images, batch 32
    training.compile_model(model, training.post_optimizer(0.05, decay=0.05), loss="sparse")

    class KillAt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)  # as a closed Colab tab would

    history = training.fit(
        model, x, y, epochs=4, batch_size=32, shuffle=False, verbose=2,
        backup_dir=backup_dir or None, callbacks=[KillAt()],
    )
    with open(out, "w") as f:
        json.dump(history, f)
    """
)


def run_child(tmp_path, backup_dir, kill_at, *extra):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "history.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(script), str(backup_dir), str(out), str(kill_at), *extra],
        capture_output=True, text=True, env=env, timeout=600,
    )
    return proc, out


def test_a_killed_run_resumes_at_epoch_three_with_one_continuous_history(tmp_path):
    backup = tmp_path / "backup"
    killed, out = run_child(tmp_path, backup, kill_at=2)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not out.exists()
    with open(backup / "history.csv", newline="") as f:
        before = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in before] == [0, 1]

    resumed, out = run_child(tmp_path, backup, kill_at=-1)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Epoch 3/4" in resumed.stdout and "Epoch 1/4" not in resumed.stdout
    history = json.loads(out.read_text())
    assert len(history["loss"]) == 4
    for epoch in (0, 1):
        assert history["loss"][epoch] == pytest.approx(float(before[epoch]["loss"]), rel=1e-6)
    # the optimizer's iteration count was restored: the decayed rate continues, not restarts
    steps = 5
    for epoch, lr in enumerate(history["learning_rate"]):
        assert lr == pytest.approx(0.05 / (1 + 0.05 * steps * (epoch + 1)), rel=1e-5)


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="TensorFlow's op determinism")
def test_make_deterministic_turns_on_tensorflows_op_determinism(monkeypatch):
    # seeded runs on a CPU repeat without it too, so the test below cannot tell it is on
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism",
                        lambda: calls.append("on"))
    training.make_deterministic(3)
    assert calls == ["on"]


def test_with_op_determinism_two_runs_give_identical_histories(tmp_path):
    first, out = run_child(tmp_path, "", -1, "deterministic")
    assert first.returncode == 0, first.stderr[-2000:]
    one = json.loads(out.read_text())
    second, out = run_child(tmp_path, "", -1, "deterministic")
    assert second.returncode == 0, second.stderr[-2000:]
    two = json.loads(out.read_text())
    assert one["loss"] == two["loss"] and one["accuracy"] == two["accuracy"]
