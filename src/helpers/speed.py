"""What the runs and benchmarks say about time (chapters 1 and 7).

A first epoch and what compiling costs in it, accuracy at equal training time, throughput by
way of feeding the network and by precision, when mixed precision repays its start-up, and
multiply-accumulates set against measured speed.
"""

from __future__ import annotations

import math
import typing

import numpy as np

from helpers import profiles
from helpers.architecture import macs, macs_by_resolution
from helpers.data import CHANCE
from helpers.devices import machine, precision_name
from helpers.models import LABELS, NAMES, book_order
from helpers.stats import Z95
from helpers.wording import (and_list, by_code_version, code_version, markdown_table, pct,
                             possessive, short_commit)


def accuracy_at(record, seconds, key="val_accuracy"):
    """The best ``key`` a run had reached by ``seconds`` of training (None before epoch 1)."""
    elapsed = np.cumsum(record["history"]["seconds"])
    reached = [a for a, t in zip(record["history"][key], elapsed) if t <= seconds + 1e-9]
    return max(reached) if reached else None


def by_device(records):
    """``{device: {run: record}}``: runs timed on different machines are not compared."""
    out = {}
    for run, record in records.items():
        out.setdefault(record["environment"].get("device", "?"), {})[run] = record
    return out


def first_epoch_text(main):
    """Each network's validation accuracy after its first epoch, beside chance's range."""
    parts, val_size = [], None
    for name, runs in main.items():
        first = [r["history"]["val_accuracy"][0] for r in runs]
        val_size = runs[0]["data"].get("val_size") or runs[0]["data"]["test_size"]
        values = and_list(f"{pct(v)} %" for v in first)
        parts.append(f"{LABELS.get(name, name)} {values}")
    if not parts:
        return "There are no runs to read."
    # where a guesser's accuracy on val_size images falls in 95 % of cases (binomial)
    spread = Z95 * math.sqrt(CHANCE * (1 - CHANCE) / val_size)
    return (f"After the first epoch the validation accuracy was: {'; '.join(parts)} (on "
            f"{val_size:,} images, where a guess at chance lands between "
            f"{pct(CHANCE - spread)} and {pct(CHANCE + spread)} % in 95 % of cases).")


def compiling_text(main):
    """Where a run recorded its compile time (JAX: ``devices.compile_seconds``), how much of its
    first epoch that was, per network (its lowest seed with the figure); "" where none did."""
    parts = []
    for name, runs in main.items():
        r = next((r for r in runs if r.get("compile_seconds")), None)
        if r is None:
            continue
        seconds, compiled = r["history"]["seconds"], r["compile_seconds"]
        later = float(np.median(seconds[1:])) if len(seconds) > 1 else None
        step = (f", {compiled['train_step']:.0f} s of it its training step"
                if "train_step" in compiled else "")
        parts.append(
            f"{LABELS.get(name, name)} (seed {r['seed']}) {compiled['total']:.0f} s{step}, "
            f"against a first epoch of {seconds[0]:.0f} s" + (
                f" and {later:.1f} s for each later one" if later is not None else ""))
    if not parts:
        return ""
    return ("The first epoch is mostly compiling: XLA, through JAX, took " + "; ".join(parts)
            + ". Each new model compiles its steps afresh, and a batch of another shape "
            "compiles them again (hence whole batches on JAX).")


def equal_time_text(main):
    """The best validation accuracy each network had reached by the shortest run's length."""
    runs = [r for rs in main.values() for r in rs]
    if not runs:
        return "There are no runs to read."
    devices = {r["environment"].get("device", "?") for r in runs}
    budget = min(sum(r["history"]["seconds"]) for r in runs)
    items = []
    for name, rs in main.items():
        shown = and_list(f"seed {r['seed']} " + (
            f"{pct(a)} %" if (a := accuracy_at(r, budget)) is not None else
            f"no epoch finished (its first took {r['history']['seconds'][0]:.0f} s)") for r in rs)
        items.append(f"- {LABELS.get(name, name)}: {shown}")
    where = ("on one machine" if len(devices) == 1
             else "on different machines, so this compares machines as well")
    reading = (f"Within {budget / 60:.1f} minutes of training, the length of the shortest run "
               f"({where}), the best validation accuracy each run reached:\n\n"
               + "\n".join(items))
    rough = ""
    # wall-clock: the machine's load moves it, as much as one network's runs differ in length
    spans = {name: [sum(r["history"]["seconds"]) / 60 for r in rs]
             for name, rs in main.items() if len(rs) > 1}
    if spans:
        name, minutes = max(spans.items(), key=lambda kv: max(kv[1]) / min(kv[1]))
        if max(minutes) > 1.1 * min(minutes):
            versions = by_code_version(main[name])
            why = "which the machine's load moves"
            if len(versions) > 1:
                why += (f", as does the version of the code ({possessive(name)} runs come from "
                        f"{len(versions)} versions of it, named below)")
            rough = (f"These are wall-clock times, {why}: the same recipe took "
                     f"{LABELS.get(name, name)} {min(minutes):.1f} to {max(minutes):.1f} "
                     "minutes from run to run, so read them as rough.")
    versions = code_versions_text(main)
    # Markdown blocks: the reading (a list), how rough it is, the versions it spans, what the
    # first epochs weigh
    return "\n\n".join(part for part in (reading, rough, versions,
                                          first_epoch_overhead_text(main, budget).strip()) if part)


