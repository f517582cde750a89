"""The benchmark's "post's way" networks are the book's networks, and the script runs."""

import json
import sys
from pathlib import Path

import pytest

from helpers import models

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import bench  # noqa: E402
import post_style  # noqa: E402


@pytest.mark.parametrize("name", models.NAMES)
def test_post_style_builds_the_same_network(name):
    book, post = models.build(name), post_style.build(name)
    assert post.count_params() == book.count_params()
    assert models.layer_counts(post) == models.layer_counts(book)
    # what differs is how it is built: a (zero) L2 penalty on every kernel, as the post had
    regularised = [layer for layer in post.layers if getattr(layer, "kernel_regularizer", None)]
    assert len(regularised) == sum(models.layer_counts(book)[k] for k in ("Conv2D", "Dense")) - 1


def test_bench_writes_a_record_comparing_both_ways(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)  # synthetic data: a smoke run
    bench.main(["--images", "40", "--epochs", "2", "--batch-size", "20", "--only", "networks",
                "--networks", "resnet18", "--out", str(tmp_path)])
    record = json.loads((tmp_path / "networks.json").read_text())
    assert record["data"] == "synthetic" and record["images"] == 40
    row = record["networks"]["resnet18"]
    for way in ("book", "post_style"):
        assert len(row[way]["epoch_seconds"]) == 2 and row[way]["images_per_second"] > 0
    assert row["ratio_to_post_style"] == pytest.approx(
        row["book"]["images_per_second"] / row["post_style"]["images_per_second"], abs=1e-3)


def test_augmentation_bench_times_each_way_and_names_the_record_after_the_device(tmp_path,
                                                                                monkeypatch):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)  # synthetic data: a smoke run
    ways = ["arrays", "model:crop", "pipeline:post", "model:crop mixed"]
    bench.main(["--images", "40", "--epochs", "2", "--batch-size", "20", "--only",
                "augmentation", "--networks", "googlenet", "--ways", *ways, "--out",
                str(tmp_path)])
    record = json.loads((tmp_path / "augmentation-cpu.json").read_text())  # no GPU here
    row = record["networks"]["googlenet"]
    assert list(row) == ways and record["ways"] == ways
    assert row["model:crop mixed"]["dtype_policy"] == "mixed_bfloat16"
    assert row["arrays"]["ratio_to_arrays"] == 1.0
    for way in ways:
        assert len(row[way]["epoch_seconds"]) == 2 and row[way]["images_per_second"] > 0


def test_a_named_augmentation_record_keeps_the_device_in_its_name(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)  # synthetic data: a smoke run
    args = ["--images", "40", "--epochs", "2", "--batch-size", "20", "--out", str(tmp_path)]
    with pytest.raises(SystemExit):
        bench.main(args + ["--only", "augmentation", "--name", "../pipeline"])
    assert "use letters, digits" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(args + ["--only", "networks", "--name", "pipeline"])
    assert "--name names an augmentation or XLA record" in capsys.readouterr().err
    bench.main(args + ["--only", "augmentation", "--name", "pipeline", "--networks", "resnet18",
                       "--ways", "arrays", "pipeline:crop"])
    assert [p.name for p in tmp_path.iterdir()] == ["pipeline-cpu.json"]  # no GPU here


def test_xla_bench_times_each_network_with_xla_off_and_on(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)  # synthetic data: a smoke run
    bench.main(["--images", "40", "--epochs", "2", "--batch-size", "20", "--only", "xla",
                "--networks", "resnet18", "--out", str(tmp_path)])
    record = json.loads((tmp_path / "xla-cpu.json").read_text())  # no GPU here
    row = record["networks"]["resnet18"]
    for way in ("xla_off", "xla_on"):
        assert len(row[way]["epoch_seconds"]) == 2 and row[way]["images_per_second"] > 0
        assert row[way]["first_epoch_seconds"] == pytest.approx(row[way]["epoch_seconds"][0], abs=0.01)
    assert row["ratio_xla_on_to_off"] == pytest.approx(
        row["xla_on"]["images_per_second"] / row["xla_off"]["images_per_second"], abs=1e-3)
    assert not (tmp_path / "networks.json").exists()  # only the part asked for


def test_augmentation_bench_saves_after_every_network(monkeypatch):
    # a run stopped at a device's time limit keeps the networks it timed
    monkeypatch.setattr(bench, "augmentation_way", lambda name, way, *a: (
        "float32", lambda: (0.5, 1.0)))
    monkeypatch.setattr(bench, "in_turns", lambda ways, epochs: (
        {way: [1.0] * epochs for way in ways}, {way: 0.5 for way in ways}))
    saved = []
    bench.bench_augmentation(["vgg16", "resnet18"], ["arrays", "model:crop"], [0] * 10, None,
                             5, 2, save=lambda rows: saved.append(list(rows)))
    assert saved == [["vgg16"], ["vgg16", "resnet18"]]


