"""Unit tests of helpers.compare: summaries of seeds, the table beside the post's, the
verdicts of chapter 7, ablations and chapter 4's controls."""

import dataclasses

import pytest

from helpers import compare, profiles, stats, wording
from fake_records import record, records


def test_summarize_groups_seeds_and_leaves_ablations_out():
    recs = records(
        record("googlenet", 0.36), record("googlenet", 0.35, seed=1),
        record("googlenet", 0.40, options={"use_pool_branch": True},
               run="googlenet-use_pool_branch=True"),
        record("resnet18", 0.38),
    )
    s = compare.summarize(recs)
    assert list(s) == ["googlenet", "resnet18"]  # the book's order, only those present
    assert s["googlenet"].seeds == (0, 1) and s["googlenet"].test.mean == pytest.approx(0.355)
    # googlenet's two seeds give a spread that resnet18's single run carries too
    assert s["resnet18"].test.method == s["googlenet"].test.method == "borrowed"
    assert s["resnet18"].test.spread_sd == pytest.approx(0.0070711, abs=1e-6)
    assert s["resnet18"].test.sd is None and s["resnet18"].test.spread_from == "googlenet"
    assert s["googlenet"].minutes == pytest.approx(5.0)
    alone = compare.summarize(records(record("resnet18", 0.38), record("vgg16", 0.3)))
    assert {x.test.method for x in alone.values()} == {"wilson"}  # no seeds: test set only


def test_three_seeds_give_a_network_its_own_spread_and_fewer_borrow_the_largest():
    erratic = [record("vgg16", a, seed=i) for i, a in enumerate((0.38, 0.41, 0.55))]
    steady = [record("resnet18", a, seed=i) for i, a in enumerate((0.674, 0.678, 0.671))]
    s = compare.summarize(records(*erratic, *steady, record("googlenet", 0.61)))
    assert s["vgg16"].test.method == s["resnet18"].test.method == "t"
    assert s["resnet18"].test.sd == pytest.approx(0.0035, abs=1e-4)  # its own, not VGG16's
    assert s["resnet18"].test.half < 0.015 < 0.2 < s["vgg16"].test.half
    # a network with one seed borrows the largest spread of those with two or more: VGG16's
    name, largest, df = stats.largest_spread({"vgg16": [0.38, 0.41, 0.55],
                                                "resnet18": [0.674, 0.678, 0.671]})
    assert name == "vgg16" and s["googlenet"].test.method == "borrowed"
    assert df == s["googlenet"].test.df == 2
    assert s["googlenet"].test.spread_sd == pytest.approx(largest)
    assert "(VGG16's 3 seeds: standard deviation 9.1 points, 2 degrees of freedom)" in (
        " ".join(compare.table_notes(s)))
    notes = " ".join(compare.table_notes(s))
    assert "3 or more seeds" in notes and "Fewer than 3 seeds" in notes
    # an ablation carries its own network's spread: ResNet18's, not VGG16's
    fix = record("resnet18", 0.72, options={"projection_shortcut": "when_needed"}, run="r-fix")
    (row,) = compare.ablations(records(*erratic, *steady, fix))
    assert row.status == "better" and row.low > 0
    assert row.yardstick == "of ResNet18's 3 seeds"


def test_seeds_from_several_versions_of_the_code_are_marked_and_named():
    runs = [record("vgg16", a, seed=i) for i, a in enumerate((0.86, 0.85, 0.84))]
    for r, version in zip(runs, ("a" * 40, "b" * 40, "b" * 40)):
        r["environment"]["git_commit"] = version
    alone = record("resnet18", 0.88)
    s = compare.summarize(records(*runs, alone))
    assert s["vgg16"].code_versions == ("aaaaaaa", "bbbbbbb", "bbbbbbb")
    notes = " ".join(compare.table_notes(s))
    assert "ᵛ Seeds from more than one version of the code: VGG16: seed 0 aaaaaaa, " \
           "seeds 1 and 2 bbbbbbb." in notes
    assert "ResNet18:" not in notes.split("ᵛ")[1].split(".")[0]  # one version: not listed
    table = compare.merged_table(s)
    assert "| 3ᵛ |" in table and "| 1 |" in table
    assert "fed differently" not in notes
    # where the versions also fed the seeds differently (whole batches only, on JAX), say so
    cpu = {k: v for k, v in dataclasses.asdict(profiles.PROFILES["cpu"]).items() if k != "epochs"}
    for r in runs:
        r["hyper"] = dict(cpu, left_out_per_epoch=336 if r["seed"] else 0)
    notes = " ".join(compare.table_notes(compare.summarize(records(*runs, alone))))
    assert ("the seeds of VGG16 were also fed differently: seed 0 every training image an epoch, "
            "seeds 1 and 2 all but 336 training images an epoch (whole batches only).") in notes