def code_versions_text(main):
    """Where the runs come from more than one version of the code: which runs each version
    trained, and, for a network with runs from several, its typical later epoch under each
    (a version can change how long an epoch takes, which a time comparison would read as the
    network's); "" for one version."""
    by_commit = {}  # version -> network -> seeds
    for name, rs in main.items():
        for version, runs in by_code_version(rs).items():
            by_commit.setdefault(version, {})[name] = [r["seed"] for r in runs]
    if len(by_commit) < 2:
        return ""

    def seeds(ss):
        return ("seed " if len(ss) == 1 else "seeds ") + and_list(str(x) for x in sorted(ss))

    groups = []
    for commit, names in by_commit.items():
        by_seeds = {}  # networks with the same seeds named together
        for name, ss in names.items():
            by_seeds.setdefault(tuple(sorted(ss)), []).append(LABELS.get(name, name))
        groups.append(f"{commit} (" + "; ".join(f"{and_list(labels)}, {seeds(ss)}"
                                                for ss, labels in by_seeds.items()) + ")")
    text = (f"The runs come from {len(by_commit)} versions of the code: {and_list(groups)}.")
    typical = []
    for name, rs in main.items():
        epochs = {version: [s for r in runs for s in r["history"]["seconds"][1:]]
                  for version, runs in by_code_version(rs).items()}
        epochs = {version: later for version, later in epochs.items() if later}
        if len(epochs) > 1:
            typical.append(f"{LABELS.get(name, name)} " + " against ".join(
                f"{float(np.median(v)):.2f} s ({c})" for c, v in epochs.items()))
    if typical:
        text += (" A typical later epoch took " + "; ".join(typical) + ": times set side by side "
                 "across versions compare the code as well as the networks.")
    return text


def first_epoch_overhead_text(main, budget):
    """A sentence where the first epochs' extra time (compiling, mostly) weighs on ``budget``:
    each run's first epoch, by seed, against a typical later one of its network's runs."""
    extra = {}
    for name, rs in main.items():
        timed = [r for r in rs if len(r["history"]["seconds"]) > 2]
        if timed:
            typical = float(np.median([s for r in timed for s in r["history"]["seconds"][1:]]))
            extra[name] = ([(r["seed"], r["history"]["seconds"][0]) for r in timed], typical)
    # on a GPU the step is compiled in the first epoch, which can outlast many later ones
    if not extra or max(first - typical for firsts, typical in extra.values()
                        for _, first in firsts) < 0.2 * budget:
        return ""

    def firsts_text(firsts):
        if len(firsts) == 1:
            return f"{firsts[0][1]:.0f} s"
        return (and_list(f"{first:.0f}" for _, first in firsts) + " s (seeds "
                + and_list(str(seed) for seed, _ in firsts) + ")")

    items = "\n".join(f"- {LABELS.get(n, n)}: {firsts_text(firsts)} against {typical:.1f} s"
                      for n, (firsts, typical) in extra.items())
    later = ("the median of a network's later epochs, over all its runs, of any version"
             if any(len(by_code_version(rs)) > 1 for rs in main.values())
             else "the median of a network's later epochs")
    shares = [min(first / budget, 1.0) for firsts, _ in extra.values() for _, first in firsts]
    if min(shares) >= 1.0:
        took = "all of it in every run"
    else:
        whole = sum(share >= 1.0 for share in shares)
        took = (f"from {100 * min(shares):.0f} % of it to " + ("all of it" if whole else
                f"{100 * max(shares):.0f} %") + ", depending on the run"
                + (f" ({whole} of the {len(shares)} runs: all of it)" if whole else ""))
    return (f"The first epoch took far longer than a typical later one ({later}):\n\n"
            f"{items}\n\nBesides training, the first epoch compiles the training and test steps "
            f"and holds the first validation (and the first BN re-estimate, where the recipe has "
            f"one). Of the {budget / 60:.1f} minutes compared, it alone took {took}, so this "
            f"comparison ranks start-up costs as well as learning.")


