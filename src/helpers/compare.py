"""The comparison of chapter 7, computed from the results records.

Everything chapter 7 says about the runs comes from here, so that a re-run under another
profile (or with more seeds) changes the chapter's tables *and* its sentences by itself:

- ``summarize(records)``: per network, the book's train and test accuracy over its seeds,
  with a 95 % interval for the test accuracy;
- ``merged_table(summaries)``: those beside the post's table, as a Markdown table;
- ``verdict_*``: each of the post's conclusions judged from the numbers (holds, does not
  hold, cannot be told apart from the noise, or cannot be tested at this budget);
- ``ablation_text``, ``controls_text``: a variant's run against its network's, chapter 4's
  controls against VGG16 and VGG16-big.

The chapter's other concerns have modules of their own: ``helpers.stats`` (how an interval
is made), ``helpers.wording`` (how numbers are written), ``helpers.architecture`` (MACs,
structure), ``helpers.speed`` (time) and ``helpers.trials`` (trials of a recipe).
"""

from __future__ import annotations

import dataclasses
import math
import typing

import numpy as np

from helpers import devices, profiles
from helpers.data import CHANCE, CLASSES
from helpers.models import CONTROLS, LABELS, NAMES
from helpers.stats import (OWN_SPREAD_SEEDS, Interval, Z95, difference, interval,
                           interval_with_spread, largest_spread, paired_change_interval,
                           seed_spreads, t975)
from helpers.wording import (and_list, by_code_version, capitalized, code_version, duration,
                             markdown_table, pct, points, possessive, sd_text, seeds_phrase)

FIT_LEVEL = 0.9  # below this training accuracy a network has not yet fit its training images
NEAR_CHANCE = 2 * CHANCE  # below this a network has not "left chance" (the verdicts' guard)


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
    gap_spread_from: str | None = None  # whose seeds' spread of the gap it borrows, if any
    # the test accuracy on the BN statistics training left, where the recipe re-estimates them
    # (the post's way of scoring); over the network's own seeds, from OWN_SPREAD_SEEDS on only
    test_as_trained: Interval | None = None
    code_versions: tuple = ()  # the version of the code behind each seed, in ``seeds``' order
    # training images each seed's epochs left out (whole batches only, on JAX), in that order
    left_out: tuple = ()

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


def _gap(records, spread=None):
    """(mean, low, high) of last-epoch training accuracy minus test accuracy over ``records``
    (a network's seeds): both accuracies' binomial noise and the seeds' spread of the gap, their
    own from ``OWN_SPREAD_SEEDS`` seeds on, else ``spread`` = (sd, df) where given."""
    gaps = [r["train_accuracy"] - r["test_accuracy"] for r in records]
    mean = float(np.mean(gaps))
    train, test = records[0]["data"]["train_size"], records[0]["data"]["test_size"]
    p1 = float(np.mean([r["train_accuracy"] for r in records]))
    p2 = float(np.mean([r["test_accuracy"] for r in records]))
    binomial = Z95 * math.sqrt(p1 * (1 - p1) / train + p2 * (1 - p2) / test)
    sd, df = (float(np.std(gaps, ddof=1)), len(gaps) - 1) if len(gaps) > 1 else (None, 0)
    if spread and spread[1] and len(gaps) < OWN_SPREAD_SEEDS:
        sd, df = spread
    seeds = t975(df) * sd / math.sqrt(len(gaps)) if df else 0.0
    half = math.hypot(seeds, binomial)
    return mean, mean - half, mean + half


def summarize_network(name, records, gap_spread=None):
    """One network's Summary over ``records`` (its seeds), which must share one ``recipe``.
    ``gap_spread``: ``(sd, df, network)``, the seed spread of the gap it borrows where it has
    fewer than ``OWN_SPREAD_SEEDS`` seeds (``summarize``'s rule)."""
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
        gap=_gap(records, gap_spread and gap_spread[:2]),
        epochs=records[0]["epochs"],
        train_size=data["train_size"],
        test_size=data["test_size"],
        val_size=data.get("val_size"),
        minutes=float(np.mean([r["total_seconds"] for r in records])) / 60,
        devices=tuple(sorted({devices.machine(r["environment"]) for r in records})),
        gap_spread_from=(gap_spread[2] if gap_spread and gap_spread[1]
                         and len(records) < OWN_SPREAD_SEEDS else None),
        test_as_trained=_as_trained_interval(records),
        code_versions=tuple(code_version(r) for r in records),
        left_out=tuple(r["hyper"].get("left_out_per_epoch", 0) for r in records),
    )


