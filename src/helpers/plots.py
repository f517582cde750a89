"""Figures of the book: image grids, training curves, confusion matrices (chapters 2-7)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from helpers.data import CLASSES


def architecture(model, rankdir="TB", dpi=48, show_shapes=True):
    """``keras.utils.plot_model`` of ``model`` as an image, or a note if Graphviz is missing
    (the lent GPU machine has none: a chapter must not stop there for a drawing)."""
    import os
    import tempfile

    import keras

    # the returned image holds the PNG's bytes (IPython reads the file at once): the file goes
    with tempfile.TemporaryDirectory() as folder:
        try:
            return keras.utils.plot_model(
                model, to_file=os.path.join(folder, f"{model.name}.png"),
                show_shapes=show_shapes, show_layer_names=True, rankdir=rankdir, dpi=dpi,
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


def colours(n):
    """``n`` distinct colours: tab10's up to 10, tab20's up to 20, then as many taken evenly
    from a continuous map (a plain ``zip`` with tab10 would drop every run after the tenth)."""
    if n <= 10:
        return list(plt.cm.tab10.colors[:n])
    if n <= 20:
        return list(plt.cm.tab20.colors[:n])
    return [plt.cm.turbo(x) for x in np.linspace(0.05, 0.95, n)]


def curves(histories, metrics=("loss", "accuracy"), title=None):
    """Train (solid) and validation (dashed) curves, one panel per metric, one colour per run.

    The legend sits below the panels, so it never covers a curve: colours name the runs,
    line styles say train or validation.
    """
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.6 * len(metrics), 3.4), layout="constrained", squeeze=False
    )
    axes = axes[0]
    handles = []
    for (label, history), colour in zip(histories.items(), colours(len(histories))):
        for ax, metric in zip(axes, metrics):
            epochs = np.arange(1, len(history[metric]) + 1)
            (line,) = ax.plot(epochs, history[metric], color=colour)
            ax.plot(epochs, history[f"val_{metric}"], "--", color=colour)
        handles.append((line, label))
    for ax, metric in zip(axes, metrics):
        ax.set_xlabel("epoch"), ax.set_ylabel(metric), ax.grid(alpha=0.3)
    _legend_below(fig, handles)
    if title:
        fig.suptitle(title)
    return fig


def _legend_below(fig, handles):
    """One legend under the figure: the runs by colour, then train (solid) / validation."""
    from matplotlib.lines import Line2D

    lines, labels = [h for h, _ in handles], [label for _, label in handles]
    if len(handles) > 1:
        lines += [Line2D([], [], color="none")]
        labels += [""]
    else:
        lines, labels = [], []
    lines += [Line2D([], [], color="0.3"), Line2D([], [], color="0.3", ls="--")]
    labels += ["train", "validation"]
    # as many columns as fit the figure's width (about 12 characters an inch at the default
    # size): a single row of long run names would widen the figure, and shrink it on the page
    widest = max(len(label) for label in labels) + 6  # the line's sample and spacing
    fitting = int(fig.get_figwidth() * 12 // widest)
    fig.legend(lines, labels, loc="outside lower center", ncol=max(1, min(len(lines), 7, fitting)),
               frameon=False)


def time_to_accuracy(runs, key="val_accuracy", title=None):
    """Accuracy against training time (left) and against epochs (right), one colour per network.

    ``runs`` maps a label to a list of records (one per seed) of the same network; each seed
    is one line. The final test accuracy is marked at the end of each run (a diamond), since
    it is measured once, after the last epoch.
    """
    fig, (by_time, by_epoch) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    for (label, records), colour in zip(runs.items(), colours(len(runs))):
        for seed, r in enumerate(records):
            values = np.asarray(r["history"][key])
            minutes = np.cumsum(r["history"]["seconds"]) / 60
            epochs = np.arange(1, len(values) + 1)
            by_time.plot(minutes, values, "o-", ms=3, color=colour, alpha=0.9,
                         label=None if seed else label)  # one legend entry per network
            by_epoch.plot(epochs, values, "o-", ms=3, color=colour, alpha=0.9)
            by_time.plot(minutes[-1], r["test_accuracy"], "D", color=colour, ms=6, mec="black")
            by_epoch.plot(epochs[-1], r["test_accuracy"], "D", color=colour, ms=6, mec="black")
    by_time.plot([], [], "D", color="0.6", mec="black", label="test, after the last epoch")
    by_time.set_xlabel("training time (minutes, cumulative)")
    by_epoch.set_xlabel("epoch")
    name = key.replace("val_", "validation ").replace("_", " ")
    for ax in (by_time, by_epoch):
        ax.set_ylabel(name), ax.grid(alpha=0.3), ax.set_ylim(bottom=0)
    handles, labels = by_time.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(handles), frameon=False)
    if title:
        fig.suptitle(title)
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


def predictions(images, true, predicted, n=24, seed=0, cols=6):
    """A grid of test images captioned 'predicted (true)'; red where the network was wrong.

    Sized for the book's page width: six columns, captions at 10 pt.
    """
    true, predicted = np.asarray(true).reshape(-1), np.asarray(predicted).reshape(-1)
    picks = np.random.default_rng(seed).choice(len(images), n, replace=False)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.85), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, picks):
        ax.imshow(images[index])
        ok = true[index] == predicted[index]
        ax.set_title(
            f"{CLASSES[predicted[index]]}\n({CLASSES[true[index]]})",
            fontsize=10, color="black" if ok else "red", linespacing=1.1,
        )
    fig.tight_layout(w_pad=0.3)
    return fig
