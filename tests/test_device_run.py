"""tools/device_run.sh, the one command a GPU session runs: its preparation and its guards.

Device time is scarce (minutes a session), so the script must fail at once, and say why, when
something it needs is missing, and it must keep to its deadline. These tests run it here with
a deadline too short for any step: what runs is the preparation (backend, data, provenance).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax")
ROOT = Path(__file__).resolve().parents[1]


def device_run(tmp_path, *steps, **env):
    out = tmp_path / "out"
    # PYTHON: this interpreter, which has keras and papermill, so no wheels are installed
    env = {**os.environ, "OUT": str(out), "STAGE": str(tmp_path / "stage"),
           "PYTHON": sys.executable, **env}
    done = subprocess.run(["bash", str(ROOT / "tools" / "device_run.sh"), *steps], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = (out / "progress.log").read_text() if (out / "progress.log").exists() else ""
    return done.returncode, log


def test_it_names_the_backend_and_keeps_to_its_deadline(tmp_path):
    archive = tmp_path / "cifar10-jpeg.tar.gz"
    archive.write_bytes(b"not read: every step is past the deadline")
    code, log = device_run(tmp_path, "bench", "chapters", DEADLINE_S="0", DEVICE_SMOKE="1",
                           CIFAR10_PATH=str(archive), KERAS_BACKEND="jax",
                           BOOK_GIT_COMMIT="abc123")
    assert code == 0, log
    assert "device run:" in log and "on jax" in log and "commit abc123" in log  # first
    assert "bench: skipped (deadline)" in log and "chapters: skipped (deadline)" in log
    assert log.rstrip().endswith("done")
    # the device tool returns at most 8 files from $OUT, named in letters, digits, . _ - alone
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert {p.name for p in files} == {"progress.log", "device-run.tgz"}
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", p.name) for p in files)


def test_on_a_machine_without_a_gpu_the_real_run_stops_before_any_step(tmp_path):
    archive = tmp_path / "cifar10-jpeg.tar.gz"
    archive.write_bytes(b"not read")
    code, log = device_run(tmp_path, "chapters", CIFAR10_PATH=str(archive),
                           KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    assert code == 2 and "no GPU visible to Keras on jax" in log
    assert "step chapters" not in log and "start (limit" not in log


def test_on_a_machine_with_a_gpu_the_real_run_goes_on_to_its_steps(tmp_path):
    # a stand-in interpreter whose helpers see a GPU: the script must read its own line right
    # (a check of the line's end once stopped every real call, when more provenance followed)
    python = tmp_path / "python-with-a-gpu"
    python.write_text(f"""#!/bin/bash
if [ "$1" = -c ] && [[ "$2" == *gpu_available* ]]; then
  exec {sys.executable} -c "from helpers import devices; devices.gpu_available = lambda: True