def _seeds_by_version(summary):
    """``{code version: [seeds]}`` of one Summary, in the order the versions first appear."""
    return _seeds_by(summary, summary.code_versions)


def _fed_text(mixed):
    """'; the seeds of VGG16 and ResNet18 were also fed differently: ...' where the seeds of
    networks (label to Summary) left different numbers of training images out of an epoch."""
    fed = {}  # how the seeds were fed -> the networks fed so
    for label, s in mixed.items():
        if len(set(s.left_out)) > 1:
            how = ", ".join(
                f"{seeds_phrase(seeds)} "
                + (f"all but {n:,} training images an epoch (whole batches only)" if n else
                   "every training image an epoch")
                for n, seeds in _seeds_by(s, s.left_out).items())
            fed.setdefault(how, []).append(label)
    return "".join(f"; the seeds of {and_list(labels)} were also fed differently: {how}"
                   for how, labels in fed.items())


def _seeds_by(summary, values):
    """``{value: [seeds]}`` of one Summary by a per-seed tuple, in the order values appear."""
    found = {}
    for seed, value in zip(summary.seeds, values):
        found.setdefault(value, []).append(seed)
    return found


def _as_trained_interval(records):
    """``Summary.test_as_trained`` of one network's like runs, or None."""
    values = [r.get("test_accuracy_as_trained") for r in records]
    if len(values) < OWN_SPREAD_SEEDS or any(v is None for v in values):
        return None
    return interval(values, records[0]["data"]["test_size"])


def recipe(record):
    """What a run was trained with: its data sizes, epochs and the profile's settings (those a
    record predates take their defaults). Runs are pooled or set side by side only where their
    recipes are equal."""
    data = record["data"]
    settings = _settings(profiles.from_record(record)) if record.get("hyper") else None
    return data["train_size"], data["test_size"], record["epochs"], settings


def _settings(profile):
    """The settings of ``profile`` that change how a run trains, comparable as a tuple."""
    return tuple(sorted((k, repr(v)) for k, v in profiles.recipe_settings(profile).items()))


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


def summarize(records, names=NAMES):
    """``{network: Summary}`` over the main runs (all like seeds) in ``records``.

    Runs of another recipe than their network's lowest seed are left out (``comparable``;
    ``left_out(records)`` names them). A network with ``OWN_SPREAD_SEEDS`` or more seeds gets
    Student's t interval over its own seeds; one with fewer, where some network has two or more,
    carries the largest spread among those (``interval_with_spread``); with one seed
    everywhere, intervals cover the test set's noise only.
    """
    runs = main_runs(comparable(records, names)[0], names)
    accuracies = {name: [r["test_accuracy"] for r in rs] for name, rs in runs.items()}
    spreads = seed_spreads(accuracies)
    # the gap (training minus test accuracy) scatters from seed to seed too, by the same rule
    gap_spreads = seed_spreads({name: [r["train_accuracy"] - r["test_accuracy"] for r in rs]
                                for name, rs in runs.items()})
    summaries = {}
    for name, rs in runs.items():
        s = summarize_network(name, rs, gap_spreads[name])
        sd, df, source = spreads[name]
        if df and len(s.seeds) < OWN_SPREAD_SEEDS:
            s = dataclasses.replace(s, test=interval_with_spread(
                accuracies[name], s.test_size, sd, df, source))
        summaries[name] = s
    return summaries


