"""The post's four CIFAR-10 networks, layer for layer, in Keras 3 (chapters 3-6).

Build them by name from one registry::

    from helpers import models
    model = models.build("resnet18")            # the post's network, quirks included
    model = models.build("resnet18", projection_shortcut="when_needed")   # one quirk fixed

With 10 classes and 32x32x3 inputs the parameter counts are those of the post's code:
15,001,418 (vgg16), 21,360,010 (vgg16_bigconv), 1,903,906 (googlenet), 11,457,482 (resnet18).

``weight_decay`` is the post's L2 kernel regulariser (``wd * sum(w**2)`` added to the loss);
the post trained without it, so it is 0 (no regulariser) by default. ``bn_momentum`` is
Keras' BatchNormalization momentum (0.99, the post's too); short runs may want less, see
chapter 7. The last softmax is kept in float32 so that mixed precision (chapter 1) is safe.
"""

from __future__ import annotations

import inspect

import keras
from keras import layers

NAMES = ("vgg16", "vgg16_bigconv", "googlenet", "resnet18")
# how the book writes their names
LABELS = {"vgg16": "VGG16", "vgg16_bigconv": "VGG16-big", "googlenet": "GoogLeNet",
          "resnet18": "ResNet18"}


def book_order(name):
    """Sort key: the four networks in the book's order, any other name after them."""
    return NAMES.index(name) if name in NAMES else len(NAMES)


class UnknownModelError(ValueError):
    """Raised for a model name that is not in the registry."""


def check_name(name):
    """Raise ``UnknownModelError``, naming the valid names, unless ``name`` is one of ``NAMES``."""
    if name not in NAMES:
        raise UnknownModelError(f"Unknown model name {name!r}. Valid names: {', '.join(NAMES)}.")


# The VGGs halve their maps with five 2x2 max pools without padding: below 32 pixels a side the
# last pool would get an empty map (the other two pad, and take any size)
MIN_IMAGE_SIDE = {"vgg16": 32, "vgg16_bigconv": 32}


def _regularizer(weight_decay):
    return keras.regularizers.L2(weight_decay) if weight_decay else None


class _Parts:
    """The post's recurring pieces (Conv/Dense -> BN -> ReLU) with its settings bound once."""

    def __init__(self, weight_decay, bn_momentum):
        self.reg = _regularizer(weight_decay)
        self.bn_momentum = bn_momentum

    def conv_bn(self, x, filters, size, name, strides=1, relu=True):
        x = layers.Conv2D(
            filters, size, strides=strides, padding="same",
            kernel_regularizer=self.reg, name=f"{name}_conv",
        )(x)
        x = layers.BatchNormalization(momentum=self.bn_momentum, name=f"{name}_bn")(x)
        return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x

    def head(self, x, num_classes):
        """Dense-512 -> BN -> ReLU -> Dropout(0.5) -> Dense -> softmax, as in all four."""
        x = layers.Dense(512, kernel_regularizer=self.reg, name="fc1")(x)
        x = layers.BatchNormalization(momentum=self.bn_momentum, name="fc1_bn")(x)
        x = layers.Activation("relu", name="fc1_relu")(x)
        x = layers.Dropout(0.5, name="fc1_dropout")(x)
        x = layers.Dense(num_classes, name="logits")(x)
        return layers.Activation("softmax", dtype="float32", name="softmax")(x)


# (filters, dropout rate after the ReLU, or "pool" for a 2x2 max-pool instead)
VGG16_PLAN = [
    (64, 0.3), (64, "pool"),
    (128, 0.4), (128, "pool"),
    (256, 0.4), (256, 0.4), (256, "pool"),
    (512, 0.4), (512, 0.4), (512, "pool"),
    (512, 0.4), (512, 0.4), (512, "pool"),
]


