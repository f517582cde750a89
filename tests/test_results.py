"""Results records: validation, atomic saves, profiles kept apart (helpers.results)."""

import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import profiles, results


def make_record(run="resnet18", profile="cpu", epochs=2, **changes):
    """A minimal valid record: every REQUIRED field, a history of ``epochs`` values a key."""
    history = {key: [0.5 + 0.01 * i for i in range(epochs)] for key in results.HISTORY_KEYS}
    record = {
        "schema": results.SCHEMA,
        "run": run,
        "model": "resnet18",
        "options": {},
        "profile": profile,
        "seed": 0,
        "data": {"source": "cifar10-jpeg.tar.gz", "train_size": 5000, "test_size": 10000},
        "hyper": {"batch_size": 128, "optimizer": "adam", "learning_rate": 1e-3},
        "history": history,
        "epochs": epochs,
        "train_accuracy": 0.7,
        "final_val_accuracy": 0.6,
        "best_val_accuracy": 0.65,
        "test_accuracy": 0.62,
        "params": 11_457_482,
        "total_seconds": 779.0,
        "environment": {"python": "3.11", "keras": "3.15.1", "date": "2026-11-28"},
    }
    assert set(results.REQUIRED) <= set(record)
    record.update(changes)
    return record


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*"))


# ----------------------------------------------------------------------------- validate


def test_valid_record_passes():
    record = make_record()
    assert results.validate(record) is record


def test_round_trip(tmp_path):
    record = make_record(epochs=3)
    path = results.save(record, root=tmp_path)
    assert path == tmp_path / "cpu" / "resnet18.json"
    assert results.load("cpu", "resnet18", root=tmp_path) == record
    assert results.load_all("cpu", root=tmp_path) == {"resnet18": record}
    assert results.load_all("full", root=tmp_path) == {}


@pytest.mark.parametrize("field", results.REQUIRED)
def test_missing_field(field):
    record = make_record()
    del record[field]
    with pytest.raises(results.RecordError, match=field):
        results.validate(record)


def test_history_length_mismatch():
    record = make_record(epochs=2)
    record["history"]["val_loss"].append(0.1)
    with pytest.raises(results.RecordError, match="val_loss"):
        results.validate(record)
    record = make_record(epochs=3)
    record["history"]["seconds"] = [1.0]
    with pytest.raises(results.RecordError, match="seconds"):
        results.validate(record)
    with pytest.raises(results.RecordError, match="epochs"):
        results.validate(make_record(epochs=2) | {"epochs": 5})


@pytest.mark.parametrize("key", results.HISTORY_KEYS)
def test_history_key_missing(key):
    record = make_record()
    del record["history"][key]
    with pytest.raises(results.RecordError, match=key):
        results.validate(record)


@pytest.mark.parametrize(
    "key", ["train_accuracy", "final_val_accuracy", "best_val_accuracy", "test_accuracy"]
)
@pytest.mark.parametrize("value", [-0.01, 1.01, 62.0, float("nan"), None, "0.5"])
def test_accuracy_out_of_range(key, value):
    with pytest.raises(results.RecordError, match=key):
        results.validate(make_record(**{key: value}))


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_accuracy_bounds_are_allowed(value):
    results.validate(make_record(test_accuracy=value))


@pytest.mark.parametrize("epochs", [0, -1, 2.0, True])
def test_a_record_of_no_whole_epoch_is_refused(epochs):
    record = make_record()
    record["epochs"] = epochs
    record["history"] = {k: [] for k in results.HISTORY_KEYS}  # consistent with epochs=0
    with pytest.raises(results.RecordError, match="at least one epoch"):
        results.validate(record)


def test_unknown_profile():
    with pytest.raises(results.RecordError, match="laptop"):
        results.validate(make_record(profile="laptop"))


@pytest.mark.parametrize("key", ["source", "train_size", "test_size"])
def test_data_field_missing(key):
    record = make_record()
    del record["data"][key]
    with pytest.raises(results.RecordError, match=key):
        results.validate(record)


def test_save_refuses_an_invalid_record(tmp_path):
    record = make_record()
    del record["params"]
    with pytest.raises(results.RecordError):
        results.save(record, root=tmp_path)
    assert files_under(tmp_path) == []


# ----------------------------------------------------------------------------- profiles