def test_api_bench_interleaves_rounds_and_keeps_the_same_computation(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.delenv("CIFAR10_PATH", raising=False)  # synthetic data: a smoke run
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    bench.main(["--images", "40", "--batch-size", "20", "--only", "apis", "--api-rounds", "2",
                "--out", str(tmp_path)])
    # the streamed PNG files are gone with their folder (TensorFlow leaves its own files there)
    assert not list(scratch.glob("bench-images-*"))
    record = json.loads((tmp_path / "training_apis.json").read_text())
    assert record["rounds"] == 2 and len(record["ways"]) == 7
    for row in record["ways"].values():
        low, high = row["range_images_per_second"]
        assert len(row["epoch_seconds"]) == 2 and low <= row["images_per_second"] <= high
        assert row["range_covers_median_with"] == 0.5
    # the two hand-written loops feed the same batches in the same order to the same weights:
    # the same computation gives the same final loss
    losses = [record["ways"][way]["final_loss"] for way in
              ("train_on_batch loop", "GradientTape loop")]
    assert abs(losses[0] - losses[1]) < 1e-3, losses


def test_ways_take_turns_in_a_changing_order():
    calls = []
    ways = {name: (lambda n=name: (calls.append(n), ([1.0], len(calls)))[1]) for name in "abc"}
    seconds, losses = bench.in_turns(ways, 3)
    assert calls == list("abc" "bca" "cab")  # rotated: each way first once
    assert seconds == {n: [1.0] * 3 for n in "abc"} and losses == {"a": 8, "b": 9, "c": 7}
    calls.clear()
    bench.in_turns(ways, 4, shuffle_seed=0)
    rounds = [calls[i:i + 3] for i in range(0, 12, 3)]
    assert all(sorted(r) == list("abc") for r in rounds) and len({"".join(r) for r in rounds}) > 1


def untimed(monkeypatch):
    """Stand-ins for the timing itself, for tests of what becomes of a benchmark's record
    (test_augmentation_bench_times_each_way... and test_bench_writes... time for real)."""
    monkeypatch.setattr(bench, "augmentation_way", lambda name, way, *a: (
        "float32", lambda: ([0.5], 1.0)))
    monkeypatch.setattr(bench, "compiled", lambda name, build=None: None)
    monkeypatch.setattr(bench, "timed_in_turns", lambda built, x, y, batch_size, epochs: {
        way: {"images_per_second": 80.0, "epoch_seconds": [0.5] * epochs, "final_loss": 1.0}
        for way in built})


def test_augmentation_bench_adds_to_an_earlier_record_of_the_same_settings(tmp_path, monkeypatch):
    # a second device call times the networks the first did not reach, and keeps the first's
    monkeypatch.delenv("CIFAR10_PATH", raising=False)  # synthetic data: a smoke run
    untimed(monkeypatch)
    args = ["--images", "40", "--epochs", "2", "--batch-size", "20", "--only", "augmentation",
            "--ways", "arrays", "model:crop"]
    first, second = tmp_path / "first", tmp_path / "second"
    bench.main(args + ["--networks", "googlenet", "--out", str(first)])
    earlier = first / "augmentation-cpu.json"
    bench.main(args + ["--networks", "resnet18", "--out", str(second), "--merge-with", str(earlier)])
    record = json.loads((second / "augmentation-cpu.json").read_text())
    assert list(record["networks"]) == ["googlenet", "resnet18"]
    old = json.loads(earlier.read_text())
    kept = record["networks"]["googlenet"]
    assert kept["arrays"] == old["networks"]["googlenet"]["arrays"]
    assert kept["timed_by"]["date"] == old["environment"]["date"]
    assert "timed_by" not in record["networks"]["resnet18"]
    # other settings: refused before any timing (all three benchmarks asked), nothing written
    with pytest.raises(SystemExit, match="differs in batch_size"):
        bench.main(["--images", "40", "--epochs", "2", "--batch-size", "10",
                    "--ways", "arrays", "model:crop", "--networks", "resnet18",
                    "--out", str(tmp_path / "third"), "--merge-with", str(earlier)])
    assert not (tmp_path / "third").exists()
    # other XLA_FLAGS: refused too (they change what XLA compiles)
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_autotune_level=0")
    with pytest.raises(SystemExit, match="differs in xla_flags"):
        bench.main(args + ["--networks", "resnet18", "--out", str(tmp_path / "fourth"),
                           "--merge-with", str(earlier)])


def test_a_record_of_another_kind_is_not_replaced_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)  # synthetic data
    untimed(monkeypatch)
    stored = tmp_path / "networks.json"
    real = {"data": "cifar10-jpeg.tar.gz", "environment": {"device": "CPU: x", "cpu_cores": 2}}
    stored.write_text(json.dumps(real))
    args = ["--images", "40", "--epochs", "2", "--batch-size", "20", "--only", "networks",
            "--networks", "resnet18", "--out", str(tmp_path)]
    with pytest.raises(SystemExit):
        bench.main(args)
    assert "data (cifar10-jpeg.tar.gz there, synthetic here)" in capsys.readouterr().err
    assert json.loads(stored.read_text()) == real
    bench.main(args + ["--replace"])
    assert json.loads(stored.read_text())["data"] == "synthetic"
    # another CPU's record of the same kind is replaced as any re-run replaces it
    other_cpu = json.loads(stored.read_text())
    other_cpu["environment"].update(device="CPU: another", cpu_cores=64)
    stored.write_text(json.dumps(other_cpu))
    bench.main(args)
    assert json.loads(stored.read_text())["environment"]["device"] != "CPU: another"
    with pytest.raises(SystemExit):  # merging is for augmentation and XLA records only
        bench.main(args + ["--merge-with", str(stored)])
    assert "--only networks writes neither" in capsys.readouterr().err


