"""Six ways to train one network on the same data, timed alike (chapter 9, ``make bench``).

The post asks: ``fit``, ``fit_generator`` or ``train_on_batch``? In Keras 3, ``fit_generator``
is gone and ``fit`` takes every kind of input. Each function here trains ``model`` for
``epochs`` epochs with batches of ``batch_size`` and returns the seconds of every epoch and the
last epoch's mean loss, so that the ways can be compared on the same footing.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np

from helpers import data, pipelines, training


def _fit(model, x, y=None, epochs=1, **kwargs):
    kwargs.setdefault("shuffle", False)  # pipelines and generators shuffle themselves
    # EpochLog times each epoch into the logs, as in the chapters' training
    history = model.fit(x, y, epochs=epochs, verbose=0, callbacks=[training.EpochLog()],
                        **kwargs).history
    return list(history["seconds"]), float(history["loss"][-1])


def fit_arrays(model, x, y, batch_size, epochs):
    """``fit`` on in-memory NumPy arrays: Keras batches and shuffles them itself."""
    return _fit(model, x, y, epochs, batch_size=batch_size, shuffle=True)


def fit_tf_data(model, x, y, batch_size, epochs, augment=True):
    """``fit`` on a ``tf.data`` pipeline that augments batches in parallel (TensorFlow)."""
    return _fit(model, pipelines.tf_dataset(x, y, batch_size, augment=augment), epochs=epochs)


class ImageFiles(keras.utils.PyDataset):
    """Batches decoded from image files on disk, for data that does not fit in memory.

    ``files`` are paths of 32x32 images and ``labels`` their class ids; each batch is read,
    decoded, standardised and one-hot encoded when asked for, by ``workers`` threads (or
    processes with ``use_multiprocessing=True``) ahead of the training step. This is the job
    ``fit_generator`` with ``workers=`` did in Keras 2.
    """

    def __init__(self, files, labels, batch_size, mean, std, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.files, self.labels = np.asarray(files), np.asarray(labels).reshape(-1)
        self.batch_size, self.mean, self.std = batch_size, mean, std
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(self.files))

    def __len__(self):
        return math.ceil(len(self.files) / self.batch_size)

    def __getitem__(self, index):
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = np.stack([_rgb(f) for f in self.files[idx]])
        x = data.standardize(images, self.mean, self.std)
        return x, keras.utils.to_categorical(self.labels[idx], len(data.CLASSES))

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.files))


def _rgb(path):
    from PIL import Image

    with Image.open(path) as image:  # closed at once: an epoch opens every file
        return np.asarray(image.convert("RGB"))


def write_image_files(images, labels, folder):
    """Write uint8 images as ``folder/<class>/<n>.png`` (lossless); return paths and labels."""
    from PIL import Image

    folder = Path(folder)
    files = []
    for n, (image, label) in enumerate(zip(images, np.asarray(labels).reshape(-1))):
        path = folder / data.CLASSES[label] / f"{n:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
        files.append(str(path))
    return files, np.asarray(labels).reshape(-1)


def fit_pydataset(model, dataset, epochs):
    """``fit`` on a ``PyDataset`` (such as ``ImageFiles``: workers prepare batches ahead), or
    on any other dataset ``fit`` takes as it is (the benchmark passes ``training_data``'s
    ``tf.data`` pipeline)."""
    return _fit(model, dataset, epochs=epochs)


def batches(x, y, batch_size, seed=0):
    """An endless Python generator of shuffled batches: what ``fit_generator`` used to take."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            yield x[idx], y[idx]


def fit_generator_replacement(model, x, y, batch_size, epochs):
    """``fit`` on a Python generator; endless, so ``steps_per_epoch`` says where epochs end."""
    steps = math.ceil(len(x) / batch_size)
    return _fit(model, batches(x, y, batch_size), epochs=epochs, steps_per_epoch=steps)