$2"
fi
exec {sys.executable} "$@"
""")
    python.chmod(0o755)
    archive = tmp_path / "cifar10-jpeg.tar.gz"
    archive.write_bytes(b"not read: every step is past the deadline")
    code, log = device_run(tmp_path, "chapters", "seeds", CIFAR10_PATH=str(archive),
                           KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", PYTHON=str(python),
                           DEADLINE_S="0", CIFAR10_CACHE_DIR=str(tmp_path / "cache"))
    assert code == 0, log
    assert "(GPU)" in log and "no GPU visible" not in log
    assert "chapters: skipped (deadline)" in log and "seeds: skipped (deadline)" in log


def test_without_data_it_stops_at_once_and_says_what_to_do(tmp_path):
    # from a folder with no data/ beside it and no CIFAR10_PATH: a copy of the script alone
    tools = tmp_path / "copy" / "tools"
    tools.mkdir(parents=True)
    (tools / "device_run.sh").write_text((ROOT / "tools" / "device_run.sh").read_text())
    env = {k: v for k, v in os.environ.items() if k != "CIFAR10_PATH"}
    out = tmp_path / "out"
    done = subprocess.run(["bash", str(tools / "device_run.sh")], cwd=tmp_path, timeout=120,
                          env=dict(env, OUT=str(out), STAGE=str(tmp_path / "stage"),
                                   PYTHON=sys.executable),
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "no data: put cifar10-jpeg.tar.gz in data/" in (out / "progress.log").read_text()


def test_a_misspelt_step_stops_it_before_anything_is_installed_or_run(tmp_path):
    code, log = device_run(tmp_path, "chapter", DEADLINE_S="0")
    assert code == 2 and "unknown step 'chapter'" in log and "device run:" not in log


def test_chapters_come_back_finished_or_failed_apart_with_no_path_of_that_machine(tmp_path):
    """The chapter chain on stand-in notebooks: one finishes, one fails, GoogLeNet's has too
    little time left and waits for a second call; chapters 5 and 6 alone get papermill's
    ABLATIONS parameter (elsewhere it would add an unused cell)."""
    import json

    call, repo, stage = stand_in_chapters(tmp_path, {
        "03_vgg16": "print('trained')", "04_vgg16_bigconv": "raise RuntimeError('broken')",
        "05_googlenet": "print(ABLATIONS)", "06_resnet18": "print(ABLATIONS)"})

    code, log = call(GOOGLENET_MIN_S="100000")
    assert code == 1 and log.rstrip().endswith("done; failed: 04_vgg16_bigconv"), log
    assert "03_vgg16: exit 0" in log and "05_googlenet: skipped" in log
    assert {p.name for p in (stage / "notebooks").iterdir()} == {"03_vgg16.ipynb",
                                                                "06_resnet18.ipynb"}
    assert {p.name for p in (stage / "failed").iterdir()} == {"04_vgg16_bigconv.ipynb"}
    finished = json.loads((stage / "notebooks" / "03_vgg16.ipynb").read_text())
    assert finished["metadata"]["papermill"]["output_path"] == "notebooks/.03_vgg16.run.ipynb"
    assert "ABLATIONS" not in json.dumps(finished["metadata"]["papermill"]["parameters"])
    resnet = json.loads((stage / "notebooks" / "06_resnet18.ipynb").read_text())
    assert resnet["metadata"]["papermill"]["parameters"] == {"ABLATIONS": False}
    assert "False" in json.dumps(resnet["cells"][-1]["outputs"])  # it ran with the parameter
    # and its injected cell is gone: it would override the chapter's parameters for everyone
    assert not any("injected-parameters" in c["metadata"].get("tags", [])
                   for c in resnet["cells"])
    assert not list((repo / "notebooks").glob(".*.run.ipynb"))  # nothing left behind

    # a second call on the warm machine: what finished is kept, GoogLeNet's chapter runs
    code, both = call(CHAPTERS="03_vgg16 05_googlenet")
    second = both[len(log):]  # progress.log keeps the first call's lines
    assert code == 0 and "03_vgg16: finished in an earlier call" in second, second
    assert "05_googlenet: exit 0" in second and "04_vgg16" not in second
    assert (stage / "notebooks" / "05_googlenet.ipynb").exists()


def stand_in(tmp_path, files=None):
    """A copy of the script beside stand-in ``files`` (path in the repository to text) and an
    archive no stand-in reads; ``call(*steps, fresh=False, **env)`` runs those steps at smoke
    size and gives (exit code, progress log: this call's alone where ``fresh``)."""
    repo = tmp_path / "repo"
    for path, text in {"tools/device_run.sh": (ROOT / "tools" / "device_run.sh").read_text(),
                       **(files or {})}.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    archive = tmp_path / "cifar10-jpeg.tar.gz"
    archive.write_bytes(b"not read by the stand-ins")
    out, stage = tmp_path / "out", tmp_path / "stage"

    def call(*steps, fresh=False, **env):
        if fresh:
            (out / "progress.log").unlink(missing_ok=True)
        done = subprocess.run(
            ["bash", str(repo / "tools" / "device_run.sh"), *steps], cwd=tmp_path,
            timeout=300, capture_output=True, text=True,
            env=dict(os.environ, OUT=str(out), STAGE=str(stage), PYTHON=sys.executable,
                     DEVICE_SMOKE="1", CIFAR10_PATH=str(archive), KERAS_BACKEND="jax", **env))
        return done.returncode, (out / "progress.log").read_text()

    return repo, call


def stand_in_chapters(tmp_path, cells):
    """``stand_in`` with one-cell stand-ins for chapters 3-6 (``cells``: name to code), and
    ``call(**env)``, which runs its `chapters` step: (exit code, log)."""
    import nbformat

    repo, run = stand_in(tmp_path)
    (repo / "notebooks").mkdir()
    for name, code in cells.items():
        parameters = nbformat.v4.new_code_cell("ABLATIONS = None", metadata={"tags": ["parameters"]})
        nb = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(code)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, repo / "notebooks" / f"{name}.ipynb")
    return (lambda **env: run("chapters", **env)), repo, tmp_path / "stage"


