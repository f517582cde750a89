"""What hardware Keras runs on, and the switches that matter on a GPU (chapter 1).

Backend-neutral where it can be; TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys

import keras

GPU_HELP = (
    "No GPU is visible to {backend}. On Colab: Runtime -> Change runtime type -> a GPU, then "
    "run the notebook again. On Linux or WSL2: pip install 'tensorflow[and-cuda]' (the old "
    "'tensorflow-gpu' package is gone) and check `nvidia-smi`. Native Windows has had no "
    "TensorFlow GPU support since TF 2.10: use WSL2. To see why TensorFlow skipped a GPU (this "
    "book hides its start-up messages), run in a terminal: TF_CPP_MIN_LOG_LEVEL=0 python -c "
    "\"import tensorflow as tf; print(tf.config.list_physical_devices('GPU'))\"."
)


def backend():
    return keras.config.backend()


def gpu_names():
    """Names of the GPUs the current Keras backend can use (empty on a CPU-only machine)."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if name == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform == "gpu"]
    if name == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def gpu_available():
    return bool(gpu_names())


def require_gpu():
    """Fail with instructions when no GPU is visible. The book does not call it by default."""
    if not gpu_available():
        raise RuntimeError(GPU_HELP.format(backend=backend()))


# The CPU instructions with which TensorFlow (2.9 and later, Linux x86) turns its oneDNN
# kernels on by itself, as /proc/cpuinfo names them (AVX_VNNI, AVX512_VNNI, AVX512_BF16, AMX)
ONEDNN_DEFAULT_FLAGS = ("avx_vnni", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8",
                        "amx_tile")


def _cpuinfo(field):
    """The first CPU's ``field`` in /proc/cpuinfo (Linux), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags(wanted=ONEDNN_DEFAULT_FLAGS):
    """Which of ``wanted`` this CPU has (an empty tuple where /proc/cpuinfo does not say)."""
    present = set((_cpuinfo("flags") or "").split())
    return tuple(flag for flag in wanted if flag in present)


def cpu_name():
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_cores():
    """The CPU cores this process may run on (``taskset`` or a cpuset can allow fewer than the
    machine has, and ``os.cpu_count`` counts the machine's; a cgroup CPU quota is not seen)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count()


def machine(environment=None):
    """'CPU: AMD EPYC 7B13 (2 cores)' or 'NVIDIA H200': the device of ``environment`` (a
    record's, default this process's), with its cores where it is a CPU."""
    if environment is None:
        environment = {"device": device_name(), "gpu": gpu_available(), "cpu_cores": cpu_cores()}
    device, cores = environment.get("device", "?"), environment.get("cpu_cores")
    if not cores or environment.get("gpu"):
        return device
    return f"{device} ({cores} core{'s' if cores != 1 else ''})"


def _first_gpu():
    """The backend's first GPU, as it describes it: TensorFlow's device details (a dict) or
    JAX's device; None without one, or on another backend."""
    if backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]) if gpus else None
    if backend() == "jax":
        import jax

        return next((d for d in jax.devices() if d.platform == "gpu"), None)
    return None


def device_name():
    """A short name of the device that trains: the first GPU, else the CPU model."""
    gpu = _first_gpu()
    if gpu is None:  # a CPU, or a backend _first_gpu does not describe (PyTorch)
        gpus = gpu_names()
        return gpus[0] if gpus else f"CPU: {cpu_name()}"
    if backend() == "tensorflow":
        return gpu.get("device_name", "GPU 0")
    return gpu.device_kind  # "NVIDIA H200"


def float32_products():
    """How float32 matrix products and convolutions compute here: "float32", or "tf32" where
    the backend's default is TensorFloat-32 (10-bit mantissa) on an NVIDIA GPU of compute
    capability 8.0 (Ampere) or later: JAX's default precision and TensorFlow's
    ``tensor_float_32_execution`` both choose it there. A float32 policy stores and adds in
    float32 either way; a record names which, since the two can train differently."""
    name = backend()
    if not gpu_available():
        return "float32"
    if name == "jax":
        import jax

        asked = jax.config.jax_default_matmul_precision  # None: the backend's default
        if asked not in (None, "default"):
            return {"highest": "float32", "tensorfloat32": "tf32"}.get(str(asked), str(asked))
    elif name == "tensorflow":
        import tensorflow as tf

        if not tf.config.experimental.tensor_float_32_execution_enabled():
            return "float32"
    else:  # PyTorch's default is its own setting, not read here
        return "unknown"
    capability = gpu_compute_capability()  # None: not reported, or not NVIDIA's ("gfx90a")
    return "unknown" if capability is None else "tf32" if capability >= (8, 0) else "float32"


