"""Run profiles: how much data and training a notebook uses (see the introduction).

``smoke`` is for CI (seconds); ``cpu`` gives real results on a laptop-class CPU in under an
hour for all four networks (2 cores); ``fast`` is a modern recipe for a GPU (the same
networks, a fraction of the post's epochs); ``full`` is the recipe of the code the post builds
on (geifman's cifar-vgg), at the post's epochs, for a GPU, chosen by name only.
``resolve("auto")`` picks ``fast`` where a GPU is present, else ``cpu``; the environment
variable ``BOOK_PROFILE``, where set, wins.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings

from helpers import devices

NAMES = ("smoke", "cpu", "fast", "full")
GPU_PROFILES = ("fast", "full")  # their records must come from a GPU (helpers.results)


_OPTIMIZERS = {
    "adam": "Adam",
    "sgd_post": "the post's SGD (Nesterov momentum, legacy decay)",
    "sgd_cosine": "SGD (Nesterov momentum) with warm-up and cosine decay",
}
_AUGMENTATIONS = {"post": "random shifts, flips and rotations", "crop": "pad-and-crop shifts and flips"}
# the values the text settings take (see Profile's comments)
CHOICES = {"optimizer": tuple(_OPTIMIZERS), "augmentation": tuple(_AUGMENTATIONS),
           "augment_in": ("auto", "model", "pipeline"),
           "precision": ("auto", "float32", "mixed", "mixed_bfloat16", "mixed_float16")}


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    train_per_class: int | None  # None: the whole training set
    val_per_class: int | None  # per-epoch validation: a fixed stratified part of the test set
    test_per_class: int | None  # the final test; None: all 10,000 test images
    epochs: dict  # per network
    batch_size: int
    optimizer: str  # "adam", "sgd_post" (the post's SGD) or "sgd_cosine" (warm-up, cosine)
    learning_rate: float
    decay: float = 0.0  # the post's legacy per-iteration decay (sgd_post only)
    halve_every: int | None = None  # halve the rate every N epochs (sgd_post only)
    bn_momentum: float = 0.99
    augment: bool = True
    # "post": the post's shifts, flips and rotations; "crop": pad-4-and-crop shifts and flips,
    # the cheaper usual CIFAR recipe (helpers.augment)
    augmentation: str = "post"
    # where augmentation runs: "model" (layers inside the compiled training step, measured
    # no slower anywhere: helpers.augment.BEST_PLACE), "pipeline" (tf.data or a PyDataset,
    # beside the model) or "auto" (BEST_PLACE)
    augment_in: str = "auto"
    # "float32", "mixed" (bfloat16 or float16 compute, whichever the GPU supports; float32
    # weights, softmax and loss), "mixed_bfloat16" or "mixed_float16" (that one, named), or
    # "auto" (mixed on a GPU, float32 on a CPU)
    precision: str = "float32"
    label_smoothing: float = 0.0
    weight_decay: float = 0.0  # the networks' own L2 kernel regulariser (models.build)
    warmup_epochs: int = 0  # sgd_cosine only
    ablations: bool = True  # whether chapters 5 and 6 train their extra variants by default
    # > 0: before each validation, re-estimate the BN statistics on this many training images
    # with dropout off (helpers.batchnorm.RecalibrateBeforeValidation); weights untouched
    bn_recalibration: int = 0

    def __post_init__(self):
        # a misspelt choice would otherwise train another way without a word (an unknown
        # augment_in augments in the pipeline) and be stored in the record as given
        for setting, allowed in CHOICES.items():
            if getattr(self, setting) not in allowed:
                raise ValueError(f"Profile {self.name!r}: {setting}={getattr(self, setting)!r} "
                                 f"is not one of {', '.join(map(repr, allowed))}.")


# how many training images a BN re-estimate uses: enough that the statistics of its mean and
# variance vary little, few enough to cost a fraction of an epoch (cpu: 2,000 of 8,000)
RECALIBRATION_IMAGES = 2000

# The ``fast`` profile's aim: each network within this many points of the post's validation
# accuracy (its table), on all 10,000 test images, in at most a third of the post's epochs
FAST_AIM_MARGIN = 1.0
# ... and the four networks' main runs, one seed each, within this many minutes of training on
# one GPU of the H200's class together (issue 10's aim; chapter 7 sets the records against it)
FAST_TIME_AIM_MINUTES = 6.0


def _each(n):
    return {"vgg16": n, "vgg16_bigconv": n, "googlenet": n, "resnet18": n}


PROFILES = {
    "smoke": Profile(
        "smoke", train_per_class=20, val_per_class=5, test_per_class=10,
        # SGD: Adam's first training step takes TensorFlow 3x longer to trace on a CPU.
        epochs=_each(1), batch_size=32, optimizer="sgd_post", learning_rate=0.01,
        bn_momentum=0.9,
    ),
    # Chosen by measurement (one seed each, VGG16 the hardest to move): at 5,000 images x 5
    # epochs x batch 128 (200 updates) VGG16 stayed at 10-19 % test accuracy with Adam 1e-3,
    # Adam 3e-3, batch 64, no augmentation, or SGD with warm-up and cosine at 0.05 (which learnt
    # nothing). It needs updates: 8,000 images x 8 epochs x batch 64 (1,000 updates) reached 33 %;
    # batch 32 costs about the same per image on 2 cores and doubles the updates. At 8 epochs
    # VGG16 left chance late (validation near 11 % for 2-4 epochs) and ended at 25.5 / 31.3 % over
    # two seeds; 14 epochs (the same run continued: 37.6 %) fit the one-hour budget. Adam rather than
    # the post's SGD: SGD at 0.1 with the legacy decay left ResNet18 at chance in an early trial.
    # BN momentum 0.9 so that the moving statistics follow weights that change quickly. The BN
    # statistics are re-estimated with dropout off before each validation: VGG16-big, trained
    # with dropout before five of its BN layers, otherwise tests 19-31 points lower over three
    # seeds (chapter 4 shows both numbers). Its cost, a forward pass over 2,000 images an
    # epoch, is in each epoch's seconds.
    "cpu": Profile(
        "cpu", train_per_class=800, val_per_class=100, test_per_class=None,
        epochs=_each(14), batch_size=32, optimizer="adam", learning_rate=1e-3, bn_momentum=0.9,
        bn_recalibration=RECALIBRATION_IMAGES,
    ),
    # A modern recipe for a GPU, the networks unchanged: batch 512, SGD with Nesterov momentum
    # at 0.2 (Goyal et al.'s 0.1 per 256 images, scaled linearly) after a 2-epoch linear
    # warm-up, then a cosine decay to 0; label smoothing 0.1; the networks' own L2 at 5e-4
    # (cifar-vgg's value); pad-and-crop augmentation inside the compiled step; mixed precision;
    # at most a third of the post's epochs (33 for the VGGs, 50 for ResNet18, 30 for GoogLeNet:
    # 50 gained it nothing measurable on a CPU, and 30 let its chapter fit a device call). It
    # aims at each network's validation accuracy in the post less FAST_AIM_MARGIN points, on
    # all 10,000 test images. BN statistics as in ``cpu`` (neither setting touches the training
    # itself, which normalises by each batch and never reads the moving statistics): a first
    # CPU trial without them (not kept) validated GoogLeNet at 10-17 % for four epochs while it
    # trained at 25-48 %, probably moving averages lagging behind weights that change fast at
    # this rate; in the VGGs, dropout before BN layers shifts them further (chapter 4). The
    # record keeps both figures (``*_as_trained``). At momentum 0.9 an epoch's 97 or 98
    # updates leave 0.9**97 ~ 4e-5 of the last re-estimate, so the "as trained" figures stay
    # exact. What the runs and the trials of this recipe showed, and what is tried next:
    # results/trials/README.md (chapter 7 computes the figures from the records).
    "fast": Profile(
        "fast", train_per_class=None, val_per_class=None, test_per_class=None,
        epochs={"vgg16": 33, "vgg16_bigconv": 33, "googlenet": 30, "resnet18": 50},
        batch_size=512, optimizer="sgd_cosine", learning_rate=0.2,
        augmentation="crop", augment_in="model", precision="auto", label_smoothing=0.1,
        weight_decay=5e-4, warmup_epochs=2, bn_momentum=0.9,
        bn_recalibration=RECALIBRATION_IMAGES,
    ),
    # The recipe of the code the post builds on (geifman's cifar-vgg, after Liu & Deng 2015):
    # SGD 0.1, Nesterov, legacy decay 1e-6, halved every 20 epochs, batch 128; the post's
    # epochs, about 100 (VGG) or 150 (GoogLeNet, ResNet). Ablations only when asked: each is
    # another full training.
    "full": Profile(
        "full", train_per_class=None, val_per_class=None, test_per_class=None,
        epochs={"vgg16": 100, "vgg16_bigconv": 100, "googlenet": 150, "resnet18": 150},
        batch_size=128, optimizer="sgd_post", learning_rate=0.1, decay=1e-6, halve_every=20,
        ablations=False,
    ),
}


def is_number(*values):
    """Whether every value is an int or a float (a bool is neither here)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def setting_value(value):
    """A setting as compared between recipes: 2 and 2.0 are the same setting (a record's JSON
    may hold either), so numbers compare as floats."""
    return float(value) if is_number(value) else value


