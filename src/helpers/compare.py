"""The comparison of chapter 7, computed from the results records.

Everything chapter 7 says about the runs comes from here, so that a re-run under another
profile (or with more seeds) changes the chapter's tables *and* its sentences by itself:

- ``summarize(records)``: per network, the book's train and test accuracy over its seeds,
  with a 95 % interval for the test accuracy;
- ``merged_table(summaries)``: those beside the post's table, as a Markdown table;
- ``verdict_*``: each of the post's conclusions judged from the numbers (holds, does not
  hold, cannot be told apart from the noise, or cannot be tested at this budget);
- ``macs(model)``: multiply-accumulates per image of a built Keras model.

How an interval is made (``interval``): with one seed, only the test set's size is known to
bound the noise, and the interval is Wilson's score interval for a binomial proportion. With
two or more seeds, it is Student's t interval of the mean over seeds, widened by the test-set
term (the seeds all share one test set, so their spread does not contain its sampling
noise). Two networks are ranked only where their intervals do not overlap, a conservative
test.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import typing

import numpy as np

from helpers import devices, profiles

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal
# Student's t, 97.5 % quantile, for 1..30 degrees of freedom (beyond that, the normal's)
_T975 = (
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
    2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
    2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
    2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
)
CHANCE = 0.1  # ten classes
FIT_LEVEL = 0.9  # below this training accuracy a network has not yet fit its training images
NEAR_CHANCE = 2 * CHANCE  # below this a network has not "left chance" (the verdicts' guard)

NAMES = ("vgg16", "vgg16_bigconv", "googlenet", "resnet18")
LABELS = {"vgg16": "VGG16", "vgg16_bigconv": "VGG16-big", "googlenet": "GoogLeNet",
          "resnet18": "ResNet18"}


@dataclasses.dataclass(frozen=True)
class PostRow:
    train: float  # %, as the post reports it
    val: float  # %, "validation" in the post (most likely CIFAR-10's test set)
    epochs: int  # "about" this many


# The post's table (section 3.5.1), as reported.
POST = {
    "vgg16": PostRow(97.93, 93.04, 100),
    "vgg16_bigconv": PostRow(98.84, 85.91, 100),
    "googlenet": PostRow(99.24, 89.46, 150),
    "resnet18": PostRow(99.90, 92.70, 150),
}


# ----------------------------------------------------------------------------- intervals


def t975(df):
    """Student's t 97.5 % quantile for ``df`` degrees of freedom (two-sided 95 %)."""
    if df < 1:
        raise ValueError("a t interval needs at least two values")
    return _T975[df - 1] if df <= len(_T975) else Z95


