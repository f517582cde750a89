"""The six ways to train of chapter 9 all train, on a tiny network and synthetic data."""

import keras
import numpy as np
import pytest

from helpers import data, training, training_apis


def tiny(weight_decay=0.0):
    keras.utils.set_random_seed(0)
    reg = keras.regularizers.L2(weight_decay) if weight_decay else None
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(8, 3, activation="relu", kernel_regularizer=reg),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    return training.compile_model(model, keras.optimizers.Adam(3e-2), loss="categorical")


@pytest.fixture(scope="module")
def arrays():
    (images, labels), _ = data.synthetic_cifar10(train_per_class=12, test_per_class=1)
    mean, std = data.channel_stats(images)
    return images, labels, mean, std, data.standardize(images, mean, std), keras.utils.to_categorical(labels, 10)


TF_ONLY = pytest.mark.skipif(keras.config.backend() != "tensorflow",
                             reason="tf.GradientTape: TensorFlow backend only")


@pytest.mark.parametrize("way", ["fit_arrays", "fit_tf_data", "fit_generator_replacement",
                                 "train_on_batch_loop",
                                 pytest.param("gradient_tape_loop", marks=TF_ONLY)])
def test_each_way_trains(way, arrays):
    _, _, _, _, x, y = arrays
    model = tiny()
    before = float(model.evaluate(x, y, verbose=0)[0])
    seconds, loss = getattr(training_apis, way)(model, x, y, 16, 8)
    assert len(seconds) == 8 and all(s > 0 for s in seconds)
    after = float(model.evaluate(x, y, verbose=0)[0])
    assert after < 0.8 * before, (way, before, after)
    assert np.isfinite(loss)


def test_pydataset_streams_files_from_disk(arrays, tmp_path):
    images, labels, mean, std, x, y = arrays
    files, ids = training_apis.write_image_files(images, labels, tmp_path)
    stream = training_apis.ImageFiles(files, ids, 32, mean, std, workers=2)
    assert len(stream) == int(np.ceil(len(files) / 32))
    xb, yb = stream[0]
    assert xb.shape == (32, 32, 32, 3) and yb.shape == (32, 10)
    # PNG is lossless: the streamed batch equals the in-memory standardised images
    np.testing.assert_allclose(np.sort(xb.ravel()), np.sort(x[stream.order[:32]].ravel()), atol=1e-6)
    model = tiny()
    seconds, loss = training_apis.fit_pydataset(model, stream, epochs=2)
    assert len(seconds) == 2 and np.isfinite(loss)


@TF_ONLY
def test_gradient_tape_loop_adds_the_regularisation_losses(arrays):
    _, _, _, _, x, y = arrays
    model = tiny(weight_decay=10.0)  # a penalty that dominates the loss
    _, tape_loss = training_apis.gradient_tape_loop(model, x[:32], y[:32], 32, 1)
    data_loss = float(keras.ops.convert_to_numpy(keras.losses.categorical_crossentropy(y[:32], model(x[:32]))).mean())
    assert tape_loss > data_loss + 0.01


@TF_ONLY
def test_train_step_override_does_what_the_train_on_batch_loop_does(arrays):
    _, _, _, _, x, y = arrays
    # batches of 20 divide the 120 images: no partial batch, whose weight in the epoch's mean
    # fit and the hand-written loop might count differently
    _, loop_loss = training_apis.train_on_batch_loop(tiny(), x, y, 20, 2)
    _, custom_loss = training_apis.fit_custom_step(tiny(), x, y, 20, 2)
    assert custom_loss == pytest.approx(loop_loss, abs=1e-4)


@TF_ONLY
def test_the_tape_loop_scales_the_loss_as_float16_mixed_precision_needs(arrays):
    _, _, _, _, x, y = arrays

    def dense_sgd():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax", dtype="float32")])
        return training.compile_model(model, keras.optimizers.SGD(0.05), loss="categorical",
                                      jit_compile=False)

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        # train_on_batch runs Keras' own step, which scales the loss and unscales the gradients;
        # unscaled by a hand-written step, SGD's updates would be 2**15 times too small
        _, keras_loss = training_apis.train_on_batch_loop(dense_sgd(), x, y, 20, 2)
        _, tape_loss = training_apis.gradient_tape_loop(dense_sgd(), x, y, 20, 2)
    finally:
        keras.config.set_dtype_policy(previous)
    assert tape_loss == pytest.approx(keras_loss, rel=0.02)


@TF_ONLY
def test_gradient_tape_loop_takes_a_loss_compiled_by_name(arrays):
    # as the post compiles: loss="categorical_crossentropy", a string, not a callable
    _, _, _, _, x, y = arrays
    model = tiny()
    model.compile(optimizer=keras.optimizers.Adam(3e-2), loss="categorical_crossentropy")
    _, loss = training_apis.gradient_tape_loop(model, x[:32], y[:32], 32, 2)
    assert np.isfinite(loss)