def test_a_chapter_recorded_in_an_earlier_session_is_not_run_again_unless_named(tmp_path):
    # the lent machine starts bare, but the repository it gets holds the records committed
    # from an earlier session: device time goes to what is missing
    call, repo, stage = stand_in_chapters(tmp_path, {name: "print('ran')" for name in (
        "03_vgg16", "04_vgg16_bigconv", "05_googlenet", "06_resnet18")})
    import nbformat

    (repo / "results" / "smoke").mkdir(parents=True)
    for network in ("vgg16", "vgg16_bigconv", "resnet18"):
        (repo / "results" / "smoke" / f"{network}.json").write_text("{}")
    for name in ("03_vgg16", "06_resnet18"):  # run under the profile; 04's chapter was not
        path = repo / "notebooks" / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="profile: smoke, Keras\n")]
        nbformat.write(nb, path)
    code, log = call(RECORDED_IN="results/smoke")
    assert code == 0, log
    assert "not run again (CHAPTERS=... names them): 03_vgg16 06_resnet18" in log
    # VGG16-big's record alone, with its chapter not run under the profile, does not count
    assert {p.name for p in (stage / "notebooks").iterdir()} == {"04_vgg16_bigconv.ipynb",
                                                                "05_googlenet.ipynb"}
    code, log = call(RECORDED_IN="results/smoke", CHAPTERS="06_resnet18")  # named: run again
    assert code == 0 and "06_resnet18: exit 0" in log, log


def test_trials_come_back_in_the_stage_and_a_malformed_one_is_named(tmp_path):
    """The trials step on a stand-in tools/train_runs.py (which files a record as the real one
    does): each named trial runs with its settings, its record is moved into the stage (a trial
    committed earlier stays where it is), and an entry without settings fails the call, named."""
    import json
    import time

    repo, call = stand_in(tmp_path, {"tools/train_runs.py": (  # named as the real one names a trial
        "import json, os, sys\n"
        "net = sys.argv[sys.argv.index('--networks') + 1]\n"
        "name = net + '-' + sys.argv[sys.argv.index('--set') + 1]\n"
        "os.makedirs('results/trials/fast', exist_ok=True)\n"
        "path, n = f'results/trials/fast/{name}.json', 1\n"
        "while os.path.exists(path):\n"
        "    n += 1; path = f'results/trials/fast/{name}-trial{n}.json'\n"
        "json.dump({'argv': sys.argv[1:], 'profile': os.environ['BOOK_PROFILE']}, open(path, 'w'))\n"
        "print(f'{net}: test accuracy 0.5000, 1.0 min on a stand-in')\n")})
    earlier = repo / "results" / "trials" / "fast" / "googlenet-trial2.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}")
    old = time.time() - 3600
    os.utime(earlier, (old, old))
    stage = tmp_path / "stage"
    code, log = call(
        "trials", TRIALS="vgg16:learning_rate=0.1,warmup_epochs=5 resnet18 googlenet: vgg:x=1 "
                         "vgg16:learning_rate=0.1,warmup_epochs=5 vgg16:learning_rate=0.1,epochs=2 "
                         "vgg16:batch_size=64")
    assert code == 1 and log.rstrip().endswith(
        "done; failed: resnet18 googlenet: vgg:x=1"), log
    for wrong in ("resnet18", "googlenet:", "vgg:x=1"):
        assert f"trial '{wrong}': write network:NAME=VALUE" in log
    assert "trial-vgg16-learning_rate=0.1_warmup_epochs=5: exit 0 (test accuracy 0.5000" in log
    assert re.search(r"trial-vgg16-batch_size=64: start \(limit \d+ s, \d+ s left\)", log)
    # named twice: run once (a second call on the warm machine repeats nothing it finished)
    assert log.count("trial-vgg16-learning_rate=0.1_warmup_epochs=5: exit 0") == 1
    assert ("trial-vgg16-learning_rate=0.1_warmup_epochs=5: finished already on this machine, "
            "not run again") in log
    trials = stage / "results" / "trials" / "fast"
    # each trial comes back under its own name; a repeat whose name the stage holds is left
    # behind and named in the log, never lost in silence
    assert {p.name for p in trials.iterdir()} == {"vgg16-learning_rate=0.1.json",
                                                   "vgg16-batch_size=64.json"}
    assert "trial record vgg16-learning_rate=0.1.json: the stage has one of that name" in log
    record = json.loads((trials / "vgg16-learning_rate=0.1.json").read_text())
    assert record["profile"] == "fast"  # not the smoke profile the chain runs under
    argv = record["argv"]
    assert argv[argv.index("--set") + 1:][:2] == ["learning_rate=0.1", "warmup_epochs=5"]
    assert "--trial" in argv and argv[argv.index("--seeds") + 1] == "0"
    assert not (repo / "results" / "trials" / "fast" / "vgg16-batch_size=64.json").exists()  # moved
    assert earlier.exists() and not (stage / "results" / "trials" / "fast" / earlier.name).exists()


