"""Data augmentation inside the model, where it runs in the compiled training step (ch. 2, 3).

Keras' preprocessing layers act only when the model is called with ``training=True`` (in
``fit``), and pass images through untouched in ``predict`` and ``evaluate``. Put in front of a
network they become part of its compiled step, so on a GPU they run there instead of in a
Python loop that feeds it (on Keras' JAX backend the ``PyDataset`` that runs them batch by
batch left an H200 waiting about 93 % of the time, in a measurement made before the book kept
benchmark records: issue 10 reports it; the device run's ``pipeline`` step is to time it into
``results/bench/pipeline-gpu.json``, which chapter 2 reads once it exists).

Two recipes: ``"post"``, the augmentation of the code the post builds on (geifman's cifar-vgg:
shifts of up to 10 %, horizontal flips, rotations of up to 15 degrees; the post names a data-
augmenting generator but shows no values); ``"crop"``, the usual
CIFAR recipe (pad 4 pixels, crop back at a random offset, i.e. shifts of up to 4 pixels, and
horizontal flips), which needs no interpolation: a per-image selection done as two small
matrix products.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

KINDS = ("post", "crop")
# The augmentation layers compute in float32 under any mixed-precision policy: the network's
# first layer casts to 16 bits after them. Crops and flips are exact either way, but
# TensorFlow's kernel behind RandomTranslation and RandomRotation has no bfloat16 version on
# a GPU, only on a CPU.
IMAGE_DTYPE = "float32"


def layer_seeds(seed, count):
    """``count`` independent seeds derived from ``seed``, one per random layer (``None``s for
    ``None``). Each Keras random layer starts its own generator from its seed, so layers given
    the same seed draw the same numbers: a flip would always come with the same rotation."""
    if seed is None:
        return (None,) * count
    return tuple(int(s) for s in np.random.default_rng(seed).integers(2**31 - 1, size=count))


@keras.saving.register_keras_serializable(package="helpers")
class RandomPadCrop(keras.layers.Layer):
    """Pads each image by ``pad`` zero pixels and crops it back at its own random offset.

    Equivalent to a random integer shift of up to ``pad`` pixels in each direction, with zeros
    filling in. The crop is exact: the selection is a product with one-hot matrices. Written
    here because Keras' own ``RandomCrop`` (up to 3.15 at least) draws one offset for a whole
    batch, not one per image.
    """

    def __init__(self, pad=4, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):  # as Keras' own random layers: on unless told off
        if not training:
            return images
        p = self.pad
        batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        padded = ops.pad(images, [[0, 0], [p, p], [p, p], [0, 0]])
        dy = keras.random.randint((batch,), 0, 2 * p + 1, seed=self.seed_generator)
        dx = keras.random.randint((batch,), 0, 2 * p + 1, seed=self.seed_generator)
        # rows[b, i, :] selects padded row dy[b] + i; cols likewise for the columns
        rows = ops.one_hot(dy[:, None] + ops.arange(height)[None, :], height + 2 * p,
                           dtype=images.dtype)
        cols = ops.one_hot(dx[:, None] + ops.arange(width)[None, :], width + 2 * p,
                           dtype=images.dtype)
        return ops.einsum("bih,bhwc,bjw->bijc", rows, padded, cols)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pad": self.pad, "seed": self.seed}


def layers(kind="post", seed=None):
    """The augmentation ``kind`` ("post" or "crop") as one Sequential of preprocessing layers,
    each drawing from its own seed (``layer_seeds``).

    "post": random shifts of up to 10 % of the width and height, horizontal flips and rotations
    of up to 15 degrees (``ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
    horizontal_flip=True, rotation_range=15)`` in Keras 2), with the same 'nearest' filling.
    "crop": ``RandomPadCrop(4)`` and horizontal flips.
    """
    if kind == "post":
        shift, flip, rotation = layer_seeds(seed, 3)
        steps = [keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=shift,
                                                dtype=IMAGE_DTYPE),
                 keras.layers.RandomFlip("horizontal", seed=flip, dtype=IMAGE_DTYPE),
                 keras.layers.RandomRotation(15 / 360, fill_mode="nearest", seed=rotation,
                                             dtype=IMAGE_DTYPE)]
    elif kind == "crop":
        crop, flip = layer_seeds(seed, 2)
        steps = [RandomPadCrop(4, seed=crop, dtype=IMAGE_DTYPE),
                 keras.layers.RandomFlip("horizontal", seed=flip, dtype=IMAGE_DTYPE)]
    else:
        raise ValueError(f"Unknown augmentation {kind!r}: use one of {', '.join(KINDS)}.")
    augmentation = keras.Sequential(steps, name="augmentation")
    if keras.config.backend() == "jax":
        # Keras marks RandomRotation and RandomTranslation as not XLA-compilable, because
        # TensorFlow's kernel for them is not; a model holding one then trains with
        # jit_compile=False, which on JAX means no compiled step at all. On JAX they are plain
        # jax.numpy and compile (tests/test_augment_on_jax.py).
        for layer in augmentation.layers:
            layer.supports_jit = True
    return augmentation


def with_augmentation(network, kind="post", seed=None):
    """``network`` with ``kind`` augmentation in front: a model to train, sharing its weights.

    Same parameters as ``network`` (the augmentation layers have none), and the same outputs in
    inference; train this one, then evaluate or save either.
    """
    inputs = keras.Input(network.input_shape[1:], name="images")
    outputs = network(layers(kind, seed)(inputs))
    return keras.Model(inputs, outputs, name=f"{network.name}_augmented")


# Where augmentation trains fastest, and so where the "auto" setting puts it: "model" (in the
# compiled step), on every backend. On a GPU that is Keras' own advice, and on JAX or PyTorch
# the alternative is a PyDataset that runs the layers batch by batch outside the compiled step
# (about 0.07x of unaugmented arrays for ResNet18 on an H200, in a measurement reported with
# issue 10 and not stored; results/bench/pipeline-gpu.json, once a device run makes it, will
# hold one).
# On this 2-core CPU with TensorFlow, cifar-vgg's augmentation in the model trained GoogLeNet
# and ResNet18 at 0.97x and 1.00x the speed of unaugmented arrays, and the tf.data pipeline
# that augments in parallel threads at 0.94x and 0.97x (results/bench/augmentation-cpu.json,
# one run: differences of a few per cent are within its noise), so it is not slower there
# either. Where a measurement says otherwise, this is the one place to decide it.
BEST_PLACE = "model"