# profile settings that do not change how a run trains: the profile's name, whether its
# chapters train variants by default, and the per-network epochs (a record's own are used)
NOT_RECIPE = ("name", "ablations", "epochs")


def recipe_settings(profile):
    """The settings of ``profile`` that change how a run trains, as compared between recipes
    (``setting_value``): the one rule by which chapter 7 pools runs and names what a trial
    changed."""
    return {field.name: setting_value(getattr(profile, field.name))
            for field in dataclasses.fields(profile) if field.name not in NOT_RECIPE}


# how differences names a setting (others: the field's name, with spaces)
_SETTING_NAMES = {"batch_size": "batch", "learning_rate": "learning rate", "weight_decay": "L2",
                  "bn_momentum": "BN momentum", "bn_recalibration": "BN re-estimate images",
                  "warmup_epochs": "warm-up epochs", "augment_in": "augmentation in"}


def differences(profile, model_name, registered=None):
    """How ``profile`` trains ``model_name`` otherwise than ``registered`` (default: the
    registered profile of its name), as phrases ("batch 128 instead of 512"), epochs first;
    [] for the same recipe. A trial's record, or a ``dataclasses.replace`` of a profile, is
    such a variant, not the profile's own run."""
    today = registered or PROFILES.get(profile.name)
    if today is None:
        return [f"the name {profile.name!r}, which no registered profile has"]
    epochs, wanted = profile.epochs.get(model_name), today.epochs.get(model_name)
    found = [] if epochs == wanted else [
        f"{'no' if epochs is None else epochs} epochs instead of {wanted}"]
    was_settings, now_settings = recipe_settings(profile), recipe_settings(today)
    for setting in now_settings:
        if was_settings[setting] == now_settings[setting]:
            continue  # the rule compare.recipe pools by: 2 and 2.0 are the same setting
        was, now = getattr(profile, setting), getattr(today, setting)
        name = _SETTING_NAMES.get(setting, setting.replace("_", " "))
        # :g reads best, unless it would print two different values alike
        shown = (f"{was:g}", f"{now:g}") if is_number(was, now) else (repr(was), repr(now))
        if shown[0] == shown[1]:
            shown = (repr(was), repr(now))
        found.append(f"{name} {shown[0]} instead of {shown[1]}")
    return found