def one_of_each_text(main, aim_minutes, names=NAMES):
    """The latest run of each network in ``names`` (by its record's date) from the newest
    version of the code that has a run of every one (else the latest of each, of any version),
    their training times added up and their first epochs' part, against ``aim_minutes`` for one
    run of each on one H200-class GPU; a verdict only where those runs share one device and one
    version of the code (a version can change an epoch's time); "" unless every network has a
    run."""
    if any(name not in main for name in names):
        return ""

    def date(record):
        return record["environment"].get("date", "")

    # a later run of one network under newer code must not undo a complete set of an older one
    versions = {}
    for n in names:
        for version, runs in by_code_version(main[n]).items():
            versions.setdefault(version, {})[n] = runs
    complete = [v for v, by_net in versions.items() if len(by_net) == len(names)]
    pool = (max((versions[v] for v in complete),
                key=lambda by_net: max(date(r) for rs in by_net.values() for r in rs))
            if complete else main)
    latest = {n: max(pool[n], key=date) for n in names}
    runs = list(latest.values())
    total = sum(r["total_seconds"] for r in runs) / 60
    # a record holds at least one epoch (results.validate refuses none)
    first = sum(r["history"]["seconds"][0] for r in runs) / 60
    slowest = max(names, key=lambda n: latest[n]["history"]["seconds"][0])
    devices = {machine(r["environment"]) for r in runs}
    where = f" on the {next(iter(devices))}" if len(devices) == 1 else ""
    each = and_list(f"{LABELS.get(n, n)} {r['total_seconds']:.0f} s (seed {r['seed']}, code "
                    f"{code_version(r)}" + ("" if where else f", {machine(r['environment'])}")
                    + ")" for n, r in latest.items())
    text = ("The latest run of each network"
            + (" from one version of the code" if complete and len(versions) > 1 else "")
            + f" took {total:.1f} minutes of training added "
            f"up{where}: {each}. Each ran in a process of its own and paid its own start in its "
            f"first epoch, which includes compiling (not timed apart in these records), the "
            f"first validation and the first BN re-estimate; the first epochs make up "
            f"{first:.1f} minutes of the total (the longest, {possessive(slowest)}, "
            f"{latest[slowest]['history']['seconds'][0]:.0f} s).")
    aim = f"aim of {aim_minutes:g} minutes for one run of each on one H200-class GPU"
    versions = by_code_version(runs)
    if len(versions) > 1 or len(devices) > 1:
        spread = and_list(([f"{len(versions)} versions of the code"] if len(versions) > 1 else [])
                          + ([f"{len(devices)} devices"] if len(devices) > 1 else []))
        return (text + f" These runs come from {spread}, so they do not set the recipe as it "
                f"stands against its {aim}: one run of each from one version on one device "
                "would.")
    verdict = "within" if total <= aim_minutes else "over"
    return text + f" Against the recipe's {aim}, these runs are {verdict} it."


def xla_text(record):
    """What ``benchmarks/bench.py --only xla`` measured (``record``), as sentences: each
    network's images per second with XLA on against off, and its first epoch both ways."""
    if not record:
        return ("There is no record of XLA on and off yet (`benchmarks/bench.py --only xla` "
                "makes one).")
    env = record["environment"]
    # in the book's order, whichever run (a merged record keeps earlier ones) timed each
    rows = {n: record["networks"][n] for n in sorted(record["networks"], key=book_order)}
    dates = sorted({(r.get("timed_by") or env).get("date", "?")[:10] for r in rows.values()})
    images = ("real CIFAR-10" if record.get("data") != "synthetic" else "SYNTHETIC stand-in")
    rates = and_list(
        f"{LABELS.get(n, n)} {r['xla_on']['images_per_second']:,.0f} against "
        f"{r['xla_off']['images_per_second']:,.0f} (x{r['ratio_xla_on_to_off']:.2f})"
        for n, r in rows.items())
    firsts = and_list(
        f"{LABELS.get(n, n)} {r['xla_on']['first_epoch_seconds']:.0f} against "
        f"{r['xla_off']['first_epoch_seconds']:.0f} s" for n, r in rows.items())
    faster = [n for n, r in rows.items() if r["ratio_xla_on_to_off"] > 1]
    untimed = [LABELS[n] for n in NAMES if n not in rows]  # a run stopped at a time limit
    joined = separate_calls_text(rows, env)
    verdict = ("XLA was the faster for every network" if len(faster) == len(rows) else
               "XLA was the slower for every network" if not faster else
               f"XLA was the faster for {and_list(LABELS.get(n, n) for n in faster)} only")
    return (f"On the {machine(env)}, {env.get('backend', '?')} {env.get('backend_version', '')}"
            f", batch {record['batch_size']}, {record['images']:,} {images} images an epoch "
            f"(`benchmarks/bench.py --only xla`, {and_list(dates)}), images per second "
            f"with XLA against without (the median of {record['epochs'] - 1} timed epochs each, "
            f"the two taking turns): {rates}. {verdict}. The first epoch, which traces the step "
            f"and, with XLA, compiles it, took {firsts}. One run per network, so read ratios "
            "within a few per cent of 1 as a tie."
            + (" " + joined if joined else "")
            + (f" Not timed: {and_list(untimed)}." if untimed else ""))