def precision_name(policy, environment):
    """A record's compute precision as the book names it: ``policy`` (a dtype policy's name),
    and for float32 on a GPU whether the products were TF32, from the record's
    ``float32_products``; a GPU record that predates that field says so."""
    products = environment.get("float32_products")
    if policy != "float32" or not (environment.get("gpu") or products == "tf32"):
        return policy
    if products is None:  # the frameworks' default on an NVIDIA GPU since Ampere
        return "float32 (TF32 products by default; the record does not say)"
    if products == "unknown":
        return "float32 (product precision not known)"
    named = {"tf32": "TF32", "float32": "full float32"}.get(products, products)
    return f"float32 ({named} products)"


# XLA's compilation of one jitted function, as JAX reports it (jax.monitoring)
_JAX_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def compile_seconds():
    """The seconds JAX spends compiling inside the block, by function: a dict that fills in as
    the block runs (``{"train_step": 17.6, "test_step": 1.8, ...}``; a function compiled
    twice, for two shapes, counts both). On a GPU a first epoch is mostly this. Empty on
    TensorFlow and PyTorch, which report no such event (their tracing is not counted)."""
    found = {}
    if backend() != "jax":
        yield found
        return
    import jax.monitoring

    def listener(event, duration, **details):
        if event == _JAX_COMPILE_EVENT:
            name = str(details.get("fun_name", "?")).removeprefix("jit(").removesuffix(")")
            found[name] = found.get(name, 0.0) + duration

    # a JAX without these hooks only loses the figure, never the training run around it; one
    # that could not remove the listener again gets none (one more each run, never removed)
    unregister = getattr(jax.monitoring, "unregister_event_duration_listener", None)
    if unregister is None:
        yield found
        return
    try:
        jax.monitoring.register_event_duration_secs_listener(listener)
    except Exception:  # noqa: BLE001
        unregister = None
    try:
        yield found
    finally:
        if unregister is not None:
            try:
                unregister(listener)
            except Exception:  # noqa: BLE001
                pass


def compile_summary(found, least=0.5):
    """``compile_seconds``' dict for a record: each function that took ``least`` seconds or
    more, the rest together as "other", and the "total", rounded to 0.1 s; None where nothing
    was counted (not JAX)."""
    if not found:
        return None
    summary = {name: round(s, 1) for name, s in sorted(found.items(), key=lambda kv: -kv[1])
               if s >= least}
    summary["other"] = round(sum(s for s in found.values() if s < least), 1)
    summary["total"] = round(sum(found.values()), 1)
    return summary


def report():
    """What Keras and its backend see: versions, devices, CUDA/cuDNN build, dtype policy."""
    info = {
        "python": sys.version.split()[0],
        "keras": keras.__version__,
        "backend": backend(),
        "dtype_policy": keras.config.dtype_policy().name,
        "gpus": gpu_names(),
        "device": device_name(),
    }
    if backend() == "tensorflow":
        import tensorflow as tf

        build = tf.sysconfig.get_build_info()
        info["tensorflow"] = tf.__version__
        info["built_with_cuda"] = tf.test.is_built_with_cuda()
        info["cuda_version"] = build.get("cuda_version", "none")
        info["cudnn_version"] = build.get("cudnn_version", "none")
        info["devices"] = [d.name for d in tf.config.list_physical_devices()]
    return info


def enable_memory_growth():
    """Let TensorFlow take GPU memory as needed, not all at once. Call before any GPU work.

    Returns the number of GPUs set; raises RuntimeError (TensorFlow's) if a GPU is already
    initialised, since the setting can only be made before.
    """
    if backend() != "tensorflow":
        return 0
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    return len(gpus)


def set_mixed_precision(enabled):
    """Compute in 16 bits with float32 weights, or back to "float32"; returns the policy's name.

    The 16-bit type is the one ``policy_for("mixed")`` picks for this machine: bfloat16 where
    the GPU has it (and on a CPU), float16 with loss scaling on older GPUs. Build the model
    *after* this call. The book's models keep their final softmax in float32.
    """
    keras.config.set_dtype_policy(policy_for("mixed") if enabled else "float32")
    return keras.config.dtype_policy().name


def gpu_compute_capability():
    """The first GPU's CUDA compute capability as (major, minor), or None (no GPU, or unknown)."""
    if not gpu_available():
        return None
    try:
        name = backend()
        if name == "tensorflow":
            import tensorflow as tf

            gpu = tf.config.list_physical_devices("GPU")[0]
            return tuple(tf.config.experimental.get_device_details(gpu)["compute_capability"])
        if name == "jax":
            import jax

            gpu = [d for d in jax.devices() if d.platform == "gpu"][0]
            return tuple(int(v) for v in str(gpu.compute_capability).split("."))
        if name == "torch":
            import torch

            return tuple(torch.cuda.get_device_capability(0))
    except Exception:  # a device without the field (e.g. a ROCm GPU): no claim
        return None
    return None