def test_a_merged_network_timed_again_keeps_its_old_row_until_timed(tmp_path, monkeypatch):
    earlier = {"images": 40, "batch_size": 20, "epochs": 2, "ways": ["arrays"], "data": "synthetic",
               "environment": {"device": "CPU: x", "backend": "jax", "date": "then"},
               "networks": {"vgg16": {"arrays": {"images_per_second": 1.0}}}}
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps(earlier))
    settings = {k: earlier[k] for k in bench.MERGE_KEYS}
    kept = bench.earlier_rows(path, settings, {"device": "CPU: x", "backend": "jax"})
    assert kept["vgg16"]["timed_by"]["date"] == "then"  # kept even if vgg16 is timed again
    with pytest.raises(SystemExit, match="backend"):
        bench.earlier_rows(path, settings, {"device": "CPU: x", "backend": "tensorflow"})


def test_an_xla_record_merges_only_with_an_xla_record_of_the_same_settings(tmp_path):
    env = {"device": "CPU: x", "backend": "tensorflow", "date": "then"}
    xla = {"images": 640, "batch_size": 128, "epochs": 3, "data": "cifar10-jpeg.tar.gz",
           "environment": env, "networks": {"vgg16": {"ratio_xla_on_to_off": 0.14}}}
    path = tmp_path / "xla-cpu.json"
    path.write_text(json.dumps(xla))
    settings = {k: v for k, v in xla.items() if k not in ("environment", "networks")}
    kept = bench.earlier_rows(path, settings, env)
    assert kept["vgg16"]["ratio_xla_on_to_off"] == 0.14
    assert kept["vgg16"]["timed_by"]["date"] == "then"
    with pytest.raises(SystemExit, match="differs in epochs"):
        bench.earlier_rows(path, {**settings, "epochs": 4}, env)
    # another number of cores, or another TensorFlow, times another machine
    with pytest.raises(SystemExit, match="cpu_cores"):
        bench.earlier_rows(path, settings, {**env, "cpu_cores": 16})
    with pytest.raises(SystemExit, match="backend_version"):
        bench.earlier_rows(path, settings, {**env, "backend_version": "2.22.0"})
    # an augmentation record has ways; an XLA run has none: the two tables never mix
    with pytest.raises(SystemExit, match="differs in ways"):
        bench.earlier_rows(path, {**settings, "ways": ["arrays"]}, env)


def test_records_of_a_gpu_another_backend_or_unreadable_ones_are_named_before_replacing(tmp_path):
    here = {"data": "synthetic",
            "environment": {"device": "CPU: x", "gpu": None, "backend": "tensorflow"}}
    stored = {"gpu": {"data": "synthetic", "environment": {**here["environment"], "gpu": "H200"}},
              "jax": {"data": "synthetic", "environment": {**here["environment"], "backend": "jax"}},
              "same": here}
    for name, record in stored.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    (tmp_path / "broken.json").write_text('{"data": ')
    found = bench.unlike_records(tmp_path, ["gpu", "jax", "same", "broken", "absent"], here)
    assert len(found) == 3
    assert "gpu (H200 there, None here)" in found[0]
    assert "backend (jax there, tensorflow here)" in found[1]
    assert "broken.json: not a readable JSON record" in found[2]
    assert (tmp_path / "broken.json").read_text() == '{"data": '  # left as it was


def test_merging_with_a_missing_or_broken_record_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no such record"):
        bench.earlier_rows(tmp_path / "absent.json", {}, {})
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(SystemExit, match="not a readable JSON record"):
        bench.earlier_rows(tmp_path / "broken.json", {}, {})


def test_the_api_bench_is_refused_off_tensorflow_before_anything_runs(tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    monkeypatch.setattr(bench.keras.config, "backend", lambda: "jax")
    with pytest.raises(SystemExit):
        bench.main(["--images", "40", "--only", "apis", "--out", str(tmp_path)])
    assert "need Keras' TensorFlow backend; this is jax" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_default_bench_off_tensorflow_times_networks_and_augmentation_only(tmp_path,
                                                                             monkeypatch):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    monkeypatch.setattr(bench.keras.config, "backend", lambda: "jax")
    called = []
    monkeypatch.setattr(bench, "bench_networks", lambda *a, **k: called.append("networks") or {})
    monkeypatch.setattr(bench, "bench_apis", lambda *a, **k: called.append("apis") or {})
    monkeypatch.setattr(bench, "bench_augmentation",
                        lambda *a, **k: called.append("augmentation"))
    bench.main(["--images", "40", "--out", str(tmp_path)])
    assert called == ["networks", "augmentation"]
    assert not (tmp_path / "training_apis.json").exists()
