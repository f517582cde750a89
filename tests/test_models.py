"""The post's four networks, layer for layer (helpers.models; chapters 3-6)."""

import keras
import numpy as np
import pytest

from helpers import models

POST_PARAMS = {
    "vgg16": 15_001_418,
    "vgg16_bigconv": 21_360_010,
    "googlenet": 1_903_906,
    "resnet18": 11_457_482,
}
# (Conv2D, Dense, BatchNormalization) layers in the post's code
POST_LAYERS = {
    "vgg16": (13, 2, 14),
    "vgg16_bigconv": (5, 2, 6),
    "googlenet": (56, 2, 57),
    "resnet18": (21, 2, 22),
}
INCEPTION_MODULES = ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")


@pytest.fixture(scope="module")
def built():
    """Each network built once for the module, by name, with the defaults."""
    cache = {}

    def get(name, **options):
        key = (name, tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = models.build(name, **options)
        return cache[key]

    return get


def producer(tensor):
    """The layer whose output ``tensor`` is."""
    return tensor._keras_history.operation


def test_names_registry():
    assert models.NAMES == ("vgg16", "vgg16_bigconv", "googlenet", "resnet18")


@pytest.mark.parametrize("name", models.NAMES)
def test_parameter_count_is_the_posts(built, name):
    model = built(name)
    assert isinstance(model, keras.Model)
    assert model.count_params() == POST_PARAMS[name]
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize("name", models.NAMES)
def test_layer_counts_are_the_posts(built, name):
    counts = models.layer_counts(built(name))
    conv, dense, bn = POST_LAYERS[name]
    assert (counts["Conv2D"], counts["Dense"], counts["BatchNormalization"]) == (conv, dense, bn)


def test_layer_counts_counts_kinds():
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(2, 1)(inputs)
    x = keras.layers.Conv2D(2, 1)(x)
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(x))
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    assert models.layer_counts(model) == {
        "Conv2D": 2, "BatchNormalization": 0, "Dense": 1, "Dropout": 0, "MaxPooling2D": 1,
    }
    assert models.layer_counts(model, kinds=("Flatten",)) == {"Flatten": 1}


@pytest.mark.parametrize("name", models.NAMES)
def test_forward_pass_gives_probabilities(built, name):
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    probs = keras.ops.convert_to_numpy(built(name)(x, training=False))
    assert probs.shape == (2, 10)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_num_classes_changes_output_width():
    model = models.build("vgg16_bigconv", num_classes=100)
    assert model.output_shape == (None, 100)
    # only the last Dense layer grows: 90 more rows of 512 weights, and 90 more biases
    assert model.count_params() == POST_PARAMS["vgg16_bigconv"] + 90 * 512 + 90
    probs = keras.ops.convert_to_numpy(model(np.zeros((1, 32, 32, 3), "float32")))
    assert probs.shape == (1, 100)


# ----------------------------------------------------------------------------- GoogLeNet


def test_googlenet_pool_branch_same_params_more_pools(built):
    quirk, fixed = built("googlenet"), built("googlenet", use_pool_branch=True)
    assert fixed.count_params() == quirk.count_params() == POST_PARAMS["googlenet"]
    q, f = models.layer_counts(quirk), models.layer_counts(fixed)
    assert f["Conv2D"] == q["Conv2D"] and f["BatchNormalization"] == q["BatchNormalization"]
    assert f["MaxPooling2D"] == q["MaxPooling2D"] + 9


@pytest.mark.parametrize("module", INCEPTION_MODULES)
def test_googlenet_pool_branch_feeds_the_projection(built, module):
    fixed = built("googlenet", use_pool_branch=True)
    name = f"inception{module}"
    proj = fixed.get_layer(f"{name}_poolproj_conv")
    pool = fixed.get_layer(f"{name}_pool")
    assert isinstance(pool, keras.layers.MaxPooling2D)
    assert producer(proj.input) is pool
    assert proj.input is pool.output


@pytest.mark.parametrize("module", INCEPTION_MODULES)
def test_googlenet_default_projection_reads_module_input(built, module):
    """The post's quirk: the pooled tensor is computed, then the module's input is used."""
    quirk = built("googlenet")
    name = f"inception{module}"
    proj = quirk.get_layer(f"{name}_poolproj_conv")
    one_by_one = quirk.get_layer(f"{name}_1x1_conv")
    # the projection reads exactly what the 1x1 branch reads: the module's input ...
    assert proj.input is one_by_one.input
    # ... never the module's own pool, which is not even part of the model
    assert producer(proj.input).name != f"{name}_pool"
    assert f"{name}_pool" not in [layer.name for layer in quirk.layers]
    before = {"3a": "stem2_pool", "4a": "pool4", "5a": "pool5"}
    if module in before:  # the first module of a stage reads the stage's pool ...
        assert producer(proj.input).name == before[module]
    else:  # ... the others read the previous module's concatenation, no pooling at all
        assert not isinstance(producer(proj.input), keras.layers.MaxPooling2D)
        assert isinstance(producer(proj.input), keras.layers.Concatenate)


