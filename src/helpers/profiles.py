"""Run profiles: how much data and training a notebook uses (see the introduction).

``smoke`` is for CI (seconds); ``cpu`` gives real results on a laptop-class CPU in about an
hour for all four networks (2 cores); ``full`` is the post's own recipe and scale, for a GPU.
``resolve("auto")`` picks ``full`` where a GPU is present, else ``cpu``; the environment
variable ``BOOK_PROFILE``, where set, wins.
"""

from __future__ import annotations

import dataclasses
import os

from helpers import devices

NAMES = ("smoke", "cpu", "full")


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    train_per_class: int | None  # None: the whole training set
    val_per_class: int | None  # per-epoch validation: a fixed stratified part of the test set
    test_per_class: int | None  # the final test; None: all 10,000 test images
    epochs: dict  # per network
    batch_size: int
    optimizer: str  # "adam" or "sgd_post"
    learning_rate: float
    decay: float = 0.0  # the post's legacy per-iteration decay (sgd_post only)
    halve_every: int | None = None  # halve the rate every N epochs (sgd_post only)
    bn_momentum: float = 0.99
    augment: bool = True


def _each(n):
    return {"vgg16": n, "vgg16_bigconv": n, "googlenet": n, "resnet18": n}


PROFILES = {
    "smoke": Profile(
        "smoke", train_per_class=20, val_per_class=5, test_per_class=10,
        # SGD: Adam's first training step takes TensorFlow 3x longer to trace on a CPU.
        epochs=_each(1), batch_size=32, optimizer="sgd_post", learning_rate=0.01,
        bn_momentum=0.9,
    ),
    # Chosen by measurement (chapter 7): at this budget the post's SGD at 0.1 leaves a network
    # at chance; Adam at 1e-3 learns, and BN momentum 0.9 lets the moving statistics keep up
    # with weights that change quickly over only ~80 steps an epoch.
    "cpu": Profile(
        "cpu", train_per_class=500, val_per_class=100, test_per_class=None,
        epochs=_each(5), batch_size=128, optimizer="adam", learning_rate=1e-3, bn_momentum=0.9,
    ),
    # The post: SGD 0.1, Nesterov, legacy decay 1e-6, halved every 20 epochs (the code it
    # builds on), batch 128, about 100 (VGG) or 150 (GoogLeNet, ResNet) epochs.
    "full": Profile(
        "full", train_per_class=None, val_per_class=None, test_per_class=None,
        epochs={"vgg16": 100, "vgg16_bigconv": 100, "googlenet": 150, "resnet18": 150},
        batch_size=128, optimizer="sgd_post", learning_rate=0.1, decay=1e-6, halve_every=20,
    ),
}


def resolve(requested="auto"):
    """The profile name to use: ``$BOOK_PROFILE`` if set, else ``requested`` ("auto" decides)."""
    name = os.environ.get("BOOK_PROFILE") or requested
    if name == "auto":
        name = "full" if devices.gpu_available() else "cpu"
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}: use one of {', '.join(NAMES)} or 'auto'.")
    return name


def get(requested="auto"):
    """The Profile for ``requested`` (after ``resolve``)."""
    return PROFILES[resolve(requested)]