def test_cpu_record_lands_in_cpu_and_never_touches_full(tmp_path):
    full = make_record(profile="full", test_accuracy=0.93)
    full["environment"]["gpu"] = True
    full_path = results.save(full, root=tmp_path)
    before = (full_path.read_bytes(), full_path.stat().st_mtime_ns)

    path = results.save(make_record(profile="cpu"), root=tmp_path)
    assert path == tmp_path / "cpu" / "resnet18.json"
    assert files_under(tmp_path) == ["cpu", "cpu/resnet18.json", "full", "full/resnet18.json"]
    assert (full_path.read_bytes(), full_path.stat().st_mtime_ns) == before
    assert results.load("full", "resnet18", root=tmp_path)["test_accuracy"] == 0.93
    assert results.load("cpu", "resnet18", root=tmp_path)["profile"] == "cpu"


def test_cpu_save_into_empty_root_creates_only_cpu(tmp_path):
    results.save(make_record(profile="cpu"), root=tmp_path)
    assert files_under(tmp_path) == ["cpu", "cpu/resnet18.json"]


def test_refuses_to_replace_another_profiles_record(tmp_path):
    path = tmp_path / "cpu" / "resnet18.json"
    path.parent.mkdir()
    path.write_text(json.dumps(make_record(profile="full")))
    before = path.read_bytes()
    with pytest.raises(results.RecordError, match="full"):
        results.save(make_record(profile="cpu"), root=tmp_path)
    assert path.read_bytes() == before
    assert files_under(tmp_path) == ["cpu", "cpu/resnet18.json"]


@pytest.mark.parametrize("profile", ["fast", "full"])
def test_refuses_gpu_profile_records_from_a_cpu(tmp_path, profile):
    with pytest.raises(results.RecordError, match="GPU"):
        results.save(make_record(profile=profile), root=tmp_path)  # environment says no GPU
    assert files_under(tmp_path) == []
    with pytest.raises(results.RecordError, match=r"save=False(.|\n)*tensorflow\[and-cuda\]"):
        results.check_saveable(profile, gpu=False)
    results.check_saveable(profile, gpu=True)
    results.check_saveable("cpu", gpu=False)


def test_replaces_a_record_of_the_same_profile(tmp_path, capsys):
    results.save(make_record(test_accuracy=0.5), root=tmp_path)
    results.save(make_record(test_accuracy=0.6), root=tmp_path)
    assert "Replacing" in capsys.readouterr().out
    assert results.load("cpu", "resnet18", root=tmp_path)["test_accuracy"] == 0.6


@pytest.mark.parametrize("run", ["../full/resnet18", "sub/dir", "ABS/x", "..", ".hidden", ""])
def test_run_name_cannot_leave_the_profile_folder(tmp_path, run):
    run = run.replace("ABS", str(tmp_path / "abs"))
    with pytest.raises(results.RecordError, match="is not a plain file name"):
        results.save(make_record(run=run, profile="cpu"), root=tmp_path / "results")
    assert not (tmp_path / "results" / "full").exists()
    assert not (tmp_path / "abs").exists()


def test_a_trial_of_a_gpu_recipe_is_kept_apart_from_the_gpu_records(tmp_path):
    trial = make_record(profile="fast", environment={"device": "CPU", "gpu": False})
    with pytest.raises(results.RecordError, match="GPU"):  # never where GPU records belong
        results.save(trial, root=tmp_path)
    path = results.save_trial(trial, root=tmp_path / "trials")
    assert path == tmp_path / "trials" / "fast" / "resnet18.json"
    assert results.load("fast", "resnet18", root=tmp_path / "trials")["profile"] == "fast"
    assert not (tmp_path / "fast").exists()
    assert results.trials_dir() == results.results_dir() / "trials"
    # a second trial (the recipe may have changed) is kept beside the first, not over it
    again = results.save_trial(dict(trial, test_accuracy=0.7), root=tmp_path / "trials")
    assert again.name == "resnet18-trial2.json"
    kept = results.load_all("fast", root=tmp_path / "trials")
    assert {k: r["test_accuracy"] for k, r in kept.items()} == {
        "resnet18": 0.62, "resnet18-trial2": 0.7}


@pytest.mark.parametrize("profile", ["cpu", "smoke"])  # their runs are their own records
def test_only_runs_of_gpu_profiles_are_trials(tmp_path, profile):
    with pytest.raises(results.RecordError, match=f"'{profile}' run"):
        results.save_trial(make_record(profile=profile), root=tmp_path)
    assert files_under(tmp_path) == []