# ----------------------------------------------------------------------------- ResNet18


def test_resnet18_projection_when_needed(built):
    post, fixed = built("resnet18"), built("resnet18", projection_shortcut="when_needed")
    assert post.count_params() - fixed.count_params() == 4_416
    p, f = models.layer_counts(post), models.layer_counts(fixed)
    assert f["Conv2D"] == p["Conv2D"] - 1
    assert f["BatchNormalization"] == p["BatchNormalization"] - 1
    post_names = {layer.name for layer in post.layers}
    fixed_names = {layer.name for layer in fixed.layers}
    assert "stage1_block1_proj_conv" in post_names
    assert "stage1_block1_proj_conv" not in fixed_names
    assert "stage1_block1_proj_bn" not in fixed_names
    for stage in (2, 3, 4):
        assert f"stage{stage}_block1_proj_conv" in fixed_names
        assert f"stage{stage}_block1_proj_bn" in fixed_names
    # the identity shortcut: stage 1's first Add takes the stem pool's output directly
    add = fixed.get_layer("stage1_block1_add")
    assert any(producer(t).name == "stem_pool" for t in add.input)


def test_resnet18_rejects_unknown_shortcut_rule():
    with pytest.raises(ValueError, match="projection_shortcut"):
        models.build("resnet18", projection_shortcut="sometimes")


# ----------------------------------------------------------------------------- options


def _regularized_layers(model):
    return [layer for layer in model.layers if getattr(layer, "kernel_regularizer", None)]


def test_weight_decay_adds_one_loss_per_regularized_layer(built):
    wd = 1e-3
    model = models.build("vgg16_bigconv", weight_decay=wd)
    regularized = _regularized_layers(model)
    # five convolutions and the Dense-512; the last Dense (logits) is not regularised
    assert sorted(layer.name for layer in regularized) == sorted(
        [f"conv{i}_conv" for i in range(1, 6)] + ["fc1"]
    )
    assert len(model.losses) == len(regularized) == 6
    expected = sum(
        wd * float(np.sum(keras.ops.convert_to_numpy(layer.kernel) ** 2))
        for layer in regularized
    )
    total = sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    np.testing.assert_allclose(total, expected, rtol=1e-4)


@pytest.mark.parametrize("name", models.NAMES)
def test_no_weight_decay_adds_no_losses(built, name):
    model = built(name)
    assert model.losses == []
    assert _regularized_layers(model) == []


def test_unknown_model_name():
    with pytest.raises(models.UnknownModelError) as info:
        models.build("alexnet")
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "alexnet" in message
    for name in models.NAMES:
        assert name in message


@pytest.mark.parametrize(
    "name, option", [("vgg16", "use_pool_branch"), ("resnet18", "dropout_rate")]
)
def test_unknown_option_names_it(name, option):
    with pytest.raises(TypeError, match=option):
        models.build(name, **{option: True})


def test_unknown_option_error_does_not_blame_valid_options():
    with pytest.raises(TypeError) as info:
        models.build("vgg16", bn_momentum=0.9, typo=1)
    assert "typo" in str(info.value)
    assert "bn_momentum" not in str(info.value)


# ----------------------------------------------------------------------------- chapter 4's controls


def conv_bn_params(plan):
    """Weights, biases and BN parameters (4 per channel) of a chain of (in, out, size) convs."""
    return sum(k * k * c_in * c_out + c_out + 4 * c_out for c_in, c_out, k in plan)


def head_params(flat, classes=10):
    return flat * 512 + 512 + 4 * 512 + 512 * classes + classes