def policy_for(precision):
    """The Keras dtype policy for a profile's ``precision``: "float32", "mixed" or "auto".

    "mixed" means bfloat16 compute where the GPU has it natively (compute capability 8.0 and
    up: A100, H100, H200, L4), else float16 with loss scaling where it has tensor cores (7.x:
    T4, V100; Colab's free GPU is a T4), else float32: an older GPU (a GTX 10xx, P100, K80) has
    no tensor cores, and on most of those float16 arithmetic is no faster, or far slower, than
    float32. On a CPU "mixed" is bfloat16. "auto" is "mixed" on a GPU and "float32" on a CPU.
    Weights, the final softmax and the loss stay float32 either way; the record keeps the
    policy a run used (``hyper["dtype_policy"]``).
    """
    if precision == "auto":
        precision = "mixed" if gpu_available() else "float32"
    if precision in ("float32", "mixed_bfloat16", "mixed_float16"):
        return precision
    if precision == "mixed":
        capability = gpu_compute_capability()
        if capability is not None and capability < (7, 0):
            return "float32"
        if capability is not None and capability < (8, 0):
            return "mixed_float16"
        return "mixed_bfloat16"
    raise ValueError(
        f"Unknown precision {precision!r}: use 'float32', 'mixed', 'mixed_bfloat16', "
        "'mixed_float16' or 'auto'."
    )


@contextlib.contextmanager
def dtype_policy(name):
    """Build and train under the Keras dtype policy ``name``; the previous one comes back after.

    Keras wraps the optimizer in a LossScaleOptimizer itself when a model compiled under
    "mixed_float16" (bfloat16 needs none: it has float32's range).
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_dtype_policy(previous)


def split_cpu(n=2):
    """Make TensorFlow show ``n`` logical CPU devices, to exercise multi-device code on a CPU.

    Must run before TensorFlow initialises its devices (before any model is built).
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
    )
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def git_commit():
    """The project's git commit (with "-dirty" if files differ from it), or None.

    ``$BOOK_GIT_COMMIT`` wins: a copy of the working tree without its .git folder (the lent GPU
    machine gets one) is told its commit that way.
    """
    if os.environ.get("BOOK_GIT_COMMIT"):
        return os.environ["BOOK_GIT_COMMIT"]
    from helpers.paths import project_root

    try:
        root = project_root()
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
        return commit + ("-dirty" if dirty else "")
    except Exception:
        return None


# The commit of the code this process loaded: a record saved at the end of a long run names
# it, not a commit made while the run trained.
_LOADED_COMMIT = git_commit()


def loaded_commit():
    """``git_commit()`` as it was when ``helpers`` was imported (``$BOOK_GIT_COMMIT`` wins)."""
    return os.environ.get("BOOK_GIT_COMMIT") or _LOADED_COMMIT


def backend_version():
    """The version of the package behind Keras' backend (tensorflow, jax or torch)."""
    name = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend())
    try:
        return __import__(name).__version__ if name else None
    except ImportError:
        return None


def environment():
    """The environment part of a results record: software, device and where the code came from."""
    import datetime

    env = {
        "python": sys.version.split()[0],
        "keras": keras.__version__,
        "backend": backend(),
        "backend_version": backend_version(),
        "device": device_name(),
        "gpu": gpu_available(),
        "cpu_cores": cpu_cores(),
        # the CPU model name alone does not tell whether TensorFlow's oneDNN kernels were on
        "cpu_onednn_flags": list(cpu_flags()),
        "precision": keras.config.dtype_policy().name,
        "float32_products": float32_products(),
        "git_commit": loaded_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if os.environ.get("XLA_FLAGS"):  # they change what XLA compiles (autotuning, fusion)
        env["xla_flags"] = os.environ["XLA_FLAGS"]
    if backend() == "tensorflow":
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
    return env


def time_train_step(model_name="vgg16", batch_size=128, steps=3, device=None, jit_compile=None):
    """Median seconds of one training step of ``model_name`` on random data (after a warm-up).

    ``device`` ("/CPU:0", "/GPU:0") pins the work with ``tf.device`` on TensorFlow.
    ``jit_compile`` None means what the book's training uses here
    (``training.default_jit_compile``: XLA on a GPU and on JAX), so that the step timed is the
    step the chapters train with.
    """
    import contextlib
    import time

    import numpy as np

    from helpers import models

    context = contextlib.nullcontext()
    if device and backend() == "tensorflow":
        import tensorflow as tf

        context = tf.device(device)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch_size, 32, 32, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 10, batch_size), 10)
    if jit_compile is None:
        from helpers import training  # it imports this module

        jit_compile = training.default_jit_compile(device)
    with context:
        model = models.build(model_name)
        model.compile(
            optimizer=keras.optimizers.SGD(0.01), loss="categorical_crossentropy",
            jit_compile=jit_compile,
        )
        model.train_on_batch(x, y)  # traces and compiles: not timed
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


if __name__ == "__main__":  # python -m helpers.devices MODEL [BATCH]: a step's time, in a subprocess
    import json

    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    print(json.dumps({"seconds_per_step": time_train_step(sys.argv[1], batch_size=batch)}))