def _gap_noise(*summaries):
    """What the gap intervals of ``summaries`` hold, as a clause."""
    borrowed = [s for s in summaries if s.gap_spread_from]
    if borrowed:
        return "; ".join(
            f"{s.label}, with fewer than {OWN_SPREAD_SEEDS} seeds, carries "
            + (f"its own {len(s.seeds)} seeds' spread of the gap, the largest of any network's"
               if s.gap_spread_from == s.network else
               f"{possessive(s.gap_spread_from)} seed-to-seed spread of the gap")
            for s in borrowed)
    if all(len(s.seeds) == 1 for s in summaries):
        return "binomial noise only: one seed each, and no network with two"
    return ""


def seed_runs(records, name):
    """The main runs of network ``name`` in ``records`` that share one recipe (``comparable``),
    by seed: what a chapter can set beside its own run."""
    return main_runs(comparable(records, (name,))[0], (name,)).get(name, [])


def recalibration_changes(records, names=NAMES):
    """``{network: [(record, change)]}``: where a recipe re-estimates its BN statistics
    (``bn_recalibration``), each main run's test accuracy re-estimated minus as training left
    them, by seed; networks without such runs are absent."""
    return _changes(main_runs(comparable(records, names)[0], names))


def _changes(main):
    """``recalibration_changes`` of ``main`` runs (network to its runs)."""
    found = {}
    for name, runs in main.items():
        kept = [(r, r["test_accuracy"] - r["test_accuracy_as_trained"]) for r in runs
                if r.get("test_accuracy_as_trained") is not None]
        if kept:
            found[name] = kept
    return found


def _paired_interval(kept):
    """``stats.paired_change_interval`` of one network's (record, change) pairs."""
    return paired_change_interval([c for _, c in kept], kept[0][0]["data"]["test_size"],
                                  [r.get("test_verdicts_changed") for r, _ in kept])


def recalibration_share_text(records, names=NAMES):
    """How many runs of ``recalibration_changes`` keep the share of test images whose verdict
    the re-estimate changed (``test_verdicts_changed``: f in ``stats.paired_change_interval``),
    and what the others take; "" where no run re-estimates."""
    runs = [r for kept in recalibration_changes(records, names).values() for r, _ in kept]
    if not runs:
        return ""
    keep = sum(r.get("test_verdicts_changed") is not None for r in runs)
    if keep == len(runs):
        return f"all {len(runs)} runs in the table keep f"
    return (f"{keep} of the {len(runs)} runs in the table keep f, so "
            + ("every interval takes" if not keep else "the others take") + " f = 1")


def recalibration_table(records, names=NAMES):
    """The BN re-estimate's effect (``recalibration_changes``) as a Markdown table, one row per
    network: per seed, the test accuracy as trained and re-estimated and the code that trained
    it; the mean change with its paired interval over the seeds."""
    header = ["network", "seed", "as trained %", "re-estimated %", "change (points)",
              "code", "mean change over the seeds (95 % interval)"]
    rows = []
    for name, kept in recalibration_changes(records, names).items():
        paired = _paired_interval(kept)
        summary = (f"{points(paired[0], 2)} ({points(paired[1], 2)} to {points(paired[2], 2)})"
                   if paired else "one seed: no interval")
        for k, (r, change) in enumerate(kept):
            rows.append([LABELS.get(name, name) if k == 0 else "", str(r["seed"]),
                         pct(r["test_accuracy_as_trained"], 2), pct(r["test_accuracy"], 2),
                         points(change, 2), code_version(r),
                         summary if k == 0 else ""])
    return markdown_table(header, rows) if rows else ""


