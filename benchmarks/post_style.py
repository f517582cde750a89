"""The four networks built the way the post's Keras 2 code builds them (`make bench`, ch. 3-6).

The book's `helpers.models` builds each network once, as a functional model, with no
regulariser when `weight_decay` is 0. The post's code differs in how it builds, not in
what: the VGGs are `Sequential` models with `input_shape=` on the first layer; the
GoogLeNet and the ResNet grow by wrapping `Model(inputs=model.input, outputs=...)` around
`model.output` after every module; and every Conv2D/Dense carries
`kernel_regularizer=l2(weight_decay)` even when the post trains with weight_decay = 0, so
each step still computes a (zero) penalty for every kernel. The benchmark checks that the
book's way trains at least as fast as this one; chapters 3-6 show these builders beside
the book's.

This is the project's rendition, not the post's text: the widths come from
`helpers.models` so that both ways build the same network (the tests check equal parameter
and layer counts), and only the Keras 2 idioms are reproduced. The post's builders also
compile (`SGD(lr=..., decay=..., momentum=0.9, nesterov=True)`); Keras 3 rejects `lr=` and
ignores `decay=`, so the comments below mark where they did and nothing is compiled here.
"""

from __future__ import annotations

import warnings

import keras
from keras import layers, regularizers

from helpers.models import INCEPTION_WIDTHS, VGG16_BIGCONV_PLAN, VGG16_PLAN

# The post's code passes l2(weight_decay) to every Conv2D and to the first Dense layer and
# never shows the value; it says it trained without regularisation, so 0 here.
WEIGHT_DECAY = 0.0


# ---- The VGGs: one Sequential model, grown with model.add ----------------------------------


def _add_conv_bn_relu(model, filters, size, **first_layer_only):
    """model.add: Conv2D (with an L2 regulariser) -> BatchNormalization -> ReLU."""
    model.add(layers.Conv2D(filters, size, padding="same",
                            kernel_regularizer=regularizers.l2(WEIGHT_DECAY),
                            **first_layer_only))
    model.add(layers.BatchNormalization())
    model.add(layers.Activation("relu"))