def stored_cpu_hours_text(records, network="vgg16", epochs=100, images=50_000):
    """What the stored CPU benchmark records give for ``epochs`` epochs of ``network`` on
    ``images`` images, each on the CPU it names: ``records`` maps a description of the way
    timed to ``(record, way)`` (``networks.json``'s "book", ``xla-cpu.json``'s "xla_off");
    "" where none holds the network."""
    found = []
    for label, (record, way) in records.items():
        rate = speeds(record, way).get(network)
        if rate:
            env = record["environment"]
            device = env.get("device", "?").removeprefix("CPU: ")
            found.append(f"about {epochs * images / rate / 3600:.0f} hours on the {device} with "
                         f"{env.get('cpu_cores', '?')} cores ({rate:.0f} images/s; {label}, "
                         f"batch {record['batch_size']})")
    if not found:
        return ""
    return (f"The stored benchmark records put {epochs} epochs of {LABELS.get(network, network)} "
            f"at {and_list(found)}. CPUs under one model name still differ, and so does what "
            "else the machine ran at the time.")


def _timed(bench, way=None):
    """``(network, entry)`` of a ``make bench`` record: the book's build in a networks record;
    ``way`` (default ``"arrays"``: float32, unaugmented) in an augmentation record, which times
    each network several ways."""
    for name, row in (bench or {}).get("networks", {}).items():
        entry = row.get("book") or row.get(way or "arrays") or {}
        if entry.get("images_per_second"):
            yield name, entry


def speeds(bench, way=None):
    """``{network: images per second}`` of a ``make bench`` record (``_timed``'s entries)."""
    return {name: entry["images_per_second"] for name, entry in _timed(bench, way)}


def speed_ranges(bench, way=None):
    """``{network: (lowest, highest) images per second}`` over the timed epochs of ``speeds``'
    entries (the first epoch, which compiles, left out): how far one record's figure can be read."""
    found = {}
    for name, entry in _timed(bench, way):
        timed = entry.get("epoch_seconds", [])[1:]
        if entry.get("range_images_per_second"):
            found[name] = tuple(entry["range_images_per_second"])
        elif timed:  # every epoch of a record trains on its `images`
            found[name] = (bench["images"] / max(timed), bench["images"] / min(timed))
        else:
            found[name] = (entry["images_per_second"],) * 2
    return found


PIPELINE_UNRECORDED = (
    "No stored record measures a pipeline beside the model on a GPU yet (on a GPU, `python "
    "benchmarks/bench.py --only augmentation --name pipeline --networks resnet18 --ways arrays "
    "model:crop pipeline:crop` makes one). The book's choice to augment inside the model on a "
    "GPU rests on Keras' own advice for accelerators and on a measurement that was not stored, "
    "so this book quotes none.")


def pipeline_text(bench, unrecorded=PIPELINE_UNRECORDED):
    """What a ``bench.py --only augmentation --ways arrays model:crop pipeline:crop`` record
    says of the two places for augmentation, per network; ``unrecorded`` (by default, what the
    GPU lacks) without one."""
    if not bench:
        return unrecorded
    env, sentences = bench["environment"], []
    ranges = {way: speed_ranges(bench, way) for way in ("model:crop", "pipeline:crop")}
    for name, row in bench["networks"].items():
        if not all(way in row for way in ("arrays", *ranges)):
            continue
        pipe, model = row["pipeline:crop"], row["model:crop"]
        text = (f"{LABELS.get(name, name)} trained at {pipe['ratio_to_arrays']:.2f}x the speed "
                f"of unaugmented arrays with pad-and-crop in the input pipeline "
                f"({pipe['images_per_second']:,.0f} images/s) and at "
                f"{model['ratio_to_arrays']:.2f}x with it inside the model")
        # the ranges of one record's timed epochs: a place is called faster only beyond them
        if ranges["pipeline:crop"][name][1] < ranges["model:crop"][name][0]:
            text += ", so inside the model was the faster place there"
        elif ranges["model:crop"][name][1] < ranges["pipeline:crop"][name][0]:
            text += ", so the pipeline was the faster place there"
        else:
            text += ", which this record's timed epochs do not tell apart"
        sentences.append(text)
    if not sentences:
        return unrecorded
    return (f"On {machine(env)} ({env.get('backend', '?')}, float32, batch "
            f"{bench['batch_size']}, {bench['images']:,} images an epoch, one run), "
            + "; ".join(sentences) + ".")


def largest_epoch_spread(bench):
    """How far one network's timed epochs (the first, compiling, left out) varied in ``bench``
    at most, over its networks and ways: the slowest over the fastest, less 1; None if none."""
    spreads = [max(timed) / min(timed) - 1
               for row in (bench or {}).get("networks", {}).values()
               for entry in row.values() if isinstance(entry, dict)
               for timed in [entry.get("epoch_seconds", [])[1:]] if len(timed) > 1]
    return max(spreads, default=None)


class SpeedColumn(typing.NamedTuple):
    """One device's (or way's) measured speeds, for ``cost_table`` and ``speed_text``."""
    heading: str
    description: str
    rates: dict  # {network: images/s}, the record's figure (a median over timed epochs)
    ranges: dict  # {network: (lowest, highest) images/s} over the timed epochs


