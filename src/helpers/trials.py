"""Trials of a GPU profile's recipe (chapter 7).

A trial changes settings of today's recipe for one run (``tools/train_runs.py --trial``);
here each is named by what it changed, set against the mean and spread of today's recipe's
seeds on its device, and every network's runs against the post's validation accuracy less
``profiles.FAST_AIM_MARGIN`` (the ``fast`` profile's aim).
"""

from __future__ import annotations

import itertools

import numpy as np

from helpers import devices, profiles
from helpers.compare import POST
from helpers.models import LABELS, NAMES, book_order
from helpers.stats import (OWN_SPREAD_SEEDS, difference, interval, interval_with_spread,
                           seed_spreads, t975, wilson)
from helpers.wording import (and_list, capitalized, duration, markdown_table, or_list, pct,
                             points, possessive, sd_text, seeds_phrase, span)


def _trial_order(records):
    """(file name, record) pairs in the book's network order, then seed, then file name."""
    return sorted(records.items(), key=lambda kv: (
        book_order(kv[1]["model"]), kv[1]["model"], kv[1]["seed"], kv[0]))


def is_current_recipe(record):
    """Whether ``record`` was trained with its profile's recipe as it stands today (settings and
    the network's epochs): a trial of a recipe that has since been retuned tests another one."""
    return not recipe_differences(record)


def recipe_differences(record):
    """How ``record``'s recipe differs from its profile's today, as phrases ("batch 128 instead
    of 512"), epochs first; [] for today's recipe. Settings a record predates count as their
    defaults (``profiles.from_record``)."""
    # by the record's profile name: $BOOK_PROFILE must not stand in
    return profiles.differences(profiles.from_record(record), record["model"],
                                profiles.PROFILES[record["profile"]])


def _setting(record):
    env, hyper = record["environment"], record["hyper"]
    policy = hyper.get("dtype_policy") or env.get("precision", "?")
    return f"{env.get('backend', '?')}, {devices.precision_name(policy, env)}"


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
            pct(aim_of(r["model"], post), 2) if p else "–",
            duration(r["total_seconds"] / 60), devices.machine(r["environment"]), _setting(r),
        ])
    return markdown_table(header, rows)


def aim_of(model, post=POST):
    """The ``fast`` recipe's aim for ``model``, as a fraction: the post's validation accuracy
    less FAST_AIM_MARGIN points."""
    return (post[model].val - profiles.FAST_AIM_MARGIN) / 100


def aim_verdict(record, post=POST, each=False):
    """Where a run of the post's network stands against the ``fast`` recipe's aim (the post's
    validation accuracy less FAST_AIM_MARGIN), judged by its Wilson interval (one seed: the test
    set's noise only); ``each``: said of several runs that all stand there."""
    aim = aim_of(record["model"], post)
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


def _only_re_estimated(runs, post):
    """Where runs above the aim fall below it on the BN statistics training left (the post's
    way of scoring; the recipe re-estimates them before testing), a clause that says so."""
    aim = aim_of(runs[0]["model"], post)
    above = [r for r in runs if r.get("test_accuracy_as_trained") is not None
             and wilson(r["test_accuracy"], r["data"]["test_size"])[0] > aim]
    below = [r for r in above if r["test_accuracy_as_trained"] < aim]
    if not below:
        return ""
    return ("; only with the BN statistics re-estimated before the test, which the recipe "
            "does: on the statistics training left, as the post scored, "
            + ("it" if len(runs) == 1 else f"seed {below[0]['seed']}" if len(below) == 1
               else "seeds " + and_list(str(r["seed"]) for r in below))
            + " reached " + and_list(pct(r["test_accuracy_as_trained"], 2) for r in below)
            + " %, below the aim (chapter 4 says why)")


def aims_text(main, post=POST, names=NAMES):
    """The ``fast`` profile's own runs (``main``: network to its runs) against the recipe's aim,
    one sentence per network (its seeds' accuracies, and each run's verdict, said once where
    they agree), and the networks that have none."""
    sentences = []
    for name, runs in main.items():
        devices_ = sorted({r["environment"].get("device", "?") for r in runs})
        accuracies = and_list(f"{pct(r['test_accuracy'], 2)}" for r in runs) + " %"
        seeds = (f"seed {runs[0]['seed']}" if len(runs) == 1
                 else "seeds " + and_list(str(r["seed"]) for r in runs))
        verdicts = [aim_verdict(r, post) for r in runs]
        if len(set(verdicts)) == 1:
            verdict = aim_verdict(runs[0], post, each=len(runs) > 1)
        else:
            verdict = "; ".join(f"seed {r['seed']} {v}" for r, v in zip(runs, verdicts))
        epochs = or_list(sorted({r["epochs"] for r in runs}))
        sentences.append(f"{LABELS.get(name, name)} ({', '.join(devices_)}) reached "
                         f"{accuracies} ({seeds}) after {epochs} epochs: {verdict}"
                         f"{_only_re_estimated(runs, post)}.")
    text = " ".join(sentences) if sentences else "There is no record of this recipe yet."
    missing = [LABELS[n] for n in names if n not in main]
    if missing and sentences:
        text += f" No record of {and_list(missing)} yet."
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


