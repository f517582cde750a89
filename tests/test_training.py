"""The post's optimizer in Keras 3, compiling and fitting (helpers.training; chapters 3, 9)."""

import warnings

import keras
import numpy as np
import pytest

from helpers import data, training


def rates(schedule, steps):
    return keras.ops.convert_to_numpy(schedule(np.asarray(steps))).astype(np.float64)


STEPS = np.arange(1001)


# ----------------------------------------------------------------------------- the schedule


@pytest.mark.parametrize("decay", [1e-6, 1e-2, 0.5])
def test_legacy_decay_is_keras2_decay(decay):
    schedule = training.LegacyDecay(0.1, decay)
    got = rates(schedule, STEPS)
    np.testing.assert_allclose(got, 0.1 / (1 + decay * STEPS), rtol=1e-6)
    inverse_time = keras.optimizers.schedules.InverseTimeDecay(
        0.1, decay_steps=1, decay_rate=decay
    )
    np.testing.assert_allclose(got, rates(inverse_time, STEPS), rtol=1e-6)
    # one step at a time gives the same numbers as the vector
    for t in (0, 1, 17, 1000):
        np.testing.assert_allclose(rates(schedule, t), 0.1 / (1 + decay * t), rtol=1e-6)


def test_legacy_decay_large_decay_really_decays():
    got = rates(training.LegacyDecay(0.1, 1e-2), [0, 100, 1000])
    np.testing.assert_allclose(got, [0.1, 0.05, 0.1 / 11], rtol=1e-6)


def test_halving_every_two_epochs():
    decay = 1e-3
    schedule = training.LegacyDecay(0.1, decay, steps_per_epoch=10, halve_every=2)
    np.testing.assert_allclose(rates(schedule, 25), 0.1 * 0.5 / (1 + decay * 25), rtol=1e-6)
    np.testing.assert_allclose(rates(schedule, 45), 0.1 * 0.25 / (1 + decay * 45), rtol=1e-6)
    # within the first two epochs (steps 0..19) no halving; at step 20 the first one
    np.testing.assert_allclose(rates(schedule, 19), 0.1 / (1 + decay * 19), rtol=1e-6)
    np.testing.assert_allclose(rates(schedule, 20), 0.05 / (1 + decay * 20), rtol=1e-6)
    t = np.arange(100)
    expected = 0.1 * 0.5 ** (t // 10 // 2) / (1 + decay * t)
    np.testing.assert_allclose(rates(schedule, t), expected, rtol=1e-6)


def test_halve_every_needs_steps_per_epoch():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        training.LegacyDecay(0.1, 1e-6, halve_every=20)


def test_legacy_decay_config_round_trip():
    schedule = training.LegacyDecay(0.1, 1e-4, steps_per_epoch=10, halve_every=2)
    again = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule)
    )
    assert isinstance(again, training.LegacyDecay)
    np.testing.assert_allclose(rates(again, STEPS[:60]), rates(schedule, STEPS[:60]))


# ----------------------------------------------------------------------------- optimizers


@pytest.mark.parametrize("k", [1, 5, 40])
def test_post_optimizer_uses_the_schedule(k):
    """Keras 3 evaluates the schedule at the optimizer's iteration count."""
    opt = training.post_optimizer(learning_rate=0.1, decay=0.05)
    assert isinstance(opt, keras.optimizers.SGD)
    assert opt.nesterov and float(keras.ops.convert_to_numpy(opt.momentum)) == 0.9
    var = keras.Variable(np.ones(3, "float32"))
    opt.build([var])
    for _ in range(k):
        opt.apply([keras.ops.ones((3,))], [var])
    assert int(keras.ops.convert_to_numpy(opt.iterations)) == k
    expected = 0.1 / (1 + 0.05 * k)
    np.testing.assert_allclose(training.current_learning_rate(opt), expected, rtol=1e-6)
    np.testing.assert_allclose(
        float(keras.ops.convert_to_numpy(opt.learning_rate)), expected, rtol=1e-6
    )
    assert training.current_learning_rate(opt) < 0.1


