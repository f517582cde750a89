"""Re-estimating batch normalisation's moving statistics after training (chapter 4).

A network can do well in training mode and fail in inference mode. The two modes differ in
two places only: dropout is off, and every BatchNormalization layer normalises with its
moving mean and variance instead of the batch's. `recalibrated` re-estimates those moving
statistics from a set of images, with dropout on or off, and leaves every weight alone, so
that comparing the test accuracy of

- the trained model (moving statistics as training left them),
- ``recalibrated(model, x, dropout=True)`` (fresh statistics, same conditions as training),
- ``recalibrated(model, x, dropout=False)`` (fresh statistics of the activations the layer
  sees at test time)

tells lagging moving averages apart from the variance shift that dropout causes.
"""

from __future__ import annotations

import keras
import numpy as np


def _layers_of(model, kind):
    """The layers of ``kind`` in ``model``, nested models included, in order."""
    found = []
    for layer in model.layers:
        if isinstance(layer, kind):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(_layers_of(layer, kind))
    return found


def recalibrated(model, images, *, dropout=False, batch_size=250):
    """A copy of ``model`` whose BatchNormalization statistics are re-estimated on ``images``.

    Each BN layer's moving mean and variance become the average of the per-batch means and
    variances over ``images`` (in whole batches of ``batch_size``; a last partial batch is
    left out, since a smaller batch's variance is a noisier estimate), computed with dropout on
    (``dropout=True``, as during training) or off (as at test time). Weights are unchanged,
    and ``model`` itself is not modified.
    """
    images = np.asarray(images)
    if len(images) < batch_size:
        raise ValueError(
            f"recalibrated() needs at least one batch: got {len(images)} images for "
            f"batch_size={batch_size}; pass more images or a smaller batch_size"
        )
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    norms = _layers_of(copy, keras.layers.BatchNormalization)
    if not norms:
        raise ValueError(f"{model.name} has no BatchNormalization layer to recalibrate")
    if not dropout:
        for layer in _layers_of(copy, keras.layers.Dropout):
            layer.rate = 0.0  # read at call time: training=True no longer drops anything
    # momentum (k-1)/k at the k-th batch makes the moving value the mean over batches 1..k
    for k, start in enumerate(range(0, len(images) - batch_size + 1, batch_size), start=1):
        for layer in norms:
            layer.momentum = (k - 1) / k
        copy(images[start:start + batch_size], training=True)
    for layer, original in zip(norms, _layers_of(model, keras.layers.BatchNormalization)):
        layer.momentum = original.momentum
    return copy