def test_a_trial_can_be_named_for_what_it_changed_but_not_anywhere(tmp_path):
    trial = make_record(profile="fast", environment={"device": "CPU", "gpu": False})
    path = results.save_trial(trial, root=tmp_path, name="resnet18-learning_rate=0.1")
    assert path == tmp_path / "fast" / "resnet18-learning_rate=0.1.json"
    with pytest.raises(results.RecordError, match="letters, digits"):
        results.save_trial(trial, root=tmp_path, name="../resnet18")
    assert files_under(tmp_path) == ["fast", "fast/resnet18-learning_rate=0.1.json"]


def test_a_gpu_trial_is_kept_with_its_device(tmp_path):
    trial = make_record(profile="fast", environment={"device": "NVIDIA H200", "gpu": True})
    path = results.save_trial(trial, root=tmp_path)
    assert path == tmp_path / "fast" / "resnet18.json"
    assert results.load("fast", "resnet18", root=tmp_path)["environment"]["gpu"] is True


def test_load_rejects_bad_json(tmp_path):
    path = tmp_path / "cpu" / "broken.json"
    path.parent.mkdir()
    path.write_text('{"schema": 1, "run": ')
    with pytest.raises(results.RecordError, match="not valid JSON"):
        results.load("cpu", "broken", root=tmp_path)


@pytest.mark.parametrize("content, says", [
    ([], "this is a JSON list"),
    (make_record(history=[]), "history is a JSON list, not an object"),
    (make_record(environment="cpu"), "environment is a JSON str, not an object"),
])
def test_load_names_the_file_of_a_malformed_record(tmp_path, content, says):
    # chapter 7 loads every record of a profile: the error must say which file to fix
    path = tmp_path / "cpu" / "odd.json"
    path.parent.mkdir()
    path.write_text(json.dumps(content))
    with pytest.raises(results.RecordError, match=says) as info:
        results.load_all("cpu", root=tmp_path)
    assert str(path) in str(info.value)


def test_a_results_folder_that_cannot_be_written_is_refused_before_training(tmp_path):
    (tmp_path / "cpu").write_text("a file where the folder should be")
    with pytest.raises(results.RecordError, match="Cannot create .*save=False"):
        results.check_writable("cpu", root=tmp_path / "cpu" / "below")
    results.check_writable("cpu", root=tmp_path / "fine")
    assert (tmp_path / "fine" / "cpu").is_dir()


def test_a_results_folder_without_write_permission_is_refused_before_training(tmp_path,
                                                                              monkeypatch):
    # (as root, chmod would not stop a write: the permission check is what is tested)
    (tmp_path / "cpu").mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(results.RecordError, match="is not writable.*save=False"):
        results.check_writable("cpu", root=tmp_path)


def test_load_missing_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        results.load("cpu", "nothing", root=tmp_path)


