"""Compiling with the post's optimizer, and a ``fit`` that records what a run did (chapter 3).

The post compiles ``SGD(lr=0.1, decay=1e-6, momentum=0.9, nesterov=True)``: the recipe of the
code it builds on (geifman's cifar-vgg, after Liu & Deng 2015), which also halves the rate
every 20 epochs; the post itself gives no values beyond its code. In Keras 3 ``lr=`` is an
error and ``decay=`` is silently ignored, so the legacy per-iteration decay
``lr_t = lr / (1 + decay * t)`` is reproduced here with a learning-rate schedule.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from helpers import devices, losses


@keras.saving.register_keras_serializable(package="helpers")
class LegacyDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Keras 2's ``SGD(decay=...)``, optionally halved every ``halve_every`` epochs.

    ``lr_t = lr * 0.5 ** (epoch // halve_every) / (1 + decay * t)`` at iteration ``t`` (from 0),
    as Keras 2 computed when a ``LearningRateScheduler`` halving the rate was combined with
    ``decay`` (the code the post builds on halves every 20 epochs). Without halving it equals
    ``keras.optimizers.schedules.InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)``.
    """

    def __init__(self, initial_learning_rate, decay, steps_per_epoch=None, halve_every=None):
        if halve_every and not steps_per_epoch:
            raise ValueError("halve_every needs steps_per_epoch to know where epochs end.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay = float(decay)
        self.steps_per_epoch = steps_per_epoch
        self.halve_every = halve_every

    def __call__(self, step):
        t = ops.cast(step, "float32")
        lr = self.initial_learning_rate / (1.0 + self.decay * t)
        if self.halve_every:
            epoch = ops.floor(t / self.steps_per_epoch)
            lr = lr * ops.power(0.5, ops.floor(epoch / self.halve_every))
        return lr

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay": self.decay,
            "steps_per_epoch": self.steps_per_epoch,
            "halve_every": self.halve_every,
        }


def post_optimizer(learning_rate=0.1, decay=1e-6, steps_per_epoch=None, halve_every=None):
    """The post's SGD: momentum 0.9, Nesterov, legacy decay (and optional halving)."""
    schedule = LegacyDecay(learning_rate, decay, steps_per_epoch, halve_every)
    return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)


def cosine_schedule(learning_rate, steps_per_epoch, epochs, warmup_epochs=0):
    """A linear warm-up from 0 to ``learning_rate`` over ``warmup_epochs``, then a cosine to 0."""
    warmup = warmup_epochs * steps_per_epoch
    decay_steps = max(1, (epochs - warmup_epochs) * steps_per_epoch)
    if not warmup:
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps, warmup_target=learning_rate, warmup_steps=warmup
    )


def cosine_optimizer(learning_rate, steps_per_epoch, epochs, warmup_epochs=0):
    """SGD with Nesterov momentum 0.9 on ``cosine_schedule``: the ``fast`` profile's optimizer."""
    schedule = cosine_schedule(learning_rate, steps_per_epoch, epochs, warmup_epochs)
    return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)


def make_optimizer(
    name, learning_rate, decay=0.0, steps_per_epoch=None, halve_every=None, epochs=None,
    warmup_epochs=0,
):
    """``"sgd_post"`` (the post's SGD), ``"adam"`` or ``"sgd_cosine"`` (warm-up, cosine)."""
    if name == "sgd_post":
        return post_optimizer(learning_rate, decay, steps_per_epoch, halve_every)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "sgd_cosine":
        if not (steps_per_epoch and epochs):
            raise ValueError("sgd_cosine needs steps_per_epoch and epochs to place its schedule.")
        return cosine_optimizer(learning_rate, steps_per_epoch, epochs, warmup_epochs)
    raise ValueError(f"Unknown optimizer {name!r}: use 'sgd_post', 'adam' or 'sgd_cosine'.")


