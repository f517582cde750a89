"""One training run of a network under a profile, from data to results record (ch. 3-7).

Each network chapter calls ``prepare_data`` once and ``train_network`` for the post's network
(and for the ablations of its quirks); the comparison chapter reads the records it saves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from helpers import augment, batchnorm, data, devices, models, pipelines, profiles, results, training
from helpers.profiles import Profile


@dataclasses.dataclass
class Prepared:
    """Standardised arrays with one-hot labels, and where they came from."""

    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    images_test: np.ndarray  # the test images as uint8, for showing them


class Run(NamedTuple):
    record: dict  # the results record (helpers.results)
    model: keras.Model  # the trained network
    predicted: np.ndarray  # its predicted class for each test image
    # the network with its BN statistics as training left them: ``model`` itself unless the
    # profile re-estimates them before each validation (``Profile.bn_recalibration``)
    as_trained: keras.Model | None = None


def smoke_source(requested="auto"):
    """For smoke runs: real data where it is at hand, else the synthetic stand-in."""
    if requested != "auto" or os.environ.get("CIFAR10_PATH"):
        return requested
    keras_cache = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "datasets"
    return "auto" if any(keras_cache.glob("cifar-10-batches-py*")) else "synthetic"


def prepare_data(profile: Profile, source="auto", seed=0):
    """Load CIFAR-10, take the profile's stratified subsets and standardise them."""
    if profile.name == "smoke":
        source = smoke_source(source)
    resolved = data.resolve_source(source)
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(resolved)
    per_class = np.bincount(y_train.ravel()).min()
    if profile.train_per_class and profile.train_per_class < per_class:
        keep = data.stratified_indices(y_train, profile.train_per_class, seed)
        x_train, y_train = x_train[keep], y_train[keep]
    test_per_class = np.bincount(y_test.ravel()).min()
    if profile.test_per_class and profile.test_per_class < test_per_class:
        keep = data.stratified_indices(y_test, profile.test_per_class, seed)
        x_test, y_test = x_test[keep], y_test[keep]
    val = np.arange(len(y_test))
    if profile.val_per_class and profile.val_per_class < np.bincount(y_test.ravel()).min():
        val = data.stratified_indices(y_test, profile.val_per_class, seed)
    mean, std = data.channel_stats(x_train)
    onehot = lambda y: keras.utils.to_categorical(y, len(data.CLASSES))  # noqa: E731
    return Prepared(
        source=resolved,
        x_train=data.standardize(x_train, mean, std),
        y_train=onehot(y_train),
        x_val=data.standardize(x_test[val], mean, std),
        y_val=onehot(y_test[val]),
        x_test=data.standardize(x_test, mean, std),
        y_test=onehot(y_test),
        images_test=x_test,
    )


def source_label(source):
    """``keras``, ``synthetic`` or the file or folder name (no machine-specific path)."""
    return source if source in ("keras", "synthetic") else Path(source).name


def run_name(model_name, seed=0, **options):
    """``resnet18``, ``resnet18-projection_shortcut=when_needed``, ``googlenet-seed1``,
    ``vgg16_bigconv-stage_kernels=3-3-3-3-3``..."""
    def text(v):  # (3, 3, 3, 3, 3) -> 3-3-3-3-3: no spaces or brackets in file names
        return "-".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)

    parts = [model_name] + [f"{k}={text(v)}" for k, v in sorted(options.items())]
    if seed:
        parts.append(f"seed{seed}")
    return "-".join(parts)


# 250 divides the 1,000 validation and 10,000 test images: a partial last batch would make each
# new copy of a network trace (TensorFlow, and warn) or compile (JAX) its predict step twice
PREDICT_BATCH = 250


def predicted_classes(network, x, batch_size=PREDICT_BATCH):
    """Each image's most probable class under ``network``."""
    return network.predict(x, batch_size=batch_size, verbose=0).argmax(axis=1)


def accuracy(network, x, y, batch_size=PREDICT_BATCH):
    """The fraction of images ``x`` whose most probable class is their one-hot label ``y``."""
    return float((predicted_classes(network, x, batch_size) == np.asarray(y).argmax(axis=1)).mean())


def recalibration_images(profile: Profile, prepared: Prepared, seed=0):
    """The training images a run re-estimates its BN statistics on: the first
    ``profile.bn_recalibration`` of a shuffle seeded like the run (``RECALIBRATION_IMAGES``
    where the profile does not re-estimate), so that chapters 3 and 4 can repeat the recipe's
    re-estimate exactly."""
    count = profile.bn_recalibration or profiles.RECALIBRATION_IMAGES
    order = np.random.default_rng(seed).permutation(len(prepared.x_train))
    return prepared.x_train[order[:count]]