def test_saved_file_is_readable_by_others(tmp_path):
    """Records are committed and shared: not left with mkstemp's owner-only mode."""
    old = os.umask(0o022)
    try:
        path = results.save(make_record(), root=tmp_path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# ----------------------------------------------------------------------------- atomicity


def test_failed_json_dump_leaves_previous_record(tmp_path, monkeypatch):
    path = results.save(make_record(test_accuracy=0.5), root=tmp_path)
    before = path.read_bytes()
    real_dump = json.dump

    def failing_dump(obj, f, **kwargs):
        f.write(json.dumps(obj, **kwargs)[:100])  # part of the new record is written ...
        raise KeyboardInterrupt("interrupted mid-write")  # ... then the run stops

    monkeypatch.setattr(json, "dump", failing_dump)
    with pytest.raises(KeyboardInterrupt):
        results.save(make_record(test_accuracy=0.9), root=tmp_path)
    monkeypatch.setattr(json, "dump", real_dump)
    assert path.read_bytes() == before
    assert files_under(tmp_path) == ["cpu", "cpu/resnet18.json"]  # no temporary files
    assert results.load("cpu", "resnet18", root=tmp_path)["test_accuracy"] == 0.5


def test_failed_rename_leaves_previous_record(tmp_path, monkeypatch):
    path = results.save(make_record(test_accuracy=0.5), root=tmp_path)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        results.save(make_record(test_accuracy=0.9), root=tmp_path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert files_under(tmp_path) == ["cpu", "cpu/resnet18.json"]


_WRITER = textwrap.dedent(
    """
    import contextlib, io, sys
    from helpers import results
    sys.path.insert(0, sys.argv[2])
    from test_results import make_record

    root = sys.argv[1]
    record = make_record(epochs=20_000)  # about 1.4 MB of JSON: a save takes a while
    for i in range(100_000):
        record["seed"] = i
        record["history"]["loss"][-1] = float(i)
        with contextlib.redirect_stdout(io.StringIO()):  # "Replacing ..." messages
            results.save(record, root=root)
        if i == 0:
            print("saved", flush=True)
    """
)


def _wait_for_line(proc, expected, timeout):
    """Wait for ``expected`` on the child's stdout; fail (never hang) if it does not come."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"no {expected!r} from the writer in {timeout} s")
    line = proc.stdout.readline()
    if line.strip() != expected:
        proc.kill()
        raise AssertionError(f"writer said {line!r}; stderr: {proc.stderr.read()}")


def test_record_survives_sigkill_at_any_moment(tmp_path):
    """Kill a process in the middle of saving, a few times: the file always loads whole."""
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    root = tmp_path / "results"
    seen = set()
    for attempt in range(4):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(root), str(Path(__file__).parent)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        try:
            if attempt == 0:  # once at a moment that may fall before the first save ends
                time.sleep(rng.uniform(0.0, 0.3))
            else:
                _wait_for_line(proc, "saved", timeout=60)
                time.sleep(rng.uniform(0.0, 0.6))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        path = root / "cpu" / "resnet18.json"
        if path.exists():
            record = results.load("cpu", "resnet18", root=root)  # whole, and valid
            assert record["history"]["loss"][-1] == float(record["seed"])
            seen.add(record["seed"])
        # leftovers of a killed save are hidden temporary files, never records
        for name in os.listdir(root / "cpu") if (root / "cpu").exists() else []:
            assert name == "resnet18.json" or (name.startswith(".") and name.endswith(".tmp"))
    assert seen, "no save ever completed: the test did not exercise anything"
    assert results.load_all("cpu", root=root).keys() == {"resnet18"}


# ----------------------------------------------------------------------------- the repo


def test_committed_records_are_valid():
    """Every committed record loads and validates: the profiles' (results/<profile>/) and the
    trials' (results/trials/<profile>/); a GPU profile's names its GPU."""
    root = results.results_dir()
    # smoke records are not committed: every test run remakes them
    own = [(p, p.stem) for name in profiles.NAMES if name != "smoke"
           for p in sorted((root / name).glob("*.json"))]
    trials = sorted(results.trials_dir().glob("*/*.json"))
    if not own + trials:
        pytest.skip("no committed records")
    problems = []
    for path, trial in [(p, False) for p, _ in own] + [(p, True) for p in trials]:
        profile = path.parent.name
        try:
            record = results.load(profile, path.stem, root=path.parents[1])
            assert record["profile"] == profile, f"profile {record['profile']!r}"
            # a trial's file is named after its run and what it changed (results.trial_name)
            assert (path.stem.startswith(record["run"]) if trial
                    else record["run"] == path.stem), f"run {record['run']!r}"
            assert record["epochs"] >= 1 and record["params"] > 0
            if profile in profiles.GPU_PROFILES and not trial:
                assert record["environment"].get("gpu"), "a GPU profile's record without a GPU"
        except (results.RecordError, AssertionError) as err:
            problems.append(f"{path.relative_to(root)}: {err}")
    assert not problems, "\n".join(problems)


def test_a_bench_record_is_read_or_none_where_none_is_stored(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "networks.json").write_text('{"images": 40}')
    assert results.load_bench("networks.json", root=tmp_path) == {"images": 40}
    assert results.load_bench("xla-cpu.json", root=tmp_path) is None


@pytest.mark.parametrize("key", ["test_accuracy_as_trained", "test_verdicts_changed"])
def test_the_bn_scorings_shares_must_be_proportions_or_absent(key):
    results.validate(make_record(**{key: None}))  # the recipe did not re-estimate
    results.validate(make_record(**{key: 0.25}))
    with pytest.raises(results.RecordError, match=f"{key}=1.5 is not in"):
        results.validate(make_record(**{key: 1.5}))
