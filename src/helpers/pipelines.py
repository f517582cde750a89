"""Feeding training data to ``fit``: in-memory arrays, tf.data, PyDataset (chapters 3, 9)."""

from __future__ import annotations

import math

import keras
import numpy as np

from helpers.augment import layers as augment_layers


def tf_dataset(x, y, batch_size, augment=True, shuffle=True, seed=0, kind="post",
               whole_batches=False):
    """A ``tf.data`` pipeline: shuffle, batch, augment in parallel, prefetch (needs TensorFlow
    installed, on any backend; the "crop" augmentation needs the TensorFlow backend).
    ``whole_batches`` drops each epoch's last, smaller batch (after the shuffle: a different
    remainder each epoch), as ``AugmentedArrays`` does.

    Augmenting whole batches in the pipeline keeps it off the model and overlaps it with the
    training step; on a CPU the two share the cores, so it is not free (chapter 9 measures it).
    """
    import tensorflow as tf

    if whole_batches:
        check_whole_batches(len(x), batch_size)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=whole_batches)
    if augment:
        # Layer by layer, not through their Sequential: Keras' preprocessing layers switch to
        # TensorFlow ops inside tf.data on any backend, a Sequential around them does not.
        if kind != "post" and keras.config.backend() != "tensorflow":
            raise ValueError(
                f"The {kind!r} augmentation runs in tf.data only on the TensorFlow backend; on "
                f"{keras.config.backend()} put it in the model (helpers.augment.with_augmentation)."
            )
        steps = augment_layers(kind, seed=seed).layers

        def augment_batch(xb, yb):
            for layer in steps:
                xb = layer(xb, training=True)
            return xb, yb

        ds = ds.map(augment_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def check_whole_batches(images, batch_size):
    """Refuse ``whole_batches`` where the images make no whole batch (every epoch empty)."""
    if images < batch_size:
        raise ValueError(f"{images} images make no whole batch of {batch_size}: use a smaller "
                         "batch size, or whole_batches=False.")


class AugmentedArrays(keras.utils.PyDataset):
    """Shuffled, augmented batches of in-memory arrays on any backend (a PyDataset).

    ``whole_batches=True`` leaves out the last, smaller batch of every epoch, a different
    random remainder each time: on JAX every new batch shape compiles the training step once
    more (``compiles_per_batch_shape``), for the 336 images that 50,000 leave over in batches
    of 512. On the lent H200 the first epoch of VGG16 took 57-64 s before it and 24-27 s with
    it (mixed precision; code 30d789f, which changed more than this; the training step compiled
    once, in about 18 s: results/device-logs).
    """

    def __init__(self, x, y, batch_size, augment=True, seed=0, kind="post", whole_batches=False,
                 **kwargs):
        super().__init__(**kwargs)
        if whole_batches:
            check_whole_batches(len(x), batch_size)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.whole_batches = whole_batches
        self.layer = augment_layers(kind, seed=seed) if augment else None
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self):
        if self.whole_batches:
            return len(self.x) // self.batch_size
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        xb, yb = self.x[idx], self.y[idx]
        if self.layer is not None:
            xb = keras.ops.convert_to_numpy(self.layer(xb, training=True))
        return xb, yb

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.x))


def compiles_per_batch_shape(jit_compile=None):
    """Whether the training step is compiled once per batch shape: where XLA compiles it, on
    JAX and on TensorFlow. ``jit_compile`` is the model's choice as Keras resolved it
    (``training.resolve_jit_compile``); None means ``training.default_jit_compile()`` (XLA on a
    GPU and on JAX). Without XLA, TensorFlow traces batches of any size as one step and JAX
    runs op by op."""
    if jit_compile is None:
        from helpers import training  # (training does not import this module)

        jit_compile = training.default_jit_compile()
    return bool(jit_compile) and keras.config.backend() in ("tensorflow", "jax")


def training_data(x, y, batch_size, augment=True, seed=0, kind="post", whole_batches=False):
    """Shuffled batches augmented outside the model: tf.data on TensorFlow, else a PyDataset;
    ``whole_batches`` leaves out each epoch's last, smaller batch (``AugmentedArrays``).

    On a GPU, or on JAX and PyTorch, augmenting inside the model is faster
    (``helpers.augment``); ``experiment.train_network`` chooses.
    """
    if keras.config.backend() == "tensorflow":
        return tf_dataset(x, y, batch_size, augment=augment, seed=seed, kind=kind,
                          whole_batches=whole_batches)
    return AugmentedArrays(x, y, batch_size, augment=augment, seed=seed, kind=kind,
                           whole_batches=whole_batches)