def test_a_trial_a_gpu_made_in_an_earlier_session_is_not_run_again(tmp_path):
    import json

    repo, call = stand_in(tmp_path, {"tools/train_runs.py": "print('test accuracy 0.5000')\n"})
    committed = repo / "results" / "trials" / "fast"
    committed.mkdir(parents=True)
    # a GPU's trial (its second, by name), and a CPU's trial of the same recipe change
    (committed / "vgg16-learning_rate=0.1-trial2.json").write_text(
        json.dumps({"environment": {"gpu": True}}, indent=1))
    (committed / "googlenet-learning_rate=0.1.json").write_text(
        json.dumps({"environment": {"gpu": False}}, indent=1))
    # two settings: named as results.trial_name names the record
    from helpers import results

    two = results.trial_name("vgg16", ["batch_size=128", "learning_rate=0.05"])
    (committed / f"{two}.json").write_text(json.dumps({"environment": {"gpu": True}}, indent=1))
    code, log = call("trials", TRIALS="vgg16:learning_rate=0.1 googlenet:learning_rate=0.1 "
                                      "vgg16:batch_size=128,learning_rate=0.05",
                     TRIALS_RECORDED_IN="results/trials/fast")
    assert code == 0, log
    assert ("trial-vgg16-learning_rate=0.1: a GPU's record of it is in results/trials/fast "
            "already, not run again") in log
    assert "trial-vgg16-batch_size=128_learning_rate=0.05: a GPU's record of it" in log
    assert "trial-googlenet-learning_rate=0.1: exit 0" in log  # the CPU's does not count


def test_a_run_starts_only_with_the_time_its_network_needs_left(tmp_path):
    _, call = stand_in(tmp_path, {"tools/train_runs.py": "print('test accuracy 0.5000')\n"})
    # (a deadline of 290: 210 s of margin for the preparation on a loaded machine)
    code, log = call("seeds", SEED_RUNS="1:googlenet 1:vgg16_bigconv", DEADLINE_S="290")
    assert re.search(r"seed1-googlenet: skipped, \d+ s left before the deadline \(it needs 300\)",
                     log), log
    assert "seed1-vgg16_bigconv: exit 0" in log  # it needs 80
    code, log = call("seeds", SEED_RUNS="1:vgg16", DEADLINE_S="290", RUN_MIN_S="500")
    assert "(it needs 500)" in log  # RUN_MIN_S overrides the network's own
    # once a GoogLeNet run has finished on this machine, the next needs its time and 30 s
    stage = tmp_path / "stage"
    assert re.search(r"^seed1-vgg16_bigconv \d+$", (stage / "finished").read_text(), re.M)
    with open(stage / "finished", "a") as seconds:
        seconds.write("seed1-googlenet 20\ntrial-googlenet-epochs=1 5\n")
    # (250 s: under the 300 it would need without that seed, over the 50 it needs with it: the
    # seed's time, not a trial's, which may change the recipe's length)
    code, log = call("seeds", fresh=True, SEED_RUNS="2:googlenet", DEADLINE_S="250")
    assert "seed2-googlenet: start" in log and "needs" not in log, log
    # every call's lines are kept in the stage too (the archive): $OUT's are replaced
    kept = (stage / "progress.log").read_text()
    assert "seed1-vgg16_bigconv: exit 0" in kept and "seed2-googlenet: exit 0" in kept