def test_keras3_ignores_sgd_decay():
    """Why the schedule is needed: ``decay=`` is dropped with a warning, the rate stays."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = keras.optimizers.SGD(learning_rate=0.1, decay=0.05)
    assert any("decay" in str(w.message) for w in caught)
    var = keras.Variable(np.ones(3, "float32"))
    opt.build([var])
    for _ in range(5):
        opt.apply([keras.ops.ones((3,))], [var])
    np.testing.assert_allclose(training.current_learning_rate(opt), 0.1, rtol=1e-6)


def test_make_optimizer():
    assert isinstance(training.make_optimizer("adam", 1e-3), keras.optimizers.Adam)
    sgd = training.make_optimizer("sgd_post", 0.1, 1e-6, steps_per_epoch=10, halve_every=2)
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.nesterov
    # the post's schedule: the legacy decay per step, the rate halved every 2 epochs of 10 steps
    var = keras.Variable(np.ones(3, "float32"))
    sgd.build([var])
    np.testing.assert_allclose(training.current_learning_rate(sgd), 0.1, rtol=1e-6)
    for _ in range(20):
        sgd.apply([keras.ops.ones((3,))], [var])
    np.testing.assert_allclose(training.current_learning_rate(sgd), 0.1 / 2 / (1 + 1e-6 * 20),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="rmsprop"):
        training.make_optimizer("rmsprop", 1e-3)


# ----------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def synthetic():
    (x, y), (xt, yt) = data.synthetic_cifar10(train_per_class=32, test_per_class=8)
    mean, std = data.channel_stats(x)
    return data.standardize(x, mean, std), y, data.standardize(xt, mean, std), yt


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(4),  # keeps where colours are: the classes differ there
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def test_tiny_model_learns(synthetic):
    x, y, _, _ = synthetic
    model = training.compile_model(tiny_model(), keras.optimizers.Adam(1e-2), loss="sparse")
    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)
    first = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    rng = np.random.default_rng(0)
    for _ in range(30):
        batch = rng.choice(len(x), size=64, replace=False)
        model.train_on_batch(x[batch], y[batch])
    last = model.evaluate(x, y, verbose=0, return_dict=True)
    assert last["loss"] < 0.7 * first
    assert last["accuracy"] > 0.5  # chance is 0.1


def test_fit_returns_history_per_epoch(synthetic):
    x, y, xt, yt = synthetic
    model = training.compile_model(tiny_model(1), keras.optimizers.Adam(1e-2), loss="sparse")
    history = training.fit(
        model, x, y, epochs=2, batch_size=64, validation_data=(xt, yt), verbose=0
    )
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"):
        assert key in history
        assert len(history[key]) == 2
        assert all(isinstance(v, float) for v in history[key])
    np.testing.assert_allclose(history["learning_rate"], [1e-2, 1e-2], rtol=1e-6)
    assert all(s > 0 for s in history["seconds"])
    assert history["loss"][1] < history["loss"][0]


def test_fit_records_the_decayed_rate(synthetic):
    x, y, _, _ = synthetic
    steps = int(np.ceil(len(x) / 64))  # 320 images: 5 steps an epoch
    opt = training.post_optimizer(0.01, decay=0.1)
    model = training.compile_model(tiny_model(2), opt, loss="sparse")
    history = training.fit(model, x, y, epochs=2, batch_size=64, verbose=0)
    # at the end of epoch e the optimizer has made (e + 1) * steps steps
    expected = [0.01 / (1 + 0.1 * steps * e) for e in (1, 2)]
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-5)


@pytest.mark.parametrize(
    "make_labels, loss_type",
    [
        (lambda y: y, keras.losses.SparseCategoricalCrossentropy),
        (lambda y: y.ravel(), keras.losses.SparseCategoricalCrossentropy),
        (lambda y: keras.utils.to_categorical(y, 10), keras.losses.CategoricalCrossentropy),
    ],
    ids=["ids (n,1)", "ids (n,)", "one-hot"],
)
def test_compile_model_picks_the_loss_from_labels(synthetic, make_labels, loss_type):
    x, y, _, _ = synthetic
    labels = make_labels(y)
    model = training.compile_model(tiny_model(), keras.optimizers.Adam(1e-2), loss=labels)
    assert isinstance(model.loss, loss_type)
    logs = model.train_on_batch(x[:32], labels[:32], return_dict=True)
    assert 0.0 <= logs["accuracy"] <= 1.0 and np.isfinite(logs["loss"])


def test_compile_model_rejects_labels_that_fit_no_loss(synthetic):
    x, y, _, _ = synthetic
    with pytest.raises(training.losses.LabelFormatError):
        training.compile_model(tiny_model(), "adam", loss=np.eye(3)[y.ravel() % 3])


def test_whole_batches_leave_out_a_different_remainder_each_epoch_and_keep_pairs():
    from helpers import pipelines

    x = np.arange(50, dtype="float32").reshape(50, 1)
    y = np.arange(50) * 10  # a label tied to its image
    batches = pipelines.AugmentedArrays(x, y, 16, augment=False, seed=0, whole_batches=True)
    assert len(batches) == 3  # 48 of 50, never a batch of 2
    seen = []
    for _ in range(2):
        epoch = [batches[i] for i in range(len(batches))]
        assert all(len(xb) == 16 and (yb == xb[:, 0] * 10).all() for xb, yb in epoch)
        seen.append({int(v) for xb, _ in epoch for v in xb[:, 0]})
        batches.on_epoch_end()
    assert all(len(s) == 48 for s in seen) and seen[0] != seen[1]
    every = pipelines.AugmentedArrays(x, y, 16, augment=False, seed=0)
    assert len(every) == 4 and len(every[3][0]) == 2  # the default keeps the last batch
    with pytest.raises(ValueError, match="no whole batch of 64"):
        pipelines.AugmentedArrays(x, y, 64, augment=False, whole_batches=True)


def test_tensorflow_leaves_out_the_last_batch_where_xla_compiles_each_batch_shape(monkeypatch):
    from helpers import pipelines

    if keras.config.backend() != "tensorflow":
        pytest.skip("the tf.data path is TensorFlow's")
    # on this CPU TensorFlow runs without XLA: one traced step takes batches of any size
    assert not training.default_jit_compile() and not pipelines.compiles_per_batch_shape()
    monkeypatch.setattr(training, "default_jit_compile", lambda device=None: True)  # a GPU
    assert pipelines.compiles_per_batch_shape()  # XLA compiles each new batch shape
    x = np.arange(50, dtype="float32").reshape(50, 1)
    y = np.arange(50) * 10
    data = pipelines.training_data(x, y, 16, augment=False, whole_batches=True)
    seen = []
    for _ in range(2):
        epoch = [(xb.numpy(), yb.numpy()) for xb, yb in data]
        assert [len(xb) for xb, _ in epoch] == [16, 16, 16]  # 48 of 50, never a batch of 2
        assert all((yb == xb[:, 0] * 10).all() for xb, yb in epoch)
        seen.append({int(v) for xb, _ in epoch for v in xb[:, 0]})
    assert seen[0] != seen[1]  # reshuffled: a different remainder each epoch
    with pytest.raises(ValueError, match="no whole batch of 64"):
        pipelines.training_data(x, y, 64, augment=False, whole_batches=True)


def test_a_backup_folder_resumes_its_own_model_and_refuses_another(synthetic, tmp_path):
    x, y, _, _ = synthetic

    class Interrupted(Exception):
        pass

    class StopAtSecondEpoch(keras.callbacks.Callback):  # a kill, after one epoch backed up
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise Interrupted

    model = training.compile_model(tiny_model(2), keras.optimizers.Adam(1e-2), loss="sparse")
    with pytest.raises(Interrupted):
        training.fit(model, x, y, epochs=3, batch_size=64, verbose=0, backup_dir=tmp_path,
                     callbacks=[StopAtSecondEpoch()])
    first_loss = training._read_log(tmp_path / "history.csv", before_epoch=1)["loss"][0]
    backup = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert any("backup" in p.parts for p in backup)  # what a finished run's Keras deletes
    # another network is refused, and the backup it found is left as it was
    other = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")], name="other")
    training.compile_model(other, keras.optimizers.Adam(1e-2), loss="sparse")
    with pytest.raises(training.BackupMismatchError, match="holds the backup of another model"):
        training.fit(other, x, y, epochs=3, batch_size=64, verbose=0, backup_dir=tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == backup
    # the same network built again (in a cell run again Keras names it anew, here from another
    # seed, so that a fresh start could not repeat the first epoch): it resumes at epoch 2
    rebuilt = training.compile_model(tiny_model(3), keras.optimizers.Adam(1e-2), loss="sparse")
    assert rebuilt.name != model.name
    again = training.fit(rebuilt, x, y, epochs=3, batch_size=64, verbose=0, backup_dir=tmp_path)
    assert len(again["loss"]) == 3
    assert again["loss"][0] == pytest.approx(first_loss, rel=1e-6)