def speed_column(bench, way=None):
    """A ``SpeedColumn`` of one device's measured speeds, named by device, backend, way of
    training and batch."""
    env = bench["environment"]
    way = (way or "arrays") if "ways" in bench else "arrays"
    policy = next((row[way].get("dtype_policy") for row in bench["networks"].values()
                   if way in row), None) if "ways" in bench else env.get("precision")
    place_kind, _, mixed = way.partition(" ")
    precision = "mixed precision" if mixed else precision_name(policy or "float32", env)
    fed = ("unaugmented arrays" if place_kind == "arrays"
           else _way_label(place_kind).replace(" (arrays)", ""))
    setting = f"{env.get('backend', '?')}, {precision}, {fed}, batch {bench['batch_size']}"
    device = machine(env)
    return SpeedColumn(f"images/s on {device}: {setting}", f"{device}, with {setting}",
                       speeds(bench, way), speed_ranges(bench, way))


def _way_label(way):
    """'model:post mixed' -> "cifar-vgg's augmentation in the model, mixed precision" (the
    shifts, flips and rotations of the code the post builds on; the post shows none)."""
    place_kind, _, precision = way.partition(" ")
    if place_kind == "arrays":
        return "no augmentation (arrays)" + (f", {precision} precision" if precision else "")
    place, _, kind = place_kind.partition(":")
    text = {"post": "cifar-vgg's augmentation", "crop": "pad-and-crop"}.get(kind, kind)
    text += {"model": " in the model", "pipeline": " in the pipeline"}.get(place, f" ({place})")
    return text + (f", {precision} precision" if precision else "")


def augmentation_table(bench):
    """A ``make bench --only augmentation`` record as a Markdown table: per network, the images
    per second of each way it timed, and each way's ratio to the record's reference, its first
    way (unaugmented arrays by default: the ``fast`` profile's target is augmented training at
    0.9x of them or better)."""
    ways = bench["ways"]
    header = ["network"] + [_way_label(way) + (" (reference)" if way == ways[0] else "")
                            for way in ways]
    body = []
    for name, row in bench["networks"].items():
        base = row[ways[0]]["images_per_second"]
        cells = []
        for way in ways:
            rate = row[way]["images_per_second"]
            cells.append(f"{rate:,.0f}" + (f" (x{rate / base:.2f})" if way != ways[0] else ""))
        body.append([LABELS.get(name, name)] + cells)
    return markdown_table(header, body)


def _payback_epochs(extra, *saved):
    """After how many epochs ``saved`` seconds an epoch (least, median, most) repay ``extra``."""
    least, median, most = saved

    def epochs(per_epoch):
        return math.inf if per_epoch <= 0 else extra / per_epoch

    if least <= 0 < most:  # the timed epochs overlap: no speed-up shown, nor its absence
        return (f"at best after about {epochs(most):.0f} epochs, perhaps never (its timed "
                "epochs overlap float32's)")
    if median <= 0:
        return "never (it is no faster)"
    if epochs(median) > 1000:
        return "only after more than a thousand epochs"
    low, high = epochs(most), epochs(least)
    spread = ("" if high == low else
              f" ({low:.0f} to {'never' if math.isinf(high) else f'{high:.0f}'})")
    return f"after about {epochs(median):.0f} epochs{spread}"