def test_summarize_pools_only_like_runs_and_names_the_rest():
    recs = records(record("resnet18", 0.4), record("resnet18", 0.5, seed=1, epochs=6,
                                                   seconds=(1,) * 6))
    s = compare.summarize(recs)
    assert s["resnet18"].seeds == (0,) and compare.left_out(recs) == ["resnet18-seed1"]
    with pytest.raises(ValueError, match="differ"):
        compare.summarize_network("resnet18", list(recs.values()))


def test_one_recipe_rule_leaves_out_a_run_of_other_settings_everywhere():
    hyper = {"name": "cpu", "optimizer": "adam", "learning_rate": 0.001, "batch_size": 32}
    base, seed1 = record("resnet18", 0.40), record("resnet18", 0.41, seed=1)
    other = record("resnet18", 0.60, seed=2)  # same sizes and epochs, another learning rate
    variant = record("resnet18", 0.45, options={"projection_shortcut": "when_needed"}, run="r-fix")
    for r in (base, seed1, variant):
        r["hyper"] = dict(hyper)
    other["hyper"] = dict(hyper, learning_rate=0.01)
    recs = records(base, seed1, other, variant)
    kept, left = compare.comparable(recs)
    assert left == ["resnet18-seed2"] and set(kept) == {"resnet18", "resnet18-seed1", "r-fix"}
    assert compare.summarize(recs)["resnet18"].seeds == (0, 1)
    assert compare.left_out(recs) == ["resnet18-seed2"]
    assert [row.run for row in compare.ablations(recs)] == ["r-fix"]
    # settings that do not change the training (the profile's name, its ablations default)
    seed1["hyper"].update(name="renamed", ablations=False)
    assert compare.comparable(recs)[1] == ["resnet18-seed2"]
    # a record that predates a setting counts as having its default
    seed1["hyper"]["bn_momentum"] = 0.99
    assert compare.comparable(recs)[1] == ["resnet18-seed2"]
    # 32 and 32.0 are one setting, as trials.recipe_differences reads them
    seed1["hyper"]["batch_size"] = 32.0
    assert compare.comparable(recs)[1] == ["resnet18-seed2"]
    with pytest.raises(ValueError, match="comparable"):
        compare.summarize_network("resnet18", [base, other])


def test_seeds_and_recipe_as_text():
    one = compare.summarize(records(record("vgg16", .5), record("resnet18", .5)))
    assert compare.seeds_text(one) == "one seed per network"
    mixed = compare.summarize(records(record("vgg16", .5), record("vgg16", .5, seed=1),
                                      record("resnet18", .5)))
    assert compare.seeds_text(mixed) == "VGG16: 2 seeds, ResNet18: 1 seed"
    r = record("vgg16", .5)
    # an older record: settings it predates take their defaults; keys that are not settings go
    r["hyper"] = {"name": "cpu", "train_per_class": 500, "optimizer": "adam", "batch_size": 128,
                  "learning_rate": 0.001, "decay": 0.0, "halve_every": None, "augment": True,
                  "augmented_in": "model"}
    assert compare.recipe_text(r) == (
        f"Adam at a learning rate of 0.001, batches of 128, BN momentum 0.99, {r['epochs']} epochs, "
        "random shifts, flips and rotations")
    r["hyper"].update(precision="auto", dtype_policy="mixed_bfloat16")
    assert compare.recipe_text(r).endswith("mixed_bfloat16 precision")
    r.pop("hyper")
    assert compare.recipe_text(r) == "not recorded"


