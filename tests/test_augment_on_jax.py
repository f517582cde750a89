"""The post's augmentation inside a model trains in one compiled step on Keras' JAX backend.

Keras marks its rotation and translation layers as not XLA-compilable (TensorFlow's kernel for
them is not), and a model holding them then trains with ``jit_compile=False``: on JAX, that is
no compiled step at all, one operation at a time (the GPU chapters' ``full`` profile uses this
augmentation). ``helpers.augment`` lifts the mark on JAX; this checks, in a JAX process, that
the model then compiles, trains, augments in training only, and predicts like the bare network.
"""

import pytest

pytest.importorskip("jax")

SCRIPT = r"""
import helpers, keras, numpy as np
from helpers import augment, training
assert keras.config.backend() == "jax"
net = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3),
                        keras.layers.GlobalAveragePooling2D(),
                        keras.layers.Dense(10, activation="softmax")])
model = augment.with_augmentation(net, "post", seed=0)
training.compile_model(model, keras.optimizers.SGD(0.01))
assert model.jit_compile, "the post's augmentation turned the compiled step off"
x = np.random.default_rng(0).normal(size=(16, 32, 32, 3)).astype("float32")
y = keras.utils.to_categorical(np.arange(16) % 10, 10)
loss = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]
assert np.all(np.isfinite(loss)), loss
a, b = model(x[:2], training=True), model(x[:2], training=True)
assert np.abs(np.asarray(a) - np.asarray(b)).max() > 0, "no augmentation in training"
assert np.allclose(model.predict(x, verbose=0), net.predict(x, verbose=0), atol=1e-5)
print("ok")
"""


def test_the_posts_augmentation_trains_in_a_compiled_step_on_jax(on_jax):
    on_jax(SCRIPT)
