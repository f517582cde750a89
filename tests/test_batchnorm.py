"""helpers.batchnorm: re-estimated BN statistics, with dropout on or off; the model untouched."""

import keras
import numpy as np
import pytest

from helpers import batchnorm


def tiny_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, name="features")(inputs)
    x = keras.layers.Dropout(0.5, name="dropout")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(x))


@pytest.fixture
def images():
    return np.random.default_rng(0).normal(2.0, 3.0, size=(400, 4)).astype("float32")


def test_without_dropout_the_statistics_are_the_batch_averages(images):
    model = tiny_model()
    before = [w.copy() for w in model.get_weights()]
    fixed = batchnorm.recalibrated(model, images, dropout=False, batch_size=100)
    features = keras.ops.convert_to_numpy(model.get_layer("features")(images)).reshape(4, 100, 8)
    bn = fixed.get_layer("bn")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), features.mean(axis=1).mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance), features.var(axis=1).mean(axis=0), rtol=1e-3)
    # the original is untouched: weights, moving statistics, dropout rate and momentum
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert model.get_layer("dropout").rate == 0.5 and model.get_layer("bn").momentum == 0.99
    assert fixed.get_layer("bn").momentum == 0.99
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(fixed.get_layer("features").kernel),
                                  keras.ops.convert_to_numpy(model.get_layer("features").kernel))


def test_dropout_before_bn_inflates_the_variance_it_learns(images):
    model = tiny_model()
    on = batchnorm.recalibrated(model, images, dropout=True, batch_size=100)
    off = batchnorm.recalibrated(model, images, dropout=False, batch_size=100)
    # dropout at rate 0.5 scales kept values by 2: the variance seen in training is larger
    assert (keras.ops.convert_to_numpy(on.get_layer("bn").moving_variance)
            > 1.5 * keras.ops.convert_to_numpy(off.get_layer("bn").moving_variance)).all()


def test_bad_input_is_refused_clearly(images):
    with pytest.raises(ValueError, match="at least one batch"):
        batchnorm.recalibrated(tiny_model(), images[:10], batch_size=100)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no BatchNormalization"):
        batchnorm.recalibrated(plain, images)


def test_recalibrate_works_in_place_and_restores_rates_and_momenta(images):
    model = tiny_model()
    assert batchnorm.recalibrate(model, images, dropout=False, batch_size=100) is model
    features = keras.ops.convert_to_numpy(model.get_layer("features")(images)).reshape(4, 100, 8)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("bn").moving_mean),
                               features.mean(axis=1).mean(axis=0), rtol=1e-4)
    assert model.get_layer("dropout").rate == 0.5 and model.get_layer("bn").momentum == 0.99


def test_with_statistics_puts_a_snapshot_back_on_a_copy(images):
    model = tiny_model()
    snapshot = batchnorm.moving_statistics(model)  # fresh layer: mean 0, variance 1
    batchnorm.recalibrate(model, images, batch_size=100)
    old = batchnorm.with_statistics(model, snapshot)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(old.get_layer("bn").moving_mean), 0.0)
    assert np.abs(keras.ops.convert_to_numpy(model.get_layer("bn").moving_mean)).max() > 0.1


def test_the_callback_re_estimates_before_each_validation(images):
    model = tiny_model()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    labels = (images[:, 0] > 2).astype("int32")
    callback = batchnorm.RecalibrateBeforeValidation(model, images, batch_size=100)
    history = model.fit(images, labels, epochs=2, batch_size=50, verbose=0,
                        validation_data=(images, labels), callbacks=[callback])
    # the statistics validation used are those of the final weights, dropout off
    expected = batchnorm.recalibrated(model, images, dropout=False, batch_size=100)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("bn").moving_variance),
                               keras.ops.convert_to_numpy(expected.get_layer("bn").moving_variance),
                               rtol=1e-4)
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               model.evaluate(images, labels, verbose=0), rtol=1e-4)
    # and what training left (an average over dropped-out batches) was kept for comparison
    as_trained = callback.as_trained[0][1]
    assert not np.allclose(as_trained, keras.ops.convert_to_numpy(model.get_layer("bn").moving_variance))


def test_diagnosis_reads_the_mean_of_several_dropout_draws():
    # one draw 7 points down would read as "lowered"; the mean of three, 3 points down, not
    sentence = batchnorm.diagnosis(0.356, [0.286, 0.336, 0.356], 0.61)
    assert "even lowered" not in sentence
    assert "32.6% re-estimated with dropout on (the mean of 3 draws of the dropout masks, 28.6% to 35.6%)" in sentence
    assert "even lowered" in batchnorm.diagnosis(0.356, [0.286, 0.296, 0.300], 0.61)


@pytest.mark.parametrize("figures, words", [
    ((0.10, 0.11, 0.36), "in this run, the shift dropout puts into the statistics"),
    ((0.356, 0.305, 0.61), "with dropout on even lowered it"),
    ((0.10, 0.30, 0.36), "lagged"),
    ((0.33, 0.32, 0.27), "lowered"),
    ((0.33, 0.34, 0.31), "it is less than that"),
    ((0.33, 0.20, 0.33), "lowered the validation accuracy (33.0% as trained, 20.0%"),
    ((0.33, 0.20, 0.21), "suit this network better"),
])
def test_diagnosis_reads_the_three_accuracies(figures, words):
    sentence = batchnorm.diagnosis(*figures)
    assert words in sentence
    assert ("even lowered" in sentence) == (figures[1] - figures[0] < -batchnorm.CLEAR_CHANGE
                                            and figures[2] - figures[0] > batchnorm.CLEAR_CHANGE)
    assert f"{figures[0]:.1%} as trained" in sentence


def test_statistics_compared_measures_each_re_estimate_and_leaves_the_model_alone(images):
    model = tiny_model()
    before = batchnorm.moving_statistics(model)
    variances = batchnorm.statistics_compared(
        model, images, lambda m: float(keras.ops.convert_to_numpy(
            m.get_layer("bn").moving_variance).mean()), draws=2, batch_size=100)
    assert list(variances) == [batchnorm.AS_TRAINED, "re-estimated, dropout on (1)",
                               "re-estimated, dropout on (2)", batchnorm.DROPOUT_OFF]
    assert variances[batchnorm.AS_TRAINED] == 1.0  # a fresh layer's moving variance
    # dropout before BN inflates the variance each draw learns; the draws differ by their masks
    assert variances["re-estimated, dropout on (1)"] > variances[batchnorm.DROPOUT_OFF]
    assert variances["re-estimated, dropout on (1)"] != variances["re-estimated, dropout on (2)"]
    for (m0, v0), (m1, v1) in zip(before, batchnorm.moving_statistics(model)):
        np.testing.assert_array_equal(v0, v1)
    sentence = batchnorm.diagnosis_of({batchnorm.AS_TRAINED: 0.356,
                                       "re-estimated, dropout on (1)": 0.286,
                                       "re-estimated, dropout on (2)": 0.296,
                                       batchnorm.DROPOUT_OFF: 0.61})
    assert sentence == batchnorm.diagnosis(0.356, [0.286, 0.296], 0.61)
    assert "the mean of 2 draws" in sentence and "even lowered" in sentence