def describe(profile, model_name, epochs=None):
    """The recipe ``profile`` trains ``model_name`` with, as a phrase the chapters glue;
    ``epochs``, a phrase, replaces that network's epoch count (a recipe told for several)."""
    if profile.optimizer == "sgd_cosine":  # its rate rises, peaks and falls: say how
        warmup = (f"a {profile.warmup_epochs:g}-epoch linear warm-up to a peak learning rate of "
                  if profile.warmup_epochs else "a peak learning rate of ")
        optimizer = (f"SGD (Nesterov momentum 0.9) with {warmup}{profile.learning_rate:g}, then "
                     "a cosine decay to 0 at the last epoch")
    else:
        optimizer = (f"{_OPTIMIZERS.get(profile.optimizer, profile.optimizer)} at a learning "
                     f"rate of {profile.learning_rate:g}")
    parts = [
        optimizer,
        f"batches of {profile.batch_size}",
        f"BN momentum {profile.bn_momentum:g}",
        epochs or f"{profile.epochs[model_name]} epochs",
        _AUGMENTATIONS.get(profile.augmentation, profile.augmentation) if profile.augment
        else "no augmentation",
    ]
    if profile.label_smoothing:
        parts.append(f"label smoothing {profile.label_smoothing:g}")
    if profile.weight_decay:
        parts.append(f"L2 {profile.weight_decay:g}")
    if profile.bn_recalibration:
        parts.append(f"BN statistics re-estimated on {profile.bn_recalibration:,} training images "
                     "with dropout off before each validation")
    precision = devices.policy_for(profile.precision)  # what "auto" and "mixed" become here
    if precision != "float32":
        parts.append(f"{precision} precision")
    return ", ".join(parts)


def from_record(record):
    """The Profile a results record was trained with, rebuilt from its ``hyper`` settings
    (settings a record predates take their defaults; the record's epochs for its network)."""
    settings = {}
    for field in dataclasses.fields(Profile):
        if field.name in record["hyper"]:
            settings[field.name] = record["hyper"][field.name]
        elif field.default is dataclasses.MISSING:  # a required setting the record lacks
            settings[field.name] = None
    settings.pop("epochs", None)
    return Profile(epochs={record["model"]: record["epochs"]}, **settings)


def resolve(requested="auto"):
    """The profile name to use: ``$BOOK_PROFILE`` if set, else ``requested`` ("auto" decides)."""
    from_env = os.environ.get("BOOK_PROFILE")
    name = from_env or requested
    if name == "auto":
        name = "fast" if devices.gpu_available() else "cpu"
        if name == "cpu" and "google.colab" in sys.modules:  # most likely a runtime left on CPU
            warnings.warn("No GPU is visible, so this notebook trains the small 'cpu' profile. "
                          "On Colab choose Runtime > Change runtime type > a GPU, then run it "
                          "again from the top.", stacklevel=2)
    if name not in PROFILES:
        where = " (from $BOOK_PROFILE, which wins over the notebook's choice)" if from_env else ""
        raise ValueError(f"Unknown profile {name!r}{where}: use one of {', '.join(NAMES)} "
                         "or 'auto'.")
    return name


def get(requested="auto"):
    """The Profile for ``requested`` (after ``resolve``)."""
    return PROFILES[resolve(requested)]