def test_merged_table_has_one_row_per_network_and_says_how_intervals_were_made():
    s = compare.summarize(records(record("vgg16", 0.9), record("resnet18", 0.9),
                                  record("resnet18", 0.91, seed=1)))
    table = compare.merged_table(s)
    lines = table.splitlines()
    assert len(lines) == 2 + 2 and lines[2].startswith("| VGG16 |")
    assert "97.93 / 93.04" in lines[2] and "ˡ" in lines[2] and "ˡ" in lines[3]
    assert "−3.0" in lines[2]  # 90.0 - 93.04, a proper minus sign
    assert "90.5 ± 0.7" in lines[3] and "about 150 / 5" in lines[3]
    notes = " ".join(compare.table_notes(s))
    assert "largest seed-to-seed spread among the networks with two or more (ResNet18's 2" in notes
    assert "1 degree of freedom" in notes and "10,000" in notes
    one = " ".join(compare.table_notes(compare.summarize(records(record("vgg16", 0.9)))))
    assert "One seed" in one


def four(vgg, big, goo, res, goo_train=None, size=10_000, train=None, res_train=None):
    """Four one-seed summaries; ``train`` (else each test accuracy) is every training accuracy."""
    return compare.summarize(records(
        record("vgg16", vgg, train=train, test_size=size),
        record("vgg16_bigconv", big, train=train, test_size=size),
        record("googlenet", goo, train=goo_train or train, test_size=size),
        record("resnet18", res, train=res_train or train, test_size=size),
    ))


def test_bigconv_verdict_follows_the_numbers():
    fit = dict(train=0.99)  # both VGGs have fit their training images
    assert compare.verdict_bigconv(four(0.93, 0.86, 0.89, 0.92, **fit)).status == compare.HOLDS
    assert "about the size" in compare.verdict_bigconv(four(0.93, 0.86, 0.89, 0.92, **fit)).text
    assert "different size" in compare.verdict_bigconv(four(0.93, 0.90, 0.89, 0.92, **fit)).text
    assert compare.verdict_bigconv(four(0.80, 0.85, 0.89, 0.92, **fit)).status == compare.FAILS
    assert compare.verdict_bigconv(four(0.600, 0.598, 0.6, 0.6, **fit)).status == compare.NOISE
    untestable = compare.verdict_bigconv(four(0.12, 0.30, 0.36, 0.38))
    assert untestable.status == compare.UNTESTABLE and "VGG16 has not left" in untestable.text
    assert compare.verdict_bigconv({}).status == compare.UNTESTABLE


def test_bigconv_verdict_needs_networks_that_have_fit_their_training_images():
    # a short run: VGG16 has barely started, the variant is ahead; that is not the post's claim
    early = compare.verdict_bigconv(four(0.255, 0.56, 0.6, 0.6, train=0.5))
    assert early.status == compare.UNTESTABLE
    assert "had not yet fit their training images" in early.text
    assert "how fast the two start learning" in early.text


def test_bigconv_verdict_also_scores_the_post_way_where_the_recipe_re_estimates_bn():
    def seeds(model, tests, as_trained):
        runs = [record(model, t, train=0.99, seed=i) for i, t in enumerate(tests)]
        for r, a in zip(runs, as_trained):
            r["test_accuracy_as_trained"] = a
        return runs

    vgg = seeds("vgg16", (0.866, 0.861, 0.858), (0.866, 0.852, 0.848))
    big = seeds("vgg16_bigconv", (0.867, 0.868, 0.868), (0.744, 0.742, 0.748))
    verdict = compare.verdict_bigconv(compare.summarize(records(*vgg, *big)))
    assert verdict.status == compare.NOISE  # re-estimated, as the recipe scores: a tie
    assert "Scored as the post scored" in verdict.text
    assert "VGG16 85.5 %, VGG16-big 74.5 %" in verdict.text
    assert "the difference is −11.1 points" in verdict.text
    assert "most of what VGG16-big loses scored the post's way lies in the BN statistics" in (
        verdict.text)
    # where the two intervals overlap, the weights could carry part of it: figures only
    near = seeds("vgg16_bigconv", (0.842, 0.845, 0.848), (0.744, 0.742, 0.748))
    overlap = compare.verdict_bigconv(compare.summarize(records(*seeds(
        "vgg16", (0.866, 0.861, 0.858), (0.79, 0.78, 0.80)), *near)))
    assert "Scored as the post scored" in overlap.text
    assert "BN statistics its layout" not in overlap.text and overlap.text.endswith(").")
    # with fewer than three seeds of its own, a network has no post-way interval: no sentence
    fewer = compare.verdict_bigconv(compare.summarize(records(*vgg, *big[:2])))
    assert "Scored as the post scored" not in fewer.text
    # without the as-trained figures (a recipe that does not re-estimate), none either
    for r in vgg + big:
        del r["test_accuracy_as_trained"]
    assert "post scored" not in compare.verdict_bigconv(compare.summarize(records(*vgg, *big))).text