def wilson(p, n, z=Z95):
    """Wilson's score interval for a proportion ``p`` observed on ``n`` trials."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= p <= 1:
        raise ValueError(f"p={p} is not a proportion")
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclasses.dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    sd: float | None  # sample standard deviation over its own seeds (None for one seed)
    n: int  # seeds
    method: str  # "wilson" (one seed, from the test set's size), "t" (over its own seeds)
    # or "borrowed" (with the largest spread among the networks' seeds)
    df: int = 0  # degrees of freedom of the seed spread it holds (0 for "wilson")
    spread_sd: float | None = None  # "borrowed": the spread it holds, and whose it is
    spread_from: str | None = None

    @property
    def half(self):
        """The larger of the two half-widths (Wilson's interval is not symmetric)."""
        return max(self.mean - self.low, self.high - self.mean)

    def overlaps(self, other):
        return not (self.low > other.high or other.low > self.high)


def interval(values, size):
    """95 % interval for the mean of accuracies ``values`` (one per seed) on ``size`` images."""
    values = np.asarray(values, dtype=float).reshape(-1)
    if values.size == 0:
        raise ValueError("no values")
    mean = float(values.mean())
    if values.size == 1:
        low, high = wilson(mean, size)
        return Interval(mean, low, high, None, 1, "wilson")
    sd = float(values.std(ddof=1))
    seeds = t975(values.size - 1) * sd / math.sqrt(values.size)
    test = Z95 * math.sqrt(mean * (1 - mean) / size)
    half = math.hypot(seeds, test)
    return Interval(mean, max(0.0, mean - half), min(1.0, mean + half), sd, values.size, "t",
                    values.size - 1)


def difference(a, b):
    """``a - b`` of two Intervals, with a 95 % half-width for independent estimates."""
    d = a.mean - b.mean
    half = math.hypot(a.half, b.half)
    return d, d - half, d + half


# ----------------------------------------------------------------------------- summaries


@dataclasses.dataclass(frozen=True)
class Summary:
    network: str
    runs: tuple  # run names
    seeds: tuple
    train: Interval  # last epoch's training accuracy, as fit() measured it
    test: Interval  # the whole test set, after the last epoch
    gap: tuple  # (train - test, low, high)
    epochs: int
    train_size: int
    test_size: int
    val_size: int | None
    minutes: float  # mean total training time per run
    devices: tuple

    @property
    def label(self):
        return LABELS.get(self.network, self.network)


def main_runs(records, names=NAMES):
    """The runs of each network as the post built it (no options), by seed."""
    runs = {}
    for record in records.values():
        if record["model"] in names and not record.get("options"):
            runs.setdefault(record["model"], []).append(record)
    return {name: sorted(runs[name], key=lambda r: r["seed"]) for name in names if name in runs}


def _gap(records):
    gaps = [r["train_accuracy"] - r["test_accuracy"] for r in records]
    mean = float(np.mean(gaps))
    train, test = records[0]["data"]["train_size"], records[0]["data"]["test_size"]
    p1 = float(np.mean([r["train_accuracy"] for r in records]))
    p2 = float(np.mean([r["test_accuracy"] for r in records]))
    binomial = Z95 * math.sqrt(p1 * (1 - p1) / train + p2 * (1 - p2) / test)
    if len(gaps) > 1:
        seeds = t975(len(gaps) - 1) * float(np.std(gaps, ddof=1)) / math.sqrt(len(gaps))
        half = math.hypot(seeds, binomial)
    else:
        half = binomial
    return mean, mean - half, mean + half


def summarize_network(name, records):
    """One network's Summary over ``records`` (its seeds), which must share one ``recipe``."""
    data = records[0]["data"]
    for r in records[1:]:
        if recipe(r) != recipe(records[0]):
            raise ValueError(f"{name}: the runs differ in data size, epochs or training "
                             "settings; pass them through comparable(records) first")
    return Summary(
        network=name,
        runs=tuple(r["run"] for r in records),
        seeds=tuple(r["seed"] for r in records),
        train=interval([r["train_accuracy"] for r in records], data["train_size"]),
        test=interval([r["test_accuracy"] for r in records], data["test_size"]),
        gap=_gap(records),
        epochs=records[0]["epochs"],
        train_size=data["train_size"],
        test_size=data["test_size"],
        val_size=data.get("val_size"),
        minutes=float(np.mean([r["total_seconds"] for r in records])) / 60,
        devices=tuple(sorted({devices.machine(r["environment"]) for r in records})),
    )


# profile settings that do not change how a run trains: the profile's name, whether its
# chapters train variants by default, and the per-network epochs (the record's own are used)
_NOT_RECIPE = ("name", "ablations", "epochs")


def recipe(record):
    """What a run was trained with: its data sizes, epochs and the profile's settings (those a
    record predates take their defaults). Runs are pooled or set side by side only where their
    recipes are equal."""
    data = record["data"]
    settings = _settings(profiles.from_record(record)) if record.get("hyper") else None
    return data["train_size"], data["test_size"], record["epochs"], settings


def _settings(profile):
    """The settings of ``profile`` that change how a run trains, comparable as a tuple."""
    return tuple(sorted((k, repr(v)) for k, v in dataclasses.asdict(profile).items()
                        if k not in _NOT_RECIPE))


def comparable(records, names=NAMES):
    """``(kept, left_out)``: the records that can be set side by side, and the run names of the
    rest, by the one rule every comparison here follows.

    A network's reference is the recipe of its main run with the lowest seed; its other seeds
    and its variants are kept only under that recipe (a record made under an earlier version
    of the profile, say with fewer epochs, is left out, not pooled). A record of a network with
    no main run is kept: there is nothing for it to differ from.
    """
    reference = {name: recipe(rs[0]) for name, rs in main_runs(records, names).items()}
    kept, left = {}, []
    for run, r in records.items():
        if r["model"] not in reference or recipe(r) == reference[r["model"]]:
            kept[run] = r
        else:
            left.append(run)
    return kept, left


def largest_spread(groups):
    """``(network, sd, df)``: of the networks with two or more seeds in ``groups`` (network to
    its like runs' test accuracies), the one whose seeds scatter most, its standard deviation
    and degrees of freedom; (None, None, 0) where no network has two seeds."""
    spreads = [(name, float(np.std(v, ddof=1)), len(v) - 1) for name, v in groups.items()
               if len(v) >= 2]
    return max(spreads, key=lambda s: s[1], default=(None, None, 0))


def interval_with_spread(values, size, sd, df, source=None):
    """95 % interval for the mean of ``values`` with a seed SD borrowed from elsewhere (the
    seeds of network ``source``, ``df`` their degrees of freedom); its ``sd`` stays the values'
    own (None for one), the borrowed one is ``spread_sd``.

    A network with one seed then still carries the training noise that seeds measured (how far
    a re-run with another seed could move it), not only the test set's.
    """
    values = np.asarray(values, dtype=float).reshape(-1)
    mean = float(values.mean())
    seeds = t975(df) * sd / math.sqrt(values.size)
    test = Z95 * math.sqrt(mean * (1 - mean) / size)
    half = math.hypot(seeds, test)
    own = float(values.std(ddof=1)) if values.size > 1 else None
    return Interval(mean, max(0.0, mean - half), min(1.0, mean + half), own, values.size,
                    "borrowed", df, sd, source)


# From this many seeds a network's interval uses its own seed-to-seed spread. Networks' seeds
# need not scatter alike, and at a short budget they do not: a network that leaves chance at a
# different epoch from seed to seed, or dips while its rate is high, scatters far more than one
# that does not (on the H200 under `fast`, VGG16-big's three seeds lay within 0.1 points,
# ResNet18's over 2.2). So a network with fewer seeds borrows the largest spread measured, not
# a pooled one that the steadiest network would narrow.
OWN_SPREAD_SEEDS = 3


def seed_spreads(groups):
    """``{network: (sd, df, source)}``: the seed-to-seed spread each network's intervals carry,
    and the network whose seeds it comes from.

    ``groups`` maps a network to its like runs' test accuracies. A network with
    ``OWN_SPREAD_SEEDS`` or more seeds has its own (n - 1 degrees of freedom); one with fewer
    borrows the largest spread among the networks with two or more (``largest_spread``), since
    a single run could have moved as much; (None, 0, None) where no network has two seeds.
    """
    source, sd, df = largest_spread(groups)
    return {name: (float(np.std(v, ddof=1)), len(v) - 1, name) if len(v) >= OWN_SPREAD_SEEDS
            else (sd, df, source) for name, v in groups.items()}


def summarize(records, names=NAMES):
    """``{network: Summary}`` over the main runs (all like seeds) in ``records``.

    Runs of another recipe than their network's lowest seed are left out (``comparable``;
    ``left_out(records)`` names them). A network with ``OWN_SPREAD_SEEDS`` or more seeds gets
    Student's t interval over its own seeds; one with fewer, where some network has two or more,
    carries the largest spread among those (``interval_with_spread``); with one seed
    everywhere, intervals cover the test set's noise only.
    """
    runs = main_runs(comparable(records, names)[0], names)
    summaries = {name: summarize_network(name, rs) for name, rs in runs.items()}
    accuracies = {name: [r["test_accuracy"] for r in rs] for name, rs in runs.items()}
    spreads = seed_spreads(accuracies)
    for name, s in summaries.items():
        sd, df, source = spreads[name]
        if df and len(s.seeds) < OWN_SPREAD_SEEDS:
            summaries[name] = dataclasses.replace(s, test=interval_with_spread(
                accuracies[name], s.test_size, sd, df, source))
    return summaries


def seed_runs(records, name):
    """The main runs of network ``name`` in ``records`` that share one recipe (``comparable``),
    by seed: what a chapter can set beside its own run."""
    return main_runs(comparable(records, (name,))[0], (name,)).get(name, [])


def other_seeds_text(records, record):
    """One or two sentences for a network chapter: where the other seeds of its network, under
    the same recipe, ended on the test set, so that its one run is not read as the network's
    result."""
    label = LABELS.get(record["model"], record["model"])
    runs = main_runs(records, (record["model"],)).get(record["model"], [])
    own = recipe(record)
    others = [r for r in runs if r["seed"] != record["seed"] and recipe(r) == own]
    if not others:
        return (f"This is one seed of {label}, and this profile's records hold no other of its "
                "recipe yet to show how far another would land (tools/train_runs.py trains "
                "more; chapter 7 reads them).")  # no backticks: the chapters glue it as text
    text = (f"This is one seed: other seeds of {label} under the same recipe reached "
            + _and(f"{pct(r['test_accuracy'])} % (seed {r['seed']})" for r in others)
            + " on the test set, so read one run as one draw, not as the network's result")
    if recipe(runs[0]) == own:  # the lowest seed's recipe is the one chapter 7 compares
        text += f"; chapter 7 gives the interval over all {len(others) + 1} seeds"
    return text + "."


def as_trained_text(records, record):
    """Where a recipe re-estimates its BN statistics: the test accuracy with the statistics as
    training left them, then re-estimated, for every stored seed of ``record``'s network and
    recipe, as a sentence ("" with fewer than two such seeds: one run is the chapter's own)."""
    own = recipe(record)
    runs = [r for r in main_runs(records, (record["model"],)).get(record["model"], [])
            if recipe(r) == own and r.get("test_accuracy_as_trained") is not None]
    if len(runs) < 2:
        return ""
    return (f"Over the {len(runs)} stored seeds of this recipe, the test accuracy of "
            f"{LABELS.get(record['model'], record['model'])} with the statistics as training left "
            "them, then re-estimated with dropout off, was "
            + _and(f"{pct(r['test_accuracy_as_trained'])} → {pct(r['test_accuracy'])} % "
                   f"(seed {r['seed']})" for r in runs) + ".")


def left_out(records, names=NAMES):
    """Run names that the comparisons leave out because their recipe is not their network's."""
    return comparable(records, names)[1]


# ----------------------------------------------------------------------------- formatting


def pct(x, digits=1):
    return f"{100 * x:.{digits}f}"


def points(x):
    """A difference in percentage points, signed (a proper minus sign)."""
    text = f"{100 * x:+.1f}"
    if float(text) == 0:  # no sign on a difference that rounds to nothing ("−0.0")
        return "0.0"
    return text.replace("-", "\u2212")


def sd_text(sd):
    """A standard deviation in points: one decimal, two where one would show 0.0."""
    return pct(sd, 2) if 0 < sd < 0.0005 else pct(sd)


def span(low, high):
    return f"{pct(low)} to {pct(high)} %"


def duration(minutes):
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def merged_table(summaries, post=POST):
    """The post's table and the book's runs, one row per network, as Markdown."""
    header = [
        "network", "post: train / val %", "book: train / test %", "95 % interval, test",
        "test − post val (points)", "epochs: post / book", "seeds", "time per run",
    ]
    rows = []
    for name, s in summaries.items():
        p = post.get(name)
        several = len(s.seeds) > 1
        test = pct(s.test.mean) + (f" ± {sd_text(s.test.sd)}" if several else "")
        train = pct(s.train.mean) + (f" ± {sd_text(s.train.sd)}" if s.train.sd is not None else "")
        mark = {"wilson": "ᵇ", "t": "ᵗ", "borrowed": "ˡ"}[s.test.method]
        rows.append([
            s.label,
            f"{p.train:.2f} / {p.val:.2f}" if p else "–",
            f"{train} / {test}",
            f"{pct(s.test.low)} – {pct(s.test.high)} {mark}",
            points(s.test.mean - p.val / 100) if p else "–",
            f"about {p.epochs} / {s.epochs}" if p else f"– / {s.epochs}",
            len(s.seeds),
            duration(s.minutes),
        ])
    return markdown_table(header, rows)


def table_notes(summaries):
    """What the table's marks mean, and what the book's runs were, computed from them."""
    notes = []
    methods = {s.test.method for s in summaries.values()}
    sizes = sorted({s.test_size for s in summaries.values()})
    if "wilson" in methods:
        notes.append(
            "ᵇ One seed: the interval comes from the size of the test set alone "
            f"({', '.join(f'{n:,}' for n in sizes)} images; Wilson's score interval for a "
            "binomial proportion). It does not contain the seed-to-seed spread, which one "
            "run cannot show."
        )
    if "t" in methods:
        notes.append(
            f"ᵗ {OWN_SPREAD_SEEDS} or more seeds: mean ± standard deviation over the network's own "
            "seeds; the interval is Student's t interval of the mean, widened by the test set's "
            "binomial error (nominally 95 %: t assumes that the seeds' accuracies scatter "
            "roughly normally, which a few values cannot check). Each such network has its own "
            "spread, not a pooled one: seeds need not scatter alike from network to network "
            "(compare the rows' deviations)."
        )
    if "borrowed" in methods:
        row = next(s for s in summaries.values() if s.test.method == "borrowed")
        sd, df, source = row.test.spread_sd, row.test.df, row.test.spread_from
        seeds = df + 1
        own = [s for s in summaries.values() if s.test.sd is not None]
        notes.append(
            f"ˡ Fewer than {OWN_SPREAD_SEEDS} seeds: the row carries the largest seed-to-seed "
            f"spread among the networks with two or more ({_possessive(source)} {seeds} seeds: "
            f"standard deviation {pct(sd)} points, {df} degree{'s' if df > 1 else ''} of "
            "freedom), since a network with one or two seeds could move as much with another; "
            "not a pooled spread, because networks' seeds need not scatter alike (their own "
            "deviations: " + ", ".join(f"{s.label} {sd_text(s.test.sd)}" for s in own)
            + " points). The interval is Student's t for the mean over the network's own seeds "
            "with that spread, widened by the test set's binomial error; with few degrees of "
            "freedom it is wide, because the spread itself is barely known."
        )
    devices = sorted({d for s in summaries.values() for d in s.devices})
    first = next(iter(summaries.values()), None)
    if first is not None:
        notes.append(
            f"Book: {first.train_size:,} training images, test on {first.test_size:,}; train % is "
            "the last epoch's running accuracy as `fit` reports it (augmentation and dropout "
            "on), which is most likely what the post's figure is too (it does not say). Time on "
            + "; ".join(devices) + ", as wall-clock time, which other work on the machine "
            "can move."
        )
    return notes


# ----------------------------------------------------------------------------- verdicts

HOLDS, FAILS, NOISE, UNTESTABLE = (
    "holds", "does not hold", "cannot be told apart from the noise",
    "cannot be tested at this budget",
)


@dataclasses.dataclass(frozen=True)
class Verdict:
    claim: str
    status: str
    text: str  # one or two sentences of Markdown, for the chapter's prose

    def __str__(self):
        return f"{self.claim}: {self.status}"


def _cap(text):
    return text[:1].upper() + text[1:]


def _acc(s):
    """A network's test accuracy with its interval, as prose."""
    return f"{pct(s.test.mean)} % [{pct(s.test.low)}, {pct(s.test.high)}]"


def _joined(items, word):
    """'A', 'A and B', 'A, B and C' (``word`` "and" or "or"): a list as this module's prose
    writes it."""
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _and(items):
    return _joined(items, "and")


def _possessive(name):
    label = LABELS.get(name, name)
    return label + ("'" if label.endswith("s") else "'s")


def _near_chance(*summaries):
    """The networks whose test accuracy is below twice chance (by its mean: with few seeds an
    interval's upper end can be far above a network that has not learned)."""
    return [s for s in summaries if s.test.mean < NEAR_CHANCE]


def _chance_sentence(low):
    names = _and(s.label for s in low)
    verb = "has" if len(low) == 1 else "have"
    return (
        f"{names} {verb} not left the neighbourhood of chance on the test set (below "
        f"{pct(NEAR_CHANCE, 0)} %, where chance is {pct(CHANCE, 0)} %)"
    )


def _not_fit(*summaries):
    """'VGG16 (training accuracy 51.0 %) had not yet fit its training images (...)' for those of ``summaries``
    whose last-epoch training accuracy is below FIT_LEVEL; None where all have fit."""
    unfit = [n for n in summaries if n.train.mean < FIT_LEVEL]
    if not unfit:
        return None
    names = _and(f"{n.label} (training accuracy {pct(n.train.mean)} %)" for n in unfit)
    return (f"{names} had not yet fit {'its' if len(unfit) == 1 else 'their'} training images "
            f"(below {pct(FIT_LEVEL, 0)} %)")


def verdict_bigconv(s, post=POST):
    """The post: replacing VGG16's 3x3 stacks by big convolutions costs about 7 points."""
    cost = post["vgg16"].val - post["vgg16_bigconv"].val
    claim = f"Big convolutions cost about {cost:.0f} points"
    if "vgg16" not in s or "vgg16_bigconv" not in s:
        return Verdict(claim, UNTESTABLE, "There is no record of both VGGs under this profile.")
    a, b = s["vgg16"], s["vgg16_bigconv"]
    post_d = (post["vgg16_bigconv"].val - post["vgg16"].val) / 100
    d, low, high = difference(b.test, a.test)
    value = (
        f"{points(d)} points (95 % interval {points(low)} to {points(high)}; the post: "
        f"{points(post_d)})"
    )
    measured = f"the difference VGG16-big minus VGG16 is {value}"
    low_nets = _near_chance(a, b)
    if low_nets:
        return Verdict(claim, UNTESTABLE, f"{_chance_sentence(low_nets)}, so the difference "
                       f"VGG16-big minus VGG16, {value}, compares noise with noise.")
    unfit = _not_fit(a, b)
    if unfit:  # the post's 7 points are where 100 epochs ended, not how fast each started
        reading = ("; its interval contains zero, and even a clear difference would say how fast "
                   "the two start learning, not where they end" if low <= 0 <= high else
                   ", which says how fast the two start learning, not where they end")
        return Verdict(claim, UNTESTABLE, (
            f"The post's figures are where about 100 epochs ended; here {unfit}; {measured}"
            f"{reading}."))
    if low <= 0 <= high:
        return Verdict(claim, NOISE, f"{_cap(measured)}: the interval contains zero.")
    if d > 0:
        return Verdict(claim, FAILS, f"VGG16-big does better: {measured}.")
    size = ("about the size the post saw" if low <= post_d <= high
            else "but of a different size from the post's")
    return Verdict(claim, HOLDS, f"VGG16-big does worse, {size}: {measured}.")


def verdict_googlenet_overfits(s, post=POST):
    """The post: GoogLeNet overfits markedly (train far above validation accuracy)."""
    claim = "GoogLeNet overfits"
    if "googlenet" not in s:
        return Verdict(claim, UNTESTABLE, "There is no GoogLeNet record under this profile.")
    g = s["googlenet"]
    gap, low, high = g.gap
    p = post["googlenet"]
    measured = (
        f"GoogLeNet's last-epoch training accuracy minus its test accuracy is {points(gap)} points "
        f"(95 % interval {points(low)} to {points(high)}; the post: "
        f"{points((p.train - p.val) / 100)})"
    )
    if _near_chance(g):
        return Verdict(claim, UNTESTABLE, f"{_chance_sentence([g])}; {measured}.")
    unfit = _not_fit(g)
    if unfit:
        return Verdict(claim, UNTESTABLE, f"{unfit}, so the overfitting the post saw after long "
                       f"training cannot show; {measured}.")
    if low > 0:
        return Verdict(claim, HOLDS, f"It fits its training images better than new ones: "
                       f"{measured}.")
    if high < 0:
        return Verdict(claim, FAILS, f"Not at this budget: {measured}; the training figure, "
                       "measured with augmentation and dropout on, is the lower one.")
    return Verdict(claim, NOISE, f"{_cap(measured)}: the interval contains zero.")


def tiers(summaries):
    """Networks in groups by test accuracy: each group separated from the one above it.

    Sorted by mean; a network starts a new group only if its interval lies wholly below the
    interval of every network in the current group.
    """
    ordered = sorted(summaries.values(), key=lambda s: -s.test.mean)
    groups = []
    for s in ordered:
        if groups and all(s.test.high < t.test.low for t in groups[-1]):
            groups.append([s])
        elif groups:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def ranking_text(summaries):
    """'A ahead of B and C (not separable), ahead of D', claiming only separated ranks.

    A group can hold two networks whose intervals are apart, linked through a third that
    overlaps both; such pairs are named, so that "not separable" is never said of them.
    """
    parts = []
    for group in tiers(summaries):
        names = _and(s.label for s in group)
        if len(group) == 1:
            parts.append(names)
            continue
        apart = [f"{a.label} is ahead of {b.label}" for i, a in enumerate(group)
                 for b in group[i + 1:] if a.test.low > b.test.high]
        note = ("not separable" if not apart else "not separable as a group, their intervals "
                "linked by overlaps; within it " + _and(apart) + ", the intervals apart")
        parts.append(f"{names} ({note})")
    return ", ahead of ".join(parts)


def verdict_resnet_overfits_less(s, post=POST):
    """The post: GoogLeNet overfits markedly, "while" ResNet18 (99.90 % / 92.70 %) keeps a
    smaller gap. (The post does not call ResNet18 the most accurate: its table has VGG16 above.)"""
    claim = "ResNet18 overfits less than GoogLeNet"
    if "resnet18" not in s or "googlenet" not in s:
        return Verdict(claim, UNTESTABLE, "There is no record of both GoogLeNet and ResNet18 "
                       "under this profile.")
    g, r = s["googlenet"], s["resnet18"]
    post_gap = lambda k: (post[k].train - post[k].val) / 100  # noqa: E731
    d = r.gap[0] - g.gap[0]
    half = math.hypot(r.gap[2] - r.gap[0], g.gap[2] - g.gap[0])  # two independent networks
    low, high = d - half, d + half
    measured = (
        f"ResNet18's gap (last-epoch training accuracy minus test accuracy) minus GoogLeNet's is "
        f"{points(d)} points (95 % interval {points(low)} to {points(high)}; the post: "
        f"{points(post_gap('resnet18') - post_gap('googlenet'))})"
    )
    low_nets = _near_chance(g, r)
    if low_nets:
        return Verdict(claim, UNTESTABLE, f"{_chance_sentence(low_nets)}; {measured}.")
    unfit = _not_fit(g, r)
    if unfit:
        return Verdict(claim, UNTESTABLE, (
            f"The post's gaps are where about 150 epochs ended; here {unfit}; {measured}, "
            "which says little about overfitting after long training."))
    if high < 0:
        return Verdict(claim, HOLDS, f"ResNet18's gap is the smaller: {measured}.")
    if low > 0:
        return Verdict(claim, FAILS, f"ResNet18's gap is the larger: {measured}.")
    return Verdict(claim, NOISE, f"{_cap(measured)}: the interval contains zero.")


def verdict_complex_more_accurate(s, post=POST):
    """The post: GoogLeNet and ResNet18, the more complex networks, reach higher accuracy."""
    claim = "GoogLeNet and ResNet18 are more accurate than the VGGs"
    complex_, simple = ("googlenet", "resnet18"), ("vgg16", "vgg16_bigconv")
    if not all(k in s for k in complex_ + simple):
        return Verdict(claim, UNTESTABLE, "Not all four networks have records under this profile.")
    low_nets = _near_chance(*(s[k] for k in complex_ + simple))
    if low_nets:
        return Verdict(claim, UNTESTABLE, f"{_chance_sentence(low_nets)}, so being ahead of it "
                       f"says nothing about the post's claim. By test accuracy: "
                       f"{ranking_text(s)}.")
    unfit = _not_fit(*(s[k] for k in complex_ + simple))
    if unfit:  # the post's accuracies are where 100-150 epochs ended
        return Verdict(claim, UNTESTABLE, (
            f"The post's figures are where 100 to 150 epochs ended; here {unfit}, so the order "
            f"says how fast each starts learning, not where it ends. By test accuracy: "
            f"{ranking_text(s)}."))
    pairs = [(s[c], s[v]) for c in complex_ for v in simple]
    ahead = [(c, v) for c, v in pairs if c.test.low > v.test.high]
    behind = [(c, v) for c, v in pairs if c.test.high < v.test.low]
    if behind:
        text = "; ".join(f"{v.label} is ahead of {c.label}" for c, v in behind)
        return Verdict(claim, FAILS, f"Not everywhere: {text}. By test accuracy: {ranking_text(s)}.")
    if len(ahead) == len(pairs):
        return Verdict(claim, HOLDS, "GoogLeNet and ResNet18 are each ahead of both VGGs, "
                       f"their intervals apart. By test accuracy: {ranking_text(s)}.")
    undecided = [f"{c.label} and {v.label}" for c, v in pairs if (c, v) not in ahead]
    return Verdict(claim, NOISE, "Their intervals overlap for " + "; ".join(undecided)
                   + f". By test accuracy: {ranking_text(s)}.")


def post_table_contradiction(post=POST):
    """The post's own table against its sentence that GoogLeNet and ResNet are more accurate."""
    best = max(post, key=lambda k: post[k].val)
    return best, post[best].val


VERDICTS = (verdict_bigconv, verdict_googlenet_overfits, verdict_resnet_overfits_less,
            verdict_complex_more_accurate)


def verdicts(summaries):
    return [v(summaries) for v in VERDICTS]


# ----------------------------------------------------------------------------- time and cost


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


def macs(model):
    """Multiply-accumulates per image of the Conv2D and Dense layers of a built Keras model.

    A convolution costs (output height x width x filters) x (kernel height x width x input
    channels / groups, which is the kernel's third dimension); a Dense layer, inputs x units (per position, if applied to a map).
    Batch normalisation, activations, pooling and additions are left out: they cost little
    next to these and are memory-bound rather than arithmetic-bound.
    """
    return sum(macs_by_layer(model).values())


def macs_by_layer(model):
    """``{layer name: MACs per image}`` of the Conv2D and Dense layers (see ``macs``)."""
    out = {}
    for layer in _layers(model):
        kind = type(layer).__name__
        if kind == "Conv2D":
            out[layer.name] = _conv_macs(layer)
        elif kind == "Dense":
            positions = int(np.prod(layer.output.shape[1:-1] or [1]))
            out[layer.name] = int(np.prod(layer.kernel.shape)) * positions
    return out


def macs_by_resolution(model):
    """``{height: MACs}`` of the convolutions, by the height of their output map."""
    out = {}
    for layer in _layers(model):
        if type(layer).__name__ == "Conv2D":
            h = int(layer.output.shape[1])
            out[h] = out.get(h, 0) + _conv_macs(layer)
    return dict(sorted(out.items(), reverse=True))


def _conv_macs(layer):
    kh, kw, cin, cout = layer.kernel.shape
    _, h, w, _ = layer.output.shape
    return int(h * w * cout * kh * kw * cin)  # the kernel holds in_channels / groups


def _reach(size_in, size_out, kernel, stride, padding):
    """Along one axis of a convolution: (kernel taps that ever meet an input value rather than
    padding, the sum over output positions of the taps that meet one)."""
    before = max((size_out - 1) * stride + kernel - size_in, 0) // 2 if padding == "same" else 0
    hits = [[0 <= o * stride + t - before < size_in for t in range(kernel)]
            for o in range(size_out)]
    return sum(any(column) for column in zip(*hits)), sum(map(sum, hits))


def padding_only(layer):
    """(weights of a Conv2D that only ever multiply padding, MACs per image on input values).

    With "same" padding, a kernel wider than its map has taps that meet the zero border at
    every position (a 7x7 kernel on a 2x2 map: 40 of its 49 taps): the data give their
    weights no gradient (an L2 penalty only shrinks them), they never change what the network
    computes, and their products add nothing. Assumes channels-last maps and no dilation.
    """
    if tuple(layer.dilation_rate) != (1, 1):
        raise ValueError(f"{layer.name}: padding_only does not handle dilated convolutions")
    kh, kw, cin, cout = layer.kernel.shape
    (_, hi, wi, _), (_, ho, wo, _) = layer.input.shape, layer.output.shape
    sh, sw = layer.strides
    used_h, sum_h = _reach(hi, ho, kh, sh, layer.padding)
    used_w, sum_w = _reach(wi, wo, kw, sw, layer.padding)
    return int((kh * kw - used_h * used_w) * cin * cout), int(sum_h * sum_w * cin * cout)


def _layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and not hasattr(layer, "kernel"):  # a nested model
            yield from _layers(layer)
        else:
            yield layer


# ----------------------------------------------------------------------------- structure


def structure(model):
    """What a network is made of, for comparing two of them layer kind by layer kind."""
    convs = [layer for layer in _layers(model) if type(layer).__name__ == "Conv2D"]
    relus = [layer for layer in _layers(model) if type(layer).__name__ in ("Activation", "ReLU")
             and getattr(layer, "activation", None) is not None
             and getattr(layer.activation, "__name__", "relu") == "relu"]
    followed, total = dropout_after_convs(model)
    total_macs, on_padding = macs(model), [padding_only(c) for c in convs]
    return {
        "convolutions": len(convs),
        "kernel sizes": sorted({tuple(c.kernel_size) for c in convs}),
        "ReLUs": len(relus),
        "dropout layers": sum(type(x).__name__ == "Dropout" for x in _layers(model)),
        "convolutions followed by dropout": followed,
        "parameters": model.count_params(),
        "trainable parameters": sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        "conv weights that only ever meet padding": sum(w for w, _ in on_padding),
        "MACs per image": total_macs,
        "MACs per image on image values (padding left out)": total_macs - sum(
            _conv_macs(c) - on_image for c, (_, on_image) in zip(convs, on_padding)),
    }


def dropout_after_convs(model):
    """(convolutions followed by a Dropout before the next conv/pool/dense layer, convolutions).

    Reads the layers in order, so it is meant for chains like the VGGs.
    """
    stops = ("Conv2D", "MaxPooling2D", "Dense", "GlobalMaxPooling2D", "Flatten")
    layers, followed, total = list(_layers(model)), 0, 0
    for i, layer in enumerate(layers):
        if type(layer).__name__ != "Conv2D":
            continue
        total += 1
        for after in layers[i + 1:]:
            kind = type(after).__name__
            if kind == "Dropout":
                followed += 1
                break
            if kind in stops:
                break
    return followed, total


# ----------------------------------------------------------------------------- prose


def first_epoch_text(main):
    """Each network's validation accuracy after its first epoch, beside chance's range."""
    parts, val_size = [], None
    for name, runs in main.items():
        first = [r["history"]["val_accuracy"][0] for r in runs]
        val_size = runs[0]["data"].get("val_size") or runs[0]["data"]["test_size"]
        values = _and(f"{pct(v)} %" for v in first)
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
    parts = []
    for name, rs in main.items():
        reached = [accuracy_at(r, budget) for r in rs]
        shown = _and("none yet" if a is None else f"{pct(a)} %" for a in reached)
        parts.append(f"{LABELS.get(name, name)} {shown}")
    where = ("on one machine" if len(devices) == 1
             else "on different machines, so this compares machines as well")
    text = (f"Within {budget / 60:.1f} minutes of training, the length of the shortest run "
            f"({where}), the best validation accuracy reached was: {'; '.join(parts)}.")
    # wall-clock: the machine's load moves it, as much as one network's runs differ in length
    spans = {name: [sum(r["history"]["seconds"]) / 60 for r in rs]
             for name, rs in main.items() if len(rs) > 1}
    if spans:
        name, minutes = max(spans.items(), key=lambda kv: max(kv[1]) / min(kv[1]))
        if max(minutes) > 1.1 * min(minutes):
            commits = {r["environment"].get("git_commit") for r in main[name]} - {None}
            why = "which the machine's load moves"
            if len(commits) > 1:
                why += (f", and {_possessive(name)} runs come from {len(commits)} versions of the "
                        "code, which can move them too")
            text += (f" These are wall-clock times, {why}: the same recipe took "
                     f"{LABELS.get(name, name)} {min(minutes):.1f} to {max(minutes):.1f} "
                     "minutes from run to run, so read them as rough.")
    return text + first_epoch_overhead_text(main, budget)


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
        return (_and(f"{first:.0f}" for _, first in firsts) + " s (seeds "
                + _and(str(seed) for seed, _ in firsts) + ")")

    parts = _and(f"{LABELS.get(n, n)} {firsts_text(firsts)} against {typical:.1f} s"
                 for n, (firsts, typical) in extra.items())
    shares = [min(first / budget, 1.0) for firsts, _ in extra.values() for _, first in firsts]
    if min(shares) >= 1.0:
        took = "all of it in every run"
    else:
        whole = sum(share >= 1.0 for share in shares)
        took = (f"from {100 * min(shares):.0f} % of it to " + ("all of it" if whole else
                f"{100 * max(shares):.0f} %") + f", depending on the run"
                + (f" ({whole} of the {len(shares)} runs: all of it)" if whole else ""))
    return (f" The first epoch took far longer than a typical later one ({parts}): besides "
            f"training, it compiles the training and test steps and holds the first validation "
            f"(and the first BN re-estimate, where the recipe has one). Of the "
            f"{budget / 60:.1f} minutes compared, the first epoch alone took {took}, so this "
            f"comparison ranks start-up costs as well as learning.")


class Ablation(typing.NamedTuple):
    """A variant's run beside the main run of its network with the same seed."""

    run: str
    options: dict
    seed: int
    ablation: Interval  # the variant's test accuracy
    main: Interval  # the post's network, same seed
    difference: float  # variant - main
    low: float  # 95 % interval of the difference
    high: float
    status: str  # "within the noise", "better" or "worse"
    yardstick: str  # whose seed-to-seed spread the interval holds: "of ResNet18's 3 seeds",
    # "of VGG16's 3 seeds, the largest among the networks'", or "" where no network has two


def ablations(records, names=NAMES):
    """Each run with options beside the main run of its network with the same seed.

    Returns ``Ablation`` rows. The interval of the difference holds the test set's noise of
    both runs (as independent, which is conservative for runs that share a seed and a test set)
    and, where the main runs have several seeds, the seed-to-seed spread of the network as in
    the table (``seed_spreads``), times sqrt(2): each of the two single runs could move by that
    much with another seed. Chapters 5 and 6 judge their ablations by these rows too, so that
    no chapter calls "an effect" what chapter 7 calls noise.
    """
    records = comparable(records, names)[0]
    grouped = main_runs(records, names)
    accuracies = {name: [r["test_accuracy"] for r in rs] for name, rs in grouped.items()}
    spreads = seed_spreads(accuracies)
    main = {(r["model"], r["seed"]): r for rs in grouped.values() for r in rs}
    rows = []
    for run, r in records.items():
        base = main.get((r["model"], r["seed"]))
        if not r.get("options") or base is None:
            continue
        a = interval([r["test_accuracy"]], r["data"]["test_size"])
        b = interval([base["test_accuracy"]], base["data"]["test_size"])
        d, low, high = difference(a, b)
        sd, df, source = spreads[r["model"]]
        half = math.hypot(d - low, t975(df) * sd * math.sqrt(2) if df else 0.0)
        low, high = d - half, d + half
        status = "within the noise" if low <= 0 <= high else ("better" if d > 0 else "worse")
        if not df:
            yardstick = ""
        elif source == r["model"]:
            yardstick = f"of {_possessive(r['model'])} {len(accuracies[r['model']])} seeds"
        else:
            yardstick = (f"of {_possessive(source)} {len(accuracies[source])} seeds, the largest "
                         "among the networks'")
        rows.append(Ablation(run, r["options"], r["seed"], a, b, d, low, high, status,
                             yardstick))
    return rows


def ablation_text(records, run, change):
    """The verdict on the ablation ``run`` as prose, from its row of ``ablations(records)``:
    ``change`` (what the variant does, as a noun phrase) moved the test accuracy by so much,
    and whether that is outside the noise."""
    row = next((row for row in ablations(records) if row.run == run), None)
    if row is None:
        return (f"{_cap(change)} has no run of the post's network with the same seed and "
                "recipe to be compared with, so there is no verdict.")
    noise = "both runs' test-set noise"
    if row.yardstick:
        noise += f" and the seed-to-seed spread {row.yardstick}"
    else:
        noise += (" only: no network has two seeds under this recipe yet to measure the "
                  "training noise by (`tools/train_runs.py` trains them)")
    verdict = {
        "within the noise": "it holds zero, so at this budget this is within the noise, "
                            "not a measured effect",
        "better": "it lies above zero: a measured gain at this budget",
        "worse": "it lies below zero: a measured loss at this budget",
    }[row.status]
    return (f"{_cap(change)} changed the test accuracy by {points(row.difference)} points "
            f"(seed {row.seed}: {pct(row.ablation.mean)} % against {pct(row.main.mean)} %). "
            f"The 95 % interval of that difference, which holds {noise}, runs from "
            f"{points(row.low)} to {points(row.high)} points: {verdict}.")


def ablation_table(rows):
    header = ["changed", "seed", "test %", "the post's way %", "difference (points)",
              "95 % interval", "verdict"]
    body = [[", ".join(f"`{k}={v}`" for k, v in r.options.items()), r.seed,
             pct(r.ablation.mean), pct(r.main.mean), points(r.difference),
             f"{points(r.low)} to {points(r.high)}", r.status] for r in rows]
    return markdown_table(header, body)


def speeds(bench):
    """``{network: images per second}`` from a ``make bench`` record (the book's build)."""
    if not bench:
        return {}
    return {name: row["book"]["images_per_second"] for name, row in bench["networks"].items()
            if row.get("book", {}).get("images_per_second")}


def _way_label(way):
    """'model:post mixed' -> "the post's augmentation in the model, mixed precision"."""
    place_kind, _, precision = way.partition(" ")
    if place_kind == "arrays":
        return "no augmentation (arrays)" + (f", {precision} precision" if precision else "")
    place, _, kind = place_kind.partition(":")
    text = {"post": "post's augmentation", "crop": "pad-and-crop"}.get(kind, kind)
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
    firsts, paybacks, sooner = [], [], []
    for name, row in gpu["networks"].items():
        if plain not in row or mixed not in row:
            continue
        label = LABELS.get(name, name)
        a, b = row[plain], row[mixed]
        extra = b["epoch_seconds"][0] - a["epoch_seconds"][0]
        saved = images / a["images_per_second"] - images / b["images_per_second"]
        firsts.append(f"{label} {b['epoch_seconds'][0]:.0f} s against {a['epoch_seconds'][0]:.0f} s")
        if extra <= 0:
            paybacks.append(f"{label} at once")
            continue
        if saved <= 0:
            needed, when = math.inf, "never (it is no faster)"
        else:
            needed = extra / saved
            when = (f"after about {needed:.0f} epochs" if needed <= 1000
                    else "only after more than a thousand epochs")
        paybacks.append(f"{label} {when}")
        if name in epochs and epochs[name] < needed:
            sooner.append(f"{label} ({epochs[name]} epochs)")
    if not firsts:
        return ""
    text = (f"Mixed precision also compiles longer. The bench's first epoch ({gpu['images']:,} "
            f"images), mostly compiling, took in mixed precision against float32, with the same "
            f"augmentation: {_and(firsts)}. At the speeds in the table, epochs of {images:,} "
            f"images repay that longer start for {_and(paybacks)}.")
    if sooner:
        text += (f" By these figures float32 would have finished the `fast` recipe's runs of "
                 f"{_and(sooner)} sooner on this GPU (its validation passes left out, which "
                 "mixed precision speeds up too); whether it trains them as well is a question "
                 "for trials (chapter 7).")
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
            low, high = f"{min(gains):.2f}", f"{max(gains):.2f}"
            spread = low if low == high else f"{low} to {high}"
            parts.append(f"On the {device}, mixed precision ({policy}) trained "
                         f"{_and(LABELS.get(n, n) for n in rows)} {spread} times as fast as the same "
                         f"augmentation in float32, which itself may already use the tensor cores "
                         f"as TF32 (the frameworks' default there; the record does not say).")
    cpu_rates = speeds(cpu) if cpu else {}
    shared = [n for n in rows if n in cpu_rates]
    if shared:
        compared = []
        for name in shared:  # like for like: the reference way, in float32
            rate = rows[name][ways[0]]["images_per_second"]
            compared.append(f"{LABELS.get(name, name)} {rate:,.0f} images/s against "
                            f"{cpu_rates[name]:,.0f} ({rate / cpu_rates[name]:,.0f} times)")
        cpu_env, gpu_env = cpu["environment"], gpu["environment"]
        parts.append(f"In float32 on unaugmented arrays, against the same work on the "
                     f"{cpu_env.get('cpu_cores', '?')}-core {cpu_env['device']} that `make bench` "
                     f"timed ({cpu_env.get('backend', '?')}, batch {cpu['batch_size']}; "
                     f"{gpu_env.get('backend', '?')}, batch {gpu['batch_size']} on the GPU): "
                     f"{_and(compared)}.")
    return " ".join(parts) or f"The {device} record has no way to compare."


def cost_table(built, bench=None):
    """MACs per image, where they happen, parameters, and the measured speed beside them.

    ``built``: ``{name: keras.Model}``; ``bench``: the record ``make bench`` writes
    (``results/bench/networks.json``), or None. The share of MACs is given by the size of the
    map a convolution writes: 32x32, 16x16, 8x8, and 4x4 or smaller.
    """
    header = ["network", "parameters", "MACs per image (millions)",
              "share of MACs at 32 / 16 / 8 / ≤4 px maps (%)"]
    rate = speeds(bench)
    if rate:
        header += ["images/s (measured)", "GMAC/s"]
    rows = []
    for name, model in built.items():
        total, by_h = macs(model), macs_by_resolution(model)
        shares = [by_h.get(32, 0), by_h.get(16, 0), by_h.get(8, 0),
                  sum(v for h, v in by_h.items() if h <= 4)]
        row = [LABELS.get(name, name), f"{model.count_params():,}", f"{total / 1e6:.0f}",
               " / ".join(f"{100 * v / total:.0f}" for v in shares)]
        if rate:
            speed = rate.get(name)
            row += [f"{speed:.1f}", f"{total * speed / 1e9:.1f}"] if speed else ["–", "–"]
        rows.append(row)
    return markdown_table(header, rows)


SAME_RATE = 1.25  # MAC rates within this factor of each other count as "one rate"


def speed_text(cost, bench):
    """What the measured speeds say beside the MAC counts (``cost``: ``{name: MACs}``)."""
    rate = speeds(bench)
    common = [n for n in cost if n in rate]
    if len(common) < 2:
        return "There is no benchmark record to set beside the MAC counts."
    gmacs = {n: cost[n] * rate[n] / 1e9 for n in common}
    low, high = min(gmacs.values()), max(gmacs.values())
    device = bench["environment"].get("device", "this machine")
    text = (f"On {device} the networks ran at {low:.1f} to {high:.1f} billion "
            "multiply-accumulates per second. ")
    if high / low <= SAME_RATE:
        text += ("That is close to one rate for networks of very different shapes, so here the "
                 "MAC count predicts their relative speed.")
    else:
        text += (f"The fastest rate is {high / low:.1f} times the slowest, so on this device "
                 "the MAC count alone does not predict speed: how well each layer shape uses "
                 "the hardware matters too.")
    complex_, simple = ("googlenet", "resnet18"), ("vgg16", "vgg16_bigconv")
    if all(n in rate for n in complex_ + simple):
        fastest_simple = max(rate[n] for n in simple)
        slowest_complex = min(rate[n] for n in complex_)
        if slowest_complex > fastest_simple:
            text += (" On this device, per image, the networks the post calls complex, "
                     "GoogLeNet and ResNet18, are both faster than either VGG.")
        else:
            text += (" On this device, per image, the networks the post calls complex are not "
                     "both faster than the VGGs.")
        text += (" Another device can rank them otherwise: what is fast on one depends on how "
                 "well its layer shapes use that hardware.")
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
    text += (f" All ratios fall on one side of 1: the book's build was {100 * low:.0f} to "
             f"{100 * high:.0f} % {'faster' if faster else 'slower'}")
    if again is not None and (again <= 1 if faster else again >= 1):
        text += ", which VGG16's longer timing did not repeat, so a difference is not established."
    elif spread is not None and high <= 2 * spread:
        text += (", no more than twice what one network's epochs vary, so one short run per "
                 "network does not establish a difference.")
    else:
        text += ", more than one network's epochs vary."
    return text


def structure_table(built):
    """``structure`` of each model in ``built`` (``{name: keras.Model}``), one column each."""
    facts = {name: structure(model) for name, model in built.items()}
    rows = []
    for key in next(iter(facts.values())):
        cells = []
        for f in facts.values():
            value = f[key]
            if key == "kernel sizes":
                value = ", ".join(f"{h}x{w}" for h, w in value)
            elif isinstance(value, int) and value >= 10_000:
                value = f"{value:,}"
            cells.append(value)
        rows.append([key, *cells])
    return markdown_table(["", *(LABELS.get(n, n) for n in built)], rows)


def recipe_text(record, epochs=None):
    """The training recipe a record names, in the words of ``profiles.describe`` (``epochs``,
    a phrase, in place of the record's own epoch count)."""
    if not record.get("hyper"):
        return "not recorded"
    profile = profiles.from_record(record)
    if record["hyper"].get("dtype_policy"):  # what "auto" precision became on that machine
        profile = dataclasses.replace(profile, precision=record["hyper"]["dtype_policy"])
    return profiles.describe(profile, record["model"], epochs)


def or_list(values):
    """'30', '30 or 33', '30, 33 or 50'."""
    return _joined(values, "or")


def seeds_text(summaries):
    """'3 seeds each' or 'GoogLeNet 2 seeds, the others 1', from the summaries."""
    counts = {s.label: len(s.seeds) for s in summaries.values()}
    if not counts:
        return "no runs"
    if len(set(counts.values())) == 1:
        n = next(iter(counts.values()))
        return "one seed per network" if n == 1 else f"{n} seeds per network"
    return ", ".join(f"{label}: {n} seed{'s' if n > 1 else ''}" for label, n in counts.items())


def most_scattered(main):
    """The network whose seeds' test accuracies spread most (sample standard deviation), or
    ``None`` where no network has two seeds; ``main`` maps each network to its runs."""
    spreads = {name: float(np.std([r["test_accuracy"] for r in runs], ddof=1))
               for name, runs in main.items() if len(runs) > 1}
    return max(spreads, key=spreads.get) if spreads else None


def drew_coupled_augmentation(record):
    """Whether ``record``'s run gave the post's augmentation layers one seed between them, so
    that its flips and rotations drew the same numbers (before ``data.layer_seeds``)."""
    hyper = record.get("hyper", {})
    return (bool(hyper.get("augment")) and hyper.get("augmentation", "post") == "post"
            and "augmentation_seeds" not in hyper)


def augmentation_seeds_text(records):
    """How many of ``records`` (a dict of records) trained with coupled flips and rotations."""
    coupled = sum(map(drew_coupled_augmentation, records.values()))
    if not coupled:
        return "every run here drew each augmentation layer from a seed of its own."
    if coupled == len(records):
        share = "the one run here was" if coupled == 1 else f"all {coupled} runs here were"
    else:
        share = f"{coupled} of the {len(records)} runs here were"
    return (f"{share} trained while the augmentation layers shared the run's seed, so that an "
            "image was flipped exactly when it was rotated clockwise (chapter 2): half the "
            "combinations of the post's augmentation. What that cost them is not measured; a "
            "re-run trains with independent draws.")


def _trial_order(records):
    """(file name, record) pairs in the book's network order, then seed, then file name."""
    return sorted(records.items(), key=lambda kv: (
        NAMES.index(kv[1]["model"]) if kv[1]["model"] in NAMES else len(NAMES), kv[1]["model"],
        kv[1]["seed"], kv[0]))


def is_current_recipe(record):
    """Whether ``record`` was trained with its profile's recipe as it stands today (settings and
    the network's epochs): a trial of a recipe that has since been retuned tests another one."""
    return not recipe_differences(record)


# how recipe_differences names a setting (others: the field's name, with spaces)
_SETTING_NAMES = {"batch_size": "batch", "learning_rate": "learning rate", "weight_decay": "L2",
                  "bn_momentum": "BN momentum", "bn_recalibration": "BN re-estimate images",
                  "warmup_epochs": "warm-up epochs", "augment_in": "augmentation in"}


def recipe_differences(record):
    """How ``record``'s recipe differs from its profile's today, as phrases ("batch 128 instead
    of 512"), epochs first; [] for today's recipe. Settings a record predates count as their
    defaults (``profiles.from_record``)."""
    today = profiles.PROFILES[record["profile"]]  # by name: $BOOK_PROFILE must not stand in
    then = profiles.from_record(record)
    wanted = today.epochs.get(record["model"])
    found = [] if record["epochs"] == wanted else [f"{record['epochs']} epochs instead of {wanted}"]
    for field in dataclasses.fields(today):
        was, now = getattr(then, field.name), getattr(today, field.name)
        numbers = _is_number(was, now)
        if field.name in _NOT_RECIPE or (math.isclose(was, now) if numbers else was == now):
            continue  # 2 and 2.0 are the same setting
        name = _SETTING_NAMES.get(field.name, field.name.replace("_", " "))
        # :g reads best, unless it would print two different values alike
        shown = (f"{was:g}", f"{now:g}") if numbers else (repr(was), repr(now))
        if shown[0] == shown[1]:
            shown = (repr(was), repr(now))
        found.append(f"{name} {shown[0]} instead of {shown[1]}")
    return found


def _is_number(*values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _setting(record):
    env, hyper = record["environment"], record["hyper"]
    policy = hyper.get("dtype_policy") or env.get("precision", "?")
    if policy == "float32" and env.get("float32_products") == "tf32":
        policy += " (TF32 products)"  # the GPU's default (devices.float32_products)
    return f"{env.get('backend', '?')}, {policy}"


# a fall of training accuracy from its best so far larger than this is called a collapse
COLLAPSE = 0.05


def collapse_text(record):
    """'its training accuracy fell from 80.4 % (epoch 21) to 59.8 % (epoch 23) ...', or "" where
    it never fell more than ``COLLAPSE`` below its best so far."""
    acc = np.asarray(record["history"]["accuracy"], dtype=float)
    best = np.maximum.accumulate(acc)
    trough = int(np.argmax(best - acc))
    if best[trough] - acc[trough] <= COLLAPSE:
        return ""
    peak = int(np.argmax(acc[:trough + 1]))
    return (f"its training accuracy fell from {pct(acc[peak])} % (epoch {peak + 1}) to "
            f"{pct(acc[trough])} % (epoch {trough + 1}) and ended at {pct(acc[-1])} %")


def trial_table(trials, post=POST):
    """Trials of a GPU profile's recipe (``results.save_trial``), one row per run."""
    header = ["run (record)", "recipe: today's, or how it differs", "epochs: post / trial",
              "training images", "test %", "95 % interval (test set)", "post val %",
              f"aim: post − {profiles.FAST_AIM_MARGIN:g}",
              "time", "on", "Keras backend, precision"]
    rows = []
    for name, r in _trial_order(trials):
        p, acc = post.get(r["model"]), r["test_accuracy"]
        low, high = wilson(acc, r["data"]["test_size"])
        label = f"{LABELS.get(r['model'], r['model'])}, seed {r['seed']} (`{name}`)"
        rows.append([
            label, "; ".join(recipe_differences(r)) or "today's",
            f"about {p.epochs} / {r['epochs']}" if p else f"– / {r['epochs']}",
            f"{r['data']['train_size']:,}", pct(acc, 2), f"{pct(low)} – {pct(high)}",
            f"{p.val:.2f}" if p else "–",
            f"{p.val - profiles.FAST_AIM_MARGIN:.2f}" if p else "–",
            duration(r["total_seconds"] / 60), devices.machine(r["environment"]), _setting(r),
        ])
    return markdown_table(header, rows)


def aim_verdict(record, post=POST, each=False):
    """Where a run of the post's network stands against the ``fast`` recipe's aim (the post's
    validation accuracy less FAST_AIM_MARGIN), judged by its Wilson interval (one seed: the test
    set's noise only); ``each``: said of several runs that all stand there."""
    aim = (post[record["model"]].val - profiles.FAST_AIM_MARGIN) / 100
    low, high = wilson(record["test_accuracy"], record["data"]["test_size"])
    if low > aim:
        verdict = "{each}above the recipe's aim of {aim} %, beyond the test set's noise"
    elif high < aim:
        verdict = "{each}short of the recipe's aim of {aim} %, beyond the test set's noise"
    elif each:
        verdict = "the recipe's aim of {aim} % lies inside each run's interval, so none can say " \
                  "whether it is met"
    else:
        verdict = "the recipe's aim of {aim} % lies inside its interval, so one run cannot say " \
                  "whether it meets it"
    return verdict.format(aim=pct(aim, 2), each="each " if each else "")


def aims_text(main, post=POST, names=NAMES):
    """The ``fast`` profile's own runs (``main``: network to its runs) against the recipe's aim,
    one sentence per network (its seeds' accuracies, and each run's verdict, said once where
    they agree), and the networks that have none."""
    sentences = []
    for name, runs in main.items():
        devices_ = sorted({r["environment"].get("device", "?") for r in runs})
        accuracies = _and(f"{pct(r['test_accuracy'], 2)}" for r in runs) + " %"
        seeds = (f"seed {runs[0]['seed']}" if len(runs) == 1
                 else "seeds " + _and(str(r["seed"]) for r in runs))
        verdicts = [aim_verdict(r, post) for r in runs]
        if len(set(verdicts)) == 1:
            verdict = aim_verdict(runs[0], post, each=len(runs) > 1)
        else:
            verdict = "; ".join(f"seed {r['seed']} {v}" for r, v in zip(runs, verdicts))
        epochs = or_list(sorted({r["epochs"] for r in runs}))
        sentences.append(f"{LABELS.get(name, name)} ({', '.join(devices_)}) reached "
                         f"{accuracies} ({seeds}) after {epochs} epochs: {verdict}.")
    text = " ".join(sentences) if sentences else "There is no record of this recipe yet."
    missing = [LABELS[n] for n in names if n not in main]
    if missing and sentences:
        text += f" No record of {_and(missing)} yet."
    return text


def todays_runs(model, device, own):
    """The runs of today's recipe in ``own`` (run name to record) of the post's ``model`` on
    ``device``, by seed: what a trial of a changed recipe there is set against. One run per
    seed: the first ``own`` holds (a profile's record before a trial of the same seed)."""
    by_seed = {}
    for r in own.values():
        if (r["model"] == model and not r.get("options") and is_current_recipe(r)
                and r["environment"].get("device") == device):
            by_seed.setdefault(r["seed"], r)
    return [by_seed[seed] for seed in sorted(by_seed)]


def todays_text(runs):
    """Today's recipe's runs on one device (``todays_runs``) in a sentence."""
    device = runs[0]["environment"].get("device", "?")
    values = [r["test_accuracy"] for r in runs]
    if len(runs) == 1:
        return (f"Today's recipe ({device}): {pct(values[0], 2)} % (seed "
                f"{runs[0]['seed']}, one run).")
    return (f"Today's recipe ({device}): {pct(float(np.mean(values)), 2)} % on average "
            f"over seeds {_and(str(r['seed']) for r in runs)} ({_and(pct(v, 2) for v in values)}"
            f" %; standard deviation {sd_text(float(np.std(values, ddof=1)))} points).")


def against_todays_text(trial, own, spread=None):
    """How a trial that changed the recipe compares with today's recipe for the same network
    on the same device (``own``: run name to record; ``todays_runs``), as sentences; "" where
    there is nothing to set it against.

    As in the table, today's runs carry their own seed-to-seed spread from
    ``OWN_SPREAD_SEEDS`` seeds on; with fewer, ``spread`` (sd, df, source network), the largest
    spread of today's recipe on that device, where given. The trial's one run carries that
    spread in full (taking the changed recipe to scatter alike), today's mean its share. With
    one run of today's recipe and no spread, only the two runs' test-set noise counts, and
    today's run must share the trial's seed. The test set's noise enters both arms as if
    independent, which overstates it for one shared test set.
    """
    runs = todays_runs(trial["model"], trial["environment"].get("device"), own)
    if not recipe_differences(trial) or not runs:
        return ""
    values = [r["test_accuracy"] for r in runs]
    if spread is None or len(runs) >= OWN_SPREAD_SEEDS:  # the table's rule, for this network
        spread = seed_spreads({trial["model"]: values})[trial["model"]]
    sd, df, source = spread
    if not df and runs[0]["seed"] != trial["seed"]:  # no spread: only the same seed compares
        return ""
    size = trial["data"]["test_size"]
    base_size = runs[0]["data"]["test_size"]
    what = "today's mean" if len(runs) > 1 else "today's run"
    if df:
        d, low, high = difference(interval_with_spread([trial["test_accuracy"]], size, sd, df),
                                  interval_with_spread(values, base_size, sd, df))
        whose = ("their own" if source == trial["model"] and len(runs) > 1
                 else f"{_possessive(source)}, the largest of today's recipe on this device")
        against = f"one run against a mean of {len(runs)}" if len(runs) > 1 else "two single runs"
        noise = (f"the noise of {against} (a seed-to-seed spread of {sd_text(sd)} points, "
                 f"{whose}, and the test set's), taking the changed recipe to scatter as today's "
                 "does")
    else:
        d, low, high = difference(interval([trial["test_accuracy"]], size),
                                  interval(values, base_size))
        what = "today's run of the same seed"
        noise = ("the two runs' test-set noise (the spread from seed to seed, which one run "
                 "each cannot show, is not in it)")
    verdict = f"within {noise}" if low <= 0 <= high else (
        ("higher" if low > 0 else "lower") + f" beyond {noise}")
    text = (f"Against {what}: {points(d)} points (95 % interval {points(low)} to "
            f"{points(high)}), {verdict}.")
    left = trial["hyper"].get("left_out_per_epoch", 0)
    alike = [r for r in runs if r["hyper"].get("left_out_per_epoch", 0) == left]
    if len(alike) < len(runs):  # not a change of the recipe, but a change all the same
        fed = (f"whole batches ({left:,} training images left out each epoch)" if left
               else "every training image each epoch")
        unlike = [r for r in runs if r not in alike]

        def seeds(rs):
            return ("seed " if len(rs) == 1 else "seeds ") + _and(str(r["seed"]) for r in rs)

        text += (f" It was fed {fed}, " + (f"like today's {seeds(alike)} but not {seeds(unlike)}."
                                           if alike else "unlike today's runs."))
    return text


def _spreads_by_device(own):
    """``{(device, network): (sd, df, source)}``: the seed-to-seed spread each network's runs
    of today's recipe on each device carry, by the table's rule (``seed_spreads``), from
    ``own``'s runs there (one per seed, as ``todays_runs`` takes them)."""
    groups = {}
    for device, name in {(r["environment"].get("device"), r["model"]) for r in own.values()
                         if not r.get("options") and is_current_recipe(r)}:
        groups.setdefault(device, {})[name] = [
            r["test_accuracy"] for r in todays_runs(name, device, own)]
    return {(device, name): spread for device, by_network in groups.items()
            for name, spread in seed_spreads(by_network).items()}


def trial_text(trials, post=POST, own=None):
    """The trials as Markdown, one block per network: the post's figure and the recipe's aim,
    today's recipe on each device the network's trials ran on (``own``'s records, and trials of
    today's recipe itself), then a bullet per trial: its accuracy against the aim (its Wilson
    interval: one run, the test set's noise only) and, where it changed the recipe, against
    today's recipe (``against_todays_text``)."""
    if not trials:
        return ("No trial of the recipe is recorded: `python tools/train_runs.py --profile "
                "fast --seeds 0 --networks googlenet --trial` makes one (about an hour on "
                "two cores; on a GPU, with `--set` to change a setting).")
    baselines = dict(own or {})
    baselines.update({f"trial {name}": r for name, r in trials.items()
                      if not r.get("options") and is_current_recipe(r)})
    spreads = _spreads_by_device(baselines)
    blocks = []
    for model, group in itertools.groupby(_trial_order(trials), key=lambda kv: kv[1]["model"]):
        group = list(group)
        label, p = LABELS.get(model, model), post.get(model)
        head = f"**{label}.**"
        if p and any(not r.get("options") for _, r in group):  # a variant has no aim
            head += (f" The post reports {p.val:.2f} % after about {p.epochs} epochs; the recipe "
                     f"aims at {p.val - profiles.FAST_AIM_MARGIN:.2f} %.")
        for device in dict.fromkeys(r["environment"].get("device") for _, r in group):
            runs = todays_runs(model, device, baselines)
            if runs:
                head += " " + todays_text(runs)
        bullets = []
        for name, r in group:
            changed = recipe_differences(r)
            acc = r["test_accuracy"]
            low, high = wilson(acc, r["data"]["test_size"])
            what = _cap("; ".join(changed)) if changed else "Today's recipe"
            bullet = (f"{what} (seed "
                      f"{r['seed']}, {r['environment'].get('device', '?')}, `{name}`): "
                      f"{pct(acc, 2)} % (95 % interval {span(low, high)}) after {r['epochs']} "
                      f"epochs, {duration(r['total_seconds'] / 60)} of training")
            if p and not r.get("options"):  # the aim is the post's network's, not a variant's
                bullet += f"; {aim_verdict(r, post)}"
            bullet += "."
            spread = spreads.get((r["environment"].get("device"), model))
            against = against_todays_text(r, baselines, spread)
            if against:
                bullet += " " + against
            collapse = collapse_text(r)
            if collapse:
                bullet += f" On the way, {collapse}."
            bullets.append(bullet)
        blocks.append(head + "\n\n" + "\n".join(f"- {b}" for b in bullets))
    seeds = ("Each trial is one run, so its own interval holds the test set's noise only, and "
             "another seed could move it further; its comparison with today's recipe holds the "
             "spread from seed to seed only where it says so (the seed spreads of the `cpu` "
             "profile belong to another recipe and budget, and do not transfer).")
    return "\n\n".join(blocks) + "\n\n" + seeds


# ----------------------------------------------------------------------------- chapter 4's controls

# The controls, by the name ``tools/train_runs.py --controls`` takes: (model, options)
CONTROLS = {
    "thirteen_big": ("vgg16", {"stage_kernels": [5, 5, 7, 7, 7]}),  # kernel kept, depth changed
    "five_3x3": ("vgg16_bigconv", {"stage_kernels": [3, 3, 3, 3, 3]}),  # depth kept, kernel changed
}
# (label, model, options): VGG16-big's two changes, one at a time
CONTROL_ARMS = (
    ("VGG16: 13 layers, 3x3", "vgg16", {}),
    ("13 layers, 5x5/7x7", *CONTROLS["thirteen_big"]),
    ("5 layers, 3x3", *CONTROLS["five_3x3"]),
    ("VGG16-big: 5 layers, 5x5/7x7", "vgg16_bigconv", {}),
)


def _options(record):
    return {k: list(v) if isinstance(v, (list, tuple)) else v
            for k, v in (record.get("options") or {}).items()}


def control_arms(records):
    """``{label: Interval of test accuracy}`` for the arms of chapter 4's experiment present.

    Only seeds that every present arm shares are used, so that the arms are paired by seed, and
    only runs of VGG16-big's recipe (its lowest seed's), so that arms trained under another
    recipe of the same profile are not compared with it.
    """
    return _arm_intervals(_control_runs(records))


def _arm_intervals(arm_runs):
    return {label: interval([r["test_accuracy"] for r in runs], runs[0]["data"]["test_size"])
            for label, runs in arm_runs.items()}


def _control_runs(records):
    """``{label: [records by seed]}``: the runs ``control_arms`` compares (see there)."""
    records = comparable(records)[0]
    reference = main_runs(records, ("vgg16_bigconv",)).get("vgg16_bigconv")
    if reference:
        records = {run: r for run, r in records.items() if recipe(r) == recipe(reference[0])}
    found = {}
    for label, model, options in CONTROL_ARMS:
        runs = [r for r in records.values() if r["model"] == model and _options(r) == options]
        if runs:
            found[label] = {r["seed"]: r for r in runs}
    if not found:
        return {}
    shared = sorted(set.intersection(*(set(runs) for runs in found.values())))
    return {label: [runs[s] for s in shared] for label, runs in found.items() if shared}


def controls_text(records):
    """What chapter 4's controlled experiment shows in ``records``: one or two sentences."""
    arm_records = _control_runs(records)
    arms = _arm_intervals(arm_records)
    labels = [label for label, _, _ in CONTROL_ARMS]
    a, d, c, b = (arms.get(label) for label in labels)
    if not (c or d):
        return ("No controlled runs are in this profile's records yet, so the kernel size and "
                "the depth cannot be told apart here: `python tools/train_runs.py --controls` "
                "trains them (on a GPU, with the `fast` profile).")
    if any(arm and arm.mean < NEAR_CHANCE for arm in arms.values()):
        return ("The controlled runs are in the records, but at least one arm has not left "
                "chance at this budget, so they cannot separate kernel size from depth.")
    comparisons = (
        # (what is held fixed, what changes, the changed arm, the reference arm)
        ("At five layers", "the big kernels", b, c),
        ("At thirteen layers", "the big kernels", d, a),
        # depth cannot change alone: the five-layer arms also have VGG16-big's ReLUs, its
        # dropout after every convolution and its pools (chapter 4 lists the differences)
        ("With 3x3 kernels", "going from VGG16's 13 layers to VGG16-big's five-layer layout",
         c, a),
        ("With the big kernels",
         "going from VGG16's 13 layers to VGG16-big's five-layer layout", b, d),
    )
    parts = []
    for fixed, change, changed, reference in comparisons:
        if changed and reference:
            diff, low, high = difference(changed, reference)
            sign = "cannot be told apart from the noise" if low <= 0 <= high else (
                "cost" if diff < 0 else "gained")
            parts.append(f"{fixed}, {change} {sign}: {points(diff)} points "
                         f"(95 % interval {points(low)} to {points(high)})")
    if not parts:
        return "Too few arms of the experiment are in the records."
    seeds = next(iter(arms.values())).n
    arm_runs = [r for runs in arm_records.values() for r in runs]
    unfit = [r for r in arm_runs if r.get("train_accuracy", 1.0) < FIT_LEVEL]
    if unfit:
        which = ("no run of any arm had fit its" if len(unfit) == len(arm_runs)
                 else "some runs had not fit their")
        parts.append(f"At this budget {which} training images (training accuracy below "
                     f"{pct(FIT_LEVEL, 0)} %), so these differences say how fast each starts "
                     "learning, not where it would end")
    missing = [label for label, _, _ in CONTROL_ARMS if label not in arms]
    if missing:
        several = len(missing) > 1
        parts.append(f"No record of the arm{'s' if several else ''} "
                     + _and(f"“{label}”" for label in missing)
                     + f" (`tools/train_runs.py --controls` trains {'them' if several else 'it'}), "
                     f"so the comparisons that need {'them' if several else 'it'} are left out")
    noise = ("One seed per arm: each interval holds the test set's noise only, not how far another "
             "seed could move a run (chapter 7 measures that spread)." if seeds == 1 else
             f"{seeds} seeds per arm, matched by seed; each interval holds their spread and the "
             "test set's noise, treating the arms as independent (usually the wider choice: a seed "
             "draws the same training images for every arm).")
    return ". ".join(parts) + ". " + noise
