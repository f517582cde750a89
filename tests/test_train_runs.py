"""tools/train_runs.py: extra seeds and chapter 4's controls, trained and saved (smoke size)."""

import sys
from pathlib import Path

import pytest

from helpers import results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import train_runs  # noqa: E402


def test_controls_are_trained_and_saved_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(results, "results_dir", lambda: tmp_path)  # not the shared smoke folder
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    train_runs.main(["--profile", "smoke", "--controls", "--source", "synthetic"])
    printed = capsys.readouterr().out
    expected = {"vgg16_bigconv-stage_kernels=3-3-3-3-3": [3] * 5,
                "vgg16-stage_kernels=5-5-7-7-7": [5, 5, 7, 7, 7]}
    for run, kernels in expected.items():
        assert results.load("smoke", run)["options"]["stage_kernels"] == kernels
        assert run in printed


def test_nothing_to_train_is_an_error(monkeypatch, capsys):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    with pytest.raises(SystemExit):
        train_runs.main(["--profile", "smoke"])
    assert "nothing to train: give --seeds" in capsys.readouterr().err


def test_one_control_can_be_chosen_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(results, "results_dir", lambda: tmp_path)
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    train_runs.main(["--profile", "smoke", "--controls", "five_3x3", "--source", "synthetic"])
    printed = capsys.readouterr().out
    assert "vgg16_bigconv-stage_kernels=3-3-3-3-3" in printed
    assert "vgg16-stage_kernels" not in printed
    with pytest.raises(SystemExit):
        train_runs.main(["--profile", "smoke", "--controls", "seven_layers"])
    assert "invalid choice: 'seven_layers'" in capsys.readouterr().err


def test_a_run_already_recorded_is_not_trained_again_unless_asked(tmp_path, monkeypatch, capsys):
    from helpers import experiment

    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    monkeypatch.setattr(results, "results_dir", lambda: tmp_path)
    stored = tmp_path / "cpu" / "resnet18-seed1.json"
    stored.parent.mkdir()
    stored.write_text("{}")

    class Training(Exception):
        pass

    def start_training(*args):
        raise Training

    monkeypatch.setattr(experiment, "prepare_data", start_training)
    with pytest.raises(SystemExit):
        train_runs.main(["--profile", "cpu", "--seeds", "1", "2", "--networks", "resnet18"])
    assert "already hold resnet18-seed1:" in capsys.readouterr().err
    assert stored.read_text() == "{}"
    with pytest.raises(Training):  # asked for: past the check, into training
        train_runs.main(["--profile", "cpu", "--seeds", "1", "--networks", "resnet18",
                         "--replace"])
    # or left out: seed 2 alone is trained, and with nothing left, nothing is
    with pytest.raises(Training):
        train_runs.main(["--profile", "cpu", "--seeds", "1", "2", "--networks", "resnet18",
                         "--skip-recorded"])
    assert "not trained again: resnet18-seed1" in capsys.readouterr().out
    train_runs.main(["--profile", "cpu", "--seeds", "1", "--networks", "resnet18",
                     "--skip-recorded"])
    assert stored.read_text() == "{}"


@pytest.mark.parametrize("args, gpu, reason", [
    (["--profile", "cpu", "--seeds", "0"], False, "--trial is for the GPU profiles"),
    (["--profile", "fast", "--seeds", "0"], True, "nothing is changed (--set)"),
    (["--profile", "fast", "--controls"], False, "not --controls"),
])
def test_a_trial_is_only_for_the_posts_networks_under_a_gpu_profile_changed_on_a_gpu(
        args, gpu, reason, monkeypatch, capsys):
    from helpers import devices

    monkeypatch.delenv("BOOK_PROFILE", raising=False)  # CI sets it, and it wins over --profile
    monkeypatch.setattr(devices, "gpu_available", lambda: gpu)
    with pytest.raises(SystemExit):
        train_runs.main(args + ["--trial"])
    assert reason in capsys.readouterr().err