def recalibration_text(records, names=NAMES):
    """What the BN re-estimate did, network by network, judged by the paired interval over the
    seeds (a network with one seed is named, not judged)."""
    main = main_runs(comparable(records, names)[0], names)  # once, for the changes and seeds
    kept = _changes(main)
    if not kept:
        return "No run of this profile re-estimates its BN statistics."
    seeds = {name: len(rs) for name, rs in main.items()}
    raised, lowered, unclear, single = [], [], [], []
    for name, runs in kept.items():
        paired = _paired_interval(runs)
        label = LABELS.get(name, name)
        if paired is None:
            single.append(label if seeds[name] == 1 else
                          f"{label} (one of its {seeds[name]} seeds keeps the as-trained figure)")
        elif paired[1] > 0:
            raised.append(f"{label} ({points(paired[0])} points on average)")
        elif paired[2] < 0:
            lowered.append(f"{label} ({points(paired[0])} points on average)")
        else:
            unclear.append(label)
    parts = []
    if raised:
        parts.append(f"it raised the test accuracy of {and_list(raised)}, beyond the noise of "
                     "the change (its spread from seed to seed and the test set's)")
    if lowered:
        parts.append(f"it lowered that of {and_list(lowered)}, beyond that noise")
    if unclear:
        parts.append(f"for {and_list(unclear)} the change cannot be told apart from that noise")
    text = capitalized("; ".join(parts)) + "." if parts else ""
    if single:
        text += (f" {and_list(single)} {'has one seed' if len(single) == 1 else 'have one seed each'}"
                 ", too few to set the change against its spread from seed to seed.")
    versions = [LABELS.get(n, n) for n, runs in kept.items()
                if len(by_code_version(r for r, _ in runs)) > 1]
    if versions:
        text += (f" The seeds of {and_list(versions)} come from more than one version of the "
                 "code (the table's column), so a change that differs between versions may be "
                 "the code's as well as the seed's.")
    return text.strip()


def left_out(records, names=NAMES):
    """Run names that the comparisons leave out because their recipe is not their network's."""
    return comparable(records, names)[1]


# ----------------------------------------------------------------------------- tables


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
            f"{len(s.seeds)}{'ᵛ' if len(set(s.code_versions)) > 1 else ''}",
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
            "roughly normally, which a few values cannot check)."
        )
    if "borrowed" in methods:
        row = next(s for s in summaries.values() if s.test.method == "borrowed")
        sd, df, source = row.test.spread_sd, row.test.df, row.test.spread_from
        seeds = df + 1
        own = [s for s in summaries.values() if s.test.sd is not None]
        notes.append(
            f"ˡ Fewer than {OWN_SPREAD_SEEDS} seeds: the row carries the largest seed-to-seed "
            f"spread among the networks with two or more ({possessive(source)} {seeds} seeds: "
            f"standard deviation {pct(sd)} points, {df} degree{'s' if df > 1 else ''} of "
            "freedom), not a pooled one (their own deviations: "
            + ", ".join(f"{s.label} {sd_text(s.test.sd)}" for s in own) + " points). The interval is Student's t for the mean over the network's own seeds "
            "with that spread, widened by the test set's binomial error; with few degrees of "
            "freedom it is wide, because the spread itself is barely known."
        )
    mixed = {s.label: s for s in summaries.values() if len(set(s.code_versions)) > 1}
    if mixed:
        notes.append(
            "ᵛ Seeds from more than one version of the code: " + "; ".join(
                f"{label}: " + ", ".join(
                    f"{seeds_phrase(seeds)} {version}"
                    for version, seeds in _seeds_by_version(s).items())
                for label, s in mixed.items())
            + ". Such a network's spread, and its time per run, hold whatever the versions "
            "changed as well as the seed (the records' `git_commit` names each version)"
            + _fed_text(mixed) + ".")
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


def _near_chance(*summaries):
    """The networks whose test accuracy is below twice chance (by its mean: with few seeds an
    interval's upper end can be far above a network that has not learned)."""
    return [s for s in summaries if s.test.mean < NEAR_CHANCE]


def _chance_sentence(low):
    names = and_list(s.label for s in low)
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
    names = and_list(f"{n.label} (training accuracy {pct(n.train.mean)} %)" for n in unfit)
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
    post_way = _bigconv_as_trained(a, b, post_d, low)
    unfit = _not_fit(a, b)
    if unfit:  # the post's 7 points are where 100 epochs ended, not how fast each started
        reading = ("; its interval contains zero, and even a clear difference would say how fast "
                   "the two start learning, not where they end" if low <= 0 <= high else
                   ", which says how fast the two start learning, not where they end")
        return Verdict(claim, UNTESTABLE, (
            f"The post's figures are where about 100 epochs ended; here {unfit}; {measured}"
            f"{reading}.{post_way}"))
    if low <= 0 <= high:
        return Verdict(claim, NOISE, f"{capitalized(measured)}: the interval contains zero."
                       + post_way)
    if d > 0:
        return Verdict(claim, FAILS, f"VGG16-big does better: {measured}." + post_way)
    size = ("about the size the post saw" if low <= post_d <= high
            else "but of a different size from the post's")
    return Verdict(claim, HOLDS, f"VGG16-big does worse, {size}: {measured}." + post_way)


