"""Figures of the book: image grids, training curves, confusion matrices (chapters 2-7)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from helpers.data import CLASSES


def architecture(model, rankdir="TB", dpi=48):
    """``keras.utils.plot_model`` of ``model`` as an image, or a note if Graphviz is missing."""
    import os
    import tempfile

    import keras

    path = os.path.join(tempfile.mkdtemp(), f"{model.name}.png")
    try:
        return keras.utils.plot_model(
            model, to_file=path, show_shapes=True, show_layer_names=True,
            rankdir=rankdir, dpi=dpi,
        )
    except ImportError as err:  # pydot or the Graphviz `dot` program is not installed
        print(f"No diagram: {err} (pip install pydot; apt-get install graphviz)")


def class_grid(images, labels, per_class=8, seed=0):
    """``per_class`` random images of each class, one row per class."""
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(CLASSES), per_class, figsize=(per_class * 0.9, 10 * 0.95))
    for row, name in enumerate(CLASSES):
        picks = rng.choice(np.flatnonzero(labels == row), per_class, replace=False)
        for col, index in enumerate(picks):
            ax = axes[row, col]
            ax.imshow(images[index])
            ax.set_xticks([]), ax.set_yticks([])
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def curves(histories, metrics=("loss", "accuracy"), title=None):
    """Train (solid) and validation (dashed) curves, one panel per metric, one colour per run."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 4))
    axes = np.atleast_1d(axes)
    for (label, history), colour in zip(histories.items(), plt.cm.tab10.colors):
        for ax, metric in zip(axes, metrics):
            epochs = np.arange(1, len(history[metric]) + 1)
            ax.plot(epochs, history[metric], color=colour, label=f"{label} train")
            ax.plot(epochs, history[f"val_{metric}"], "--", color=colour, label=f"{label} val")
    for ax, metric in zip(axes, metrics):
        ax.set_xlabel("epoch"), ax.set_ylabel(metric), ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion(matrix, title=None):
    """A confusion matrix (rows: true class, columns: predicted), counts in the cells."""
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=60, ha="right")
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set_xlabel("predicted"), ax.set_ylabel("true")
    for (i, j), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        ax.text(j, i, count, ha="center", va="center", fontsize=7, color=colour)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def predictions(images, true, predicted, n=24, seed=0):
    """A grid of test images titled 'predicted (true)'; red where the network was wrong."""
    true, predicted = np.asarray(true).reshape(-1), np.asarray(predicted).reshape(-1)
    picks = np.random.default_rng(seed).choice(len(images), n, replace=False)
    cols = 8
    fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(cols * 1.5, n / cols * 1.8))
    for ax, index in zip(axes.flat, picks):
        ax.imshow(images[index])
        ok = true[index] == predicted[index]
        ax.set_title(
            f"{CLASSES[predicted[index]]}\n({CLASSES[true[index]]})",
            fontsize=8, color="black" if ok else "red",
        )
        ax.axis("off")
    fig.tight_layout()
    return fig