def test_seed_runs_skip_those_recorded_already_and_can_be_named(tmp_path):
    """The seeds step on a stand-in tools/train_runs.py: by default seeds 1 and 2 of each
    network, cheapest first, but not those RECORDED_IN holds; SEED_RUNS names the runs, and a
    malformed one fails the call, named."""
    repo, run = stand_in(tmp_path, {"tools/train_runs.py": (
        "import sys\n"
        "print(f\"{sys.argv[sys.argv.index('--networks') + 1]}: test accuracy 0.5000, seed \"\n"
        "      f\"{sys.argv[sys.argv.index('--seeds') + 1]}\")\n")})
    recorded = repo / "results" / "smoke"
    recorded.mkdir(parents=True)
    for name in ("vgg16-seed1", "vgg16_bigconv-seed1", "resnet18-seed2"):
        (recorded / f"{name}.json").write_text("{}")

    def call(**env):
        return run("seeds", fresh=True, RECORDED_IN="results/smoke", **env)

    code, log = call()
    assert code == 0, log
    assert ("not run again (RECORDED_IN= with nothing after it runs them): 1:vgg16 1:vgg16_bigconv 2:resnet18"
            in log)
    ran = re.findall(r"\] (seed\d-\w+): exit 0", log)
    assert ran == ["seed1-resnet18", "seed1-googlenet", "seed2-vgg16", "seed2-vgg16_bigconv",
                   "seed2-googlenet"]
    code, log = call(SEED_RUNS="1:vgg16 x:googlenet 2:resnet 3:googlenet 1:")
    assert code == 1 and log.rstrip().endswith("done; failed: x:googlenet 2:resnet 1:"), log
    # named, but committed: not run (train_runs would refuse it, after a start of device time)
    assert "seed1-vgg16: recorded in results/smoke already, not run again" in log
    assert re.findall(r"\] (seed\d-\w+): exit 0", log) == ["seed3-googlenet"]
    assert "seed run '2:resnet': write SEED:NETWORK" in log
    # a later call on the same machine: what finished in an earlier one is not run again
    code, log = call(SEED_RUNS="3:googlenet 1:resnet18 3:vgg16")
    assert code == 0 and re.findall(r"\] (seed\d-\w+): exit 0", log) == ["seed3-vgg16"], log
    assert "seed3-googlenet: finished already on this machine, not run again" in log
    assert "seed1-resnet18: finished already on this machine, not run again" in log


def test_the_pipeline_step_runs_the_bench_once_into_its_own_record(tmp_path):
    """The pipeline step on a stand-in benchmarks/bench.py: the two places for augmentation and
    the arrays in one named record; not run again once finished or recorded."""
    _, run = stand_in(tmp_path, {"benchmarks/bench.py": (
        "import pathlib, sys\n"
        "a = sys.argv\n"
        "print('args:', ' '.join(a[1:]))\n"
        "out = pathlib.Path(a[a.index('--out') + 1])\n"
        "(out / f\"{a[a.index('--name') + 1]}-cpu.json\").write_text('{}')\n"
        "print('resnet18: arrays 10 images/s')\n")})

    def call(**env):
        return run("pipeline", fresh=True, **env)[1]

    log = call()
    assert "pipeline: exit 0 (1 networks timed)" in log, log
    bench_log = (tmp_path / "stage" / "logs" / "pipeline.log").read_text()
    assert "--only augmentation --ways arrays model:crop pipeline:crop --name pipeline" in bench_log
    assert (tmp_path / "stage" / "results" / "bench" / "pipeline-cpu.json").exists()
    assert "pipeline: finished already on this machine, not run again" in call()
    recorded = tmp_path / "pipeline-gpu.json"
    recorded.write_text("{}")
    assert f"pipeline: recorded in {recorded} already" in call(PIPELINE_RECORD=str(recorded))