def _bigconv_as_trained(a, b, post_d, recipe_low):
    """The same difference scored as the post scored it (BN on the moving statistics training
    left), where the recipe re-estimates them and both networks have their own seeds' spread;
    "" else. ``recipe_low``: the lower end of the recipe's own difference interval: where the
    two intervals separate, the weights (the same in both scorings) cannot carry the deficit."""
    if a.test_as_trained is None or b.test_as_trained is None:
        return ""
    d, low, high = difference(b.test_as_trained, a.test_as_trained)
    text = (f" Scored as the post scored, on the moving BN statistics training left (no "
            f"re-estimate; this recipe's BN momentum, not the post's: VGG16 "
            f"{pct(a.test_as_trained.mean)} %, VGG16-big {pct(b.test_as_trained.mean)} % over the "
            f"same seeds), the difference is {points(d)} points (95 % interval {points(low)} to "
            f"{points(high)}; the post: {points(post_d)})")
    if high < 0 and recipe_low > high:
        return text + (
            ". The weights are the same in both scorings and the two intervals do not overlap, "
            "so at this budget most of what VGG16-big loses scored the post's way lies in the BN "
            "statistics its layout leaves, not in its weights (chapter 4's run traces it to the "
            "shift dropout puts into them: statistics re-estimated with dropout off lift its "
            "accuracy. Whether that shift comes through the max pool each of its five "
            "convolutions' dropouts feeds, or through the second dropout it has in front of "
            "its first dense layer's BN (0.4 before its last pool, 0.5 after it, where VGG16 "
            "has the 0.5 alone), no run here separates; chapter 4's exercise 4 tries each). "
            "Whether it explains the post's gap after its 100 epochs these runs cannot say.")
    return text + "."