def test_overfitting_verdict_reads_the_train_test_gap():
    assert compare.verdict_googlenet_overfits(four(.9, .9, .89, .9, goo_train=.99)).status \
        == compare.HOLDS
    assert compare.verdict_googlenet_overfits(four(.9, .9, .95, .9, goo_train=.91)).status \
        == compare.FAILS
    assert compare.verdict_googlenet_overfits(four(.9, .9, .91, .9, goo_train=.911)).status \
        == compare.NOISE
    # not yet fit (training accuracy below 90 %): the post's long-training claim cannot show
    short = compare.verdict_googlenet_overfits(four(.9, .9, .60, .9, goo_train=.50))
    assert short.status == compare.UNTESTABLE and "not yet fit" in short.text


def test_ranking_is_claimed_only_where_intervals_separate():
    s = four(0.50, 0.30, 0.505, 0.70)
    assert [[x.network for x in g] for g in compare.tiers(s)] == [
        ["resnet18"], ["googlenet", "vgg16"], ["vgg16_bigconv"]]
    assert compare.ranking_text(s) == (
        "ResNet18, ahead of GoogLeNet and VGG16 (not separable), ahead of VGG16-big")
    # apart, but linked through a network that overlaps both: the pair is named
    chain = compare.summarize(records(
        *[record("resnet18", a, seed=i) for i, a in enumerate((.674, .678, .663))],
        *[record("vgg16_bigconv", a, seed=i) for i, a in enumerate((.631, .650, .627))],
        *[record("googlenet", a, seed=i) for i, a in enumerate((.615, .607, .608))]))
    assert [len(g) for g in compare.tiers(chain)] == [3]
    assert compare.ranking_text(chain) == (
        "ResNet18, VGG16-big and GoogLeNet (not separable as a group, their intervals linked by "
        "overlaps; within it ResNet18 is ahead of GoogLeNet, the intervals apart)")
    at_chance = four(.12, .11, .36, .38, train=.95)
    assert compare.verdict_complex_more_accurate(at_chance).status == compare.UNTESTABLE
    # the post's accuracies are where long training ended: unfit networks cannot test it
    unfit = compare.verdict_complex_more_accurate(four(.40, .60, .70, .75))
    assert unfit.status == compare.UNTESTABLE and "how fast each starts" in unfit.text
    assert "ResNet18" in unfit.text  # the measured order is still given
    fit = compare.verdict_complex_more_accurate(four(.80, .81, .90, .92, train=.99))
    assert fit.status == compare.HOLDS


def test_resnet_verdict_compares_the_two_gaps():
    # the post's own figures: GoogLeNet 99.24 / 89.46, ResNet18 99.90 / 92.70
    post_like = compare.verdict_resnet_overfits_less(
        four(.93, .86, .8946, .927, goo_train=.9924, res_train=.999))
    assert post_like.status == compare.HOLDS and "the post: \u22122.6)" in post_like.text
    larger = four(.9, .9, .93, .89, goo_train=.95, res_train=.99)
    assert compare.verdict_resnet_overfits_less(larger).status == compare.FAILS
    same = four(.9, .9, .90, .90, goo_train=.95, res_train=.951)
    assert compare.verdict_resnet_overfits_less(same).status == compare.NOISE
    short = compare.verdict_resnet_overfits_less(four(.5, .5, .55, .6, train=.6))
    assert short.status == compare.UNTESTABLE and "not yet fit their training images" in short.text
    at_chance = compare.verdict_resnet_overfits_less(four(.5, .5, .15, .6, train=.95))
    assert at_chance.status == compare.UNTESTABLE and "GoogLeNet has not left" in at_chance.text


def test_the_same_code_writes_different_text_for_different_runs():
    short, long = four(0.12, 0.12, 0.36, 0.38), four(0.93, 0.86, 0.89, 0.93, train=.99)
    assert [v.text for v in compare.verdicts(short)] != [v.text for v in compare.verdicts(long)]
    assert [v.status for v in compare.verdicts(long)] == [
        compare.HOLDS, compare.HOLDS, compare.HOLDS, compare.FAILS]


def test_the_posts_table_has_vgg16_on_top():
    assert compare.post_table_contradiction() == ("vgg16", 93.04)