def default_jit_compile(device=None):
    """XLA on a GPU and always on JAX; not on a CPU elsewhere.

    On a GPU this is not measured: the lent H200 runs JAX, and TensorFlow on a GPU has no
    record here, so XLA is chosen there on the usual grounds (fused kernels, fewer launches);
    ``benchmarks/bench.py --only xla`` on such a machine measures it. On TensorFlow's CPU XLA
    made steps slower (chapter 1), also on a machine that has a GPU when ``device`` pins the
    work to its CPU ("/CPU:0"). JAX has no other compiled mode:
    without it, Keras runs the step op by op (ResNet18 on this 2-core CPU: 8.1 s a step of 128
    images vs 5.8 s with it). Not under a ``tf.distribute`` strategy (chapter 1's
    MirroredStrategy): Keras' own ``"auto"`` turns XLA off there, and forced on it can fail
    with a variable-placement error (keras-team/keras#19005).
    """
    backend = devices.backend()
    if backend == "jax":
        return True
    if backend == "tensorflow":
        import tensorflow as tf  # Keras has imported it already: no cost

        if tf.distribute.has_strategy():
            return False
    pinned_to_cpu = device is not None and "CPU" in device.upper()
    return devices.gpu_available() and not pinned_to_cpu


def resolve_jit_compile(model, jit_compile=None):
    """Set ``model``'s XLA choice and return it as Keras will use it, before ``compile``.

    ``jit_compile`` None means ``default_jit_compile()``. Keras' own setter turns XLA off where
    this model cannot have it (a layer without XLA support; TensorFlow's op determinism), and
    what depends on the choice (whole batches, hence the schedule's steps per epoch) must be
    decided before the optimizer exists: ``experiment.train_network`` asks here first.
    """
    model.jit_compile = default_jit_compile() if jit_compile is None else jit_compile
    return bool(model.jit_compile)


def compile_model(model, optimizer, loss="categorical", jit_compile=None, label_smoothing=0.0):
    """Compile with ``loss`` ("categorical", "sparse", or labels to choose from) and accuracy.

    Pass the training labels as ``loss`` to pick the loss that fits them (chapter 8).
    ``jit_compile`` None means ``default_jit_compile()``. ``label_smoothing`` needs the
    categorical loss where Keras' sparse loss has no such option (up to Keras 3.15).
    """
    if jit_compile is None:
        jit_compile = default_jit_compile()
    if isinstance(loss, str):
        loss_fn = losses.loss_for(loss, label_smoothing=label_smoothing)
        metric = "accuracy"  # Keras picks categorical or sparse accuracy from the shapes
    else:
        loss_fn, metric = losses.loss_and_metric(loss, model.output_shape[-1],
                                                 label_smoothing=label_smoothing)
    model.compile(optimizer=optimizer, loss=loss_fn, metrics=[metric], jit_compile=jit_compile)
    return model


def make_deterministic(seed=0):
    """Seed Python, NumPy and the backend, and (TensorFlow) make its ops deterministic.

    On TensorFlow, two runs with the same seed then give identical histories on the same
    machine and software, at some cost in speed; on JAX and PyTorch only the seeds are set.
    Without it, runs differ slightly (parallel reductions add floating-point numbers in varying
    order), though each is seeded.
    """
    keras.utils.set_random_seed(seed)
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def current_learning_rate(optimizer):
    """The rate the optimizer uses at its current iteration, schedules evaluated."""
    lr = optimizer.learning_rate
    return float(ops.convert_to_numpy(lr))


