"""One JSON record per training run: ``results/<profile>/<run>.json`` (chapter 7).

The comparison chapter draws only from these records. A record is written atomically (a
temporary file, then a rename), so an interrupted write leaves the previous record whole, and
its path is derived from its own profile, so a run never overwrites another profile's record.
Trials of a GPU profile's recipe (runs on a CPU, or on a GPU with a setting changed: evidence
about the recipe, not the profile's record) have their own folder,
``results/trials/<profile>/`` (``save_trial``), where every trial is kept, its device named.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from helpers.paths import atomic_write, project_root
from helpers.profiles import GPU_PROFILES  # their records must come from a GPU
from helpers.profiles import NAMES as PROFILES

SCHEMA = 1

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")
REQUIRED = (
    "schema", "run", "model", "options", "profile", "seed", "data", "hyper", "history",
    "epochs", "train_accuracy", "final_val_accuracy", "best_val_accuracy", "test_accuracy",
    "params", "total_seconds", "environment",
)


class RecordError(ValueError):
    """A results record that is malformed, or a save that would clobber another profile."""


def results_dir():
    return project_root() / "results"


def validate(record):
    """Raise RecordError unless ``record`` has every field and a consistent history."""
    if not isinstance(record, dict):
        raise RecordError(f"a record is a JSON object; this is a JSON {type(record).__name__}")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise RecordError(f"record {record.get('run', '?')!r} lacks {', '.join(missing)}")
    run = record["run"]
    if not isinstance(run, str) or not run or run.startswith(".") or any(
        c in run for c in ("/", "\\", "\0")
    ):
        # the run name becomes the file name: it must not reach outside <profile>/
        raise RecordError(f"record run name {run!r} is not a plain file name")
    for key in ("options", "data", "hyper", "history", "environment"):
        if not isinstance(record[key], dict):
            raise RecordError(f"record {run!r}: {key} is a JSON {type(record[key]).__name__}, "
                              "not an object")
    if record["profile"] not in PROFILES:
        raise RecordError(f"record {record['run']!r}: unknown profile {record['profile']!r}")
    history, epochs = record["history"], record["epochs"]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise RecordError(f"record {record['run']!r}: epochs={epochs!r}; a run trains at least "
                          "one epoch")
    for key in HISTORY_KEYS:
        if len(history.get(key, [])) != epochs:
            raise RecordError(
                f"record {record['run']!r}: history[{key!r}] has "
                f"{len(history.get(key, []))} values for {epochs} epochs"
            )
    # None where the recipe did not re-estimate the BN statistics
    optional = ("test_accuracy_as_trained", "test_verdicts_changed")
    for key in ("train_accuracy", "final_val_accuracy", "best_val_accuracy", "test_accuracy",
                *optional):
        value = record.get(key)
        if value is None and key in optional:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise RecordError(f"record {record['run']!r}: {key}={value} is not in [0, 1]")
    for key in ("source", "train_size", "test_size"):
        if key not in record["data"]:
            raise RecordError(f"record {record['run']!r}: data lacks {key!r}")
    return record


def check_saveable(profile, gpu=None):
    """Refuse, before a run starts, to store a CPU run where GPU results are expected.

    ``fast`` and ``full`` records are what the book shows as GPU evidence; a run on a CPU under
    those profiles may train (pass ``save=False``), but not replace them.
    """
    from helpers import devices

    gpu = devices.gpu_available() if gpu is None else gpu
    if profile in GPU_PROFILES and not gpu:
        raise RecordError(
            f"The {profile!r} profile's records come from a GPU: here use the 'cpu' profile, or "
            "train with save=False to keep the run out of results/. "
            + devices.GPU_HELP.format(backend=devices.backend())
        )


def check_writable(profile, root=None):
    """Refuse, before a run starts, a results folder that cannot be written: found after
    training, the run's record would be lost."""
    folder = Path(root or results_dir()) / profile
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RecordError(f"Cannot create {folder} for this run's record ({err}); fix that, or "
                          "train with save=False.") from err
    if not os.access(folder, os.W_OK):
        raise RecordError(f"{folder} is not writable, so this run's record could not be saved; "
                          "fix its permissions, or train with save=False.")