def test_ablations_pair_runs_with_the_same_seed():
    recs = records(
        record("resnet18", .38), record("resnet18", .30, seed=1),
        record("resnet18", .45, options={"projection_shortcut": "when_needed"}, run="r-fix"),
        record("resnet18", .385, options={"projection_shortcut": "when_needed"}, seed=1,
               run="r-fix1"),
        record("googlenet", .3, options={"use_pool_branch": True}, run="g-fix"),  # no base
    )
    rows = {row.run: row for row in compare.ablations(recs)}
    assert set(rows) == {"r-fix", "r-fix1"}
    # seeds 0.38 and 0.30: a difference of 7 points is inside that seed spread
    assert rows["r-fix"].status == "within the noise"
    assert rows["r-fix"].difference == pytest.approx(0.07)
    close = dict(recs, **records(record("resnet18", .381, seed=1)))  # seeds now 0.1 apart
    rows = {row.run: row for row in compare.ablations(close)}
    assert rows["r-fix"].status == "better"
    # against seed 1's 0.381, not seed 0's
    assert rows["r-fix1"].difference == pytest.approx(0.004)
    assert rows["r-fix1"].status == "within the noise"
    table = compare.ablation_table(list(rows.values()))
    assert "`projection_shortcut=when_needed`" in table and "+7.0" in table


def test_an_ablations_sentence_says_what_chapter_7s_table_says():
    fix = record("resnet18", .45, options={"projection_shortcut": "when_needed"}, run="r-fix")
    recs = records(record("resnet18", .38), record("resnet18", .30, seed=1), fix)
    (row,) = compare.ablations(recs)
    text = compare.ablation_text(recs, "r-fix", "the identity shortcut")
    assert text.startswith("The identity shortcut changed the test accuracy by +7.0 points")
    assert "seed 0: 45.0 % against 38.0 %" in text
    # two seeds of the only network with two: the largest spread is its own
    assert "the seed-to-seed spread of ResNet18's 2 seeds" in text
    assert f"{wording.points(row.low)} to {wording.points(row.high)} points" in text
    assert "within the noise" in text and "measured gain" not in text
    # seeds that agree make the same change a measured gain, in the table and in the sentence
    close = dict(recs, **records(record("resnet18", .381, seed=1)))
    assert compare.ablations(close)[0].status == "better"
    assert "measured gain" in compare.ablation_text(close, "r-fix", "the identity shortcut")
    # with one seed, the interval holds the test set's noise only, and the sentence says so
    # a network with fewer seeds borrows the largest spread among those with two or more
    pooled = dict(recs, **records(record("googlenet", .5), record("googlenet", .52, seed=1),
                                  record("googlenet", .53, options={"use_pool_branch": True},
                                         run="g-fix")))
    assert "of ResNet18's 2 seeds, the largest among the networks'" in compare.ablation_text(
        pooled, "g-fix", "the branch")
    alone = records(record("resnet18", .38), fix)
    assert compare.ablations(alone)[0].yardstick == ""
    assert "no network has two seeds" in compare.ablation_text(alone, "r-fix", "it")
    # a variant with nothing to stand beside gets no verdict, and says why
    assert "no verdict" in compare.ablation_text(records(fix), "r-fix", "it")


def _control(model, acc, seed=0, epochs=8, **options):
    return {"run": f"{model}-{options}-{seed}-{epochs}", "model": model, "options": options,
            "seed": seed, "test_accuracy": acc, "epochs": epochs,
            "data": {"train_size": 8_000, "test_size": 10_000}}


def test_controls_text_without_controls_says_how_to_make_them():
    recs = {r["run"]: r for r in (_control("vgg16", 0.9), _control("vgg16_bigconv", 0.85))}
    assert "tools/train_runs.py --controls" in compare.controls_text(recs)