def vgg16(
    num_classes=10, input_shape=(32, 32, 3), weight_decay=0.0, bn_momentum=0.99,
    stage_kernels=None,
):
    """The post's VGG16 for CIFAR-10: 13 3x3 convolutions with BN and heavy dropout.

    The post's code follows the well-known "cifar10vgg" Keras model: each convolution is
    followed by BatchNormalization, ReLU and either Dropout or a 2x2 max-pool; the classifier is
    one Dense-512 layer instead of VGG's two Dense-4096 layers. Chapter 3.

    ``stage_kernels`` (five sizes, one per stage between poolings) is not the post's: with
    VGG16-big's sizes, ``(5, 5, 7, 7, 7)``, it keeps VGG16's 13 layers and gives them the big
    kernels, one half of chapter 4's controlled experiment.
    """
    parts = _Parts(weight_decay, bn_momentum)
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    kernels = _stage_sizes(stage_kernels, [3] * 5)
    stage = 0
    for i, (filters, after) in enumerate(VGG16_PLAN, start=1):
        x = parts.conv_bn(x, filters, kernels[stage], name=f"conv{i}")
        stage += after == "pool"
        if after == "pool":
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        else:
            x = layers.Dropout(after, name=f"dropout{i}")(x)
    x = layers.Dropout(0.5, name="features_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, parts.head(x, num_classes), name="vgg16")


def _stage_sizes(stage_kernels, default):
    if stage_kernels is None:
        return default
    sizes = [int(k) for k in stage_kernels]
    if len(sizes) != 5 or min(sizes) < 1:
        raise ValueError(f"stage_kernels needs five positive sizes, one per stage; got {stage_kernels!r}")
    return sizes


# (filters, kernel size, dropout rate); every convolution is followed by a 2x2 max-pool
VGG16_BIGCONV_PLAN = [(64, 5, 0.3), (128, 5, 0.4), (256, 7, 0.4), (512, 7, 0.4), (512, 7, 0.4)]


def vgg16_bigconv(
    num_classes=10, input_shape=(32, 32, 3), weight_decay=0.0, bn_momentum=0.99,
    stage_kernels=None,
):
    """The post's VGG16 with big convolutions: five 5x5/7x7 convolutions replace the stacks.

    Each stack of two or three 3x3 convolutions becomes one 5x5 (first two stages) or 7x7
    convolution (last three), so the network is 5 convolutions deep instead of 13 and has
    more parameters (21.4 M against 15.0 M). Chapter 4.

    ``stage_kernels`` (five sizes) is not the post's: ``(3, 3, 3, 3, 3)`` keeps these five
    layers and gives them 3x3 kernels, the other half of chapter 4's controlled experiment.
    """
    parts = _Parts(weight_decay, bn_momentum)
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    kernels = _stage_sizes(stage_kernels, [size for _, size, _ in VGG16_BIGCONV_PLAN])
    for i, (filters, _, rate) in enumerate(VGG16_BIGCONV_PLAN, start=1):
        x = parts.conv_bn(x, filters, kernels[i - 1], name=f"conv{i}")
        x = layers.Dropout(rate, name=f"dropout{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Dropout(0.5, name="features_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, parts.head(x, num_classes), name="vgg16_bigconv")


# GoogLeNet's Inception v1 widths (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection);
# the post halves every one of them (integer division), as below.
INCEPTION_WIDTHS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),  # as in GoogLeNet, whose 5a has 4e's widths
    "5b": (384, 192, 384, 48, 128, 128),
}


