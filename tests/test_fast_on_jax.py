"""The `fast` recipe, as the GPU machine runs it, on Keras' JAX backend (tiny, on this CPU).

The device run trains chapters 3-7 under `fast` on JAX in mixed precision, with the crops in
the compiled step and the BN statistics re-estimated inside `fit` before each validation: a
combination no TensorFlow test exercises. Here it runs end to end in a JAX process, on a few
synthetic images, forced to bfloat16 (the GPU's choice) although this CPU would pick float32,
with a training set that leaves a smaller last batch: on JAX it is left out, so that the
training step compiles once, not twice (the bench compiled GoogLeNet's step in 66 s on the
H200).
"""

import pytest

pytest.importorskip("jax")

SCRIPT = r"""
import dataclasses, logging
import helpers, jax, keras, numpy as np
from helpers import experiment, models, profiles
assert keras.config.backend() == "jax"
compiles = []  # JAX logs each compile of a jitted function, with its name
class Compiles(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("Compiling jit(train_step)"):
            compiles.append(record.getMessage())
jax.config.update("jax_log_compiles", True)
logging.getLogger("jax").addHandler(Compiles())
rng = np.random.default_rng(0)
x = rng.normal(size=(65, 32, 32, 3)).astype("float32")
y = keras.utils.to_categorical(np.arange(65) % 10, 10)
# 45 training images in batches of 20: 5 left over each epoch
prepared = experiment.Prepared("synthetic", x[:45], y[:45], x[45:], y[45:], x[45:], y[45:],
                               np.zeros((20, 32, 32, 3), "uint8"))
profile = dataclasses.replace(profiles.PROFILES["fast"], epochs={n: 2 for n in models.NAMES},
                              batch_size=20, precision="mixed", warmup_epochs=1)
assert profile.bn_recalibration, "the fast recipe no longer re-estimates its BN statistics"
run = experiment.train_network("vgg16", profile, prepared, save=False, verbose=0)
r = run.record
assert r["hyper"]["augmented_in"] == "model" and r["hyper"]["dtype_policy"] == "mixed_bfloat16"
assert r["environment"]["backend"] == "jax", r["environment"]
assert all(np.isfinite(r["history"]["loss"])), r["history"]["loss"]
assert r["history"]["learning_rate"][-1] < 1e-6  # warm-up, then the cosine down to 0
assert len(compiles) == 1, compiles  # whole batches only: one shape, one compile
# the record says what compiling cost, the training step's part of it named
seconds = r["compile_seconds"]
assert seconds["train_step"] > 0 and seconds["total"] >= seconds["train_step"], seconds
assert r["hyper"]["left_out_per_epoch"] == 5
assert r["test_accuracy_as_trained"] is not None  # the re-estimate ran inside fit
# and reached the network that was tested: its BN statistics are not those training left
from helpers import batchnorm
tested, left = (batchnorm.moving_statistics(m) for m in (run.model, run.as_trained))
assert any(not np.allclose(a, b) for t, l in zip(tested, left) for a, b in zip(t, l))
print("ok")
"""


def test_the_fast_recipe_trains_on_jax_in_mixed_precision_with_its_bn_re_estimate(on_jax):
    on_jax(SCRIPT, timeout=900)