@pytest.mark.parametrize("gpu, settings", [(False, []), (True, ["--set", "learning_rate=0.1"])])
def test_a_trial_trains_without_saving_and_files_the_record_as_a_trial(
        gpu, settings, tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    from helpers import devices, experiment
    from test_results import make_record

    calls = []

    def train(name, profile, prepared, *, seed, save, verbose, **options):
        calls.append((name, profile.name, save))
        return SimpleNamespace(record=make_record(
            run=name, profile=profile.name, environment={"device": "?", "gpu": gpu}))

    monkeypatch.delenv("BOOK_PROFILE", raising=False)  # CI sets it, and it wins over --profile
    monkeypatch.setattr(devices, "gpu_available", lambda: gpu)
    monkeypatch.setattr(experiment, "prepare_data", lambda *a, **k: None)
    monkeypatch.setattr(experiment, "train_network", train)
    monkeypatch.setattr(results, "trials_dir", lambda: tmp_path / "trials")
    train_runs.main(["--profile", "fast", "--seeds", "0", "--networks", "googlenet",
                     "--trial", *settings])
    assert calls == [("googlenet", "fast", False)]  # save=False: never to results/fast
    # named after what it changed, so that trials with other settings never share a name
    name = "googlenet-learning_rate=0.1" if settings else "googlenet"
    assert (tmp_path / "trials" / "fast" / f"{name}.json").exists()
    assert "googlenet: test accuracy" in capsys.readouterr().out


def test_set_changes_a_trials_recipe_and_nothing_else():
    from helpers import profiles

    fast = profiles.PROFILES["fast"]
    changed = train_runs.with_settings(
        fast, ["batch_size=128", "learning_rate=0.05", "epochs=30"], ["googlenet"])
    assert (changed.batch_size, changed.learning_rate) == (128, 0.05)
    assert changed.epochs == {**fast.epochs, "googlenet": 30}
    assert changed.name == "fast" and changed.label_smoothing == fast.label_smoothing
    assert fast.batch_size == 512  # the profile itself is untouched
    # a whole number for a rate is a rate; None where the setting allows it
    changed = train_runs.with_settings(fast, ["learning_rate=1", "halve_every=None"], [])
    assert type(changed.learning_rate) is float and changed.halve_every is None


def test_set_may_be_given_twice(monkeypatch, capsys):
    from helpers import devices

    monkeypatch.delenv("BOOK_PROFILE", raising=False)  # CI sets it, and it wins over --profile
    monkeypatch.setattr(devices, "gpu_available", lambda: False)
    seen = []
    monkeypatch.setattr(train_runs, "with_settings", lambda p, a, n: seen.extend(a) or p)
    with pytest.raises(SystemExit):  # nothing to train: after the settings are read
        train_runs.main(["--profile", "fast", "--trial", "--set", "batch_size=128",
                         "--set", "learning_rate=0.05"])
    assert "nothing to train" in capsys.readouterr().err
    assert seen == ["batch_size=128", "learning_rate=0.05"]


@pytest.mark.parametrize("assignment, reason", [
    ("batch=128", "NAME one of"),
    ("batch_size", "NAME one of"),
    ("batch_size=big", "batch_size takes values of type int"),
    ("batch_size=True", "batch_size takes values of type int"),
    ("halve_every=ten", "halve_every takes values of type int or None"),
    ("optimizer=sgd", "optimizer='sgd' is not one of 'adam', 'sgd_post', 'sgd_cosine'"),
    ("epochs=0", "whole number of epochs"),
    ("epochs=True", "whole number of epochs"),
])
def test_set_says_what_was_wrong(assignment, reason):
    from helpers import profiles

    with pytest.raises(ValueError, match=reason):
        train_runs.with_settings(profiles.PROFILES["fast"], [assignment], ["googlenet"])


def test_set_takes_a_precision_policy_by_name():
    from helpers import profiles

    changed = train_runs.with_settings(profiles.PROFILES["fast"], ["precision=mixed_float16"],
                                       ["googlenet"])
    assert changed.precision == "mixed_float16"


def test_set_is_only_for_trials(monkeypatch, capsys):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    with pytest.raises(SystemExit):
        train_runs.main(["--profile", "fast", "--seeds", "0", "--set", "batch_size=128"])
    assert "--set is for --trial only" in capsys.readouterr().err


def test_the_makefiles_next_trials_are_trials_the_device_run_can_start():
    # a misspelt network or setting would cost a device call's slot (device time is minutes)
    import re

    from helpers import models, profiles

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    found = re.search(r"^NEXT_TRIALS :=((?:.*\\\n)*.*)$", makefile, re.M)
    assert found, "the Makefile names no NEXT_TRIALS"
    trials = found.group(1).replace("\\\n", " ").split()
    assert trials
    for trial in trials:
        network, _, settings = trial.partition(":")
        assert network in models.NAMES, trial
        changed = train_runs.with_settings(profiles.PROFILES["fast"], settings.split(","),
                                           [network])
        assert changed != profiles.PROFILES["fast"], f"{trial} changes nothing"


def test_the_makefiles_next_seeds_are_runs_the_device_run_can_start():
    import re

    from helpers import experiment, models

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    found = re.search(r"^NEXT_SEEDS :=(.*)$", makefile, re.M)
    assert found, "the Makefile names no NEXT_SEEDS"
    runs = found.group(1).split()
    assert runs and len(set(runs)) == len(runs)
    stored = Path(__file__).resolve().parents[1] / "results" / "fast"
    for run in runs:
        seed, _, network = run.partition(":")
        assert seed.isdigit() and network in models.NAMES, run
        # a seed named again would be trained again and its stored GPU record replaced
        name = experiment.run_name(network, int(seed))
        assert not (stored / f"{name}.json").exists(), f"{run} is recorded already: drop it"
    assert 'SEED_RUNS=\\"$(NEXT_SEEDS)\\"' in makefile  # device-prep's command passes them
