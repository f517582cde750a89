"""The BN re-estimate is one compiled program on Keras' JAX backend, and exact.

Eager JAX compiles every operation apart on its first use, once per layer shape: GoogLeNet's
first re-estimate took 12 s on this CPU that way (4 s compiled), and on the lent H200 its first
epoch had not ended after 140 s. ``helpers.batchnorm`` runs
the re-estimate's training-mode pass as one ``jax.jit`` program per model, traced once and
reused for every epoch. This checks, in a JAX process, that the statistics are still the
averages of the batches' own, that dropout on still inflates the variance, that a second
re-estimate does not trace again (nor one inside ``fit``, before each validation, where it
must see that epoch's weights), and that the model's rates and momenta are restored.
"""

import pytest

pytest.importorskip("jax")

SCRIPT = r"""
import keras, numpy as np
from helpers import batchnorm
assert keras.config.backend() == "jax"
keras.utils.set_random_seed(0)
inputs = keras.Input((4,))
x = keras.layers.Dense(8, name="features")(inputs)
x = keras.layers.Dropout(0.5, name="dropout")(x)
x = keras.layers.BatchNormalization(name="bn")(x)
model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
images = np.random.default_rng(0).normal(2.0, 3.0, size=(400, 4)).astype("float32")
features = np.asarray(model.get_layer("features")(images)).reshape(4, 100, 8)
batchnorm.recalibrate(model, images, dropout=False, batch_size=100)
bn = model.get_layer("bn")
np.testing.assert_allclose(np.asarray(bn.moving_mean), features.mean(axis=1).mean(axis=0), rtol=1e-4)
np.testing.assert_allclose(np.asarray(bn.moving_variance), features.var(axis=1).mean(axis=0), rtol=1e-3)
assert bn.momentum == 0.99 and model.get_layer("dropout").rate == 0.5
traced = batchnorm._traces
batchnorm.recalibrate(model, images, dropout=False, batch_size=100)  # as before every validation
assert batchnorm._traces == traced, "the second re-estimate traced the pass again"
off = np.asarray(bn.moving_variance).copy()
batchnorm.recalibrate(model, images, dropout=True, batch_size=100)
assert (np.asarray(bn.moving_variance) > 1.5 * off).all(), "dropout on did not inflate the variance"
assert batchnorm._traces == traced + 1  # one more program: the dropout rates differ
# inside fit, before each validation: traced once for all epochs, on the weights of the epoch
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
labels = (images[:, 0] > 2).astype("int32")
callback = batchnorm.RecalibrateBeforeValidation(model, images, batch_size=100)
traced = batchnorm._traces
history = model.fit(images, labels, epochs=3, batch_size=50, verbose=0,
                    validation_data=(images, labels), callbacks=[callback])
assert batchnorm._traces == traced, "a re-estimate inside fit traced the pass again"
features = np.asarray(model.get_layer("features")(images)).reshape(4, 100, 8)
np.testing.assert_allclose(np.asarray(bn.moving_mean), features.mean(axis=1).mean(axis=0), rtol=1e-4)
np.testing.assert_allclose(history.history["val_loss"][-1], model.evaluate(images, labels, verbose=0),
                           rtol=1e-4)
print("ok")
"""


def test_the_re_estimate_is_compiled_once_and_exact_on_jax(on_jax):
    on_jax(SCRIPT)
