"""In-model augmentation, mixed precision, the `fast` profile and record provenance (ch. 1-3, 7)."""

import dataclasses
import hashlib
import sys
import types

import keras
import numpy as np
import pytest

from helpers import augment, data, devices, experiment, models, profiles, results, training


def images(n=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 32, 32, 3)).astype("float32")


# ----------------------------------------------------------------------------- pad and crop


def shifts_found(original, cropped, pad=4):
    """For each image, the (dy, dx) at which the padded original equals the crop, or None."""
    found = []
    for x, y in zip(original, cropped):
        padded = np.pad(x, [(pad, pad), (pad, pad), (0, 0)])
        hits = [(dy, dx) for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)
                if np.array_equal(padded[dy:dy + 32, dx:dx + 32], y)]
        found.append(hits[0] if hits else None)
    return found


def test_pad_crop_is_an_exact_random_shift_per_image():
    x = images(16)
    out = keras.ops.convert_to_numpy(augment.RandomPadCrop(4, seed=3)(x, training=True))
    shifts = shifts_found(x, out)
    assert None not in shifts, "every output must be the padded input cropped at some offset"
    assert len(set(shifts)) > 1, "offsets are drawn per image, not once per batch"


def test_pad_crop_is_inert_outside_training_and_crops_when_called_alone():
    x = images()
    crop = augment.RandomPadCrop(4, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(crop(x, training=False)), x)
    # called on its own it augments, as Keras' RandomFlip does (chapter 2 says so of them all)
    assert not np.array_equal(keras.ops.convert_to_numpy(crop(x)), x)


def _correlation(a, b):
    return abs(float(np.corrcoef(np.ravel(a).astype(float), np.ravel(b).astype(float))[0, 1]))


def test_pad_crop_and_flip_draw_independently():
    # One bright pixel left of centre: where it lands gives the flip and both crop offsets.
    # (The layers once shared the run's seed; this pair showed no coupling then, the post's
    # flip and rotation did: the test below.)
    x = np.zeros((512, 32, 32, 3), "float32")
    x[:, 16, 8, :] = 1.0
    out = keras.ops.convert_to_numpy(augment.layers("crop", seed=0)(x, training=True))[..., 0]
    row, column = out.max(axis=2).argmax(axis=1), out.max(axis=1).argmax(axis=1)
    flipped = column > 15  # unflipped it lands in columns 4-12, flipped in 19-27
    dx, dy = np.where(flipped, column - 19, 12 - column), 20 - row  # the crop's offsets, 0-8
    assert 0.4 < flipped.mean() < 0.6 and set(dx) == set(dy) == set(range(9))
    assert _correlation(flipped, dx) < 0.15 and _correlation(flipped, dy) < 0.15


def test_the_posts_flip_and_rotation_draw_independently():
    # given one seed they drew the same uniforms: an image was flipped exactly when its
    # rotation was clockwise
    shift, flip, rotation = augment.layers("post", seed=1).layers
    assert len({shift.seed, flip.seed, rotation.seed}) == 3
    x = np.zeros((512, 32, 32, 3), "float32")
    flips = flip.get_random_transformation(x, training=True)["flips"]
    angles = rotation.get_random_transformation(x, training=True)["angle"]
    assert _correlation(keras.ops.convert_to_numpy(flips), keras.ops.convert_to_numpy(angles) > 0) < 0.15
    assert augment.layer_seeds(None, 2) == (None, None)
    assert augment.layer_seeds(1, 3) == augment.layer_seeds(1, 3) != augment.layer_seeds(2, 3)


def test_unknown_augmentation_says_which_exist():
    with pytest.raises(ValueError, match="post, crop"):
        augment.layers("mixup")