def test_five_layers_with_3x3_kernels():
    model = models.build("vgg16_bigconv", stage_kernels=(3, 3, 3, 3, 3))
    widths = [3, 64, 128, 256, 512, 512]
    plan = [(widths[i], widths[i + 1], 3) for i in range(5)]
    assert model.count_params() == conv_bn_params(plan) + head_params(512)
    assert models.layer_counts(model) == models.layer_counts(models.build("vgg16_bigconv"))
    kernels = [layer.kernel_size for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert kernels == [(3, 3)] * 5


def test_thirteen_layers_with_the_big_kernels():
    model = models.build("vgg16", stage_kernels=(5, 5, 7, 7, 7))
    widths = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    sizes = [5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7, 7]
    plan = [(widths[i], widths[i + 1], sizes[i]) for i in range(13)]
    assert model.count_params() == conv_bn_params(plan) + head_params(512)
    assert models.layer_counts(model) == models.layer_counts(models.build("vgg16"))
    # and the default is still the post's: 3x3 everywhere, its parameter count
    assert models.build("vgg16").count_params() == 15_001_418


def test_stage_kernels_needs_five_sizes():
    with pytest.raises(ValueError, match="five positive sizes"):
        models.build("vgg16", stage_kernels=(3, 5))


# ----------------------------------------------------------------------------- counts from the post

# The post's layer plans as its code writes them (../shared/seed): VGG16's 13 3x3 widths, the
# big variant's five (width, kernel) pairs, GoogLeNet's stem and Co_array per module (halved with
# astype(int32)), ResNet18's four blocks (every Stride, 1 or 2, is truthy: each has a projection)
POST_VGG16_WIDTHS = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
POST_BIGCONV_PLAN = [(64, 5), (128, 5), (256, 7), (512, 7), (512, 7)]
POST_INCEPTION_WIDTHS = [[64, 96, 128, 16, 32, 32], [128, 128, 192, 32, 96, 64],
                         [192, 96, 208, 16, 48, 64], [160, 112, 224, 24, 64, 64],
                         [128, 128, 256, 24, 64, 64], [112, 144, 288, 32, 64, 64],
                         [256, 160, 320, 32, 128, 128], [256, 160, 320, 32, 128, 128],
                         [384, 192, 384, 48, 128, 128]]
POST_RESNET_WIDTHS = [64, 128, 256, 512]


def post_counts():
    """``{network: (parameters, convolutions)}`` worked out from the post's plans alone."""
    counts = {}
    widths = [3] + POST_VGG16_WIDTHS
    plan = [(widths[i], widths[i + 1], 3) for i in range(13)]
    counts["vgg16"] = (conv_bn_params(plan) + head_params(512), len(plan))
    ins = [3] + [w for w, _ in POST_BIGCONV_PLAN]
    plan = [(ins[i], w, k) for i, (w, k) in enumerate(POST_BIGCONV_PLAN)]
    counts["vgg16_bigconv"] = (conv_bn_params(plan) + head_params(512), len(plan))
    plan, c_in = [(3, 64, 3), (64, 96, 5)], 96
    for widths in POST_INCEPTION_WIDTHS:
        w1, r3, w3, r5, w5, wp = (w // 2 for w in widths)
        plan += [(c_in, w1, 1), (c_in, r3, 1), (r3, w3, 3), (c_in, r5, 1), (r5, w5, 5),
                 (c_in, wp, 1)]
        c_in = w1 + w3 + w5 + wp  # the concatenation (global max pooling keeps its width)
    counts["googlenet"] = (conv_bn_params(plan) + head_params(c_in), len(plan))
    plan, c_in = [(3, 64, 3)], 64
    for width in POST_RESNET_WIDTHS:
        plan += [(c_in, width, 3), (width, width, 3), (c_in, width, 1),
                 (width, width, 3), (width, width, 3)]
        c_in = width
    counts["resnet18"] = (conv_bn_params(plan) + head_params(c_in), len(plan))
    return counts


@pytest.mark.parametrize("name", models.NAMES)
def test_the_counts_the_tests_expect_follow_from_the_posts_plans(name):
    # POST_PARAMS and POST_LAYERS are not numbers read off the code: the post's plans give them
    params, convolutions = post_counts()[name]
    assert params == POST_PARAMS[name]
    assert convolutions == POST_LAYERS[name][0]
    assert POST_LAYERS[name][2] == convolutions + 1  # a BN after each, and the head's


@pytest.mark.parametrize("name", ["vgg16", "vgg16_bigconv"])
def test_a_vgg_refuses_images_its_pools_would_empty(name):
    with pytest.raises(ValueError, match="at least 32x32 pixels.*Resizing"):
        models.build(name, input_shape=(28, 28, 1))
    assert models.build("resnet18", input_shape=(28, 28, 1)).count_params() > 0
    assert models.build("googlenet", input_shape=(None, None, 3)).count_params() > 0  # any size