def verdict_googlenet_overfits(s, post=POST):
    """The post: GoogLeNet overfits markedly (train far above validation accuracy)."""
    claim = "GoogLeNet overfits"
    if "googlenet" not in s:
        return Verdict(claim, UNTESTABLE, "There is no GoogLeNet record under this profile.")
    g = s["googlenet"]
    gap, low, high = g.gap
    p = post["googlenet"]
    noise = _gap_noise(g)
    measured = (
        f"GoogLeNet's last-epoch training accuracy minus its test accuracy is {points(gap)} points "
        f"(95 % interval {points(low)} to {points(high)}{'; ' + noise if noise else ''}; the "
        f"post: {points((p.train - p.val) / 100)})"
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
    return Verdict(claim, NOISE, f"{capitalized(measured)}: the interval contains zero.")


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
        names = and_list(s.label for s in group)
        if len(group) == 1:
            parts.append(names)
            continue
        apart = [f"{a.label} is ahead of {b.label}" for i, a in enumerate(group)
                 for b in group[i + 1:] if a.test.low > b.test.high]
        note = ("not separable" if not apart else "not separable as a group, their intervals "
                "linked by overlaps; within it " + and_list(apart) + ", the intervals apart")
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
    noise = _gap_noise(r, g)
    measured = (
        f"ResNet18's gap (last-epoch training accuracy minus test accuracy) minus GoogLeNet's is "
        f"{points(d)} points (95 % interval {points(low)} to {points(high)}"
        f"{'; ' + noise if noise else ''}; the post: "
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
    return Verdict(claim, NOISE, f"{capitalized(measured)}: the interval contains zero.")


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


# ----------------------------------------------------------------------------- ablations and seeds


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
            yardstick = f"of {possessive(r['model'])} {len(accuracies[r['model']])} seeds"
        else:
            yardstick = (f"of {possessive(source)} {len(accuracies[source])} seeds, the largest "
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
        return (f"{capitalized(change)} has no run of the post's network with the same seed and "
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
    return (f"{capitalized(change)} changed the test accuracy by {points(row.difference)} points "
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


def recipe_text(record, epochs=None):
    """The training recipe a record names, in the words of ``profiles.describe`` (``epochs``,
    a phrase, in place of the record's own epoch count)."""
    if not record.get("hyper"):
        return "not recorded"
    profile = profiles.from_record(record)
    if record["hyper"].get("dtype_policy"):  # what "auto" precision became on that machine
        profile = dataclasses.replace(profile, precision=record["hyper"]["dtype_policy"])
    return profiles.describe(profile, record["model"], epochs)


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
    return largest_spread({name: [r["test_accuracy"] for r in runs]
                           for name, runs in main.items()})[0]


def confused_pairs(main):
    """``{network: ((class a, class b), share)}``: the pair of classes a network's test images
    were most often mistaken between (either way), and what share of the two classes' test
    images those mistakes were, its seeds' confusion matrices (rows: true class) added up."""
    found = {}
    for name, runs in main.items():
        matrices = [np.asarray(r["confusion"]) for r in runs if r.get("confusion")]
        if not matrices:
            continue
        total = sum(matrices)
        both_ways = total + total.T
        np.fill_diagonal(both_ways, 0)
        a, b = np.unravel_index(int(np.argmax(np.triu(both_ways))), both_ways.shape)
        shown = total[[a, b]].sum()  # the two classes' test images, over the seeds
        found[name] = ((CLASSES[a], CLASSES[b]), float(both_ways[a, b] / shown))
    return found


def confusions_text(main):
    """Which pair of classes each network confused most (``confused_pairs``), as a sentence."""
    pairs = confused_pairs(main)
    if not pairs:
        return "No record keeps its confusion matrix."
    each = and_list(f"{LABELS.get(n, n)} {pct(share)} %"
                    + (f" (over {len(main[n])} seeds)" if len(main[n]) > 1 else "")
                    for n, (_, share) in pairs.items())
    errors = {n: 1 - float(np.mean([r["test_accuracy"] for r in main[n]])) for n in pairs}
    overall = ("; for comparison, each network's error rate over all ten classes: " + and_list(
        f"{LABELS.get(n, n)} {pct(e)} %" for n, e in errors.items()) + ".")
    names = {pair for pair, _ in pairs.values()}
    if len(names) == 1:
        a, b = next(iter(names))
        return (f"Every network mistook {a} and {b} for each other more often than any other "
                f"pair of classes: of the test images of those two classes, {each} were taken "
                f"for the other" + overall)
    return ("The pair of classes each network mistook for each other most often, and the share "
            "of those two classes' test images taken for the other: " + and_list(
                f"{LABELS.get(n, n)} {a} and {b} ({pct(share)} %)"
                for n, ((a, b), share) in pairs.items()) + overall)


def drew_coupled_augmentation(record):
    """Whether ``record``'s run gave cifar-vgg's augmentation layers one seed between them, so
    that its flips and rotations drew the same numbers (before ``augment.layer_seeds``)."""
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
            "combinations of cifar-vgg's augmentation. What that cost them is not measured; a "
            "re-run trains with independent draws.")


# ----------------------------------------------------------------------------- chapter 4's controls

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


def has_controls(records):
    """Whether ``records`` hold runs of chapter 4's controlled experiment (``controls_text``)."""
    return bool(_control_runs(records))


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
                     + and_list(f"“{label}”" for label in missing)
                     + f" (`tools/train_runs.py --controls` trains {'them' if several else 'it'}), "
                     f"so the comparisons that need {'them' if several else 'it'} are left out")
    noise = ("One seed per arm: each interval holds the test set's noise only, not how far another "
             "seed could move a run (chapter 7 measures that spread)." if seeds == 1 else
             f"{seeds} seeds per arm, matched by seed; each interval holds their spread and the "
             "test set's noise, treating the arms as independent (usually the wider choice: a seed "
             "draws the same training images for every arm).")
    return ". ".join(parts) + ". " + noise