def test_controls_text_separates_kernel_and_depth():
    recs = [_control("vgg16", 0.93), _control("vgg16_bigconv", 0.86),
            _control("vgg16_bigconv", 0.90, stage_kernels=(3, 3, 3, 3, 3)),
            _control("vgg16", 0.925, stage_kernels=(5, 5, 7, 7, 7))]
    text = compare.controls_text({r["run"]: r for r in recs})
    # five layers: big kernels 86 vs 3x3 90 -> cost; thirteen layers: 92.5 vs 93 -> noise
    assert "At five layers, the big kernels cost: \u22124.0 points" in text
    assert "At thirteen layers, the big kernels cannot be told apart from the noise" in text
    assert ("With 3x3 kernels, going from VGG16's 13 layers to VGG16-big's five-layer layout "
            "cost: \u22123.0 points") in text
    assert "No record of the arm" not in text
    assert "had not fit" not in text  # _control's records carry no training accuracy
    short = [dict(r, train_accuracy=0.5) for r in recs]
    assert "no run of any arm had fit its training images" in compare.controls_text(
        {r["run"]: r for r in short})
    short[0] = dict(short[0], train_accuracy=0.95)
    assert "some runs had not fit their training images" in compare.controls_text(
        {r["run"]: r for r in short})
    without = compare.controls_text({r["run"]: r for r in recs[:3]})  # no 13-layer big arm
    assert "No record of the arm “13 layers, 5x5/7x7”" in without
    assert "At thirteen layers" not in without
    assert text.endswith("One seed per arm: each interval holds the test set's noise only, not "
                         "how far another seed could move a run (chapter 7 measures that spread).")
    recs += [_control(r["model"], r["test_accuracy"] - 0.01, seed=1,
                      **{k: tuple(v) for k, v in r["options"].items()}) for r in list(recs)]
    assert compare.controls_text({r["run"]: r for r in recs}).endswith(
        "2 seeds per arm, matched by seed; each interval holds their spread and the test set's "
        "noise, treating the arms as independent (usually the wider choice: a seed draws the "
        "same training images for every arm).")


def test_controls_are_paired_by_seed_and_refused_near_chance():
    recs = [_control("vgg16", 0.93), _control("vgg16", 0.5, seed=1),
            _control("vgg16_bigconv", 0.86), _control("vgg16_bigconv", 0.12,
                                                      stage_kernels=[3, 3, 3, 3, 3])]
    arms = compare.control_arms({r["run"]: r for r in recs})
    assert arms["VGG16: 13 layers, 3x3"].n == 1  # seed 1 has no partner in the other arms
    assert "not left chance" in compare.controls_text({r["run"]: r for r in recs})


def test_controls_pair_only_runs_of_the_big_vgg_recipe():
    recs = [_control("vgg16_bigconv", 0.86), _control("vgg16_bigconv", 0.90, stage_kernels=[3] * 5),
            _control("vgg16_bigconv", 0.50, epochs=4, stage_kernels=[3] * 5),
            _control("vgg16", 0.20, epochs=4)]
    arms = compare.control_arms({r["run"]: r for r in recs})
    # the 4-epoch runs (another recipe of the profile) are neither pooled nor paired
    assert set(arms) == {"5 layers, 3x3", "VGG16-big: 5 layers, 5x5/7x7"}
    assert arms["5 layers, 3x3"].mean == pytest.approx(0.90)


def test_train_runs_and_the_chapter_name_the_same_controls():
    labels = {label: (model, options) for label, model, options in compare.CONTROL_ARMS}
    assert labels["5 layers, 3x3"] == compare.CONTROLS["five_3x3"]
    assert labels["13 layers, 5x5/7x7"] == compare.CONTROLS["thirteen_big"]


def test_time_to_accuracy_figure_has_one_legend_entry_per_network():
    import matplotlib

    matplotlib.use("Agg")
    from helpers import plots

    runs = {"VGG16": [record("vgg16", .3), record("vgg16", .31, seed=1)],
            "ResNet18": [record("resnet18", .6)]}
    fig = plots.time_to_accuracy(runs)
    by_time, by_epoch = fig.axes
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "VGG16", "ResNet18", "test, after the last epoch"]
    assert len(by_epoch.get_lines()) == 6  # per run: its curve and its test diamond
    assert by_time.get_xlabel() == "training time (minutes, cumulative)"


def test_seed_runs_are_a_networks_main_runs_of_one_recipe():
    seed0 = record("vgg16", .376)
    recs = records(seed0, record("vgg16", .408, seed=1), record("vgg16", .545, seed=2),
                   record("vgg16", .9, seed=3, epochs=6, seconds=(1,) * 6),  # another recipe
                   record("vgg16", .5, options={"stage_kernels": [5, 5, 7, 7, 7]}, run="v-big"))
    assert [r["seed"] for r in compare.seed_runs(recs, "vgg16")] == [0, 1, 2]


