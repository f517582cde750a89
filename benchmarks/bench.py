"""Benchmarks: training speed of the four networks, of six ways to train (chapter 9), and of
augmentation and precision choices (chapter 1; the `fast` profile's choices).

Prints the figures and writes them to results/bench/networks.json and
results/bench/training_apis.json. Run it on an otherwise idle machine: `make bench`.
Images per second are the median over the timed epochs, after one untimed warm-up epoch
(which includes tracing and compiling).

The network benchmark times each network twice, as `helpers.models` builds it and as the
post's Keras 2 code builds it (`post_style.py`), alternating so that a drift in the
machine's speed affects both alike.

The augmentation benchmark (`--only augmentation`) times, per network, `fit` on unaugmented
in-memory arrays (the reference), the same with augmentation inside the compiled step
(helpers.augment), with augmentation in the input pipeline (tf.data or a PyDataset), and with
mixed precision, the ways taking turns epoch by epoch. Its record is named after the device
(`augmentation-gpu.json` or `augmentation-cpu.json`), so a CPU run never stands where GPU
figures are expected.

The XLA benchmark (`--only xla`, TensorFlow only, not part of the default run) times each
network with `compile(jit_compile=True)` and without, in turns, and keeps each one's first
epoch (tracing, and for XLA compiling) apart: the measurement behind
`training.default_jit_compile` (chapter 1). Its record is `xla-cpu.json` or `xla-gpu.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import sys
import tempfile
import time

import helpers  # sets TensorFlow's CPU options before Keras loads it
import keras
import numpy as np

from helpers import (augment, data, devices, models, paths, pipelines, results, training,
                     training_apis)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import post_style  # noqa: E402  (beside this script, not part of helpers)


def real_or_synthetic(n):
    """``n`` stratified CIFAR-10 training images (real where CIFAR10_PATH is set)."""
    source = "auto" if os.environ.get("CIFAR10_PATH") else "synthetic"
    (x, y), _ = data.load_cifar10(source)
    keep = data.stratified_indices(y, min(n // 10, np.bincount(y.ravel()).min()))
    return data.resolve_source(source), x[keep], y[keep]


def compiled(name, build=models.build):
    keras.utils.set_random_seed(0)
    model = build(name)
    return training.compile_model(model, keras.optimizers.SGD(0.01, momentum=0.9))


def median_rate(seconds, n_images):
    timed = seconds[1:]  # the first epoch traces and compiles
    return n_images / statistics.median(timed)


def in_turns(ways, rounds, shuffle_seed=None):
    """Run every way once per round, each round in a new order, so that a drift in the
    machine's speed during the benchmark spreads over all the ways alike instead of favouring
    whichever ran last.

    ``ways``: name -> a call returning (seconds of each epoch it timed, final loss). The order
    rotates by one each round (for two ways: A B, B A, A B, ...), or, with ``shuffle_seed``, is
    a new random permutation each round. Returns ({name: all its timed seconds}, {name: the
    loss of its last call}).
    """
    names = list(ways)
    seconds, losses = {name: [] for name in names}, {}
    rng = np.random.default_rng(shuffle_seed)
    for turn in range(rounds):
        order = ([names[i] for i in rng.permutation(len(names))] if shuffle_seed is not None
                 else names[turn % len(names):] + names[:turn % len(names)])
        for name in order:
            times, losses[name] = ways[name]()
            seconds[name] += list(times)
    return seconds, losses


def timed_in_turns(built, x, y, batch_size, epochs, digits=2):
    """``{way: {images_per_second, epoch_seconds, final_loss}}`` of compiled models ``built``
    (way -> model), each trained an epoch at a time on arrays, in turns (``in_turns``)."""
    seconds, losses = in_turns(
        {way: lambda m=model: training_apis.fit_arrays(m, x, y, batch_size, 1)
         for way, model in built.items()}, epochs)
    return {way: {"images_per_second": round(median_rate(seconds[way], len(x)), 1),
                  "epoch_seconds": [round(s, digits) for s in seconds[way]],
                  "final_loss": round(losses[way], 4)} for way in built}


def bench_networks(names, x, y, batch_size, epochs):
    """Images per second of each network built both ways, timed epoch by epoch in turn.

    The two ways alternate epoch by epoch (``in_turns``); each one's first epoch, which traces
    and compiles, is left out of its median.
    """
    rows = {}
    for name in names:
        built = {"book": compiled(name, models.build),
                 "post_style": compiled(name, post_style.build)}
        row = timed_in_turns(built, x, y, batch_size, epochs)
        row["ratio_to_post_style"] = round(
            row["book"]["images_per_second"] / row["post_style"]["images_per_second"], 3)
        rows[name] = row
        print(f"{name:14} {row['book']['images_per_second']:8.1f} images/s "
              f"(post's way {row['post_style']['images_per_second']:.1f}, "
              f"x{row['ratio_to_post_style']:.2f}; epochs {row['book']['epoch_seconds']} / "
              f"{row['post_style']['epoch_seconds']} s)", flush=True)
    return rows


def input_alone(epoch, n_images, repeats=3):
    """Images per second an input pipeline delivers with no training step (median of repeats).

    ``epoch()`` goes once through the pipeline, which is built once, outside the timing.
    """
    seconds = []
    for _ in range(repeats + 1):  # the first pass warms up (tracing, threads, file cache)
        start = time.perf_counter()
        epoch()
        seconds.append(time.perf_counter() - start)
    return round(n_images / statistics.median(seconds[1:]), 1)


def bench_apis(name, images, labels, batch_size, rounds):
    # the PNG files the streaming way reads: removed with the folder when the benchmark ends
    with tempfile.TemporaryDirectory(prefix="bench-images-") as folder:
        return _bench_apis(name, images, labels, batch_size, rounds, folder)


def _bench_apis(name, images, labels, batch_size, rounds, folder):
    mean, std = data.channel_stats(images)
    x, y = data.standardize(images, mean, std), keras.utils.to_categorical(labels, 10)
    files, ids = training_apis.write_image_files(images, labels, folder)

    def streamed():
        return training_apis.ImageFiles(files, ids, batch_size, mean, std, workers=2)

    augmented, files_dataset = pipelines.tf_dataset(x, y, batch_size, augment=True), streamed()

    # each: (model, epochs) -> (seconds per epoch, final loss)
    ways = {
        "fit on arrays": lambda m, e: training_apis.fit_arrays(m, x, y, batch_size, e),
        "fit on tf.data with augmentation": lambda m, e: training_apis.fit_tf_data(
            m, x, y, batch_size, e),
        # a reference, not a seventh way: the same pipeline without the augmentation
        "(fit on tf.data without augmentation)": lambda m, e: training_apis.fit_tf_data(
            m, x, y, batch_size, e, augment=False),
        "fit on a PyDataset streaming files": lambda m, e: training_apis.fit_pydataset(
            m, streamed(), e),
        "fit on a Python generator": lambda m, e: training_apis.fit_generator_replacement(
            m, x, y, batch_size, e),
        "train_on_batch loop": lambda m, e: training_apis.train_on_batch_loop(
            m, x, y, batch_size, e),
        "GradientTape loop": lambda m, e: training_apis.gradient_tape_loop(
            m, x, y, batch_size, e),
    }
    # What the input side alone can deliver: if it is far faster than training, it is not
    # what limits the speed of the ways that use it. (The PyDataset is read here in one
    # thread; in training its 2 workers read ahead, so this is a lower bound.)
    alone = {
        "fit on tf.data with augmentation": input_alone(
            lambda: [batch for batch in augmented], len(x)),
        "fit on a PyDataset streaming files": input_alone(
            lambda: [files_dataset[i] for i in range(len(files_dataset))], len(x)),
    }
    # The ways take turns in a new random order each round (in_turns). Each turn runs two
    # epochs and times the second: a way that builds a new function per call (the
    # GradientTape loop) traces again in the first.
    models_ = {way: compiled(name) for way in ways}

    def second_epoch(way):
        times, loss = ways[way](models_[way], 2)
        return times[-1:], loss

    seconds, losses = in_turns({way: lambda w=way: second_epoch(w) for way in ways}, rounds,
                               shuffle_seed=0)
    rows = {}
    for way in ways:
        rates = sorted(len(x) / s for s in seconds[way])
        # The lowest and highest of n rounds bracket the true median with probability
        # 1 - 2 * 0.5**n (96.9 % for 6 rounds): a distribution-free interval.
        rows[way] = {"images_per_second": round(statistics.median(rates), 1),
                     "range_images_per_second": [round(rates[0], 1), round(rates[-1], 1)],
                     "range_covers_median_with": round(1 - 2 * 0.5 ** len(rates), 4),
                     "epoch_seconds": [round(s, 2) for s in seconds[way]],
                     "final_loss": round(losses[way], 4)}
        if way in alone:
            rows[way]["input_alone_images_per_second"] = alone[way]
    base = rows["fit on arrays"]["images_per_second"]
    for way, row in rows.items():
        row["ratio_to_fit_on_arrays"] = round(row["images_per_second"] / base, 3)
        low, high = row["range_images_per_second"]
        print(f"{way:39} {row['images_per_second']:8.1f} images/s ({low:.0f}-{high:.0f})  "
              f"x{row['ratio_to_fit_on_arrays']:.2f}  loss {row['final_loss']:.3f}"
              + (f"  (input alone {alone[way]:.0f} images/s)" if way in alone else ""), flush=True)
    return rows


AUGMENTATION_WAYS = {
    # name: (where the augmentation runs, its recipe, precision)
    "arrays": (None, None, "float32"),  # no augmentation: the reference
    "model:crop": ("model", "crop", "float32"),
    "model:post": ("model", "post", "float32"),
    "pipeline:post": ("pipeline", "post", "float32"),
    "pipeline:crop": ("pipeline", "crop", "float32"),
    "model:crop mixed": ("model", "crop", "mixed"),
    "arrays mixed": (None, None, "mixed"),
}


def augmentation_way(name, way, x, y, batch_size):
    """A compiled model and a function that trains it one epoch, for ``way``."""
    place, kind, precision = AUGMENTATION_WAYS[way]
    policy = devices.policy_for(precision)
    with devices.dtype_policy(policy):
        keras.utils.set_random_seed(0)
        network = models.build(name)
        model = augment.with_augmentation(network, kind, seed=0) if place == "model" else network
        training.compile_model(model, keras.optimizers.SGD(0.01, momentum=0.9))
    if place == "pipeline":
        dataset = pipelines.training_data(x, y, batch_size, augment=True, seed=0, kind=kind)
        return policy, lambda: training_apis.fit_pydataset(model, dataset, 1)
    return policy, lambda: training_apis.fit_arrays(model, x, y, batch_size, 1)


def bench_augmentation(names, ways, x, y, batch_size, epochs, save=None):
    """Images per second of each way of augmenting (and precision), per network, in turns.

    The ways take turns epoch by epoch, their order rotating (``in_turns``); each one's first
    epoch, which compiles, is left out of its median. ``save(rows)``, where given, is called
    after every network, so that a run stopped at a time limit keeps the networks it timed.
    """
    rows = {}
    for name in names:
        built = {way: augmentation_way(name, way, x, y, batch_size) for way in ways}
        seconds, losses = in_turns({way: built[way][1] for way in ways}, epochs)
        row = {way: {"images_per_second": round(median_rate(seconds[way], len(x)), 1),
                     "epoch_seconds": [round(s, 3) for s in seconds[way]],
                     "dtype_policy": built[way][0], "final_loss": round(losses[way], 4)}
               for way in ways}
        base = row[ways[0]]["images_per_second"]
        for way in ways:
            row[way]["ratio_to_" + ways[0].replace(" ", "_")] = round(
                row[way]["images_per_second"] / base, 3)
        rows[name] = row
        if save:
            save(rows)
        print(f"{name}: " + "; ".join(
            f"{way} {row[way]['images_per_second']:.0f} images/s "
            f"(x{row[way]['images_per_second'] / base:.2f})" for way in ways), flush=True)
    return rows


def bench_xla(names, x, y, batch_size, epochs, save=None):
    """Images per second of each network with XLA off and on (``jit_compile``), in turns,
    and each one's first epoch, which traces and (with XLA) compiles. ``save(rows)``, where
    given, is called after every network (XLA can be slow enough on a CPU to need a limit)."""
    rows = {}
    for name in names:
        built = {}
        for way, jit in (("xla_off", False), ("xla_on", True)):
            keras.utils.set_random_seed(0)
            built[way] = training.compile_model(
                models.build(name), keras.optimizers.SGD(0.01, momentum=0.9), jit_compile=jit)
        row = timed_in_turns(built, x, y, batch_size, epochs, digits=3)
        for way in built:  # tracing, and with XLA compiling, kept apart from the median
            row[way]["first_epoch_seconds"] = round(row[way]["epoch_seconds"][0], 2)
        row["ratio_xla_on_to_off"] = round(
            row["xla_on"]["images_per_second"] / row["xla_off"]["images_per_second"], 3)
        rows[name] = row
        if save:
            save(rows)
        print(f"{name:14} XLA off {row['xla_off']['images_per_second']:7.1f} images/s, on "
              f"{row['xla_on']['images_per_second']:7.1f} (x{row['ratio_xla_on_to_off']:.2f}); "
              f"first epoch {row['xla_off']['first_epoch_seconds']:.1f} / "
              f"{row['xla_on']['first_epoch_seconds']:.1f} s", flush=True)
    return rows


# what must match for an earlier record's networks to join a new one's table
MERGE_KEYS = ("images", "batch_size", "epochs", "ways", "data")


def differences(there, here, keys, key=lambda value: value):
    """``"KEY (THERE there, HERE here)"`` for each of ``keys`` whose ``key(value)`` differs
    between the dicts ``there`` (an earlier record's) and ``here``."""
    return [f"{k} ({there.get(k)} there, {here.get(k)} here)" for k in keys
            if key(there.get(k)) != key(here.get(k))]


def earlier_rows(path, settings, environment):
    """The networks of the augmentation or XLA record at ``path``, each marked with the run that
    timed it: a later call adds to an earlier one's table instead of replacing it (a network
    timed again replaces its row only once timed). Refused unless that record was made with the
    same ``settings`` (``MERGE_KEYS``; an XLA record has no ``ways``, so the two kinds never
    mix) on the same device (and number of cores) and the same backend and version."""
    try:
        earlier = json.loads(pathlib.Path(path).read_text())
    except FileNotFoundError:
        raise SystemExit(f"--merge-with {path}: no such record; name an augmentation or XLA "
                         "record that exists, or leave --merge-with out") from None
    except (OSError, ValueError) as err:
        raise SystemExit(f"--merge-with {path}: not a readable JSON record ({err}); restore "
                         "it from git, or leave --merge-with out") from None
    differs = [k for k in MERGE_KEYS if earlier.get(k) != settings.get(k)]
    # a CPU's device names no core count; XLA_FLAGS change what is compiled
    differs += differences(earlier["environment"], environment,
                           ("device", "cpu_cores", "backend", "backend_version", "xla_flags"))
    if differs:
        raise SystemExit(f"--merge-with {path}: that record differs in {', '.join(differs)}; "
                         "time its networks again with these settings, or write elsewhere")
    env = earlier["environment"]
    timed_by = {k: env.get(k) for k in ("date", "git_commit", "backend", "backend_version")}
    if env.get("xla_flags"):
        timed_by["xla_flags"] = env["xla_flags"]
    return {name: {**row, "timed_by": row.get("timed_by", timed_by)}
            for name, row in earlier["networks"].items()}


def write(out, name, payload):
    path = pathlib.Path(out) / f"{name}.json"
    with paths.atomic_write(path) as f:  # a killed run leaves the stored record whole
        json.dump(payload, f, indent=1)
    print("wrote", path)


def unlike_records(out, names, common):
    """The records among ``<out>/<name>.json`` that this run would replace with figures of
    another kind: synthetic for real data, a GPU's for a CPU's (or the reverse: chapter 1 reads
    networks.json as the CPU's), or another backend's. Another CPU's or GPU's are replaced as
    any re-run replaces them."""
    found = []
    for name in names:
        path = pathlib.Path(out) / f"{name}.json"
        if not path.exists():
            continue
        try:
            earlier = json.loads(path.read_text())
        except (OSError, ValueError) as err:  # unreadable: replacing it must be asked for too
            found.append(f"{path}: not a readable JSON record ({err})")
            continue
        there_env, here_env = earlier.get("environment", {}), common["environment"]
        differs = (differences(earlier, common, ["data"], key=lambda d: d == "synthetic")
                   + differences(there_env, here_env, ["gpu"], key=bool)
                   + differences(there_env, here_env, ["backend"]))
        if differs:
            found.append(f"{path}: {', '.join(differs)}")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1280, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=4,
                        help="epochs per network and way of building it, the first untimed")
    parser.add_argument("--api-rounds", type=int, default=6,
                        help="rounds of the training-API benchmark: each way trains two epochs "
                             "a round, in random order, and the second is timed")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--network", default="googlenet", help="network for the API benchmark")
    parser.add_argument("--only", choices=("networks", "apis", "augmentation", "xla"),
                        default=None, help="one part (default: the first three; xla only "
                                           "when named)")
    parser.add_argument("--ways", nargs="+", choices=list(AUGMENTATION_WAYS),
                        default=["arrays", "model:crop", "model:crop mixed"],
                        help="ways for the augmentation benchmark (the first is the reference)")
    parser.add_argument("--networks", nargs="+", choices=models.NAMES, default=list(models.NAMES),
                        help="networks for the network and augmentation benchmarks, in order")
    parser.add_argument("--out", default=str(results.results_dir() / "bench"),
                        help="folder for the JSON records")
    parser.add_argument("--name", default=None,
                        help="the augmentation or XLA record's name before -<device>.json "
                             "(default: augmentation or xla), for a record of other ways")
    parser.add_argument("--replace", action="store_true",
                        help="replace records of another device, backend or kind of data")
    parser.add_argument("--merge-with", default=None, metavar="RECORD",
                        help="an earlier augmentation or XLA record (same part, settings and "
                             "device): its networks that this run does not time are kept in the "
                             "new record")
    args = parser.parse_args(argv)
    if args.name and not re.fullmatch(r"[A-Za-z0-9_.-]+", args.name):
        parser.error(f"--name {args.name!r}: use letters, digits and . _ - only")
    if args.name and args.only not in ("augmentation", "xla"):
        parser.error("--name names an augmentation or XLA record: give --only augmentation or "
                     "--only xla")
    if args.only == "xla" and keras.config.backend() != "tensorflow":
        parser.error("--only xla times TensorFlow with XLA on and off; on Keras' "
                     f"{keras.config.backend()} backend there is no such switch")
    parts = (("networks", "apis", "augmentation") if args.only is None else (args.only,))
    if "apis" in parts and keras.config.backend() != "tensorflow":
        # tf.data and the GradientTape loop are two of its ways: refused before anything runs
        if args.only == "apis":
            parser.error("--only apis times tf.data and a GradientTape loop among its ways, "
                         "which need Keras' TensorFlow backend; this is "
                         f"{keras.config.backend()}")
        parts = tuple(part for part in parts if part != "apis")
        print(f"The training APIs are not timed on Keras' {keras.config.backend()} backend "
              "(two of their ways need TensorFlow): networks and augmentation only.")
    helpers.start_quietly()
    source, images, labels = real_or_synthetic(args.images)
    common = {"images": len(images), "batch_size": args.batch_size,
              "data": "synthetic" if source == "synthetic" else os.path.basename(source),
              "environment": devices.environment()}
    device = "gpu" if devices.gpu_available() else "cpu"
    names = {"networks": "networks", "apis": "training_apis",
             "augmentation": f"{args.name or 'augmentation'}-{device}",
             "xla": f"{args.name or 'xla'}-{device}"}
    unlike = unlike_records(args.out, [names[part] for part in parts], common)
    if unlike and not args.replace:
        parser.error("this run would replace records of another kind: " + "; ".join(unlike)
                     + ". Set CIFAR10_PATH for real data, write elsewhere (--out), or add "
                     "--replace")
    if args.merge_with and args.only in ("networks", "apis"):
        parser.error(f"--merge-with adds to an augmentation or XLA record; --only {args.only} "
                     "writes neither")
    augmentation = {**common, "epochs": args.epochs, "ways": args.ways}
    xla = {**common, "epochs": args.epochs}
    # checked before anything is timed: a refusal after minutes of benchmarks would waste them
    merged = xla if args.only == "xla" else augmentation
    kept = earlier_rows(args.merge_with, merged, common["environment"]) if args.merge_with else {}
    if "networks" in parts:
        print(f"Training speed, batch {args.batch_size}, {len(images)} images per epoch:")
        x = data.standardize(images, *data.channel_stats(images))
        rows = bench_networks(args.networks, x, keras.utils.to_categorical(labels, 10), args.batch_size, args.epochs)
        write(args.out, "networks", {**common, "epochs": args.epochs, "networks": rows})
    if "apis" in parts:
        print(f"\nSix ways to train {args.network}:")
        rows = bench_apis(args.network, images, labels, args.batch_size, args.api_rounds)
        write(args.out, "training_apis",
              {**common, "rounds": args.api_rounds, "epochs_per_round": 2,  # the second timed
               "network": args.network, "ways": rows})
    if "augmentation" in parts:
        print(f"Augmentation and precision on the {device}, batch {args.batch_size}, "
              f"{len(images)} images per epoch:", flush=True)
        x = data.standardize(images, *data.channel_stats(images))
        bench_augmentation(args.networks, args.ways, x, keras.utils.to_categorical(labels, 10),
                           args.batch_size, args.epochs, save=lambda rows: write(
                               args.out, names["augmentation"],
                               {**augmentation, "networks": {**kept, **rows}}))
    if "xla" in parts:
        print(f"XLA off and on, on the {device}, batch {args.batch_size}, {len(images)} images "
              "per epoch:", flush=True)
        x = data.standardize(images, *data.channel_stats(images))
        bench_xla(args.networks, x, keras.utils.to_categorical(labels, 10), args.batch_size,
                  args.epochs, save=lambda rows: write(
                      args.out, names["xla"], {**xla, "networks": {**kept, **rows}}))


if __name__ == "__main__":
    sys.exit(main())