def _add_head(model, num_classes):
    """model.add: Dropout, Flatten, Dense-512 -> BN -> ReLU -> Dropout, Dense -> softmax."""
    model.add(layers.Dropout(0.5))
    model.add(layers.Flatten())
    model.add(layers.Dense(512, kernel_regularizer=regularizers.l2(WEIGHT_DECAY)))
    model.add(layers.BatchNormalization())
    model.add(layers.Activation("relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(num_classes))
    model.add(layers.Activation("softmax"))


def vgg16(num_classes=10, input_shape=(32, 32, 3)):
    """13 x (3x3 Conv2D -> BN -> ReLU), each followed by a Dropout or a 2x2 max-pool."""
    model = keras.Sequential()
    for i, (filters, after) in enumerate(VGG16_PLAN):
        # Keras 2 style: the first layer is told the input shape (Keras 3 warns about it).
        first = {"input_shape": input_shape} if i == 0 else {}
        _add_conv_bn_relu(model, filters, 3, **first)
        if after == "pool":
            model.add(layers.MaxPooling2D(pool_size=(2, 2)))
        else:
            model.add(layers.Dropout(after))
    _add_head(model, num_classes)
    # The post compiles here, inside the builder, with SGD(lr=..., decay=...).
    return model


def vgg16_bigconv(num_classes=10, input_shape=(32, 32, 3)):
    """5 x (5x5 or 7x7 Conv2D -> BN -> ReLU -> Dropout -> 2x2 max-pool)."""
    model = keras.Sequential()
    for i, (filters, size, rate) in enumerate(VGG16_BIGCONV_PLAN):
        first = {"input_shape": input_shape} if i == 0 else {}
        _add_conv_bn_relu(model, filters, size, **first)
        model.add(layers.Dropout(rate))
        model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    _add_head(model, num_classes)
    # The post compiles here, inside the builder, with SGD(lr=..., decay=...).
    return model


# ---- GoogLeNet and ResNet18: functional, re-wrapped in a new Model after every module ----


def _conv_bn_relu(x, filters, size, strides=1, relu=True):
    """Conv2D (with an L2 regulariser) -> BatchNormalization (-> ReLU), on a tensor."""
    x = layers.Conv2D(filters, size, strides=strides, padding="same",
                      kernel_regularizer=regularizers.l2(WEIGHT_DECAY))(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x) if relu else x


def _head(x, num_classes):
    """Dense-512 -> BN -> ReLU -> Dropout, Dense -> softmax, on a tensor."""
    x = layers.Dense(512, kernel_regularizer=regularizers.l2(WEIGHT_DECAY))(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(num_classes)(x)
    return layers.Activation("softmax")(x)


def _grow(model, outputs):
    """The post's way of adding a module: a new Model from the old one's input."""
    return keras.Model(inputs=model.input, outputs=outputs)


def _inception_module(model, widths):
    """Takes a model, adds one Inception module to its output, returns a new model."""
    x = model.output
    w1, w3r, w3, w5r, w5, wp = (w // 2 for w in widths)  # the post: np.array / 2, astype(int)
    x1 = _conv_bn_relu(x, w1, 1)
    x2 = _conv_bn_relu(_conv_bn_relu(x, w3r, 1), w3, 3)
    x3 = _conv_bn_relu(_conv_bn_relu(x, w5r, 1), w5, 5)
    # The post assigns the pooled tensor to x4, then overwrites x4 with a projection of x:
    # the pool is computed for nothing and Keras leaves it out of the graph.
    layers.MaxPooling2D(pool_size=(2, 2), strides=1, padding="same")(x)
    x4 = _conv_bn_relu(x, wp, 1)
    return _grow(model, layers.Concatenate(axis=-1)([x1, x2, x3, x4]))


def googlenet(num_classes=10, input_shape=(32, 32, 3)):
    """Stem, Inception 3a-3b, pool, 4a-4e, pool, 5a-5b, global max pool, Dense head."""
    inputs = keras.Input(input_shape)
    x = _conv_bn_relu(inputs, 64, 3)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=2, padding="same")(x)
    x = _conv_bn_relu(x, 96, 5)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=2, padding="same")(x)
    model = keras.Model(inputs=inputs, outputs=x)
    # The post compiles this half-built stem model here, and never the final one below.
    for module, widths in INCEPTION_WIDTHS.items():
        if module in ("4a", "5a"):
            model = _grow(model, layers.MaxPooling2D(
                pool_size=(3, 3), strides=2, padding="same")(model.output))
        model = _inception_module(model, widths)
    x = layers.GlobalMaxPooling2D()(model.output)
    return keras.Model(inputs=inputs, outputs=_head(x, num_classes))  # uncompiled


def _resnet_stage(model, filters, stride):
    """Two basic blocks; the first one's shortcut is chosen by `if Stride:`."""
    x = model.output
    x1 = _conv_bn_relu(x, filters, 3, strides=stride)
    x1 = _conv_bn_relu(x1, filters, 3, relu=False)
    # `if Stride:` is true for every stride the post passes (1 included): always a projection.
    x2 = _conv_bn_relu(x, filters, 1, strides=stride, relu=False)
    x = layers.Activation("relu")(layers.Add()([x1, x2]))
    x1 = _conv_bn_relu(x, filters, 3)
    x1 = _conv_bn_relu(x1, filters, 3, relu=False)
    return _grow(model, layers.Activation("relu")(layers.Add()([x1, x])))


def resnet18(num_classes=10, input_shape=(32, 32, 3)):
    """3x3 stem, max-pool, four stages (64, 128, 256, 512), global max pool, Dense head."""
    inputs = keras.Input(input_shape)
    x = _conv_bn_relu(inputs, 64, 3)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=2, padding="same")(x)
    model = keras.Model(inputs=inputs, outputs=x)
    # The post compiles this half-built stem model here, and the final one again below.
    for filters, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        model = _resnet_stage(model, filters, stride)
    x = layers.GlobalMaxPooling2D()(model.output)
    return keras.Model(inputs=inputs, outputs=_head(x, num_classes))


BUILDERS = {"vgg16": vgg16, "vgg16_bigconv": vgg16_bigconv,
            "googlenet": googlenet, "resnet18": resnet18}


def build(name):
    with warnings.catch_warnings():  # Keras 3 warns about `input_shape=` on a layer
        warnings.simplefilter("ignore", UserWarning)
        return BUILDERS[name]()