def _inception(parts, x, widths, name, use_pool_branch):
    w1, w3r, w3, w5r, w5, wp = (w // 2 for w in widths)
    b1 = parts.conv_bn(x, w1, 1, name=f"{name}_1x1")
    b3 = parts.conv_bn(parts.conv_bn(x, w3r, 1, name=f"{name}_3x3r"), w3, 3, name=f"{name}_3x3")
    b5 = parts.conv_bn(parts.conv_bn(x, w5r, 1, name=f"{name}_5x5r"), w5, 5, name=f"{name}_5x5")
    # The post computes the 2x2 max-pool, then feeds the module's input (not the pooled
    # tensor) to the projection: the pool is lost and branch 4 is one more 1x1 convolution.
    pooled = layers.MaxPooling2D(2, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = parts.conv_bn(pooled if use_pool_branch else x, wp, 1, name=f"{name}_poolproj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def inception_module(x, widths, name, *, use_pool_branch=False, weight_decay=0.0,
                     bn_momentum=0.99):
    """One of the post's Inception modules on the tensor ``x``, on its own (chapter 5 draws
    one): ``widths`` are GoogLeNet's six (``INCEPTION_WIDTHS``), halved here as in the post."""
    return _inception(_Parts(weight_decay, bn_momentum), x, widths, name, use_pool_branch)


def googlenet(
    num_classes=10,
    input_shape=(32, 32, 3),
    weight_decay=0.0,
    bn_momentum=0.99,
    use_pool_branch=False,
):
    """The post's "GoogLeNet_V3": GoogLeNet's nine Inception v1 modules, with BN, half width.

    A small stem (3x3 conv, pool, 5x5 conv, pool) for 32x32 inputs, Inception 3a-3b, pool,
    4a-4e, pool, 5a-5b, global *max* pooling and the Dense-512 head. Chapter 5.

    use_pool_branch: the post's module computes its max-pool branch and then overwrites it
        (the projection convolution reads the module's input instead). ``False`` (default)
        keeps that, as the post trained it; ``True`` feeds the pooled tensor to the
        projection, as GoogLeNet does, but keeps the post's 2x2 pool (GoogLeNet pools 3x3).
        The parameter count is the same either way.
    """
    parts = _Parts(weight_decay, bn_momentum)
    inputs = keras.Input(input_shape, name="image")
    x = parts.conv_bn(inputs, 64, 3, name="stem1")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem1_pool")(x)
    x = parts.conv_bn(x, 96, 5, name="stem2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem2_pool")(x)
    for module, widths in INCEPTION_WIDTHS.items():
        if module in ("4a", "5a"):  # GoogLeNet halves the resolution before stages 4 and 5
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{module[0]}")(x)
        x = _inception(parts, x, widths, f"inception{module}", use_pool_branch)
    x = layers.GlobalMaxPooling2D(name="global_max_pool")(x)
    return keras.Model(inputs, parts.head(x, num_classes), name="googlenet")


def _basic_block(parts, x, filters, stride, name, projection):
    y = parts.conv_bn(x, filters, 3, strides=stride, name=f"{name}_a")
    y = parts.conv_bn(y, filters, 3, name=f"{name}_b", relu=False)
    if projection:
        x = parts.conv_bn(x, filters, 1, strides=stride, name=f"{name}_proj", relu=False)
    y = layers.Add(name=f"{name}_add")([y, x])
    return layers.Activation("relu", name=f"{name}_out")(y)


def resnet18(
    num_classes=10,
    input_shape=(32, 32, 3),
    weight_decay=0.0,
    bn_momentum=0.99,
    projection_shortcut="always",
):
    """The post's ResNet18: a 3x3 stem, max-pool, four stages of two basic blocks. Chapter 6.

    Stages of 64, 128, 256 and 512 filters (strides 1, 2, 2, 2), global *max* pooling and
    the Dense-512 head.

    projection_shortcut: the post decides the first block's shortcut with ``if Stride:``,
        which is true for stride 1 as well, so every stage (the first, 64 -> 64 at stride 1,
        included) gets a 1x1 projection convolution + BN. ``"always"`` (default) keeps that;
        ``"when_needed"`` uses the identity where shape allows (stage 1), as ResNet does,
        which removes one 1x1 convolution and one BN layer (4,416 parameters).
    """
    if projection_shortcut not in ("always", "when_needed"):
        raise ValueError(
            f"projection_shortcut={projection_shortcut!r}: use 'always' (the post) or "
            "'when_needed' (ResNet's rule)"
        )
    parts = _Parts(weight_decay, bn_momentum)
    inputs = keras.Input(input_shape, name="image")
    x = parts.conv_bn(inputs, 64, 3, name="stem")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, (filters, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
        needs_projection = stride != 1 or x.shape[-1] != filters
        projection = projection_shortcut == "always" or needs_projection
        x = _basic_block(parts, x, filters, stride, f"stage{stage}_block1", projection)
        x = _basic_block(parts, x, filters, 1, f"stage{stage}_block2", projection=False)
    x = layers.GlobalMaxPooling2D(name="global_max_pool")(x)
    return keras.Model(inputs, parts.head(x, num_classes), name="resnet18")


# Chapter 4's controls, VGG16-big's two changes one at a time, by the name ``tools/train_runs.py
# --controls`` takes: (model, options)
CONTROLS = {
    "thirteen_big": ("vgg16", {"stage_kernels": [5, 5, 7, 7, 7]}),  # kernel kept, depth changed
    "five_3x3": ("vgg16_bigconv", {"stage_kernels": [3, 3, 3, 3, 3]}),  # depth kept, kernel changed
}

_REGISTRY = {
    "vgg16": vgg16,
    "vgg16_bigconv": vgg16_bigconv,
    "googlenet": googlenet,
    "resnet18": resnet18,
}


def build(name, *, num_classes=10, input_shape=(32, 32, 3), weight_decay=0.0, **options):
    """Return the uncompiled network ``name`` (one of ``NAMES``).

    ``options`` go to the network's builder: ``bn_momentum`` for all four,
    ``use_pool_branch`` (googlenet) and ``projection_shortcut`` (resnet18) fix the post's
    quirks one at a time; see each builder's docstring.
    """
    check_name(name)
    smallest = MIN_IMAGE_SIDE.get(name, 1)
    sides = [side for side in input_shape[:2] if side is not None]  # None: any size
    if sides and min(sides) < smallest:
        raise ValueError(
            f"{name} needs images of at least {smallest}x{smallest} pixels (five 2x2 max pools "
            f"halve them); got input_shape={tuple(input_shape)}. Resize the images (for example "
            f"with keras.layers.Resizing({smallest}, {smallest})), or use googlenet or resnet18."
        )
    builder = _REGISTRY[name]
    unknown = sorted(set(options) - set(inspect.signature(builder).parameters))
    if unknown:
        raise TypeError(
            f"{name} does not take option(s) {unknown}; see help(helpers.models.{name})"
        )
    return builder(
        num_classes=num_classes,
        input_shape=tuple(input_shape),
        weight_decay=weight_decay,
        **options,
    )


def layer_counts(model, kinds=("Conv2D", "BatchNormalization", "Dense", "Dropout", "MaxPooling2D")):
    """How many layers of each kind ``model`` has (nested models not expanded)."""
    names = [type(layer).__name__ for layer in model.layers]
    return {kind: names.count(kind) for kind in kinds}