def load_bench(name, root=None):
    """The benchmark record ``results/bench/<name>`` (``make bench``, the device run), or None
    where none is stored yet: the chapters say so instead of failing."""
    path = Path(root or results_dir()) / "bench" / name
    return json.loads(path.read_text()) if path.exists() else None


def path_for(profile, run, root=None):
    return Path(root or results_dir()) / profile / f"{run}.json"


def trials_dir():
    """Trials of a GPU profile's recipe (on a CPU, or changed on a GPU): evidence about the
    recipe, kept apart from the records that the profile's chapters show
    (``results/trials/<profile>/``)."""
    return results_dir() / "trials"


def save(record, root=None):
    """Validate and write ``record`` atomically to ``<root>/<profile>/<run>.json``."""
    validate(record)
    check_saveable(record["profile"], gpu=bool(record["environment"].get("gpu")))
    return _write(record, path_for(record["profile"], record["run"], root))


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._=-]")  # what a trial's file name may not hold


def trial_name(run, settings):
    """A trial's record name: the run's, then the settings it changed (``NAME=VALUE``), any
    character a file name should not hold replaced by "_"; the run's alone for none."""
    changed = "-".join(_UNSAFE_IN_NAME.sub("_", s) for s in settings)
    return f"{run}-{changed}" if changed else run


def save_trial(record, root=None, name=None):
    """Write a trial of a GPU profile's recipe to ``<trials_dir>/<profile>/<name>.json``
    (``name``: the run's, unless given; say what the trial changed).

    Only such runs belong there (each names its device and what it changed): a run of the
    ``cpu`` or ``smoke`` profile is not a trial of anything.
    """
    validate(record)
    if record["profile"] not in GPU_PROFILES:
        raise RecordError(f"record {record['run']!r} is a {record['profile']!r} run; trials are "
                          f"runs of {' or '.join(GPU_PROFILES)}'s recipe: use save()")
    # a trial is an experiment on the recipe, which may have changed since the last one: keep
    # every trial (<run>.json, then <run>-trial2.json, ...), never replace one
    root, run, n = root or trials_dir(), name or record["run"], 1
    if not run or _UNSAFE_IN_NAME.search(run):
        raise RecordError(f"trial name {run!r}: use letters, digits and . _ = - only")
    path = path_for(record["profile"], run, root)
    while path.exists():
        n += 1
        path = path_for(record["profile"], f"{run}-trial{n}", root)
    return _write(record, path)


def _write(record, path):
    """Write ``record`` to ``path`` atomically, never over another profile's record."""
    if path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            previous = {}
        if not isinstance(previous, dict):
            previous = {}
        if previous.get("profile", record["profile"]) != record["profile"]:
            raise RecordError(
                f"{path} holds a {previous['profile']!r} record; refusing to replace it "
                f"with a {record['profile']!r} one."
            )
        print(f"Replacing {_shown(path)} (the run of "
              f"{previous.get('environment', {}).get('date')}).")
    with atomic_write(path) as f:
        json.dump(record, f, indent=1)
    return path


def _shown(path):
    """``path`` relative to the repository where it lies inside it: no machine-local paths."""
    try:
        return str(Path(path).resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def load(profile, run, root=None):
    """The record of ``run`` in ``profile``, validated; FileNotFoundError if there is none."""
    path = path_for(profile, run, root)
    try:
        record = json.loads(path.read_text())
    except ValueError as err:
        raise RecordError(f"{path} is not valid JSON ({err})") from err
    try:
        return validate(record)
    except RecordError as err:  # name the file: chapter 7 reads every record of a profile
        raise RecordError(f"{_shown(path)}: {err}") from err


def load_all(profile, root=None):
    """Every record of ``profile``, by run name (an empty dict if there are none)."""
    folder = Path(root or results_dir()) / profile
    return {p.stem: load(profile, p.stem, root) for p in sorted(folder.glob("*.json"))}