@pytest.mark.parametrize("kind", augment.KINDS)
def test_in_model_augmentation_acts_in_training_only_and_adds_no_parameters(kind):
    network = models.build("googlenet")
    model = augment.with_augmentation(network, kind, seed=0)
    assert model.count_params() == network.count_params() == 1_903_906
    x = images(4)
    same = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
    np.testing.assert_allclose(same, keras.ops.convert_to_numpy(network.predict(x, verbose=0)))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    np.testing.assert_allclose(
        model.evaluate(x, np.eye(10)[:4], verbose=0),
        network.compile(optimizer="sgd", loss="categorical_crossentropy")
        or network.evaluate(x, np.eye(10)[:4], verbose=0), rtol=1e-5,
    )
    a = keras.ops.convert_to_numpy(model(x, training=True))
    b = keras.ops.convert_to_numpy(network(x, training=True))
    assert not np.allclose(a, b), "in training the network sees augmented images"


# ----------------------------------------------------------------------------- precision


@pytest.mark.parametrize("kind", augment.KINDS)
def test_augmentation_computes_in_float32_under_mixed_precision(kind):
    # TensorFlow's GPU kernel for translations and rotations has no bfloat16 version
    with devices.dtype_policy("mixed_bfloat16"):
        network = models.build("vgg16")
        model = augment.with_augmentation(network, kind, seed=1)
    steps = model.get_layer("augmentation")
    assert {layer.compute_dtype for layer in steps.layers} == {"float32"}
    assert network.layers[1].compute_dtype == "bfloat16"  # the network itself stays mixed
    out = steps(np.random.default_rng(0).random((2, 32, 32, 3), "float32"), training=True)
    assert keras.ops.convert_to_numpy(out).dtype == np.float32


def test_policy_for(monkeypatch):
    monkeypatch.setattr(devices, "gpu_available", lambda: False)
    assert devices.policy_for("auto") == "float32"
    assert devices.policy_for("mixed") == "mixed_bfloat16"
    monkeypatch.setattr(devices, "gpu_available", lambda: True)
    monkeypatch.setattr(devices, "gpu_compute_capability", lambda: (7, 5))  # a T4
    assert devices.policy_for("auto") == "mixed_float16"
    monkeypatch.setattr(devices, "gpu_compute_capability", lambda: (6, 1))  # a GTX 1080
    assert devices.policy_for("mixed") == "float32"  # no tensor cores: float16 would be slower
    monkeypatch.setattr(devices, "gpu_compute_capability", lambda: (9, 0))  # an H100/H200
    assert devices.policy_for("auto") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="Unknown precision 'half'"):
        devices.policy_for("half")


def test_dtype_policy_is_restored_and_softmax_stays_float32():
    before = keras.config.dtype_policy().name
    with devices.dtype_policy("mixed_bfloat16"):
        model = models.build("resnet18")
        assert model.layers[1].compute_dtype == "bfloat16"
        out = model(images(2))
    assert keras.config.dtype_policy().name == before
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert all(w.dtype == "float32" for w in model.weights)


