"""Unit tests of helpers.architecture: MACs, padding-only weights, structure."""

import keras
import pytest

from helpers import architecture, models


def test_macs_of_a_small_model_by_hand():
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8*8*4 outputs x 3*3*2
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", groups=2)(x)  # 4*4*4 x 3*3*2
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10)(x)  # 64 x 10
    model = keras.Model(inputs, outputs)
    assert architecture.macs(model) == 8 * 8 * 4 * 18 + 4 * 4 * 4 * 18 + 64 * 10
    assert architecture.macs_by_resolution(model) == {8: 8 * 8 * 4 * 18, 4: 4 * 4 * 4 * 18}


@pytest.mark.parametrize("name, expected", [
    ("vgg16", 313_463_808), ("vgg16_bigconv", 314_512_384),
    ("googlenet", 63_888_384), ("resnet18", 141_497_344),
])
def test_macs_of_the_four_networks(name, expected):
    assert architecture.macs(models.build(name)) == expected


def test_structure_counts_what_the_vgg_variant_changes():
    a, b = (architecture.structure(models.build(n)) for n in ("vgg16", "vgg16_bigconv"))
    assert (a["convolutions"], b["convolutions"]) == (13, 5)
    assert a["kernel sizes"] == [(3, 3)] and b["kernel sizes"] == [(5, 5), (7, 7)]
    assert (a["dropout layers"], a["convolutions followed by dropout"]) == (10, 8)
    assert (b["dropout layers"], b["convolutions followed by dropout"]) == (7, 5)
    assert (a["ReLUs"], b["ReLUs"]) == (14, 6)
    assert round(100 * (b["parameters"] / a["parameters"] - 1)) == 42
    table = architecture.structure_table({"vgg16": models.build("vgg16")})
    assert "| parameters | 15,001,418 |" in table and "| kernel sizes | 3x3 |" in table


def test_relus_are_counted_as_layers_or_as_activations():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.ReLU()(keras.layers.Conv2D(4, 3)(inputs))
    x = keras.layers.Activation("relu")(keras.layers.Conv2D(4, 3)(x))
    x = keras.layers.Activation("softmax")(keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    assert architecture.structure(keras.Model(inputs, x))["ReLUs"] == 2


def test_weights_that_only_meet_padding_are_counted_from_the_map_size():
    def conv(size, kernel, **kw):
        inputs = keras.Input((size, size, 2))
        layer = keras.layers.Conv2D(3, kernel, padding=kw.pop("padding", "same"), **kw)
        layer(inputs)
        return layer

    # 7x7 on a 2x2 map: only the centre 3x3 taps ever meet the image; each output position
    # meets 2x2 image values of its 7x7 window
    assert architecture.padding_only(conv(2, 7)) == (40 * 2 * 3, 4 * 4 * 2 * 3)
    assert architecture.padding_only(conv(2, 3)) == (0, 4 * 4 * 2 * 3)  # VGG16's last stage
    assert architecture.padding_only(conv(32, 5)) == (0, (32 * 5 - 6) ** 2 * 2 * 3)
    assert architecture.padding_only(conv(8, 3, padding="valid")) == (0, 6 * 6 * 9 * 2 * 3)
    # stride 2, 'same', 3x3 -> 2x2 with a 7x7 kernel: 3 padded before, so the two outputs of
    # an axis read taps 3-5 and 1-3; taps 0 and 6 never meet the image
    assert architecture.padding_only(conv(3, 7, strides=2)) == ((49 - 25) * 2 * 3, 6 * 6 * 2 * 3)
    with pytest.raises(ValueError, match="dilated"):
        architecture.padding_only(conv(8, 3, dilation_rate=2))
    # the post's VGG16-big: its last 7x7 convolution (512 to 512 channels) on a 2x2 map
    facts = architecture.structure(models.build("vgg16_bigconv"))
    assert facts["conv weights that only ever meet padding"] == 40 * 512 * 512
    assert architecture.structure(models.build("vgg16"))["conv weights that only ever meet padding"] == 0
    # the MACs on image values: its last conv does 4 x 4 of its 2 x 2 x 49 products per
    # channel pair, and every other conv loses some at the border of its map
    on_image = "MACs per image on image values (padding left out)"
    last_conv_loss = 512 * 512 * (2 * 2 * 49 - 4 * 4)
    assert facts["MACs per image"] - facts[on_image] > last_conv_loss
    assert facts["trainable parameters"] < facts["parameters"]  # BN's moving statistics
