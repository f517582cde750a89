"""Choosing between categorical and sparse categorical cross-entropy (chapter 8).

Both compute ``-log p[true class]``; they differ only in the label format they expect:
one-hot rows of length ``num_classes`` (categorical) or integer class ids (sparse).
"""

from __future__ import annotations

import ast
import inspect
import pathlib

import keras
import numpy as np


class LabelFormatError(ValueError):
    """Labels that fit neither loss, or do not fit the number of classes."""


def label_format(y, num_classes):
    """``"sparse"`` for integer class ids, ``"categorical"`` for one-hot rows; else an error.

    Integer ids may have shape (n,) or (n, 1) and must lie in ``0..num_classes-1``. One-hot
    (or label-smoothed) rows have shape (n, num_classes) and sum to 1.
    """
    y = np.asarray(y)
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise LabelFormatError(
            f"Labels of dtype {y.dtype} are not numbers; pass class ids (0..{num_classes - 1}) "
            "or one-hot rows, e.g. CLASSES.index(name) rather than the class name."
        )
    if y.ndim == 2 and y.shape[1] == num_classes and num_classes > 1:
        sums = y.sum(axis=1)
        if np.all(y >= 0) and np.allclose(sums, 1.0, atol=1e-3):
            return "categorical"
        raise LabelFormatError(
            f"Labels of shape {y.shape} look one-hot but their rows do not sum to 1 "
            f"(first row sums: {np.round(sums[:3], 3).tolist()}); pass one-hot rows or class ids."
        )
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        if not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
            raise LabelFormatError(
                f"Labels of shape {y.shape} hold non-integer values; class ids must be integers."
            )
        low, high = (y.min(), y.max()) if y.size else (0, 0)
        if low < 0 or high >= num_classes:
            raise LabelFormatError(
                f"Class ids must lie in 0..{num_classes - 1} for {num_classes} classes; "
                f"got values from {low} to {high}."
            )
        return "sparse"
    raise LabelFormatError(
        f"Labels of shape {y.shape} fit neither loss for {num_classes} classes: expected class "
        f"ids of shape (n,) or (n, 1) (sparse) or one-hot rows of shape (n, {num_classes}) "
        "(categorical)."
    )


# Keras up to 3.15 gives label smoothing to the categorical loss only; keras-team/keras#23488
# (opened 2026-08, merged) adds it to the sparse one in a later release
SPARSE_TAKES_LABEL_SMOOTHING = "label_smoothing" in inspect.signature(
    keras.losses.SparseCategoricalCrossentropy).parameters


def loss_for(kind, from_logits=False, label_smoothing=0.0):
    """The Keras loss object for ``kind`` ("categorical" or "sparse")."""
    if kind not in ("categorical", "sparse"):
        raise ValueError(f"Unknown loss kind {kind!r}: use 'categorical' or 'sparse'.")
    if not label_smoothing:
        smoothing = {}
    elif kind == "categorical" or SPARSE_TAKES_LABEL_SMOOTHING:
        smoothing = {"label_smoothing": label_smoothing}
    else:
        raise ValueError(
            f"label_smoothing needs one-hot labels and the categorical loss in Keras "
            f"{keras.__version__} (its sparse cross-entropy takes no label_smoothing before "
            "the release after 3.15); convert the labels with keras.utils.to_categorical."
        )
    if kind == "categorical":
        return keras.losses.CategoricalCrossentropy(from_logits=from_logits, **smoothing)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, **smoothing)


def loss_and_metric(y, num_classes, from_logits=False, label_smoothing=0.0):
    """The loss matching the labels ``y``, and the accuracy metric that goes with it."""
    kind = label_format(y, num_classes)
    metric = (
        keras.metrics.CategoricalAccuracy(name="accuracy")
        if kind == "categorical"
        else keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    )
    return loss_for(kind, from_logits, label_smoothing), metric


CROSS_ENTROPIES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


def looks_up_logits(source, function):
    """Whether ``function`` in a backend's ``nn.py`` source looks for the logits behind a
    softmax output (``_keras_logits``, or TensorFlow's ``_get_logits``); None where
    ``source`` has no such function."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            body = ast.get_source_segment(source, node)
            return "_keras_logits" in body or "_get_logits" in body
    return None


def backends_using_logits():
    """``{backend: (categorical, sparse)}``: for each backend of the installed Keras, whether
    its two cross-entropies use the logits behind a softmax output (chapter 8). Read from
    Keras' private ``keras.src`` files, whose layout a later Keras may change."""
    import keras.src.backend

    root = pathlib.Path(keras.src.backend.__file__).parent
    return {folder.name: tuple(looks_up_logits((folder / "nn.py").read_text(), f)
                               for f in CROSS_ENTROPIES)
            for folder in sorted(root.iterdir()) if (folder / "nn.py").exists()}