def test_most_scattered_is_the_network_whose_seeds_spread_most():
    runs = lambda *accs: [{"test_accuracy": a} for a in accs]  # noqa: E731
    assert compare.most_scattered({"vgg16": runs(0.2, 0.6), "resnet18": runs(0.6, 0.62)}) == "vgg16"
    assert compare.most_scattered({"vgg16": runs(0.2)}) is None


def test_runs_trained_with_one_seed_for_all_augmentation_layers_are_counted():
    old = {"hyper": {"augment": True, "augmentation": "post"}}
    new = {"hyper": {"augment": True, "augmentation": "post", "augmentation_seeds": "per layer"}}
    crop = {"hyper": {"augment": True, "augmentation": "crop"}}  # showed no coupling
    assert compare.drew_coupled_augmentation(old) and not compare.drew_coupled_augmentation(new)
    assert not compare.drew_coupled_augmentation(crop)
    assert compare.augmentation_seeds_text({"a": old, "b": new}).startswith("1 of the 2 runs here were")
    assert compare.augmentation_seeds_text({"a": old}).startswith("the one run here was")
    assert compare.augmentation_seeds_text({"a": old, "b": old}).startswith("all 2 runs here were")
    assert compare.augmentation_seeds_text({"b": new, "c": crop}).startswith("every run")


def test_two_seed_networks_show_their_own_spread_and_the_note_names_whose_is_borrowed():
    s = compare.summarize(records(
        record("vgg16", 0.86), record("vgg16", 0.864, seed=1),          # SD 0.3 points
        record("resnet18", 0.88), record("resnet18", 0.86, seed=1),     # SD 1.4 points
        record("googlenet", 0.82)))
    table = compare.merged_table(s).splitlines()
    assert "86.2 ± 0.3" in table[2]  # VGG16's own spread, not the 1.4 it carries
    assert s["vgg16"].test.spread_from == s["googlenet"].test.spread_from == "resnet18"
    notes = " ".join(compare.table_notes(s))
    assert "(ResNet18's 2 seeds: standard deviation 1.4 points, 1 degree of freedom)" in notes
    assert "their own deviations: VGG16 0.3, ResNet18 1.4 points" in notes


def test_a_one_seed_gap_borrows_the_largest_seed_spread_of_the_gaps():
    # ResNet18's gaps over three seeds: 8, 10 and 12 points (sd 2); GoogLeNet has one seed
    recs = records(*[record("resnet18", .85, train=.85 + g, seed=i)
                     for i, g in enumerate((.08, .10, .12))],
                   record("googlenet", .85, train=.95))
    s = compare.summarize(recs)
    g = s["googlenet"]
    assert g.gap_spread_from == "resnet18" and s["resnet18"].gap_spread_from is None
    half = g.gap[2] - g.gap[0]
    assert half > 4.30 * 0.02  # t(2 df) = 4.30 times an sd of 2 points, at least
    alone = compare.summarize(records(record("googlenet", .85, train=.95)))["googlenet"]
    assert alone.gap_spread_from is None and alone.gap[2] - alone.gap[0] < half / 5
    text = compare.verdict_googlenet_overfits(s).text
    assert "GoogLeNet, with fewer than 3 seeds, carries ResNet18's seed-to-seed spread" in text


def test_curves_draw_every_run_each_in_its_own_colour():
    import matplotlib

    matplotlib.use("Agg")
    from helpers import plots

    histories = {f"run {i}": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]} for i in range(12)}
    fig = plots.curves(histories, metrics=("loss",))
    lines = fig.axes[0].get_lines()
    assert len(lines) == 24  # train and validation for each of the 12 runs, none dropped
    assert len({tuple(line.get_color()) for line in lines[::2]}) == 12
    assert [t.get_text() for t in fig.legends[0].get_texts()][:12] == list(histories)