def _manual_epochs(step, x, y, batch_size, epochs, seed=0):
    """Shuffle, batch and run ``step(xb, yb) -> loss`` by hand; per-epoch seconds, mean loss."""
    rng = np.random.default_rng(seed)
    seconds, mean_loss = [], float("nan")
    for _ in range(epochs):
        start, losses, sizes = time.perf_counter(), [], []
        order = rng.permutation(len(x))
        for first in range(0, len(x), batch_size):
            idx = order[first : first + batch_size]
            losses.append(float(step(x[idx], y[idx]))), sizes.append(len(idx))
        seconds.append(time.perf_counter() - start)
        mean_loss = float(np.average(losses, weights=sizes))
    return seconds, mean_loss


def train_on_batch_loop(model, x, y, batch_size, epochs, seed=0):
    """A hand-written loop of ``train_on_batch``: shuffling and epoch means are ours to do.

    ``train_on_batch`` resets the metrics on every call, so the epoch's mean loss is averaged
    here; a learning-rate schedule still works (the optimizer counts its iterations), but
    callbacks (checkpoints, per-epoch schedules, early stopping) are not called.
    """

    def step(xb, yb):
        return model.train_on_batch(xb, yb, return_dict=True)["loss"]

    return _manual_epochs(step, x, y, batch_size, epochs, seed)


def gradient_tape_loop(model, x, y, batch_size, epochs, seed=0):
    """A custom training step with ``tf.GradientTape`` (TensorFlow): everything is explicit.

    The loss must include ``model.losses`` (the L2 penalties of ``kernel_regularizer``) by
    hand; ``fit`` adds them itself. ``optimizer.scale_loss`` is a no-op in float32; under
    ``mixed_float16`` the optimizer is a LossScaleOptimizer, whose ``apply`` divides the
    gradients by the scale that this multiplies the loss by.
    """
    import tensorflow as tf

    # compile's loss may be a name, as the post writes it: keras.losses.get turns that into
    # the per-image function, which the mean below reduces as a Loss object reduces itself
    loss_fn, optimizer = keras.losses.get(model.loss), model.optimizer
    if not optimizer.built:  # as fit does first: a LossScaleOptimizer's scale is then a variable
        optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=bool(model.jit_compile))  # under XLA where fit's own step is
    def step(xb, yb):
        with tf.GradientTape() as tape:
            predictions = model(xb, training=True)
            loss = keras.ops.mean(loss_fn(yb, predictions))
            if model.losses:
                loss += tf.add_n(model.losses)
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return _manual_epochs(step, x, y, batch_size, epochs, seed)


class TapeTrainStep(keras.Model):
    """A model whose ``fit`` runs a hand-written training step (TensorFlow backend only).

    Overriding ``train_step`` changes what one step does and keeps everything else ``fit``
    gives: callbacks, the progress bar, validation, distribution. This step is a minimal
    version of ``fit``'s (as in the keras.io guide): ``compute_loss`` adds ``model.losses`` (the
    L2 penalties) to the loss, and ``scale_loss`` scales it as mixed precision in float16
    needs; it leaves out sample weights and the loss tracking distribution needs. Build
    it around an existing functional model with ``TapeTrainStep(model.inputs, model.outputs)``
    (the layers are shared). On JAX and PyTorch ``train_step`` has another form (keras.io,
    "Customizing what happens in fit()").
    """

    def train_step(self, data):
        import tensorflow as tf

        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            scaled = self.optimizer.scale_loss(loss)  # float16: the optimizer unscales
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {metric.name: metric.result() for metric in self.metrics}


def fit_custom_step(model, x, y, batch_size, epochs):
    """``fit`` on the generator of ``fit_generator_replacement``, through ``TapeTrainStep``.

    ``model`` must be compiled; its layers are trained. The batches come in the same order as
    in ``fit_generator_replacement`` and the hand-written loops, so a fresh network with the
    same seed should end each way at the same loss.
    """
    custom = TapeTrainStep(model.inputs, model.outputs)
    custom.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                   jit_compile=getattr(model, "jit_compile", False))
    steps = math.ceil(len(x) / batch_size)
    return _fit(custom, batches(x, y, batch_size), epochs=epochs, steps_per_epoch=steps)
