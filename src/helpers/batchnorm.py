"""Re-estimating batch normalisation's moving statistics after training (chapter 4).

A network can do well in training mode and fail in inference mode. The two modes differ in
two places only: dropout is off, and every BatchNormalization layer normalises with its
moving mean and variance instead of the batch's. `recalibrated` re-estimates those moving
statistics from a set of images, with dropout on or off, and leaves every weight alone, so
that comparing the test accuracy of

- the trained model (moving statistics as training left them),
- ``recalibrated(model, x, dropout=True)`` (fresh statistics with dropout as in training,
  on images without training's augmentation),
- ``recalibrated(model, x, dropout=False)`` (fresh statistics of the activations the layer
  sees at test time)

tells lagging moving averages apart from the shift that dropout puts into the statistics
(the variance; after a max pool, the mean too)
(``diagnosis`` says which, as a sentence). ``RecalibrateBeforeValidation`` does the third
before every validation inside ``fit``; the ``cpu`` and ``fast`` profiles use it (``helpers.profiles``).
"""

from __future__ import annotations

import weakref

import keras
import numpy as np

from helpers.architecture import layers_of


def _layers_of(model, kind):
    """The layers of ``kind`` in ``model``, nested models included, in order."""
    return [layer for layer in layers_of(model) if isinstance(layer, kind)]


def recalibrate(model, images, *, dropout=False, batch_size=250):
    """Re-estimate ``model``'s BatchNormalization statistics on ``images``, in place.

    Each BN layer's moving mean and variance become the average of the per-batch means and
    variances over ``images`` (in whole batches of ``batch_size``; a last partial batch is
    left out, since a smaller batch's variance is a noisier estimate), computed with dropout on
    (``dropout=True``, as during training) or off (as at test time). Every weight, the
    dropout rates and the BN momentum are as they were afterwards. Returns ``model``.
    """
    images = np.asarray(images)
    if len(images) < batch_size:
        raise ValueError(
            f"recalibrate() needs at least one batch: got {len(images)} images for "
            f"batch_size={batch_size}; pass more images or a smaller batch_size"
        )
    norms = _layers_of(model, keras.layers.BatchNormalization)
    if not norms:
        raise ValueError(f"{model.name} has no BatchNormalization layer to recalibrate")
    momenta = [layer.momentum for layer in norms]
    dropouts = [] if dropout else _layers_of(model, keras.layers.Dropout)
    rates = [layer.rate for layer in dropouts]
    totals = [[0.0, 0.0] for _ in norms]
    try:
        for layer in dropouts:
            layer.rate = 0.0  # read at call time: training=True no longer drops anything
        for layer in norms:
            layer.momentum = 0.0  # a training-mode call leaves this batch's own statistics
        training_pass = _training_pass(model)
        starts = range(0, len(images) - batch_size + 1, batch_size)
        for start in starts:
            training_pass(images[start:start + batch_size])
            for total, layer in zip(totals, norms):
                total[0] += keras.ops.convert_to_numpy(layer.moving_mean).astype(np.float64)
                total[1] += keras.ops.convert_to_numpy(layer.moving_variance).astype(np.float64)
        for layer, (mean, variance) in zip(norms, totals):
            layer.moving_mean.assign(mean / len(starts))
            layer.moving_variance.assign(variance / len(starts))
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, rates):
            layer.rate = rate
    return model


# one compiled training-mode pass per model and dropout setting (JAX): see _training_pass
_PASSES = weakref.WeakKeyDictionary()
_traces = 0  # how many times a pass was traced (compiled), for the tests


def _training_pass(model):
    """A function that calls ``model`` on a batch in training mode, updating its BN statistics
    (and its dropout seeds): on JAX one compiled program, reused for every later call with the
    same dropout rates; elsewhere the plain call. Eager JAX compiles each operation apart on its
    first use, once per layer shape: GoogLeNet's first re-estimate took 12 s on a 2-core CPU
    that way against 4 s compiled, and on the lent H200 its first epoch, re-estimate included,
    had not ended after 140 s. The BN momentum and dropout rates in effect when it is first traced are
    built into the program (``recalibrate`` sets the momentum to 0 every time)."""
    if keras.config.backend() != "jax":
        return lambda batch: model(batch, training=True)
    import jax

    rates = tuple(layer.rate for layer in _layers_of(model, keras.layers.Dropout))
    passes = _PASSES.setdefault(model, {})
    if rates not in passes:
        network = weakref.ref(model)  # a strong reference here would keep the key alive

        def step(trainable, non_trainable, batch):
            global _traces
            _traces += 1  # Python runs here only while JAX traces
            _, updated = network().stateless_call(trainable, non_trainable, batch, training=True)
            return updated

        passes[rates] = jax.jit(step)
    step = passes[rates]

    def run(batch):
        updated = step([v.value for v in model.trainable_variables],
                       [v.value for v in model.non_trainable_variables], batch)
        for variable, value in zip(model.non_trainable_variables, updated):
            variable.assign(value)

    return run


def _copy(model):
    """A new model with ``model``'s layers, weights and BN statistics."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def recalibrated(model, images, *, dropout=False, batch_size=250):
    """A copy of ``model`` with its BN statistics re-estimated (``recalibrate``); ``model``
    itself is not modified."""
    return recalibrate(_copy(model), images, dropout=dropout, batch_size=batch_size)


def moving_statistics(model):
    """Every BN layer's moving mean and variance, as NumPy arrays (a snapshot)."""
    return [
        [keras.ops.convert_to_numpy(v) for v in (layer.moving_mean, layer.moving_variance)]
        for layer in _layers_of(model, keras.layers.BatchNormalization)
    ]