def test_the_bn_re_estimate_is_judged_by_its_paired_change_over_the_seeds():
    def rerun(model, as_trained, test, seed, commit="aaa1111", changed=None):
        r = record(model, test, seed=seed)
        r["test_accuracy_as_trained"] = as_trained
        r["test_verdicts_changed"] = changed
        r["environment"]["git_commit"] = commit
        return r

    recs = records(*[rerun("vgg16_bigconv", a, a + .12 + d, seed=i, changed=f)
                     for i, (a, d, f) in enumerate(((.74, 0, .14), (.75, .004, .15),
                                                    (.745, -.003, .13)))],
                   *[rerun("resnet18", .88, .88 + d, seed=i, commit=c)
                     for i, (d, c) in enumerate(((-.004, "aaa1111"), (.002, "bbb2222"),
                                                 (-.001, "bbb2222")))],
                   rerun("googlenet", .83, .8275, seed=0), record("vgg16", .86))
    table = compare.recalibration_table(recs)
    # t(2 df) over the changes (12.0, 12.4, 11.7 points), with the test-set noise the seeds
    # share added at its largest, from the shares of images that changed verdict (14, 15 and
    # 13 %: a mean per-image variance of 0.1255 on 10,000 images): +12.03 (+10.92 to +13.15),
    # computed by hand
    assert "| VGG16-big | 0 | 74.00 | 86.00 | +12.00 | aaa1111 | +12.03 (+10.92 to +13.15) |" in table
    assert "| GoogLeNet | 0 | 83.00 | 82.75 | \u22120.25 | aaa1111 | one seed: no interval |" in table
    assert "VGG16 |" not in table  # no as-trained figure: its recipe did not re-estimate
    text = compare.recalibration_text(recs)
    assert text.startswith("It raised the test accuracy of VGG16-big (+12.0 points on average)")
    assert "for ResNet18 the change cannot be told apart from that noise" in text
    assert "GoogLeNet has one seed, too few" in text
    assert "The seeds of ResNet18 come from more than one version of the code" in text
    # a seed whose record predates the as-trained figure is named, not counted as none
    del recs["googlenet"]["test_accuracy_as_trained"]
    recs.update(records(rerun("googlenet", .83, .8275, seed=1)))
    assert "GoogLeNet (one of its 2 seeds keeps the as-trained figure)" in (
        compare.recalibration_text(recs))
    assert compare.recalibration_table({}) == ""
    assert compare.recalibration_text({}) == "No run of this profile re-estimates its BN statistics."


def test_the_pair_of_classes_each_network_confuses_most_is_read_from_its_confusion_matrices():
    def confused(model, seed, cat_dog, dog_cat, airplane_ship):
        r = record(model, 0.5, seed=seed)
        matrix = [[100 if i == j else 0 for j in range(10)] for i in range(10)]
        matrix[3][5], matrix[5][3], matrix[0][8] = cat_dog, dog_cat, airplane_ship  # true, predicted
        r["confusion"] = matrix
        return r

    main = {"vgg16": [confused("vgg16", 0, 30, 10, 35), confused("vgg16", 1, 20, 20, 5)],
            "resnet18": [confused("resnet18", 0, 0, 5, 40)]}
    pairs = compare.confused_pairs(main)
    # VGG16: cat/dog 80 both ways over two seeds, of 480 cat and dog images; airplane/ship 40
    assert pairs["vgg16"] == (("cat", "dog"), pytest.approx(80 / 480))
    assert pairs["resnet18"] == (("airplane", "ship"), pytest.approx(40 / 240))
    text = compare.confusions_text(main)
    assert text.startswith("The pair of classes each network mistook for each other most often")
    assert "VGG16 cat and dog (16.7 %) and ResNet18 airplane and ship (16.7 %)" in text
    assert text.endswith("error rate over all ten classes: VGG16 50.0 % and ResNet18 50.0 %.")
    main["resnet18"] = [confused("resnet18", 0, 9, 9, 1)]
    assert compare.confusions_text(main).startswith(
        "Every network mistook cat and dog for each other more often than any other pair of "
        "classes: of the test images of those two classes, VGG16 16.7 % (over 2 seeds) and "
        "ResNet18 ")
    assert compare.confusions_text({}) == "No record keeps its confusion matrix."


def test_the_re_estimates_share_text_counts_the_runs_that_keep_f():
    runs = [record("vgg16", t, train=0.99, seed=i) for i, t in enumerate((0.86, 0.85))]
    for r in runs:
        r["test_accuracy_as_trained"] = r["test_accuracy"] - 0.01
    assert compare.recalibration_share_text(records(*runs)) == (
        "0 of the 2 runs in the table keep f, so every interval takes f = 1")
    runs[0]["test_verdicts_changed"] = 0.03
    assert compare.recalibration_share_text(records(*runs)) == (
        "1 of the 2 runs in the table keep f, so the others take f = 1")
    runs[1]["test_verdicts_changed"] = 0.02
    assert compare.recalibration_share_text(records(*runs)) == "all 2 runs in the table keep f"
    for r in runs:
        del r["test_accuracy_as_trained"]
    assert compare.recalibration_share_text(records(*runs)) == ""