def test_augmentation_changes_images_in_training_only():
    aug = augment.layers("post", seed=1)
    x = np.random.default_rng(0).uniform(size=(4, 32, 32, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(aug(x, training=True))
    assert out.shape == x.shape
    assert not np.allclose(out, x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(aug(x, training=False)), x)


# ----------------------------------------------------------------------------- fast profile


def test_auto_picks_fast_on_a_gpu_and_cpu_elsewhere(monkeypatch):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    monkeypatch.setattr(devices, "gpu_available", lambda: True)
    assert profiles.resolve("auto") == "fast"
    monkeypatch.setattr(devices, "gpu_available", lambda: False)
    assert profiles.resolve("auto") == "cpu"
    assert profiles.resolve("full") == "full"  # chosen by name only


def test_auto_on_a_colab_runtime_without_a_gpu_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    monkeypatch.setattr(devices, "gpu_available", lambda: False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    with pytest.warns(UserWarning, match="Change runtime type"):
        assert profiles.resolve("auto") == "cpu"


def test_an_unknown_profile_names_the_choices_and_where_it_came_from(monkeypatch):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    with pytest.raises(ValueError, match="Unknown profile 'fastt': use one of smoke, cpu, fast"):
        profiles.resolve("fastt")
    monkeypatch.setenv("BOOK_PROFILE", "fastt")  # a misspelt variable wins over the argument
    with pytest.raises(ValueError, match=r"'fastt' \(from \$BOOK_PROFILE"):
        profiles.get("fast")


def test_fast_is_at_most_a_third_of_the_posts_epochs_and_full_skips_ablations():
    fast, full = profiles.PROFILES["fast"], profiles.PROFILES["full"]
    for name in models.NAMES:
        assert fast.epochs[name] * 3 <= full.epochs[name]
    assert not full.ablations and fast.ablations and profiles.PROFILES["cpu"].ablations


@pytest.mark.parametrize("name", profiles.NAMES)
def test_every_profiles_validation_set_is_whole_validation_batches(name):
    # a smaller last batch costs a second compile of the test step on JAX and with XLA
    profile = profiles.PROFILES[name]
    size = 10 * profile.val_per_class if profile.val_per_class else 10_000
    assert size % min(experiment.VALIDATION_BATCH, size) == 0


def test_cosine_schedule_warms_up_then_decays_to_zero():
    schedule = training.cosine_schedule(0.4, steps_per_epoch=10, epochs=5, warmup_epochs=1)
    rate = lambda step: float(keras.ops.convert_to_numpy(schedule(step)))  # noqa: E731
    assert rate(0) == 0.0 and abs(rate(5) - 0.2) < 1e-6 and abs(rate(10) - 0.4) < 1e-6
    assert rate(30) < rate(20) < 0.4 and rate(50) < 1e-6
    opt = training.make_optimizer("sgd_cosine", 0.4, steps_per_epoch=10, epochs=5)
    assert opt.nesterov and opt.momentum == 0.9
    with pytest.raises(ValueError, match="steps_per_epoch and epochs"):
        training.make_optimizer("sgd_cosine", 0.4)


def test_label_smoothing_needs_the_categorical_loss_where_the_sparse_one_lacks_it(monkeypatch):
    from helpers import losses

    model = models.build("googlenet")
    training.compile_model(model, "sgd", label_smoothing=0.1)
    assert model.loss.get_config()["label_smoothing"] == 0.1
    one_hot = keras.utils.to_categorical(np.arange(10) % 10, 10)  # labels choose the loss
    training.compile_model(model, "sgd", loss=one_hot, label_smoothing=0.1)
    assert model.loss.get_config()["label_smoothing"] == 0.1
    monkeypatch.setattr(losses, "SPARSE_TAKES_LABEL_SMOOTHING", False)  # Keras up to 3.15
    for sparse in ("sparse", np.arange(10)):
        with pytest.raises(ValueError, match="to_categorical"):
            training.compile_model(model, "sgd", loss=sparse, label_smoothing=0.1)

    # a later Keras (keras-team/keras#23488): the sparse loss is given the smoothing
    class SmoothingSparse(keras.losses.SparseCategoricalCrossentropy):
        def __init__(self, label_smoothing=0.0, **kwargs):
            super().__init__(**kwargs)
            self.label_smoothing = label_smoothing

    monkeypatch.setattr(losses, "SPARSE_TAKES_LABEL_SMOOTHING", True)
    monkeypatch.setattr(keras.losses, "SparseCategoricalCrossentropy", SmoothingSparse)
    for sparse in ("sparse", np.arange(10)):
        training.compile_model(model, "sgd", loss=sparse, label_smoothing=0.1)
        assert isinstance(model.loss, SmoothingSparse) and model.loss.label_smoothing == 0.1


def test_xla_by_default_on_jax_and_gpus_only(monkeypatch):
    monkeypatch.setattr(devices, "gpu_available", lambda: False)
    monkeypatch.setattr(devices, "backend", lambda: "tensorflow")
    assert training.default_jit_compile() is False
    monkeypatch.setattr(devices, "backend", lambda: "jax")
    assert training.default_jit_compile() is True
    monkeypatch.setattr(devices, "backend", lambda: "tensorflow")
    monkeypatch.setattr(devices, "gpu_available", lambda: True)
    assert training.default_jit_compile() is True
    assert training.default_jit_compile("/CPU:0") is False  # a GPU machine's CPU, pinned


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.distribute is TensorFlow's")
def test_no_xla_by_default_under_a_distribution_strategy(monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(devices, "gpu_available", lambda: True)
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        assert training.default_jit_compile() is False
        model = training.compile_model(models.build("resnet18"), "sgd")
    assert model.jit_compile is False
    assert training.default_jit_compile() is True  # outside the scope, a GPU's default again


@pytest.fixture(scope="module")
def tiny_prepared():
    (x, y), (xt, yt) = data.synthetic_cifar10(train_per_class=12, test_per_class=4)
    onehot = lambda v: keras.utils.to_categorical(v, 10)  # noqa: E731
    mean, std = data.channel_stats(x)
    z, zt = data.standardize(x, mean, std), data.standardize(xt, mean, std)
    return experiment.Prepared("synthetic", z, onehot(y), zt, onehot(yt), zt, onehot(yt), xt)


def test_fast_profile_smoke_sized_trains_in_model_with_mixed_precision(tiny_prepared):
    # The fast recipe on a CPU, at smoke size: warm-up + cosine, label smoothing, L2, crops
    # inside the model, bfloat16 compute. Its record may not land in results/fast (no GPU).
    profile = dataclasses.replace(
        profiles.PROFILES["fast"], epochs={n: 2 for n in models.NAMES}, batch_size=40,
        precision="mixed", warmup_epochs=1,
    )
    run = experiment.train_network("googlenet", profile, tiny_prepared, save=False, verbose=0)
    record = run.record
    assert record["hyper"]["augmented_in"] == "model"
    assert record["hyper"]["dtype_policy"] == "mixed_bfloat16"
    assert record["environment"]["precision"] == "mixed_bfloat16"
    assert record["params"] == 1_903_906 and run.model.count_params() == 1_903_906
    assert record["history"]["learning_rate"][-1] < 1e-6  # the cosine ended at 0
    assert keras.config.dtype_policy().name == "float32"  # restored after the run
    with pytest.raises(results.RecordError, match="'fast' profile's records come from a GPU"):
        experiment.train_network("googlenet", profile, tiny_prepared, verbose=0)


def small_network(name, bn_momentum, weight_decay, **options):
    """A stand-in for ``models.build`` with the networks' parts (Conv -> BN -> ReLU, dropout,
    a float32 softmax), for tests of what is around training rather than of the networks."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, kernel_regularizer=keras.regularizers.L2(weight_decay))(inputs)
    x = keras.layers.BatchNormalization(momentum=bn_momentum)(x)
    x = keras.layers.Dropout(0.2)(keras.layers.Activation("relu")(x))
    x = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, keras.layers.Activation("softmax", dtype="float32")(x))


def test_each_run_backs_up_into_a_folder_of_its_own(tiny_prepared, tmp_path, monkeypatch):
    # one BACKUP_DIR for every chapter and seed: no run resumes another's weights
    monkeypatch.setattr(models, "build", small_network)  # the folders are what is tested
    profile = dataclasses.replace(profiles.PROFILES["smoke"], epochs={n: 1 for n in models.NAMES})
    for seed in (0, 1):
        run = experiment.train_network("googlenet", profile, tiny_prepared, seed=seed,
                                       save=False, verbose=0, backup_dir=tmp_path)
        assert run.record["epochs"] == 1
    runs = sorted(p.name for p in (tmp_path / "smoke").iterdir())
    assert runs == sorted(experiment.backup_folder(tmp_path, profile, "googlenet", s).name
                          for s in (0, 1))
    assert runs[0].startswith("googlenet-") and runs[1].startswith("googlenet-seed1-")
    # a changed recipe (chapter 3's exercises) does not resume the recipe's run either
    changed = dataclasses.replace(profile, learning_rate=profile.learning_rate / 2)
    assert (experiment.backup_folder(tmp_path, changed, "googlenet")
            != experiment.backup_folder(tmp_path, profile, "googlenet"))
    with pytest.raises(models.UnknownModelError, match="Valid names"):
        experiment.train_network("googlenet_v3", profile, tiny_prepared, save=False)


def test_a_backup_folder_of_the_old_layout_is_left_alone_with_a_warning(tmp_path):
    # before runs had folders of their own, a run backed up into BACKUP_DIR itself
    (tmp_path / "history.csv").write_text("epoch,loss\n0,2.3\n")
    profile = profiles.PROFILES["smoke"]
    with pytest.warns(UserWarning, match="made before runs had folders of their own"):
        folder = experiment.backup_folder(tmp_path, profile, "vgg16")
    assert folder.parent == tmp_path / "smoke"
    assert (tmp_path / "history.csv").read_text() == "epoch,loss\n0,2.3\n"


def test_smoke_runs_take_real_data_where_it_is_at_hand(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert experiment.smoke_source() == "synthetic"  # no Keras download: no internet asked for
    (tmp_path / "datasets" / "cifar-10-batches-py").mkdir(parents=True)
    assert experiment.smoke_source() == "auto"  # Keras' own copy
    assert experiment.smoke_source("synthetic") == "synthetic"  # what was asked for
    monkeypatch.setenv("CIFAR10_PATH", "/somewhere/cifar10")
    (tmp_path / "datasets" / "cifar-10-batches-py").rmdir()
    assert experiment.smoke_source() == "auto"  # the reader's own copy, by CIFAR10_PATH


def test_a_changed_profile_is_not_saved_as_the_profiles_own_run(tiny_prepared, tmp_path,
                                                                 monkeypatch):
    # chapter 3's exercise trains a dataclasses.replace(profile, ...) copy: saved, its record
    # would replace results/<profile>/vgg16.json, which chapter 7 reads as the profile's run
    monkeypatch.setattr(results, "results_dir", lambda: tmp_path)
    smoke = profiles.PROFILES["smoke"]
    assert profiles.differences(smoke, "vgg16") == []
    changed = dataclasses.replace(smoke, weight_decay=5e-4, epochs={"vgg16": 3})
    assert profiles.differences(changed, "vgg16") == ["3 epochs instead of 1",
                                                      "L2 0.0005 instead of 0"]
    assert profiles.differences(changed, "resnet18") == ["no epochs instead of 1",
                                                         "L2 0.0005 instead of 0"]
    def no_training(*args, **kwargs):
        raise AssertionError("trained before the refusal")

    monkeypatch.setattr(training, "fit", no_training)  # refused before training, not after
    with pytest.raises(ValueError, match=r"has 3 epochs instead of 1; L2 0.0005 instead of 0(.|\n)*save=False"
                                         r"[^-]*$"):  # no --trial: a cpu or smoke run is none
        experiment.train_network("vgg16", changed, tiny_prepared)
    assert not list(tmp_path.rglob("*.json"))
    fast = dataclasses.replace(profiles.PROFILES["fast"], learning_rate=0.1)
    monkeypatch.setattr(results, "check_saveable", lambda *a, **k: None)  # as on a GPU
    with pytest.raises(ValueError, match=r"has learning rate 0.1 instead of 0.2(.|\n)*--trial --set"):
        experiment.train_network("vgg16", fast, tiny_prepared)
    # not a recipe setting: whether a chapter trains its ablations
    assert profiles.differences(dataclasses.replace(smoke, ablations=True), "vgg16") == []


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="Colab's T4 route: TensorFlow")
def test_the_fast_recipe_trains_in_float16_with_loss_scaling(tiny_prepared, monkeypatch):
    # A T4 (Colab's free GPU) has no bfloat16: "mixed" means float16 there, whose gradients
    # need loss scaling. The book's networks in float16 crawl on a CPU, so a small network with
    # their parts (Conv -> BN -> ReLU, dropout, a float32 softmax) stands in: the recipe's
    # schedule, label smoothing, crops in the model and BN re-estimate, in float16.
    monkeypatch.setattr(models, "build", small_network)
    compiled = []  # the model trained: the network inside the augmentation
    compile_model = training.compile_model
    monkeypatch.setattr(training, "compile_model",
                        lambda model, *a, **k: compiled.append(compile_model(model, *a, **k))
                        or compiled[-1])
    profile = dataclasses.replace(
        profiles.PROFILES["fast"], epochs={n: 3 for n in models.NAMES}, batch_size=40,
        precision="mixed_float16", warmup_epochs=1, bn_recalibration=40)
    run = experiment.train_network("resnet18", profile, tiny_prepared, save=False, verbose=0)
    record = run.record
    assert record["hyper"]["dtype_policy"] == "mixed_float16"
    assert isinstance(compiled[0].optimizer, keras.optimizers.LossScaleOptimizer)
    assert run.model.layers[1].compute_dtype == "float16"  # the convolution computes in float16
    assert np.all(np.isfinite(record["history"]["loss"]))
    assert record["history"]["loss"][-1] < record["history"]["loss"][0]
    assert keras.config.dtype_policy().name == "float32"  # restored after the run


@pytest.mark.skipif(keras.config.backend() != "tensorflow",
                    reason="Keras turns XLA off for TensorFlow's rotation kernel")
def test_whole_batches_follow_the_xla_choice_keras_makes(tiny_prepared, monkeypatch):
    # On a GPU the book asks for XLA, and with it each epoch leaves out its last, smaller batch
    # (a second batch shape would cost a second compile). With the post's rotations in the model
    # Keras turns XLA off on TensorFlow (its kernel has none), as it does under op determinism
    # (chapter 6): that batch then costs nothing and is kept, and the schedule counts it.
    monkeypatch.setattr(models, "build", small_network)  # what is around training is tested
    monkeypatch.setattr(training, "default_jit_compile", lambda device=None: True)  # a GPU's
    compiled = []
    compile_model = training.compile_model
    monkeypatch.setattr(training, "compile_model",
                        lambda model, *a, **k: compiled.append(compile_model(model, *a, **k))
                        or compiled[-1])
    # 120 training images in batches of 50: 2 whole batches and 20 images left over
    profile = dataclasses.replace(profiles.PROFILES["smoke"], epochs={n: 1 for n in models.NAMES},
                                  batch_size=50, augment_in="model")
    crops = experiment.train_network("vgg16", dataclasses.replace(profile, augmentation="crop"),
                                     tiny_prepared, save=False, verbose=0).record
    assert crops["hyper"]["jit_compile"] is True and crops["hyper"]["left_out_per_epoch"] == 20
    assert int(compiled[-1].optimizer.iterations) == 2
    with pytest.warns(UserWarning, match="jit_compile"):  # Keras says it turns XLA off
        post = experiment.train_network("vgg16", dataclasses.replace(profile, augmentation="post"),
                                        tiny_prepared, save=False, verbose=0).record
    assert post["hyper"]["jit_compile"] is False and post["hyper"]["left_out_per_epoch"] == 0
    assert int(compiled[-1].optimizer.iterations) == 3


def test_records_carry_their_provenance(tiny_prepared, tmp_path, monkeypatch):
    monkeypatch.setattr(models, "build", small_network)  # the record is what is tested
    profile = dataclasses.replace(profiles.PROFILES["smoke"], epochs={n: 1 for n in models.NAMES})
    record = experiment.train_network("googlenet", profile, tiny_prepared, save=False,
                                      verbose=0).record
    env = record["environment"]
    for key in ("git_commit", "backend", "backend_version", "device", "precision", "cpu_cores"):
        assert key in env, key
    assert env["backend_version"] and env["cpu_cores"] >= 1
    assert record["data"]["fingerprint"] == {"kind": "synthetic"}
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"not really an archive")
    assert data.fingerprint(str(archive)) == {
        "kind": "file", "sha256": hashlib.sha256(b"not really an archive").hexdigest()}


def test_describe_names_the_recipe():
    assert profiles.describe(profiles.PROFILES["cpu"], "vgg16") == (
        "Adam at a learning rate of 0.001, batches of 32, BN momentum 0.9, 14 epochs, "
        "random shifts, flips and rotations, BN statistics re-estimated on 2,000 training "
        "images with dropout off before each validation")
    fast = profiles.describe(profiles.PROFILES["fast"], "resnet18")
    assert fast.startswith("SGD (Nesterov momentum 0.9) with a 2-epoch linear warm-up to a peak "
                           "learning rate of 0.2, then a cosine decay to 0 at the last epoch, ")
    for part in ("batches of 512", "pad-and-crop", "label smoothing 0.1",
                 "L2 0.0005"):
        assert part in fast, part
    # "auto" precision is named by what it becomes on this machine, as the record names it
    assert "auto" not in fast and "precision" not in fast  # here: no GPU, so float32
    on_a_gpu = dataclasses.replace(profiles.PROFILES["fast"], precision="mixed_bfloat16")
    assert profiles.describe(on_a_gpu, "resnet18").endswith("mixed_bfloat16 precision")


def test_bn_recalibration_before_validation_keeps_what_training_left(tiny_prepared):
    profile = dataclasses.replace(profiles.PROFILES["smoke"], epochs={n: 1 for n in models.NAMES},
                                  bn_recalibration=100)
    run = experiment.train_network("vgg16", profile, tiny_prepared, save=False, verbose=0)
    record = run.record
    assert record["hyper"]["bn_recalibration"] == 100
    def accuracy(model, x, y):
        return float((model.predict(x, verbose=0).argmax(1) == y.argmax(1)).mean())

    p = tiny_prepared
    assert record["final_val_accuracy_as_trained"] == accuracy(run.as_trained, p.x_val, p.y_val)
    assert record["test_accuracy_as_trained"] == accuracy(run.as_trained, p.x_test, p.y_test)
    assert record["test_accuracy"] == accuracy(run.model, p.x_test, p.y_test)
    # the share of test images right in one scoring and wrong in the other
    right = lambda m: m.predict(p.x_test, verbose=0).argmax(1) == p.y_test.argmax(1)  # noqa: E731
    assert record["test_verdicts_changed"] == float(
        (right(run.as_trained) != right(run.model)).mean())
    assert record["test_verdicts_changed"] >= abs(
        record["test_accuracy"] - record["test_accuracy_as_trained"]) - 1e-12
    assert experiment.accuracy(run.as_trained, p.x_val, p.y_val) == pytest.approx(
        record["final_val_accuracy_as_trained"])
    assert record["final_val_accuracy"] == pytest.approx(accuracy(run.model, p.x_val, p.y_val))
    assert run.as_trained is not run.model
    assert run.as_trained.count_params() == run.model.count_params()
    # the copy has training's statistics, the network the re-estimated ones: they differ
    first_bn = lambda m: keras.ops.convert_to_numpy(m.get_layer("conv1_bn").moving_variance)  # noqa: E731
    assert not np.allclose(first_bn(run.as_trained), first_bn(run.model))
    plain = experiment.train_network("googlenet", dataclasses.replace(profile, bn_recalibration=0),
                                     tiny_prepared, save=False, verbose=0)
    assert plain.as_trained is plain.model and plain.record["final_val_accuracy_as_trained"] is None
    assert plain.record["test_accuracy_as_trained"] is None
    assert plain.record["test_verdicts_changed"] is None
    assert "re-estimated on 100 training images" in profiles.describe(profile, "vgg16")


def test_recalibration_images_are_the_seeded_first_of_the_training_images(tiny_prepared):
    profile = dataclasses.replace(profiles.PROFILES["smoke"], bn_recalibration=50)
    images = experiment.recalibration_images(profile, tiny_prepared, seed=3)
    assert images.shape == (50, *tiny_prepared.x_train.shape[1:])
    np.testing.assert_array_equal(images, experiment.recalibration_images(profile, tiny_prepared, 3))
    assert not np.array_equal(images, experiment.recalibration_images(profile, tiny_prepared, 4))
    # a profile that does not re-estimate gets 2,000 (here all the training images there are)
    off = experiment.recalibration_images(dataclasses.replace(profile, bn_recalibration=0),
                                          tiny_prepared, 3)
    assert len(off) == min(2000, len(tiny_prepared.x_train))
