"""Bad shapes and labels are caught before training; the device helpers; multi-device fit."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from helpers import devices, losses, models, training


@pytest.fixture(scope="module")
def googlenet():
    model = models.build("googlenet")
    training.compile_model(model, keras.optimizers.SGD(0.01), loss="categorical")
    return model


def test_mnist_shaped_images_get_a_clear_error_before_training(googlenet):
    x = np.zeros((4, 28, 28, 1), "float32")
    y = keras.utils.to_categorical([0, 1, 2, 3], 10)
    with pytest.raises(training.InputShapeError, match=r"expects images of shape \(32, 32, 3\), got \(28, 28, 1\)"):
        training.fit(googlenet, x, y, epochs=1, verbose=0)


def test_integer_labels_for_the_categorical_loss_get_a_clear_error(googlenet):
    x = np.zeros((4, 32, 32, 3), "float32")
    with pytest.raises(losses.LabelFormatError, match="categorical cross-entropy but the labels are sparse"):
        training.fit(googlenet, x, np.array([0, 1, 2, 3]), epochs=1, verbose=0)


def test_labels_beyond_the_number_of_classes_get_a_clear_error(googlenet):
    x = np.zeros((2, 32, 32, 3), "float32")
    with pytest.raises(losses.LabelFormatError, match="rows"):
        training.fit(googlenet, x, keras.utils.to_categorical([0, 11], 12), epochs=1, verbose=0)
    training.check_data(googlenet, x[:1], None)  # images alone are fine
    with pytest.raises(losses.LabelFormatError, match=r"0\.\.9 .* from 3 to 10"):
        training.fit(googlenet, x, np.array([3, 10]), epochs=1, verbose=0)


def test_device_report_and_gpu_requirement_on_a_cpu():
    info = devices.report()
    for key in ("python", "keras", "backend", "dtype_policy", "gpus", "device"):
        assert key in info
    if not info["gpus"]:
        with pytest.raises(RuntimeError, match="Change runtime type"):
            devices.require_gpu()
        assert devices.enable_memory_growth() == 0


def test_machine_names_a_cpu_with_its_cores_and_a_gpu_alone(monkeypatch):
    assert devices.machine({"device": "CPU: X", "gpu": False, "cpu_cores": 2}) == "CPU: X (2 cores)"
    assert devices.machine({"device": "NVIDIA H200", "gpu": True, "cpu_cores": 16}) == "NVIDIA H200"
    assert devices.machine({"device": "CPU: X"}) == "CPU: X"  # a record that predates the count
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert devices.cpu_cores() == 1  # the cores this process may use, not the machine's
    if not devices.gpu_available():
        assert devices.machine() == f"{devices.device_name()} (1 core)"


def test_mixed_precision_keeps_the_softmax_in_float32():
    try:
        policy = devices.set_mixed_precision(True)
        if not devices.gpu_available():
            assert policy == "mixed_bfloat16"  # as on an H200; a T4 would get mixed_float16
        model = models.build("resnet18")
        assert model.get_layer("stem_conv").compute_dtype == policy.removeprefix("mixed_")
        assert model.get_layer("softmax").compute_dtype == "float32"
        assert model.get_layer("stem_conv").variable_dtype == "float32"
    finally:
        assert devices.set_mixed_precision(False) == "float32"


MIRRORED = textwrap.dedent(
    """
    import helpers, keras, numpy as np, tensorflow as tf
    from helpers import data, devices, training
    names = devices.split_cpu(2)
    strategy = tf.distribute.MirroredStrategy(names)
    assert strategy.num_replicas_in_sync == 2
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                                  keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
        training.compile_model(model, keras.optimizers.Adam(1e-2), loss="sparse")
    (x, y), _ = data.synthetic_cifar10(train_per_class=20, test_per_class=1)
    x = data.standardize(x, *data.channel_stats(x))
    h = model.fit(x, y, batch_size=32, epochs=6, verbose=0).history["loss"]
    print("replicas", strategy.num_replicas_in_sync, "first", h[0], "last", h[-1])
    assert h[-1] < 0.8 * h[0], h
    """
)


def test_training_under_mirrored_strategy_on_two_logical_cpus():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "replicas 2" in proc.stdout


def test_records_name_the_commit_loaded_not_a_later_one(monkeypatch):
    from helpers import devices

    monkeypatch.setattr(devices, "_LOADED_COMMIT", "abc123")
    monkeypatch.setattr(devices, "git_commit", lambda: "later")
    assert devices.environment()["git_commit"] == "abc123"
    monkeypatch.setenv("BOOK_GIT_COMMIT", "given")
    assert devices.loaded_commit() == "given"


def test_a_record_names_xla_flags_where_they_are_set(monkeypatch):
    from helpers import devices

    monkeypatch.delenv("XLA_FLAGS", raising=False)
    assert "xla_flags" not in devices.environment()
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_autotune_level=0")
    assert devices.environment()["xla_flags"] == "--xla_gpu_autotune_level=0"


def test_a_record_says_whether_float32_products_ran_in_tensorfloat32(monkeypatch):
    import types

    import jax

    assert devices.float32_products() == "float32"  # this machine: a CPU
    assert devices.environment()["float32_products"] == "float32"
    # JAX on an NVIDIA GPU: TF32 by default from compute capability 8.0 (Ampere) on
    monkeypatch.setattr(devices, "gpu_available", lambda: True)
    monkeypatch.setattr(devices, "backend", lambda: "jax")
    for capability, expected in (("9.0", "tf32"), ("8.0", "tf32"), ("7.5", "float32"),
                                 ("gfx90a", "unknown"), (None, "unknown")):
        gpu = types.SimpleNamespace(platform="gpu", compute_capability=capability,
                                    device_kind="NVIDIA test")
        monkeypatch.setattr(jax, "devices", lambda gpu=gpu: [gpu])
        assert devices.float32_products() == expected
    assert devices.device_name() == "NVIDIA test"  # the GPU's own name, not the CPU's
    with jax.default_matmul_precision("highest"):  # asked for: full float32
        assert devices.float32_products() == "float32"


def test_a_records_precision_names_its_float32_products_on_a_gpu_only():
    gpu = {"gpu": True, "float32_products": "tf32"}
    assert devices.precision_name("float32", gpu) == "float32 (TF32 products)"
    assert devices.precision_name("float32", {**gpu, "float32_products": "float32"}) == (
        "float32 (full float32 products)")
    assert devices.precision_name("float32", {"gpu": True}) == (  # a record before the field
        "float32 (TF32 products by default; the record does not say)")
    assert devices.precision_name("mixed_bfloat16", gpu) == "mixed_bfloat16"
    assert devices.precision_name("float32", {"gpu": False}) == "float32"
    assert devices.precision_name("float32", {"gpu": True, "float32_products": "unknown"}) == (
        "float32 (product precision not known)")


def test_compile_seconds_are_summed_by_function_and_none_where_not_counted():
    with devices.compile_seconds() as found:  # this process runs TensorFlow: nothing counted
        keras.ops.sum(keras.ops.ones((2, 2)))
    assert found == {} and devices.compile_summary(found) is None
    summary = devices.compile_summary({"train_step": 17.56, "test_step": 1.76, "equal": 0.02,
                                       "_where": 0.03})
    assert summary == {"train_step": 17.6, "test_step": 1.8, "other": 0.1, "total": 19.4}
    assert list(summary)[:2] == ["train_step", "test_step"]  # the costliest first


def test_compile_seconds_listen_to_jax_only_inside_the_block(monkeypatch):
    import jax.monitoring

    monkeypatch.setattr(devices, "backend", lambda: "jax")
    event = devices._JAX_COMPILE_EVENT
    with devices.compile_seconds() as found:
        jax.monitoring.record_event_duration_secs(event, 1.5, fun_name="jit(train_step)")
        jax.monitoring.record_event_duration_secs(event, 0.5, fun_name="jit(train_step)")
        jax.monitoring.record_event_duration_secs("/another/event", 9.0)
    jax.monitoring.record_event_duration_secs(event, 7.0, fun_name="jit(train_step)")  # after
    assert found == {"train_step": 2.0}


def test_records_name_the_cpu_instructions_that_turn_onednn_on(monkeypatch, tmp_path):
    from helpers import devices

    fake = tmp_path / "cpuinfo"
    fake.write_text("model name\t: AMD EPYC\nflags\t\t: fpu sse avx2 avx512f avx512_vnni\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: real_open(
        fake if str(p) == "/proc/cpuinfo" else p, *a, **k))
    assert devices.cpu_flags() == ("avx512_vnni",)  # avx512f alone does not turn it on
    assert devices.environment()["cpu_onednn_flags"] == ["avx512_vnni"]
    fake.write_text("model name\t: AMD EPYC\nflags\t\t: fpu sse avx2\n")
    assert devices.cpu_flags() == ()