def with_statistics(model, statistics):
    """A copy of ``model`` whose BN moving statistics are ``statistics`` (``moving_statistics``)."""
    copy = _copy(model)
    for layer, (mean, variance) in zip(_layers_of(copy, keras.layers.BatchNormalization), statistics):
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(variance)
    return copy


class RecalibrateBeforeValidation(keras.callbacks.Callback):
    """Re-estimates ``network``'s BN statistics (dropout off) before each validation in ``fit``.

    Training never reads the moving statistics (each batch is normalised by its own), so this
    changes only what inference sees: the statistics of the activations the layers meet at test
    time instead of a lagging average of dropped-out ones. ``network`` is the bare network
    (without the augmentation layers in front of it). ``as_trained`` keeps the statistics as
    training left them before the last re-estimate, for comparison.
    """

    def __init__(self, network, images, batch_size=250):
        super().__init__()
        self.network, self.images, self.batch_size = network, images, batch_size
        self.as_trained = None

    def on_test_begin(self, logs=None):
        self.as_trained = moving_statistics(self.network)
        recalibrate(self.network, self.images, dropout=False, batch_size=self.batch_size)


# more than 5 points on 1,000 validation images is over 3 standard errors of an accuracy near
# 30 % (where the `cpu` runs validated when it was set) and about 3 near 50 %; far more on
# 10,000 images (chapter 3 says so beside its verdict)
CLEAR_CHANGE = 0.05

# with dropout on, a re-estimate depends on the masks it draws: this many draws, read by their mean
DROPOUT_DRAWS = 3
AS_TRAINED = "moving statistics from training"
DROPOUT_ON = "re-estimated, dropout on"  # then the draw's number: "(1)", "(2)", ...
DROPOUT_OFF = "re-estimated, dropout off"


def statistics_compared(model, images, accuracy, *, draws=DROPOUT_DRAWS, batch_size=250):
    """``accuracy(network)`` of ``model`` with its BN statistics as trained, re-estimated on
    ``images`` ``draws`` times with dropout on, and once with dropout off, by label in that
    order (chapters 3 and 4; ``diagnosis_of`` reads them). ``model`` is not modified."""
    measured = {AS_TRAINED: accuracy(model)}
    for k in range(draws):  # each copy measured as it is made: one copy in memory at a time
        measured[f"{DROPOUT_ON} ({k + 1})"] = accuracy(recalibrated(
            model, images, dropout=True, batch_size=batch_size))
    measured[DROPOUT_OFF] = accuracy(recalibrated(model, images, dropout=False,
                                                  batch_size=batch_size))
    return measured


def diagnosis_of(accuracies):
    """``diagnosis`` of the accuracies ``statistics_compared`` returns."""
    on = [value for label, value in accuracies.items() if label.startswith(DROPOUT_ON)]
    return diagnosis(accuracies[AS_TRAINED], on, accuracies[DROPOUT_OFF])


def diagnosis(as_trained, dropout_on, dropout_off):
    """What three validation accuracies say about a network's BN statistics, as a sentence.

    The three: with the moving statistics as training left them, re-estimated with dropout
    on and re-estimated with dropout off (both on un-augmented training images); a change
    under ``CLEAR_CHANGE`` is not read as one. A re-estimate with dropout on depends on the
    dropout masks it drew: ``dropout_on`` may be several draws' accuracies, read by their mean.
    """
    draws = np.atleast_1d(np.asarray(dropout_on, dtype=float))
    dropout_on = float(draws.mean())
    on_figure = f"{dropout_on:.1%} re-estimated with dropout on"
    if draws.size > 1:
        on_figure += (f" (the mean of {draws.size} draws of the dropout masks, "
                      f"{draws.min():.1%} to {draws.max():.1%})")
    figures = f"{as_trained:.1%} as trained, {on_figure}, {dropout_off:.1%} with dropout off"
    on, off = dropout_on - as_trained, dropout_off - as_trained
    clear = lambda change: abs(change) > CLEAR_CHANGE  # noqa: E731
    if not clear(on) and not clear(off):
        return (f"No re-estimate changed the validation accuracy by more than "
                f"{CLEAR_CHANGE * 100:.0f} points ({figures}): whatever the BN statistics "
                "cost this network, it is less than that.")
    if off > CLEAR_CHANGE and not on > CLEAR_CHANGE:
        lowered = (" The re-estimate with dropout on even lowered it, which this experiment does "
                   "not explain." if on < -CLEAR_CHANGE else "")
        return (f"Only the statistics re-estimated with dropout off lifted the validation accuracy "
                f"({figures}): in this run, the shift dropout puts into the statistics BN learns, "
                f"not lagging averages, held inference mode back.{lowered}")
    if on > CLEAR_CHANGE:
        return (f"Fresh statistics lifted the validation accuracy even with dropout on ({figures}): "
                "the moving averages had lagged behind the weights (or the un-augmented images "
                "suit them better).")
    if off < -CLEAR_CHANGE and not on < -CLEAR_CHANGE:
        return (f"Re-estimating the statistics with dropout off lowered the validation accuracy "
                f"({figures}): this network's later layers had adapted to the statistics of "
                "dropped-out activations, and the re-estimate costs it accuracy.")
    return (f"Fresh statistics lowered the validation accuracy ({figures}): the averages training "
            "kept suit this network better than a re-estimate on un-augmented images.")