def mixed_precision_payback_text(gpu, epochs=None, images=50000):
    """From a GPU record of ``make bench --only augmentation``: how much longer mixed
    precision's first epoch (mostly compiling) took than float32's with the same augmentation,
    and after how many epochs of ``images`` images its speed repays that, against ``epochs``
    (network to epochs: the ``fast`` recipe's by default). "" where the record has no pair."""
    if not gpu:
        return ""
    ways = gpu["ways"]
    pairs = [(w.removesuffix(" mixed"), w) for w in ways
             if w.endswith(" mixed") and w.removesuffix(" mixed") in ways]
    if not pairs:
        return ""
    plain, mixed = pairs[0]
    epochs = epochs or profiles.PROFILES["fast"].epochs
    # each way's slowest and fastest timed epoch, as images per second (GPU epochs vary a lot)
    plain_ranges, mixed_ranges = speed_ranges(gpu, plain), speed_ranges(gpu, mixed)
    reference = ways[0]  # the ways take turns in one process: the reference's epoch comes first
    cold_reference = reference not in (plain, mixed) and not reference.endswith(" mixed")
    firsts, paybacks, sooner, undecided = [], [], [], []
    for name, row in gpu["networks"].items():
        if plain not in row or mixed not in row:
            continue
        label = LABELS.get(name, name)
        a, b = row[plain], row[mixed]
        extra = b["epoch_seconds"][0] - a["epoch_seconds"][0]
        firsts.append(f"{label} {b['epoch_seconds'][0]:.0f} s against {a['epoch_seconds'][0]:.0f} s")
        if extra <= 0:
            paybacks.append(f"{label} at once")
            continue
        # seconds an epoch of `images` saves, from the medians and from the timed epochs'
        # extremes: mixed at its fastest against float32 at its slowest, and the reverse
        (a_low, a_high), (b_low, b_high) = plain_ranges[name], mixed_ranges[name]
        saved = images / a["images_per_second"] - images / b["images_per_second"]
        most, least = images / a_low - images / b_high, images / a_high - images / b_low
        # float32 is said to finish sooner only where even mixed precision's best case (its
        # fastest epochs against float32's slowest) repays the start too late
        best = max(saved, most)
        needed = extra / best if best > 0 else math.inf
        paybacks.append(f"{label} {_payback_epochs(extra, least, saved, most)}")
        # and only where it holds against float32's cold first epoch too (the reference way's,
        # which came first in the process), since the warm one favours float32
        cold_extra = (b["epoch_seconds"][0] - row[reference]["epoch_seconds"][0]
                      if cold_reference and reference in row else extra)
        needed_cold = max(cold_extra, 0) / best if best > 0 else math.inf
        if name in epochs and epochs[name] < needed:
            (sooner if epochs[name] < needed_cold else undecided).append(
                f"{label} ({epochs[name]} epochs)")
    if not firsts:
        return ""
    text = (f"Mixed precision also compiles longer. The bench's first epoch ({gpu['images']:,} "
            f"images), mostly compiling, took in mixed precision against float32, with the same "
            f"augmentation: {and_list(firsts)}. At the speeds in the table, epochs of {images:,} "
            f"images repay that longer start for {and_list(paybacks)}."
            + (" The figures in brackets come from the timed epochs' extremes: mixed "
               "precision's fastest against float32's slowest, and the reverse."
               if any(" to " in payback for payback in paybacks) else ""))
    colds = [f"{LABELS.get(n, n)} {row[reference]['epoch_seconds'][0]:.0f} s"
             for n, row in gpu["networks"].items()
             if cold_reference and reference in row and plain in row and mixed in row]
    if colds:  # the ways take turns epoch by epoch in one process: the reference's comes first
        text += (f" These figures favour float32: its first epoch came after the first epoch of "
                 f"another float32 way, {_way_label(reference)}, in the same process, which may "
                 f"have left it compiled pieces and tuned kernels, while mixed precision's "
                 f"kernels started cold; that first way's own first epoch took "
                 f"{and_list(colds)}.")
    if sooner:
        text += (f" By these figures, even at mixed precision's best, float32 would have "
                 f"finished the `fast` recipe's runs of {and_list(sooner)} sooner on this GPU "
                 "(its validation passes left out, which mixed precision speeds up too); a run "
                 "of its own, from a cold start, would say; whether it trains them as well is a "
                 "question for trials (chapter 7).")
    if undecided:
        text += (f" Whether float32 would have finished the `fast` recipe's runs of "
                 f"{and_list(undecided)} sooner turns on which float32 first epoch is set against "
                 "mixed precision's: it would against the warm one, not against the cold one "
                 "(which compiled no augmentation, so it too favours float32 a little).")
    return text


def gpu_speed_text(gpu, cpu=None):
    """What a GPU record of ``make bench --only augmentation`` says, in two sentences: how much
    mixed precision gained over float32 there, and how many times the CPU's speed in ``cpu`` (a
    ``make bench`` networks record, the book's build) its reference way (float32, no
    augmentation) ran each network at, if given."""
    if not gpu:
        return "There is no GPU benchmark record yet."
    ways, rows = gpu["ways"], gpu["networks"]
    mixed = [w for w in ways if w.endswith(" mixed")]
    device = gpu["environment"]["device"]
    parts = []
    if mixed:  # each mixed way against the same way in float32
        gains = [row[w]["images_per_second"] / row[w.removesuffix(" mixed")]["images_per_second"]
                 for row in rows.values() for w in mixed if w.removesuffix(" mixed") in row]
        if gains:
            policy = next(iter(rows.values()))[mixed[0]].get("dtype_policy", "mixed precision")
            float32 = (precision_name("float32", gpu["environment"])
                       if "float32_products" in gpu["environment"] else
                       "float32, which itself may already use the tensor cores as TF32 (the "
                       "frameworks' default there; the record does not say)")
            low, high = f"{min(gains):.2f}", f"{max(gains):.2f}"
            spread = low if low == high else f"{low} to {high}"
            parts.append(f"On the {device}, mixed precision ({policy}) trained "
                         f"{and_list(LABELS.get(n, n) for n in rows)} {spread} times as fast as the same "
                         f"augmentation in {float32}.")
    cpu_rates = speeds(cpu) if cpu else {}
    shared = [n for n in rows if n in cpu_rates]
    if shared:
        compared = []
        for name in shared:  # like for like: the reference way, in float32
            rate = rows[name][ways[0]]["images_per_second"]
            compared.append(f"{LABELS.get(name, name)} {rate:,.0f} images/s against "
                            f"{cpu_rates[name]:,.0f} ({rate / cpu_rates[name]:,.0f} times)")
        cpu_env, gpu_env = cpu["environment"], gpu["environment"]
        parts.append(f"In float32 on unaugmented arrays, against comparable work on the "
                     f"{cpu_env.get('cpu_cores', '?')}-core {cpu_env['device']} that `make bench` "
                     f"timed ({cpu_env.get('backend', '?')}, batch {cpu['batch_size']}; "
                     f"{gpu_env.get('backend', '?')}, batch {gpu['batch_size']} on the GPU): "
                     f"{and_list(compared)}.")
    joined = separate_calls_text(rows, gpu["environment"])
    if joined:
        parts.append(joined)
    return " ".join(parts) or f"The {device} record has no way to compare."