class EpochLog(keras.callbacks.Callback):
    """Adds ``learning_rate`` (at the epoch's end) and ``seconds`` (wall time) to the logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)
            logs["seconds"] = time.perf_counter() - self._start


def _read_log(path, before_epoch):
    """The history saved by CSVLogger, up to (not including) ``before_epoch``, deduplicated."""
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows[int(row["epoch"])] = {
                k: float(v) for k, v in row.items() if k != "epoch" and v not in ("", "NA")
            }
    keys = sorted({k for row in rows.values() for k in row})
    kept = [rows[e] for e in sorted(rows) if e < before_epoch]
    return {k: [row.get(k) for row in kept] for k in keys}


class InputShapeError(ValueError):
    """Images whose shape is not the one the network was built for."""


def check_data(model, x, y=None):
    """Fail before training if ``x`` or ``y`` do not fit ``model`` and its compiled loss.

    Says what was expected and what came, e.g. 28x28x1 MNIST images for a 32x32x3 network, or
    integer labels for the categorical loss.
    """
    expected, got = tuple(model.input_shape[1:]), tuple(np.shape(x)[1:])
    if got != expected:
        raise InputShapeError(
            f"{model.name} expects images of shape {expected}, got {got}. Resize or convert "
            f"them, or build the network with input_shape={got}."
        )
    if y is None:
        return
    classes = model.output_shape[-1]
    kind = losses.label_format(y, classes)
    wanted = {
        keras.losses.CategoricalCrossentropy: "categorical",
        keras.losses.SparseCategoricalCrossentropy: "sparse",
    }.get(type(model.loss))
    if wanted and kind != wanted:
        fix = "keras.utils.to_categorical(y, %d)" % classes if wanted == "categorical" else (
            "y.argmax(axis=1)")
        raise losses.LabelFormatError(
            f"The model is compiled with the {wanted} cross-entropy but the labels are {kind} "
            f"(shape {np.shape(y)}). Convert them with {fix}, or compile with loss={kind!r}."
        )


class BackupMismatchError(ValueError):
    """A backup folder that holds another model's run."""


def _claim_backup(backup_dir, model):
    """Mark ``backup_dir`` as ``model``'s, or refuse it if it holds another model's backup
    (Keras would fail on the first mismatched weight). Told apart by its weights, not its
    name, which Keras numbers anew when a cell runs again; an unbuilt model is not checked."""
    if not model.built:
        return
    owner = f"{len(model.weights)} weight tensors, {model.count_params():,} parameters"
    stamp = backup_dir / "model.txt"
    if stamp.exists() and stamp.read_text().strip() != owner:
        raise BackupMismatchError(
            f"{backup_dir} holds the backup of another model ({stamp.read_text().strip()}), not "
            f"of {owner}. Give this run a folder of its own, or delete that one to start afresh."
        )
    stamp.write_text(owner + "\n")


def fit(model, x, y=None, *, epochs, validation_data=None, backup_dir=None, verbose=1, **kwargs):
    """``model.fit`` that returns the whole history with learning rate and seconds per epoch.

    With ``backup_dir`` the run backs up after every epoch (Keras' ``BackupAndRestore``) and a
    run started again with the same directory continues where the last one stopped; the
    history returned then covers all epochs, those before the interruption included. A folder
    that holds another model's backup is refused (``BackupMismatchError``); one folder serves
    one run (``experiment.train_network`` makes one per run and recipe inside the folder it is
    given).
    """
    if hasattr(x, "shape"):
        check_data(model, x, y)
    callbacks = [EpochLog()] + list(kwargs.pop("callbacks", []))
    if not hasattr(x, "shape"):  # a tf.data.Dataset, PyDataset or generator shuffles itself
        kwargs.setdefault("shuffle", False)
    if backup_dir is None:
        history = model.fit(
            x, y, epochs=epochs, validation_data=validation_data,
            callbacks=callbacks, verbose=verbose, **kwargs,
        )
        return {k: [float(v) for v in vs] for k, vs in history.history.items()}
    backup_dir = Path(backup_dir)
    backup_dir.mkdir(parents=True, exist_ok=True)
    _claim_backup(backup_dir, model)
    log_path = backup_dir / "history.csv"
    # The log is written before the backup, so it always holds every backed-up epoch;
    # rows of an epoch that is run again after a restart are replaced when it ends.
    callbacks += [
        keras.callbacks.CSVLogger(str(log_path), append=True),
        keras.callbacks.BackupAndRestore(str(backup_dir / "backup")),
    ]
    model.fit(
        x, y, epochs=epochs, validation_data=validation_data,
        callbacks=callbacks, verbose=verbose, **kwargs,
    )
    return _read_log(log_path, before_epoch=epochs)
