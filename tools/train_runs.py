"""Train runs without a notebook and save their records: extra seeds, chapter 4's controls.

    python tools/train_runs.py --profile fast --seeds 3 4            # seeds 3, 4 of all four
    python tools/train_runs.py --profile fast --controls             # chapter 4's controls
    python tools/train_runs.py --profile cpu --controls five_3x3 --control-seeds 3  # the cheap one
    python tools/train_runs.py --profile fast --seeds 0 --networks googlenet --trial
    python tools/train_runs.py --profile fast --seeds 0 --networks vgg16 --trial \
        --set batch_size=128 learning_rate=0.05 epochs=30

The last two are trials of the recipe: on a CPU (the GPU recipe where no GPU is), or on a GPU
with ``--set`` changing settings of the recipe for this run only (the record keeps them, and
chapter 7 names what differs from today's recipe; ``epochs`` sets the chosen networks'
epochs). A trial's record goes to results/trials/fast/, never where the profile's own records
belong (chapter 7 shows both apart).

The chapters train seed 0 of each network themselves; chapter 7 pools whatever seeds the
records hold. The controls separate VGG16-big's two changes (chapter 4): its five layers with
3x3 kernels (depth kept, kernel changed), and VGG16's thirteen layers with its 5x5/7x7
kernels (kernel kept, depth changed; about 4.6 times VGG16's arithmetic per image, some 1.45
billion multiply-accumulates, so on a CPU the first alone may be all a budget allows). Each
record is saved as soon as its run ends. A run the profile's records already hold is refused
(``--replace`` trains it again, ``--skip-recorded`` leaves it out).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import sys
import typing

import helpers

from helpers.models import CONTROLS  # name -> (model, options)


def main(argv=None):
    from helpers import experiment, models, profiles, results

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="auto", help="smoke, cpu, fast, full or auto")
    parser.add_argument("--networks", nargs="+", choices=models.NAMES, default=list(models.NAMES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[],
                        help="seeds of the main networks to train")
    parser.add_argument("--controls", nargs="*", choices=list(CONTROLS), default=None,
                        help="chapter 4's controls: all without names, or those named")
    parser.add_argument("--control-seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--source", default="auto", help="CIFAR-10 source (helpers.data)")
    parser.add_argument("--trial", action="store_true",
                        help="a trial of a GPU profile's recipe (on a CPU, or with --set); "
                             "saved to results/trials/<profile>/")
    parser.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                        help="with --trial: change settings of the recipe (names of "
                             "helpers.profiles.Profile; epochs=N for the chosen networks)")
    recorded_runs = parser.add_mutually_exclusive_group()
    recorded_runs.add_argument("--replace", action="store_true",
                               help="train and replace runs the profile's records already hold")
    recorded_runs.add_argument("--skip-recorded", action="store_true",
                               help="leave out runs the profile's records already hold")
    args = parser.parse_args(argv)
    helpers.start_quietly()
    profile = profiles.get(args.profile)
    if args.set and not args.trial:
        parser.error("--set is for --trial only: a profile's own records follow the "
                     "profile as it stands (change helpers/profiles.py to change it)")
    try:
        profile = with_settings(profile, args.set, args.networks)
    except ValueError as error:
        parser.error(str(error))
    if args.trial:
        from helpers import devices
        if profile.name not in profiles.GPU_PROFILES:
            parser.error(f"--trial is for the GPU profiles ({', '.join(profiles.GPU_PROFILES)})"
                         f"; a {profile.name!r} run is saved as its own record without it")
        if devices.gpu_available() and not args.set:
            parser.error("a GPU is visible and nothing is changed (--set): drop --trial, this "
                         "run is the profile's own record")
        if args.controls is not None:
            parser.error("--trial tries the recipe on the post's networks: give --seeds, "
                         "not --controls")
    plan = [(name, seed, {}) for seed in args.seeds for name in args.networks]
    if args.controls is not None:
        chosen = args.controls or list(CONTROLS)
        plan += [(CONTROLS[arm][0], seed, dict(CONTROLS[arm][1])) for seed in args.control_seeds
                 for arm in chosen]
    if not plan:
        parser.error("nothing to train: give --seeds and/or --controls")
    if not args.trial and not args.replace and profile.name != "smoke":
        # hours of training must not overwrite a stored run unasked (a trial never replaces one;
        # smoke records are checks that every test run remakes, and git ignores them)
        named = [(experiment.run_name(name, seed, **options), (name, seed, options))
                 for name, seed, options in plan]
        recorded = [run for run, _ in named if results.path_for(profile.name, run).exists()]
        if recorded and args.skip_recorded:
            print(f"recorded already, not trained again: {', '.join(recorded)}", flush=True)
            plan = [item for run, item in named if run not in recorded]
        elif recorded:
            parser.error(f"the {profile.name!r} records already hold {', '.join(recorded)}: "
                         "choose other seeds (--seeds, --control-seeds), or add --replace to "
                         "train them again (git checkout results/ restores the stored ones)")
    prepared = {}  # (an empty plan, every run recorded already, trains nothing)
    for name, seed, options in plan:
        if seed not in prepared:  # the same subsets for every network of a seed
            prepared[seed] = experiment.prepare_data(profile, args.source, seed)
        run = experiment.train_network(name, profile, prepared[seed], seed=seed,
                                       verbose=2,  # an epoch a line: how far a cut run got
                                       save=not args.trial, **options)
        record = run.record
        if args.trial:
            # named after what it changed: trials of one network with other settings never
            # take each other's name (a device call collects them as they come)
            results.save_trial(record, name=results.trial_name(record["run"], args.set))
        print(f"{record['run']}: test accuracy {record['test_accuracy']:.4f}, "
              f"{record['total_seconds'] / 60:.1f} min on {record['environment']['device']}",
              flush=True)


def with_settings(profile, assignments, networks):
    """``profile`` with ``NAME=VALUE`` assignments applied (values as Python literals, else
    strings, checked against the setting's type and, by Profile, a text setting's choices);
    ``epochs=N`` sets the epochs of ``networks``."""
    types = typing.get_type_hints(type(profile))
    changes = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or name not in types or name == "name":
            raise ValueError(f"--set {assignment!r}: write NAME=VALUE with NAME one of "
                             f"{', '.join(sorted(set(types) - {'name'}))}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if name == "epochs":
            if type(value) is not int or value < 1:
                raise ValueError(f"--set epochs={text}: give a whole number of epochs, 1 or more")
            changes[name] = {**profile.epochs, **dict.fromkeys(networks, value)}
            continue
        allowed = typing.get_args(types[name]) or (types[name],)  # int | None -> (int, None)
        if type(value) is int and float in allowed and int not in allowed:
            value = float(value)
        if type(value) not in allowed and not (value is None and type(None) in allowed):
            kinds = " or ".join("None" if t is type(None) else t.__name__ for t in allowed)
            raise ValueError(f"--set {assignment!r}: {name} takes values of type {kinds}")
        changes[name] = value
    try:  # Profile checks the text settings' choices
        return dataclasses.replace(profile, **changes)
    except ValueError as err:
        raise ValueError(f"--set {' '.join(assignments)}: {err}") from err


if __name__ == "__main__":
    sys.exit(main())