def separate_calls_text(rows, env):
    """Where a record extended in later calls (``bench.py --merge-with``) joins networks timed
    by different versions of the code, which version timed which, as a sentence; "" else.
    ``rows``: network to its row (``timed_by`` where an earlier call timed it); ``env``: the
    record's own environment, that of the latest call."""
    commits = {}
    for name, row in rows.items():
        commit = (row.get("timed_by") or env).get("git_commit")
        commits.setdefault(short_commit(commit), []).append(LABELS.get(name, name))
    if len(commits) < 2:
        return ""
    return ("The record joins networks timed in separate calls: "
            + "; ".join(f"{and_list(names)} by the code at {commit}"
                        for commit, names in commits.items()) + ".")


def cost_table(built, columns=()):
    """MACs per image, where they happen, parameters, and measured speeds beside them.

    ``built``: ``{name: keras.Model}``; ``columns``: ``speed_column`` results, one per device
    (or way) timed. The share of MACs is given by the size of the map a convolution writes:
    32x32, 16x16, 8x8, and 4x4 or smaller.
    """
    header = ["network", "parameters", "MACs per image (millions)",
              "share of MACs at 32 / 16 / 8 / ≤4 px maps (%)"]
    header += [column.heading for column in columns]
    rows = []
    for name, model in built.items():
        total, by_h = macs(model), macs_by_resolution(model)
        shares = [by_h.get(32, 0), by_h.get(16, 0), by_h.get(8, 0),
                  sum(v for h, v in by_h.items() if h <= 4)]
        row = [LABELS.get(name, name), f"{model.count_params():,}", f"{total / 1e6:.0f}",
               " / ".join(f"{100 * v / total:.0f}" for v in shares)]
        row += [(f"{c.rates[name]:,.0f}" if c.rates[name] >= 1000 else f"{c.rates[name]:,.1f}")
                if name in c.rates else "–" for c in columns]
        rows.append(row)
    return markdown_table(header, rows)


SAME_RATE = 1.25  # MAC rates within this factor of each other count as "one rate"
COMPLEX, SIMPLE = ("googlenet", "resnet18"), ("vgg16", "vgg16_bigconv")  # the post's words


def sizes_text(params, macs_per_image):
    """Whether the post's "simpler" VGGs are the smaller networks, by parameters and by
    multiply-accumulates per image (``{network: count}`` each, all four networks)."""
    def millions(counts, names):
        return and_list(f"{counts[n] / 1e6:.1f}" for n in names) + " million"

    counts = {"parameters": params, "multiply-accumulates per image": macs_per_image}
    larger = [what for what, c in counts.items()
              if min(c[n] for n in SIMPLE) > max(c[n] for n in COMPLEX)]
    smaller = [what for what, c in counts.items()
               if max(c[n] for n in SIMPLE) < min(c[n] for n in COMPLEX)]
    figures = "; ".join(
        f"{what}: {and_list(LABELS[n] for n in SIMPLE)} {millions(c, SIMPLE)}, "
        f"{and_list(LABELS[n] for n in COMPLEX)} {millions(c, COMPLEX)}"
        for what, c in counts.items())
    which = "the VGGs, of \"lower complexity\" in the post's words,"
    if len(larger) == len(counts):
        verdict = f"By both counts {which} are the larger networks"
    elif len(smaller) == len(counts):
        verdict = f"By both counts {which} are the smaller networks"
    else:
        verdict = f"By these counts {which} are neither all larger nor all smaller"
    return (f"{verdict} ({figures}). What they have less of is structure: one path from input "
            "to output, without GoogLeNet's parallel branches or ResNet's shortcuts, which may "
            "be what the post means.")


def _macs_rate(value):
    """A rate of multiply-accumulates per second in words: '42.8 billion', '28.5 trillion'."""
    return f"{value / 1e12:.1f} trillion" if value >= 1e12 else f"{value / 1e9:.1f} billion"


