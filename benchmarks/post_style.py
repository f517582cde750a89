"""The four networks built the way the post's Keras 2 code builds them (for `make bench` only).

The book's `helpers.models` builds each network once, as a functional model, with no
regulariser when `weight_decay` is 0. The post's code differs in how it builds, not in
what: the VGGs are `Sequential` models with `input_shape=` on the first layer; the
GoogLeNet and the ResNet grow by wrapping `Model(inputs=model.input, outputs=...)` around
`model.output` after every module; and every Conv2D/Dense carries
`kernel_regularizer=l2(weight_decay)` even when the post trains with weight_decay = 0, so
each step still computes a (zero) penalty for every kernel. The benchmark checks that the
book's way trains at least as fast as this one.

The widths come from `helpers.models` so that both ways build the same network (the tests
check equal parameter and layer counts); only the Keras 2 idioms are reproduced here.
"""

from __future__ import annotations

import warnings

import keras
from keras import layers, regularizers

from helpers.models import _INCEPTION_WIDTHS, _VGG16_BIGCONV_PLAN, _VGG16_PLAN

WEIGHT_DECAY = 0.0  # the post trained without regularisation, but kept the regularisers


def _conv_bn_relu(x, filters, size, strides=1, relu=True):
    x = layers.Conv2D(filters, size, strides=strides, padding="same",
                      kernel_regularizer=regularizers.l2(WEIGHT_DECAY))(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x) if relu else x


def _head(x, num_classes):
    x = layers.Dense(512, kernel_regularizer=regularizers.l2(WEIGHT_DECAY))(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(num_classes)(x)
    return layers.Activation("softmax")(x)


def _sequential(blocks, num_classes, input_shape):
    """model.add(...) layer by layer, `input_shape=` on the first Conv2D, as the post does."""
    model = keras.Sequential()
    for i, (filters, size, after) in enumerate(blocks):
        extra = {"input_shape": input_shape} if i == 0 else {}
        model.add(layers.Conv2D(filters, size, padding="same",
                                kernel_regularizer=regularizers.l2(WEIGHT_DECAY), **extra))
        model.add(layers.BatchNormalization())
        model.add(layers.Activation("relu"))
        for step in after:
            model.add(layers.MaxPooling2D(pool_size=(2, 2)) if step == "pool"
                      else layers.Dropout(step))
    model.add(layers.Dropout(0.5))
    model.add(layers.Flatten())
    model.add(layers.Dense(512, kernel_regularizer=regularizers.l2(WEIGHT_DECAY)))
    model.add(layers.BatchNormalization())
    model.add(layers.Activation("relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(num_classes))
    model.add(layers.Activation("softmax"))
    return model


def vgg16(num_classes=10, input_shape=(32, 32, 3)):
    return _sequential([(f, 3, [after]) for f, after in _VGG16_PLAN], num_classes, input_shape)


def vgg16_bigconv(num_classes=10, input_shape=(32, 32, 3)):
    return _sequential([(f, size, [rate, "pool"]) for f, size, rate in _VGG16_BIGCONV_PLAN],
                       num_classes, input_shape)


def _grow(model, outputs):
    """The post's way of adding a module: a new Model around the old one's input."""
    return keras.Model(inputs=model.input, outputs=outputs)


def _inception_module(model, widths):
    x = model.output
    w1, w3r, w3, w5r, w5, wp = (w // 2 for w in widths)
    x1 = _conv_bn_relu(x, w1, 1)
    x2 = _conv_bn_relu(_conv_bn_relu(x, w3r, 1), w3, 3)
    x3 = _conv_bn_relu(_conv_bn_relu(x, w5r, 1), w5, 5)
    layers.MaxPooling2D(pool_size=(2, 2), strides=1, padding="same")(x)  # computed, then unused
    x4 = _conv_bn_relu(x, wp, 1)
    return _grow(model, layers.Concatenate(axis=-1)([x1, x2, x3, x4]))


def googlenet(num_classes=10, input_shape=(32, 32, 3)):
    inputs = keras.Input(input_shape)
    x = _conv_bn_relu(inputs, 64, 3)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=2, padding="same")(x)
    x = _conv_bn_relu(x, 96, 5)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=2, padding="same")(x)
    model = keras.Model(inputs=inputs, outputs=x)
    for module, widths in _INCEPTION_WIDTHS.items():
        if module in ("4a", "5a"):
            model = _grow(model, layers.MaxPooling2D(
                pool_size=(3, 3), strides=2, padding="same")(model.output))
        model = _inception_module(model, widths)
    x = layers.GlobalMaxPooling2D()(model.output)
    return keras.Model(inputs=inputs, outputs=_head(x, num_classes))


def _resnet_stage(model, filters, stride):
    x = model.output
    x1 = _conv_bn_relu(x, filters, 3, strides=stride)
    x1 = _conv_bn_relu(x1, filters, 3, relu=False)
    x2 = _conv_bn_relu(x, filters, 1, strides=stride, relu=False)  # `if Stride:` is always true
    x = layers.Activation("relu")(layers.Add()([x1, x2]))
    x1 = _conv_bn_relu(x, filters, 3)
    x1 = _conv_bn_relu(x1, filters, 3, relu=False)
    return _grow(model, layers.Activation("relu")(layers.Add()([x1, x])))


def resnet18(num_classes=10, input_shape=(32, 32, 3)):
    inputs = keras.Input(input_shape)
    x = _conv_bn_relu(inputs, 64, 3)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=2, padding="same")(x)
    model = keras.Model(inputs=inputs, outputs=x)
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