VALIDATION_BATCH = 500


def backup_folder(backup_dir, profile: Profile, model_name, seed=0, **options):
    """Where ``train_network`` backs a run up inside ``backup_dir``: a folder per profile, then
    per run and recipe (``fast/resnet18-seed1-<hash of the recipe's settings and epochs>``), so
    that another network, seed or changed recipe given the same folder starts afresh instead of
    resuming this run's weights and history."""
    recipe = repr(sorted(profiles.recipe_settings(profile).items()) + [profile.epochs[model_name]])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:8]
    if (Path(backup_dir) / "history.csv").exists():  # the layout before folders per run
        warnings.warn(f"{backup_dir} holds a backup made before runs had folders of their own; "
                      f"this run backs up into {profile.name}/ inside it and starts afresh.")
    return Path(backup_dir) / profile.name / f"{run_name(model_name, seed, **options)}-{digest}"


def train_network(
    model_name, profile: Profile, prepared: Prepared, *, seed=0, backup_dir=None,
    save=True, verbose=2, **options,
):
    """Build, compile, train and test ``model_name``; return a ``Run``.

    The record (``helpers.results``) is saved to ``results/<profile>/<run>.json`` unless
    ``save`` is False. ``options`` go to ``models.build`` (the quirk fixes). The profile says
    how to augment and where (in a tf.data/PyDataset pipeline, or inside the compiled step),
    and in which precision to compute; the record says what was used.
    """
    models.check_name(model_name)  # before the profile is asked for its epochs
    if save:  # each check before training, not after
        results.check_saveable(profile.name)
        changed = profiles.differences(profile, model_name)
        if changed:  # its record would stand in for the profile's own run, and replace it
            raise ValueError(
                f"This profile is not the registered {profile.name!r} profile (it has "
                f"{'; '.join(changed)}), so its run must not be saved as {profile.name!r}'s own "
                f"{model_name} record: pass save=False (the returned Run holds the record)"
                + (", or file it as a trial of the recipe with tools/train_runs.py --trial "
                   "--set NAME=VALUE." if profile.name in profiles.GPU_PROFILES else "."))
        results.check_writable(profile.name)  # (it makes the folder: after the refusal)
    if backup_dir is not None:
        backup_dir = backup_folder(backup_dir, profile, model_name, seed, **options)
    keras.utils.set_random_seed(seed)
    policy = devices.policy_for(profile.precision)
    place = augment.BEST_PLACE if profile.augment_in == "auto" else profile.augment_in
    epochs = profile.epochs[model_name]
    in_model = profile.augment and place == "model"
    with devices.dtype_policy(policy):
        network = models.build(
            model_name, bn_momentum=profile.bn_momentum, weight_decay=profile.weight_decay,
            **options,
        )
        model = augment.with_augmentation(network, profile.augmentation, seed) if in_model else (
            network)
        # XLA's choice as Keras will make it for this model (off under TensorFlow's op
        # determinism), before the optimizer: where XLA compiles the step (JAX; TensorFlow on a
        # GPU), whole batches only, so that it compiles once, not twice (the images left over
        # differ from epoch to epoch), and the schedule counts those steps
        jit_compile = training.resolve_jit_compile(model)
        left_over = len(prepared.x_train) % profile.batch_size
        whole_batches = (bool(left_over) and len(prepared.x_train) >= profile.batch_size
                         and pipelines.compiles_per_batch_shape(jit_compile))
        steps = (len(prepared.x_train) // profile.batch_size if whole_batches
                 else int(np.ceil(len(prepared.x_train) / profile.batch_size)))
        optimizer = training.make_optimizer(
            profile.optimizer, profile.learning_rate, profile.decay, steps, profile.halve_every,
            epochs, profile.warmup_epochs,
        )
        training.compile_model(model, optimizer, loss="categorical", jit_compile=jit_compile,
                               label_smoothing=profile.label_smoothing)
        if (in_model or not profile.augment) and not whole_batches:
            # in-memory arrays, shuffled by fit
            train = dict(x=prepared.x_train, y=prepared.y_train, batch_size=profile.batch_size)
        else:  # augmented beside the model, or whole batches of the arrays
            train = dict(x=pipelines.training_data(
                prepared.x_train, prepared.y_train, profile.batch_size,
                profile.augment and not in_model, seed, kind=profile.augmentation,
                whole_batches=whole_batches,
            ))
        callbacks, recalibration = [], None
        if profile.bn_recalibration:
            images = recalibration_images(profile, prepared, seed)
            recalibration = batchnorm.RecalibrateBeforeValidation(
                network, images, batch_size=min(250, len(images)))
            callbacks.append(recalibration)
        start = time.perf_counter()
        with devices.compile_seconds() as compiling:  # on JAX: what the first epoch goes to
            history = training.fit(
                model, **train, epochs=epochs, validation_data=(prepared.x_val, prepared.y_val),
                # 500 divides the validation sets of every profile: no second compile, on JAX,
                # for a last, smaller batch (10,000 images in batches of 512 leave 272)
                validation_batch_size=min(VALIDATION_BATCH, len(prepared.x_val)),
                backup_dir=backup_dir, verbose=verbose, callbacks=callbacks,
            )
        total = time.perf_counter() - start
        environment = devices.environment()  # inside: it records the precision policy
    model = as_trained = network
    truth = prepared.y_test.argmax(axis=1)
    as_trained_accuracy = {"val": None, "test": None}
    as_trained_predicted = None
    if recalibration is not None and recalibration.as_trained is not None:
        # What validation and test say with the statistics the last epoch's training left
        # (chapters 3 and 4). Each epoch's moving averages start from the last re-estimate, so
        # this is exact only where an epoch's updates outweigh it: at momentum 0.9 over 250
        # updates, 0.9**250 ~ 4e-12 of it is left.
        as_trained = batchnorm.with_statistics(network, recalibration.as_trained)
        as_trained_predicted = predicted_classes(as_trained, prepared.x_test)
        as_trained_accuracy = {"val": accuracy(as_trained, prepared.x_val, prepared.y_val),
                               "test": float((as_trained_predicted == truth).mean())}
    probs = model.predict(prepared.x_test, batch_size=PREDICT_BATCH, verbose=0)
    predicted = probs.argmax(axis=1)
    test_loss = float(keras.ops.convert_to_numpy(
        keras.losses.categorical_crossentropy(prepared.y_test, probs)).mean())
    confusion = np.zeros((len(data.CLASSES),) * 2, dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    record = {
        "schema": results.SCHEMA,
        "run": run_name(model_name, seed, **options),
        "model": model_name,
        "options": options,
        "profile": profile.name,
        "seed": seed,
        "data": {
            "source": source_label(prepared.source),
            "fingerprint": data.fingerprint(prepared.source),
            "train_size": len(prepared.x_train),
            "val_size": len(prepared.x_val),
            "test_size": len(prepared.x_test),
        },
        "hyper": {
            # not "ablations": whether a chapter trains its variants is the chapter's choice
            # (its ABLATIONS parameter), not how this run trained; older records keep the
            # profile's default there
            **{k: v for k, v in dataclasses.asdict(profile).items()
               if k not in ("epochs", "ablations")},
            "augmented_in": place if profile.augment else None,
            # records without it drew every augmentation layer from one seed (augment.layer_seeds)
            "augmentation_seeds": "per layer" if profile.augment else None,
            "dtype_policy": policy,
            # whether the step ran under XLA: Keras turns it off where a layer cannot be
            # compiled, or under TensorFlow's op determinism (records before 2026-12-01 lack it)
            "jit_compile": jit_compile,
            # training images left out of each epoch (a random remainder: whole batches only)
            "left_out_per_epoch": left_over if whole_batches else 0,
        },
        "history": history,
        "epochs": len(history["loss"]),
        "train_accuracy": history["accuracy"][-1],
        "final_val_accuracy": history["val_accuracy"][-1],
        "best_val_accuracy": max(history["val_accuracy"]),
        # with the BN statistics as training left them (None: the profile did not re-estimate)
        "final_val_accuracy_as_trained": as_trained_accuracy["val"],
        "test_accuracy_as_trained": as_trained_accuracy["test"],
        # the share of test images right in one scoring and wrong in the other: it bounds the
        # test-set noise of the re-estimate's change (stats.paired_change_interval)
        "test_verdicts_changed": None if as_trained_predicted is None else float(
            ((as_trained_predicted == truth) != (predicted == truth)).mean()),
        "test_accuracy": float((predicted == truth).mean()),
        "test_loss": test_loss,
        "confusion": confusion.tolist(),
        "params": model.count_params(),
        "total_seconds": sum(history["seconds"]) if backup_dir else total,
        # seconds of it spent compiling, by function (JAX only, else None; None too where the
        # run may have resumed, since this process's share is not the first epoch's)
        "compile_seconds": None if backup_dir else devices.compile_summary(compiling),
        "environment": environment,
    }
    if save:
        results.save(record)
    return Run(record, model, predicted, as_trained)