def _complex_against_simple(ranges):
    """Whether the networks the post calls complex were slower or faster per image than both
    VGGs in every timed epoch (``ranges``: ``speed_ranges``): one record's epochs are all it
    has, so a network whose epochs overlap the VGGs' is not ranked against them."""
    simple_low = min(ranges[n][0] for n in SIMPLE)
    simple_high = max(ranges[n][1] for n in SIMPLE)
    side = {n: "slower" if ranges[n][1] < simple_low else
            "faster" if ranges[n][0] > simple_high else None for n in COMPLEX}
    if len(set(side.values())) == 1 and None not in side.values():
        return (f" Per image, the networks the post calls complex, GoogLeNet and ResNet18, were "
                f"both {side[COMPLEX[0]]} there than either VGG in every timed epoch.")
    if all(v is None for v in side.values()):
        return (" Per image, neither GoogLeNet nor ResNet18 was faster or slower there than both "
                "VGGs in every timed epoch, so this record does not rank the complex networks "
                "against the simple ones.")
    parts = []
    for n, v in side.items():
        low, high = ranges[n]
        if v:
            parts.append(f"{LABELS[n]} was {v} than either VGG in every timed epoch")
        elif any(low <= ranges[s][1] and ranges[s][0] <= high for s in SIMPLE):
            parts.append(f"{LABELS[n]}'s timed epochs overlap the VGGs'")
        else:  # between the two VGGs, touching neither
            parts.append(f"{LABELS[n]} fell between the two VGGs")
    return f" Per image there, {' and '.join(parts)}."


def speed_text(cost, columns):
    """What each device's measured speeds (``speed_column`` results) say beside the MAC counts
    (``cost``: ``{name: MACs}``): the rate of forward multiply-accumulates per second of
    training, and whether the networks the post calls complex are faster per image there."""
    sentences = []
    for column in columns:
        device, rate = column.description, column.rates
        common = [n for n in cost if n in rate]
        if len(common) < 2:
            continue
        macs_rate = {n: cost[n] * rate[n] for n in common}
        low, high = min(macs_rate.values()), max(macs_rate.values())
        text = f"On {device}: {_macs_rate(low)} to {_macs_rate(high)} a second"
        if high / low <= SAME_RATE:
            text += (", close to one rate for networks of very different shapes, so there the "
                     "MAC count predicts their relative speed.")
        else:
            text += (f"; the fastest rate is {high / low:.1f} times the slowest, so there the MAC "
                     "count alone does not predict speed.")
        if all(n in rate for n in COMPLEX + SIMPLE):
            text += _complex_against_simple(column.ranges)
        sentences.append(text)
    if not sentences:
        return "There is no benchmark record to set beside the MAC counts."
    intro = ("A network's MACs per image times its images per second give the forward-pass "
             "multiply-accumulates a device did per second of training (training also runs the "
             "backward pass, about twice the forward's arithmetic, so the hardware did about "
             "three times as much).")
    text = intro + " By device:\n\n" + "\n".join(f"- {s}" for s in sentences)
    if len(sentences) > 1:
        text += ("\n\nHow well a device suits each layer shape, and not the MAC count, sets the "
                 "rates, so devices can rank the networks differently.")
    return text


def post_style_text(bench, longer=None):
    """The book's build against the post's (``benchmarks/post_style.py``): is there a gap?

    ``longer``: an earlier record that timed VGG16 alone with more epochs per way, if any.
    """
    ratios = [row["ratio_to_post_style"] for row in (bench or {}).get("networks", {}).values()
              if "ratio_to_post_style" in row]
    if not ratios:
        return "There is no benchmark of the post's way of building the networks."
    vgg = bench["networks"].get("vgg16", {}).get("book", {}).get("epoch_seconds", [])[1:]
    spread = max(vgg) / min(vgg) - 1 if vgg else None
    text = (f"The speed ratio, the book's way over the post's, ranged from {min(ratios):.2f} "
            f"to {max(ratios):.2f}")
    if vgg:
        text += (f"; one network's timed epochs alone varied by {100 * spread:.0f} % (VGG16's, "
                 f"built the book's way, took {min(vgg):.1f} to {max(vgg):.1f} s)")
    text += "."
    again = longer["networks"]["vgg16"]["ratio_to_post_style"] if longer else None
    if again is not None:
        text += (f" VGG16 timed alone in an earlier benchmark, with more epochs per way, came "
                 f"out at {again:.2f}.")
    if min(ratios) <= 1 <= max(ratios):
        return text + " The ratios fall on both sides of 1: no difference stands out from the noise."
    faster = min(ratios) > 1
    low, high = sorted(abs(r - 1) for r in (min(ratios), max(ratios)))
    text += (f" In this record all ratios fall on one side of 1, the book's build timing "
             f"{100 * low:.0f} to {100 * high:.0f} % {'faster' if faster else 'slower'}")
    if again is not None and (again <= 1 if faster else again >= 1):
        text += ("; VGG16's longer timing did not repeat that, so a difference is not "
                 "established.")
    elif spread is not None and high <= 2 * spread:
        text += (", no more than twice what one network's epochs vary, so one short run per "
                 "network does not establish a difference.")
    else:
        text += ": more than twice what one network's epochs vary."
    return text