def todays_seeds_text(model, own, where=lambda device: True):
    """The seeds of today's recipe for ``model`` in ``own`` (run name to record), by device
    (``todays_runs``), for the devices ``where`` accepts: "seeds 0 and 2 on the AMD EPYC; seed 1
    on ..."; "" where there are none."""
    devices_ = sorted({r["environment"].get("device", "?") for r in own.values()
                       if r["model"] == model and where(r["environment"].get("device", "?"))})
    parts = []
    for device in devices_:
        seeds = [r["seed"] for r in todays_runs(model, device, own)]
        if seeds:
            parts.append(f"{seeds_phrase(seeds)} on the {device.removeprefix('CPU: ')}")
    return "; ".join(parts) + ("; records of different devices are not pooled"
                               if len(parts) > 1 else "")


def todays_text(runs):
    """Today's recipe's runs on one device (``todays_runs``) in a sentence."""
    device = runs[0]["environment"].get("device", "?")
    values = [r["test_accuracy"] for r in runs]
    if len(runs) == 1:
        return (f"Today's recipe ({device}): {pct(values[0], 2)} % (seed "
                f"{runs[0]['seed']}, one run).")
    return (f"Today's recipe ({device}): {pct(float(np.mean(values)), 2)} % on average "
            f"over seeds {and_list(str(r['seed']) for r in runs)} ({and_list(pct(v, 2) for v in values)}"
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
    today's run must share the trial's seed (a trial of another seed is said not to be set
    against it, with the difference it cannot judge). The test set's noise enters both arms as if
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
        seeds = and_list(str(r["seed"]) for r in runs)
        return (f"Not set against today's recipe on this device: its one run there has seed "
                f"{seeds}, not {trial['seed']}, and one run cannot show how far another seed "
                f"moves the result, so the difference of "
                f"{points(trial['test_accuracy'] - values[0])} points mixes seed and recipe.")
    size = trial["data"]["test_size"]
    base_size = runs[0]["data"]["test_size"]
    what = "today's mean" if len(runs) > 1 else "today's run"
    if df:
        d, low, high = difference(interval_with_spread([trial["test_accuracy"]], size, sd, df),
                                  interval_with_spread(values, base_size, sd, df))
        whose = ("their own" if source == trial["model"] and len(runs) > 1
                 else f"{possessive(source)}, the largest of today's recipe on this device")
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
    direction = "higher" if low > 0 else "lower"
    if low <= 0 <= high:
        verdict = f"within {noise}"
        if df and df + 1 <= OWN_SPREAD_SEEDS:  # no more seeds than the fewest the table trusts
            verdict += (f"; with {df} degree{'s' if df > 1 else ''} of freedom behind that spread "
                        f"(a t factor of {t975(df):.1f}), \"within\" is weak evidence that the "
                        "change did nothing")
    elif df:
        verdict = f"{direction} beyond {noise}"
    else:  # the same seed, but a changed recipe takes a path of its own, as another seed would
        verdict = (f"{direction} than the two runs' test-set noise allows, but not shown to be "
                   "the change's doing: from the same seed a changed recipe takes a path of its "
                   "own, as another seed would, and how far seeds scatter on this device is not "
                   "measured")
    text = (f"Against {what}: {points(d)} points (95 % interval {points(low)} to "
            f"{points(high)}), {verdict}.")
    left = trial["hyper"].get("left_out_per_epoch", 0)
    alike = [r for r in runs if r["hyper"].get("left_out_per_epoch", 0) == left]
    if len(alike) < len(runs):  # not a change of the recipe, but a change all the same
        fed = (f"whole batches ({left:,} training images left out each epoch)" if left
               else "every training image each epoch")
        unlike = [r["seed"] for r in runs if r not in alike]
        text += (f" It was fed {fed}, " + (
            f"like today's {seeds_phrase(r['seed'] for r in alike)} but not "
            f"{seeds_phrase(unlike)}." if alike else "unlike today's runs."))
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
                     f"aims at {pct(aim_of(model, post), 2)} %.")
        for device in dict.fromkeys(r["environment"].get("device") for _, r in group):
            runs = todays_runs(model, device, baselines)
            if runs:
                head += " " + todays_text(runs)
        bullets = []
        for name, r in group:
            changed = recipe_differences(r)
            acc = r["test_accuracy"]
            low, high = wilson(acc, r["data"]["test_size"])
            what = capitalized("; ".join(changed)) if changed else "Today's recipe"
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
