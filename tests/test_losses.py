"""Categorical vs sparse categorical cross-entropy (helpers.losses; chapter 8)."""

import keras
import numpy as np
import pytest

from helpers import losses


def onehot(ids, num_classes=10):
    return keras.utils.to_categorical(ids, num_classes)


IDS = np.array([0, 3, 9, 1, 1, 7])


@pytest.mark.parametrize(
    "y",
    [IDS, IDS[:, None], IDS.astype(np.uint8), IDS.astype(np.int64)[:, None], IDS.astype(float),
     np.array([], dtype=int)],
    ids=["(n,)", "(n,1)", "uint8", "int64 (n,1)", "integral floats", "empty"],
)
def test_sparse_labels(y):
    assert losses.label_format(y, 10) == "sparse"


@pytest.mark.parametrize(
    "y",
    [onehot(IDS), onehot(IDS).astype(int), [[0.1 / 9] * 9 + [0.9]] * 3],
    ids=["one-hot float", "one-hot int", "label-smoothed"],
)
def test_categorical_labels(y):
    assert losses.label_format(y, 10) == "categorical"


def test_one_hot_against_the_wrong_number_of_classes():
    y = onehot([0, 1, 2], 3)
    with pytest.raises(losses.LabelFormatError) as info:
        losses.label_format(y, 10)
    message = str(info.value)
    assert "(3, 3)" in message and "10" in message
    assert "one-hot" in message and "(n, 10)" in message


@pytest.mark.parametrize("bad", [10, -1, 255])
def test_ids_out_of_range(bad):
    y = np.array([0, 5, bad])
    with pytest.raises(losses.LabelFormatError, match=r"0\.\.9") as info:
        losses.label_format(y, 10)
    assert str(bad) in str(info.value)


def test_non_integer_float_ids():
    with pytest.raises(losses.LabelFormatError, match="non-integer"):
        losses.label_format(np.array([0.0, 1.5, 2.0]), 10)
    with pytest.raises(losses.LabelFormatError, match="non-integer"):
        losses.label_format(np.array([[0.0], [np.nan]]), 10)


@pytest.mark.parametrize(
    "y",
    [np.full((4, 10), 0.2), np.zeros((4, 10)), onehot(IDS) * 2, onehot(IDS) - 0.05],
    ids=["sum 2", "sum 0", "twos", "negative"],
)
def test_rows_not_summing_to_one(y):
    with pytest.raises(losses.LabelFormatError, match="do not sum to 1"):
        losses.label_format(y, 10)


@pytest.mark.parametrize("y", [np.zeros((2, 3, 10)), np.zeros((4, 2)), np.float32(3)])
def test_other_shapes(y):
    with pytest.raises(losses.LabelFormatError, match="fit neither"):
        losses.label_format(y, 10)


@pytest.mark.parametrize(
    "y", [np.array(["cat", "dog"]), np.array([[1], [None]], dtype=object)], ids=["str", "object"]
)
def test_labels_that_are_not_numbers(y):
    with pytest.raises(losses.LabelFormatError, match="not numbers"):
        losses.label_format(y, 10)


def test_label_format_error_is_a_value_error():
    assert issubclass(losses.LabelFormatError, ValueError)


def test_loss_and_metric_for_ints():
    loss, metric = losses.loss_and_metric(IDS[:, None], 10)
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy)
    assert isinstance(metric, keras.metrics.SparseCategoricalAccuracy)
    assert metric.name == "accuracy"


def test_loss_and_metric_for_one_hot():
    loss, metric = losses.loss_and_metric(onehot(IDS), 10)
    assert isinstance(loss, keras.losses.CategoricalCrossentropy)
    assert isinstance(metric, keras.metrics.CategoricalAccuracy)
    assert metric.name == "accuracy"


def test_loss_and_metric_rejects_bad_labels():
    with pytest.raises(losses.LabelFormatError):
        losses.loss_and_metric(np.array([0, 12]), 10)


def test_loss_for():
    assert isinstance(losses.loss_for("sparse"), keras.losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.loss_for("categorical"), keras.losses.CategoricalCrossentropy)
    assert losses.loss_for("sparse", from_logits=True).get_config()["from_logits"] is True
    with pytest.raises(ValueError, match="binary"):
        losses.loss_for("binary")


@pytest.mark.parametrize("from_logits", [False, True])
def test_both_losses_give_the_same_value(from_logits):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(64, 10)).astype("float32") * 3
    ids = rng.integers(0, 10, size=(64, 1))
    preds = logits if from_logits else keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    sparse_loss, _ = losses.loss_and_metric(ids, 10, from_logits=from_logits)
    cat_loss, _ = losses.loss_and_metric(onehot(ids), 10, from_logits=from_logits)
    sparse = float(keras.ops.convert_to_numpy(sparse_loss(ids, preds)))
    categorical = float(keras.ops.convert_to_numpy(cat_loss(onehot(ids), preds)))
    np.testing.assert_allclose(categorical, sparse, rtol=1e-6)
    # and both are -log p[true class], averaged
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    expected = -np.log(probs[np.arange(64), ids.ravel()]).mean()
    np.testing.assert_allclose(sparse, expected, rtol=1e-5)


OUT_OF_RANGE_ON_JAX = r"""
import keras, numpy as np
assert keras.config.backend() == "jax"
probs = np.full((2, 10), 0.1, "float32")
per_image = keras.losses.SparseCategoricalCrossentropy(reduction=None)
loss = keras.ops.convert_to_numpy(per_image(np.array([3, 12]), probs))
assert np.isclose(loss[0], np.log(10), atol=1e-5), loss  # a valid id: -log 0.1
assert loss[1] == 0, loss  # id 12 of 10 classes: an all-zero one-hot row, no error
print("ok")
"""


def test_an_id_out_of_range_adds_nothing_on_jax(on_jax):
    # chapter 8: on JAX the sparse loss neither fails nor warns on such an id, which is why
    # losses.label_format checks the range before training
    on_jax(OUT_OF_RANGE_ON_JAX)


def test_which_backends_use_the_logits_behind_a_softmax():
    # Keras 3's TensorFlow cross-entropies look the logits up; JAX's compute from the
    # clipped probabilities (chapter 8 reads this table from the installed Keras)
    found = losses.backends_using_logits()
    assert found.pop("tensorflow") == (True, True)
    assert "jax" in found and "torch" in found
    assert set(found.values()) == {(False, False)}  # found, and computed from probabilities
    source = "def categorical_crossentropy(t, o):\n    return o._keras_logits\n"
    assert losses.looks_up_logits(source, "categorical_crossentropy") is True
    assert losses.looks_up_logits(source, "sparse_categorical_crossentropy") is None
