"""Unit tests of helpers.compare: intervals, summaries, the verdicts of chapter 7, MACs."""

import math

import keras
import pytest

from helpers import compare, models, profiles


def record(model, test, train=None, seed=0, options=None, test_size=10_000, epochs=5,
           seconds=(60.0,) * 5, device="CPU: test", val=None, run=None):
    """A results record with the fields compare reads."""
    train = test if train is None else train
    val = val or [test] * epochs
    return {
        "run": run or (model if not seed else f"{model}-seed{seed}"),
        "model": model, "options": options or {}, "profile": "cpu", "seed": seed,
        "data": {"source": "test", "train_size": 5_000, "val_size": 1_000,
                 "test_size": test_size},
        "epochs": epochs, "train_accuracy": train, "test_accuracy": test,
        "history": {"val_accuracy": list(val), "seconds": list(seconds)},
        "total_seconds": float(sum(seconds)), "environment": {"device": device},
    }


def records(*recs):
    return {r["run"]: r for r in recs}


# ----------------------------------------------------------------------------- intervals


def test_wilson_matches_the_textbook_values():
    low, high = compare.wilson(0.5, 100)
    assert low == pytest.approx(0.40383, abs=1e-5) and high == pytest.approx(0.59617, abs=1e-5)
    low, high = compare.wilson(0.0, 50)  # never below 0, never empty
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.1


def test_wilson_narrows_with_more_images():
    widths = [h - lo for lo, h in (compare.wilson(0.3, n) for n in (100, 1_000, 10_000))]
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] == pytest.approx(2 * 1.96 * math.sqrt(0.3 * 0.7 / 10_000), rel=0.01)


def test_t_quantiles_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 3, 5, 10, 30):
        assert compare.t975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=1e-5)
    assert compare.t975(1000) == pytest.approx(compare.Z95)
    with pytest.raises(ValueError):
        compare.t975(0)


def test_interval_one_seed_is_wilson_several_seeds_is_t_widened_by_the_test_set():
    one = compare.interval([0.8], 10_000)
    assert one.method == "wilson" and one.sd is None and one.low < 0.8 < one.high
    several = compare.interval([0.80, 0.82, 0.81], 10_000)
    assert several.method == "t" and several.n == 3
    assert several.mean == pytest.approx(0.81) and several.sd == pytest.approx(0.01)
    seeds_only = compare.t975(2) * 0.01 / math.sqrt(3)
    assert several.half > seeds_only  # the test set's own noise is added
    same = compare.interval([0.81, 0.81], 10_000)  # no spread: the test set's error is left
    assert same.half == pytest.approx(1.96 * math.sqrt(0.81 * 0.19 / 10_000), rel=1e-3)


def test_difference_adds_the_halves_in_quadrature():
    a, b = compare.interval([0.5], 10_000), compare.interval([0.4], 10_000)
    d, low, high = compare.difference(a, b)
    assert d == pytest.approx(0.1)
    assert high - d == pytest.approx(math.hypot(a.half, b.half))


# ----------------------------------------------------------------------------- summaries


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
    name, largest, df = compare.largest_spread({"vgg16": [0.38, 0.41, 0.55],
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


# ----------------------------------------------------------------------------- verdicts


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


# ----------------------------------------------------------------------------- time, cost


def test_accuracy_at_a_time_budget():
    r = record("resnet18", 0.5, val=[0.2, 0.4, 0.35, 0.5, 0.6], seconds=(10,) * 5)
    assert compare.accuracy_at(r, 5) is None
    assert compare.accuracy_at(r, 30) == 0.4  # the best reached by then
    assert compare.accuracy_at(r, 1e9) == 0.6


def test_runs_are_grouped_by_device():
    recs = records(record("vgg16", .5, device="A"), record("resnet18", .5, device="B"))
    assert {d: list(r) for d, r in compare.by_device(recs).items()} == {
        "A": ["vgg16"], "B": ["resnet18"]}


def test_macs_of_a_small_model_by_hand():
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8*8*4 outputs x 3*3*2
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", groups=2)(x)  # 4*4*4 x 3*3*2
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10)(x)  # 64 x 10
    model = keras.Model(inputs, outputs)
    assert compare.macs(model) == 8 * 8 * 4 * 18 + 4 * 4 * 4 * 18 + 64 * 10
    assert compare.macs_by_resolution(model) == {8: 8 * 8 * 4 * 18, 4: 4 * 4 * 4 * 18}


@pytest.mark.parametrize("name, expected", [
    ("vgg16", 313_463_808), ("vgg16_bigconv", 314_512_384),
    ("googlenet", 63_888_384), ("resnet18", 141_497_344),
])
def test_macs_of_the_four_networks(name, expected):
    assert compare.macs(models.build(name)) == expected


def test_first_epoch_and_equal_time_sentences():
    main = compare.main_runs(records(
        record("vgg16", .1, val=[.10, .12, .2, .2, .2], seconds=(100,) * 5),
        record("resnet18", .5, val=[.3, .4, .5, .5, .5], seconds=(20,) * 5)))
    first = compare.first_epoch_text(main)
    assert "VGG16 10.0 %" in first and "ResNet18 30.0 %" in first and "1,000 images" in first
    assert "between 8.1 and 11.9 %" in first  # 10 % +- 1.96 sqrt(0.1 x 0.9 / 1,000)
    equal = compare.equal_time_text(main)  # the shortest run lasted 100 s: VGG16's first epoch
    assert "1.7 minutes" in equal and "VGG16 10.0 %" in equal and "ResNet18 50.0 %" in equal
    assert "wall-clock" not in equal  # one run each: no spread of run times to report
    slower = dict(main, resnet18=main["resnet18"] + [
        record("resnet18", .5, seed=1, val=[.3] * 5, seconds=(30,) * 5)])
    assert "ResNet18 1.7 to 2.5 minutes from run to run" in compare.equal_time_text(slower)
    assert compare.first_epoch_text({}) == compare.equal_time_text({}) == "There are no runs to read."
    assert "compiles" not in equal  # every epoch as long as the next


def test_equal_time_sentence_names_a_first_epoch_spent_compiling():
    # on a GPU the first epoch holds the compile: 60 s, then 1 s an epoch
    main = compare.main_runs(records(
        record("vgg16", .8, val=[.2, .5, .7, .8, .8], seconds=(60, 1, 1, 1, 1)),
        record("resnet18", .8, val=[.4, .6, .7, .8, .8], seconds=(30, 1, 1, 1, 1))))
    equal = compare.equal_time_text(main)
    assert "VGG16 60 s against 1.0 s" in equal and "ResNet18 30 s against 1.0 s" in equal
    # the shortest run lasted 34 s: VGG16's first epoch outlasts it, ResNet18's is 30 of the 34
    assert "compiles" in equal and (
        "the first epoch alone took from 88 % of it to all of it, depending on the run (1 of the "
        "2 runs: all of it)") in equal
    # several seeds: each run's first epoch, by seed
    main["vgg16"] = main["vgg16"] + [record("vgg16", .8, seed=1, val=[.2, .5, .7, .8, .8],
                                            seconds=(40, 1, 1, 1, 1))]
    assert "VGG16 60 and 40 s (seeds 0 and 1) against 1.0 s" in compare.equal_time_text(main)


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
    assert f"{compare.points(row.low)} to {compare.points(row.high)} points" in text
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


def test_structure_counts_what_the_vgg_variant_changes():
    a, b = (compare.structure(models.build(n)) for n in ("vgg16", "vgg16_bigconv"))
    assert (a["convolutions"], b["convolutions"]) == (13, 5)
    assert a["kernel sizes"] == [(3, 3)] and b["kernel sizes"] == [(5, 5), (7, 7)]
    assert (a["dropout layers"], a["convolutions followed by dropout"]) == (10, 8)
    assert (b["dropout layers"], b["convolutions followed by dropout"]) == (7, 5)
    assert (a["ReLUs"], b["ReLUs"]) == (14, 6)
    assert round(100 * (b["parameters"] / a["parameters"] - 1)) == 42
    table = compare.structure_table({"vgg16": models.build("vgg16")})
    assert "| parameters | 15,001,418 |" in table and "| kernel sizes | 3x3 |" in table


def bench(rates, ratios=(0.95, 1.06)):
    return {"environment": {"device": "CPU: test"}, "networks": {
        name: {"book": {"images_per_second": rate, "epoch_seconds": [50.0, 40.0, 39.0]},
               "ratio_to_post_style": ratio}
        for (name, rate), ratio in zip(rates.items(), list(ratios) * 4)}}


def test_speed_text_reads_the_mac_rates():
    cost = {"vgg16": 313_463_808, "vgg16_bigconv": 314_512_384, "googlenet": 63_888_384,
            "resnet18": 141_497_344}
    even = compare.speed_text(cost, bench({"vgg16": 32.6, "vgg16_bigconv": 34.1,
                                           "googlenet": 164.8, "resnet18": 65.5}))
    assert "9.3 to 10.7 billion" in even and "predicts their relative speed" in even
    assert "both faster than either VGG" in even
    uneven = compare.speed_text(cost, bench({"vgg16": 300, "vgg16_bigconv": 300,
                                             "googlenet": 250, "resnet18": 700}))
    assert "does not predict speed" in uneven and "not both faster" in uneven
    assert "no benchmark" in compare.speed_text(cost, None)


def test_cost_table_and_post_style_text():
    built = {"googlenet": models.build("googlenet")}
    table = compare.cost_table(built, bench({"googlenet": 164.8}))
    assert "| GoogLeNet | 1,903,906 | 64 | 3 / 62 / 14 / 21 | 164.8 | 10.5 |" in table
    assert "images/s" not in compare.cost_table(built)
    text = compare.post_style_text(bench({"vgg16": 1, "resnet18": 1}))
    assert "0.95 to 1.06" in text and "both sides of 1" in text and "39.0 to 40.0 s" in text
    one_side = compare.post_style_text(bench({"vgg16": 1, "resnet18": 1}, ratios=(1.1, 1.2)))
    assert "one side of 1: the book's build was 10 to 20 % faster" in one_side
    assert "more than one network's epochs vary" in one_side
    close = compare.post_style_text(bench({"vgg16": 1, "resnet18": 1}, ratios=(1.02, 1.03)))
    assert "2 to 3 % faster" in close and "does not establish" in close
    earlier = {"networks": {"vgg16": {"ratio_to_post_style": 0.99}}}
    unrepeated = compare.post_style_text(
        bench({"vgg16": 1, "resnet18": 1}, ratios=(1.1, 1.2)), earlier)
    assert "came out at 0.99" in unrepeated and "did not repeat" in unrepeated


# ----------------------------------------------------------------------------- chapter 4's controls


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


def test_the_augmentation_table_gives_each_way_against_unaugmented_arrays():
    bench = {"ways": ["arrays", "model:crop", "model:crop mixed"], "networks": {
        "resnet18": {"arrays": {"images_per_second": 1000.0},
                     "model:crop": {"images_per_second": 950.0},
                     "model:crop mixed": {"images_per_second": 1900.0}}}}
    table = compare.augmentation_table(bench)
    assert "pad-and-crop in the model, mixed precision" in table
    assert "| ResNet18 | 1,000 | 950 (x0.95) | 1,900 (x1.90) |" in table
    assert "no augmentation (arrays) (reference)" in table
    assert compare._way_label("arrays mixed") == "no augmentation (arrays), mixed precision"
    # the ratios are to the record's own reference, its first way
    bench["ways"] = ["model:crop", "arrays"]
    assert "| ResNet18 | 950 | 1,000 (x1.05) |" in compare.augmentation_table(bench)


def test_weights_that_only_meet_padding_are_counted_from_the_map_size():
    def conv(size, kernel, **kw):
        inputs = keras.Input((size, size, 2))
        layer = keras.layers.Conv2D(3, kernel, padding=kw.pop("padding", "same"), **kw)
        layer(inputs)
        return layer

    # 7x7 on a 2x2 map: only the centre 3x3 taps ever meet the image; each output position
    # meets 2x2 image values of its 7x7 window
    assert compare.padding_only(conv(2, 7)) == (40 * 2 * 3, 4 * 4 * 2 * 3)
    assert compare.padding_only(conv(2, 3)) == (0, 4 * 4 * 2 * 3)  # VGG16's last stage
    assert compare.padding_only(conv(32, 5)) == (0, (32 * 5 - 6) ** 2 * 2 * 3)
    assert compare.padding_only(conv(8, 3, padding="valid")) == (0, 6 * 6 * 9 * 2 * 3)
    # stride 2, 'same', 3x3 -> 2x2 with a 7x7 kernel: 3 padded before, so the two outputs of
    # an axis read taps 3-5 and 1-3; taps 0 and 6 never meet the image
    assert compare.padding_only(conv(3, 7, strides=2)) == ((49 - 25) * 2 * 3, 6 * 6 * 2 * 3)
    with pytest.raises(ValueError, match="dilated"):
        compare.padding_only(conv(8, 3, dilation_rate=2))
    # the post's VGG16-big: its last 7x7 convolution (512 to 512 channels) on a 2x2 map
    facts = compare.structure(models.build("vgg16_bigconv"))
    assert facts["conv weights that only ever meet padding"] == 40 * 512 * 512
    assert compare.structure(models.build("vgg16"))["conv weights that only ever meet padding"] == 0
    # the MACs on image values: its last conv does 4 x 4 of its 2 x 2 x 49 products per
    # channel pair, and every other conv loses some at the border of its map
    on_image = "MACs per image on image values (padding left out)"
    last_conv_loss = 512 * 512 * (2 * 2 * 49 - 4 * 4)
    assert facts["MACs per image"] - facts[on_image] > last_conv_loss
    assert facts["trainable parameters"] < facts["parameters"]  # BN's moving statistics


def test_a_chapter_sets_its_one_run_beside_the_other_seeds_of_its_recipe():
    seed0 = record("vgg16", .376)
    recs = records(seed0, record("vgg16", .408, seed=1), record("vgg16", .545, seed=2),
                   record("vgg16", .9, seed=3, epochs=6, seconds=(1,) * 6),  # another recipe
                   record("vgg16", .5, options={"stage_kernels": [5, 5, 7, 7, 7]}, run="v-big"))
    assert [r["seed"] for r in compare.seed_runs(recs, "vgg16")] == [0, 1, 2]
    text = compare.other_seeds_text(recs, seed0)
    assert "40.8 % (seed 1) and 54.5 % (seed 2)" in text and "all 3 seeds" in text
    assert "90.0" not in text and "50.0" not in text
    assert "no other of its recipe yet" in compare.other_seeds_text(records(seed0), seed0)
    # a run of another recipe is set beside the seeds of its own recipe only
    other = record("vgg16", .7, seed=4, epochs=6, seconds=(1,) * 6)
    text = compare.other_seeds_text(dict(recs, **records(other)), other)
    assert "90.0 % (seed 3)" in text and "chapter 7" not in text and "37.6" not in text


# ----------------------------------------------------------------------------- CPU trials


def _trial(model, acc, seed=0, **hyper):
    import dataclasses

    from helpers import profiles

    fast = profiles.PROFILES["fast"]
    settings = {k: v for k, v in dataclasses.asdict(fast).items() if k != "epochs"}
    return {"run": model + (f"-seed{seed}" if seed else ""), "model": model, "seed": seed,
            "profile": "fast", "options": {}, "epochs": fast.epochs[model], "test_accuracy": acc,
            "history": {"accuracy": [0.5, acc]},
            "total_seconds": 3000.0, "data": {"train_size": 50000, "test_size": 10000},
            "hyper": {**settings, "dtype_policy": "float32", **hyper},
            "environment": {"device": "CPU: test", "cpu_cores": 2, "gpu": False,
                            "backend": "tensorflow"}}


def test_a_trial_is_set_against_the_seed_spread_of_todays_recipe_where_it_has_seeds():
    today = profiles.PROFILES["fast"]
    gpu = {"device": "NVIDIA H200", "gpu": True, "backend": "jax"}
    own = {f"vgg16-{s}": dict(_trial("vgg16", acc, seed=s), environment=gpu)
           for s, acc in ((0, 0.8661), (1, 0.8613), (2, 0.8576))}
    weaker = dict(_trial("vgg16", 0.8186, weight_decay=today.weight_decay / 5), environment=gpu)
    assert compare.todays_text(compare.todays_runs("vgg16", "NVIDIA H200", own)) == (
        "Today's recipe (NVIDIA H200): 86.17 % on average over seeds 0, 1 and 2 (86.61, "
        "86.13 and 85.76 %; standard deviation 0.4 points).")
    text = compare.against_todays_text(weaker, own)
    # seeds' SD 0.43 points (t with 2 df: 4.30): one run +-1.98, the mean of three +-1.26
    assert text.startswith("Against today's mean: \u22124.3 points (95 % interval \u22126.7 to "
                           "\u22122.0), lower beyond the noise of one run against a mean of 3")
    assert "taking the changed recipe to scatter as today's does" in text
    level = dict(weaker, test_accuracy=0.8613)
    assert "0.0 points" in compare.against_todays_text(level, own)
    assert "within the noise of one run" in compare.against_todays_text(level, own)
    # a trial of another seed is still set against them all; the feed's difference is named
    other = dict(weaker, seed=5, hyper=dict(weaker["hyper"], left_out_per_epoch=336))
    own["vgg16-1"]["hyper"] = dict(own["vgg16-1"]["hyper"], left_out_per_epoch=336)
    text = compare.against_todays_text(other, own)
    assert "against a mean of 3" in text
    assert ("It was fed whole batches (336 training images left out each epoch), like today's "
            "seed 1 but not seeds 0 and 2.") in text
    # one run of today's recipe: with the spread the table borrows, another seed may be set
    # against it; without, only the same seed, and the interval says what it leaves out
    single = {"vgg16": own["vgg16-0"]}
    assert compare.against_todays_text(dict(weaker, seed=3), single) == ""
    text = compare.against_todays_text(dict(weaker, seed=3), single, spread=(0.011, 2, "resnet18"))
    assert text.startswith("Against today's run: ") and (
        "the noise of two single runs (a seed-to-seed spread of 1.1 points, ResNet18's, the "
        "largest of today's recipe on this device, and the test set's)") in text


def test_a_trial_is_judged_against_the_aim_by_its_test_set_interval():
    # GoogLeNet's aim: 89.46 - 1 = 88.46 %; on 10,000 images the interval is about +-0.6 points
    above, short, inside = (compare.trial_text({"googlenet": _trial("googlenet", acc)})
                            for acc in (0.895, 0.875, 0.885))
    assert "above the recipe's aim of 88.46 %" in above
    assert "short of the recipe's aim of 88.46 %" in short
    assert "lies inside its interval" in inside
    epochs = profiles.PROFILES["fast"].epochs["googlenet"]
    assert "89.46 % after about 150 epochs" in above and f"after {epochs} epochs" in above


def test_trial_table_has_a_row_per_run_in_the_books_network_order():
    table = compare.trial_table({"r": _trial("resnet18", 0.9), "g": _trial("googlenet", 0.88)})
    rows = table.splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| GoogLeNet, seed 0 (`g`)",
                                                    "| ResNet18, seed 0 (`r`)"]
    assert "88.46" in rows[0] and "50,000" in rows[0] and "CPU: test (2 cores)" in rows[0]
    assert "today's" in rows[0] and "tensorflow, float32" in rows[0]
    tf32 = _trial("googlenet", 0.88)
    tf32["environment"] = dict(tf32["environment"], backend="jax", float32_products="tf32")
    assert "jax, float32 (TF32 products)" in compare.trial_table({"g": tf32})
    assert "--trial" in compare.trial_text({})  # none yet: how to make one


def test_a_trial_of_a_retuned_recipe_says_so_and_a_variant_gets_no_aim():
    assert compare.is_current_recipe(_trial("googlenet", 0.88))
    today = profiles.PROFILES["fast"]
    rate, doubled = f"{today.learning_rate:g}", f"{2 * today.learning_rate:g}"
    old = _trial("googlenet", 0.88, learning_rate=2 * today.learning_rate)
    assert not compare.is_current_recipe(old)
    assert not compare.is_current_recipe(dict(_trial("googlenet", 0.88), epochs=20))
    changed = f"learning rate {doubled} instead of {rate}"
    assert f"- {compare._cap(changed)} (seed 0, CPU: test, `g`)" in compare.trial_text({"g": old})
    assert changed in compare.trial_table({"g": old})
    shorter = dict(old, epochs=20, hyper=dict(old["hyper"], batch_size=128))
    assert compare.recipe_differences(shorter) == [
        f"20 epochs instead of {today.epochs['googlenet']}",
        f"batch 128 instead of {today.batch_size}", changed]
    close = dict(old, hyper=dict(old["hyper"], learning_rate=today.learning_rate + 1e-8,
                                 warmup_epochs=float(today.warmup_epochs)))
    # 2 and 2.0 are the same; a difference too small for :g to show is shown in full
    assert compare.recipe_differences(close) == [
        f"learning rate {today.learning_rate + 1e-8!r} instead of {today.learning_rate!r}"]
    older = dict(old, hyper={k: v for k, v in old["hyper"].items() if k != "bn_recalibration"})
    assert "BN re-estimate images 0 instead of 2000" in compare.recipe_differences(older)
    variant = dict(_trial("googlenet", 0.88), run="googlenet-use_pool_branch=True",
                   options={"use_pool_branch": True})
    assert "aim" not in compare.trial_text({"v": variant})
    assert "(`v`)" in compare.trial_table({"v": variant})


def test_as_trained_text_lists_every_seed_of_the_recipe_or_nothing_for_one():
    def run(seed, as_trained, acc, epochs=14):
        return {"run": "vgg16_bigconv" + (f"-seed{seed}" if seed else ""), "model": "vgg16_bigconv",
                "options": {}, "seed": seed, "epochs": epochs, "test_accuracy": acc,
                "test_accuracy_as_trained": as_trained,
                "data": {"train_size": 8000, "test_size": 10000}}
    recs = {r["run"]: r for r in (run(0, 0.361, 0.631), run(1, 0.464, 0.650),
                                  run(2, 0.20, 0.40, epochs=5))}  # seed 2: another recipe
    text = compare.as_trained_text(recs, recs["vgg16_bigconv"])
    assert text.startswith("Over the 2 stored seeds of this recipe, the test accuracy of VGG16-big")
    assert "36.1 → 63.1 % (seed 0) and 46.4 → 65.0 % (seed 1)." in text
    assert compare.as_trained_text({"vgg16_bigconv": recs["vgg16_bigconv"]},
                                   recs["vgg16_bigconv"]) == ""


def test_a_collapse_of_training_accuracy_is_named_with_its_epochs():
    steady = dict(_trial("googlenet", 0.88), history={"accuracy": [0.3, 0.5, 0.6, 0.58, 0.7]})
    assert compare.collapse_text(steady) == ""  # 2 points below the best: not a collapse
    fell = dict(_trial("googlenet", 0.78),
                history={"accuracy": [0.3, 0.8035, 0.7866, 0.5975, 0.7, 0.8038]})
    assert compare.collapse_text(fell) == ("its training accuracy fell from 80.3 % (epoch 2) to "
                                           "59.8 % (epoch 4) and ended at 80.4 %")
    assert "On the way, its training accuracy fell" in compare.trial_text({"g": fell})


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


def test_gpu_speed_text_reads_the_records():
    way = lambda rate, **kw: {"images_per_second": rate, **kw}  # noqa: E731
    gpu = {"ways": ["arrays", "model:crop", "model:crop mixed"], "batch_size": 512,
           "environment": {"device": "GPU: test"},
           "networks": {"vgg16": {"arrays": way(1000.0), "model:crop": way(1000.0),
                                  "model:crop mixed": way(1500.0, dtype_policy="mixed_bfloat16")},
                        "resnet18": {"arrays": way(800.0), "model:crop": way(400.0),
                                     "model:crop mixed": way(600.0)}}}
    cpu = {"batch_size": 128, "environment": {"device": "CPU: test", "cpu_cores": 2},
           "networks": {"vgg16": {"book": {"images_per_second": 10.0}}}}
    text = compare.gpu_speed_text(gpu, cpu)
    assert "mixed precision (mixed_bfloat16)" in text and "1.50 to 1.50" not in text
    assert "1.50 times as fast" in text  # VGG16: 1500 / 1000 and ResNet18: 600 / 400, the same way in float32
    assert "VGG16 1,000 images/s against 10 (100 times)" in text  # the float32 reference, like for like
    assert "ResNet18 800" not in text  # no CPU figure to set it against
    assert compare.gpu_speed_text(None) == "There is no GPU benchmark record yet."
    assert "TF32" in compare.gpu_speed_text(gpu) and "against" not in compare.gpu_speed_text(gpu)


def test_or_list_and_a_recipe_told_for_several_networks():
    assert compare.or_list([30]) == "30" and compare.or_list([30, 33, 50]) == "30, 33 or 50"
    fast = profiles.PROFILES["fast"]
    assert "33 or 50 epochs" in profiles.describe(fast, "vgg16", epochs="33 or 50 epochs")
    assert "33 epochs" in profiles.describe(fast, "vgg16")


def test_a_changed_trial_is_set_against_todays_recipe_on_its_device_and_seed():
    today = profiles.PROFILES["fast"]
    gpu = {"device": "NVIDIA H200", "gpu": True, "backend": "jax"}
    trial = dict(_trial("vgg16", 0.8683, learning_rate=today.learning_rate / 2), environment=gpu)
    own = {"vgg16": dict(_trial("vgg16", 0.8661), environment=gpu)}
    text = compare.against_todays_text(trial, own)
    # two runs of 10,000 images near 87 %: a half-width of about 0.93 points
    assert text.startswith("Against today's run of the same seed: +0.2 points (95 % interval "
                           "\u22120.7 to +1.2), within the two runs' test-set noise")
    block = compare.trial_text({"t": trial}, own=own)
    assert text in block and "Today's recipe (NVIDIA H200): 86.61 % (seed 0, one run)." in block
    assert block.startswith("**VGG16.** The post reports 93.04 % after about 100 epochs; the "
                            "recipe aims at 92.04 %.")
    lower = dict(trial, test_accuracy=0.8744 - 0.0113 - 0.02)
    text = compare.against_todays_text(lower, own)
    assert "lower beyond the two runs' test-set noise" in text and "seed to seed" in text
    # a trial fed whole batches (JAX, since 409b750) against a record that was not: said
    whole = dict(trial, hyper=dict(trial["hyper"], left_out_per_epoch=336))
    assert "It was fed whole batches (336 training images left out each epoch), unlike today's runs." in (
        compare.against_todays_text(whole, own))
    assert "It was fed" not in compare.against_todays_text(trial, own)
    # nothing to set it against: another device, another seed, a record of an older recipe,
    # or a trial of today's recipe itself
    assert compare.against_todays_text(dict(trial, environment={"device": "CPU: test"}), own) == ""
    assert compare.against_todays_text(dict(trial, seed=1), own) == ""
    older = {"vgg16": dict(own["vgg16"], epochs=20)}
    assert compare.against_todays_text(trial, older) == ""
    assert compare.against_todays_text(dict(_trial("vgg16", 0.87), environment=gpu), own) == ""
    # a trial of today's recipe on a device serves as today's run there
    cpu_today, cpu_lower = _trial("vgg16", 0.85), _trial("vgg16", 0.80, learning_rate=0.1)
    block = compare.trial_text({"a": cpu_today, "b": cpu_lower})
    assert "Today's recipe (CPU: test): 85.00 % (seed 0, one run)." in block
    assert "Against today's run of the same seed: \u22125.0 points" in block


def test_a_difference_in_points_is_signed_unless_it_rounds_to_nothing():
    assert compare.points(0.012) == "+1.2" and compare.points(-0.012) == "\u22121.2"
    assert compare.points(-0.0004) == "0.0" == compare.points(0.0004)


def test_the_compile_time_a_run_recorded_is_set_against_its_first_epoch():
    run = _trial("vgg16", 0.86)
    run["history"] = {"seconds": [24.2, 0.7, 0.9, 0.7]}
    assert compare.compiling_text({"vgg16": [run]}) == ""  # no record holds the figure
    run["compile_seconds"] = {"train_step": 17.6, "test_step": 1.8, "other": 2.1, "total": 21.5}
    text = compare.compiling_text({"vgg16": [dict(run, seed=1)], "resnet18": [_trial("resnet18", .8)]})
    assert text.startswith("The first epoch is mostly compiling: XLA, through JAX, took VGG16 "
                           "(seed 1) 22 s, 18 s of it its training step, against a first epoch "
                           "of 24 s and 0.7 s for each later one.")
    assert "ResNet18" not in text


def test_run_to_run_times_name_a_change_of_code_beside_the_machines_load():
    runs = []
    for seed, minutes, commit in ((0, 1.8, "aaa"), (1, 0.8, "bbb"), (2, 0.85, "bbb")):
        r = _trial("vgg16", 0.86, seed=seed)
        r["history"] = {"seconds": [60.0 * minutes], "val_accuracy": [0.8]}
        r["environment"] = dict(r["environment"], git_commit=commit)
        runs.append(r)
    text = compare.equal_time_text({"vgg16": runs})
    assert ("which the machine's load moves, and VGG16's runs come from 2 versions of the code, "
            "which can move them too: the same recipe took VGG16 0.8 to 1.8 minutes") in text
    for r in runs:
        r["environment"]["git_commit"] = "aaa"
    text = compare.equal_time_text({"vgg16": runs})
    assert "which the machine's load moves: the same recipe took VGG16 0.8 to 1.8" in text


def test_mixed_precisions_longer_compile_is_set_against_its_speed():
    def way(first, rate):
        return {"epoch_seconds": [first, 0.4, 0.4], "images_per_second": rate}

    gpu = {"ways": ["arrays", "model:crop", "model:crop mixed"], "images": 25600, "networks": {
        "vgg16": {"arrays": way(9.4, 66847), "model:crop": way(5.3, 66349),
                  "model:crop mixed": way(19.1, 99509)},
        "googlenet": {"arrays": way(27.8, 68042), "model:crop": way(9.4, 64483),
                      "model:crop mixed": way(65.6, 67082)},
        "resnet18": {"arrays": way(9.3, 89817), "model:crop": way(9.0, 87356),
                     "model:crop mixed": way(8.0, 95000)}}}
    text = compare.mixed_precision_payback_text(gpu, epochs={"vgg16": 33, "googlenet": 30,
                                                             "resnet18": 50})
    assert text.startswith("Mixed precision also compiles longer. The bench's first epoch "
                           "(25,600 images), mostly compiling, took in mixed precision against "
                           "float32, with the same augmentation: VGG16 19 s against 5 s, "
                           "GoogLeNet 66 s against 9 s")
    # VGG16: 13.8 s more, 0.2512 s saved per 50,000 images: 55 epochs
    assert "VGG16 after about 55 epochs" in text
    assert "GoogLeNet only after more than a thousand epochs" in text
    assert "ResNet18 at once" in text  # its mixed start was the shorter
    assert "the `fast` recipe's runs of VGG16 (33 epochs) and GoogLeNet (30 epochs) sooner" in text
    assert compare.mixed_precision_payback_text({"ways": ["arrays"], "networks": {}}) == ""
    assert compare.mixed_precision_payback_text(None) == ""


def test_a_small_standard_deviation_is_not_shown_as_zero():
    assert compare.sd_text(0.00047) == "0.05" and compare.sd_text(0.0043) == "0.4"
    assert compare.sd_text(0.0) == "0.0"


def test_the_recipes_own_runs_are_set_against_its_aim_once_per_network():
    runs = {"vgg16": [_trial("vgg16", 0.8661), _trial("vgg16", 0.8613, seed=1)],
            "resnet18": [_trial("resnet18", 0.95), _trial("resnet18", 0.85, seed=1)]}
    text = compare.aims_text(runs)
    assert text.startswith("VGG16 (CPU: test) reached 86.61 and 86.13 % (seeds 0 and 1) after 33 "
                           "epochs: each short of the recipe's aim of 92.04 %, beyond the test "
                           "set's noise.")
    assert ("seed 0 above the recipe's aim of 91.70 %, beyond the test set's noise; seed 1 short "
            "of the recipe's aim") in text
    assert "No record of VGG16-big and GoogLeNet yet." in text


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


def test_a_trial_against_two_seeds_of_todays_recipe_carries_the_spread_given():
    gpu = {"device": "NVIDIA H200", "gpu": True, "backend": "jax"}
    own = {f"v{s}": dict(_trial("vgg16", acc, seed=s), environment=gpu)
           for s, acc in ((0, 0.8661), (1, 0.8660))}  # two seeds that happen to agree
    trial = dict(_trial("vgg16", 0.8186, label_smoothing=0.0), environment=gpu)
    text = compare.against_todays_text(trial, own, spread=(0.0113, 2, "resnet18"))
    assert "against a mean of 2 (a seed-to-seed spread of 1.1 points, ResNet18's" in text
    # through trial_text, the spread is the largest of today's recipe on that device
    own.update({f"r{s}": dict(_trial("resnet18", acc, seed=s), environment=gpu)
                for s, acc in ((0, 0.8857), (1, 0.8637), (2, 0.8699))})
    block = compare.trial_text({"t": trial}, own=own)
    assert "a seed-to-seed spread of 1.1 points, ResNet18's, the largest" in block


def test_when_every_seeds_interval_holds_the_aim_the_sentence_says_so_once():
    runs = {"googlenet": [_trial("googlenet", 0.885), _trial("googlenet", 0.884, seed=1)]}
    assert ("the recipe's aim of 88.46 % lies inside each run's interval, so none can say "
            "whether it is met.") in compare.aims_text(runs)


def test_compile_text_and_payback_where_a_figure_is_missing_or_mixed_is_no_faster():
    run = _trial("vgg16", 0.86)
    run["history"] = {"seconds": [24.2, 0.7, 0.7]}
    run["compile_seconds"] = {"other": 0.3, "total": 0.3}  # no train_step among them
    assert "0 s, against a first epoch of 24 s" in compare.compiling_text({"vgg16": [run]})
    assert "training step" not in compare.compiling_text({"vgg16": [run]})
    gpu = {"ways": ["arrays", "model:crop", "model:crop mixed"], "images": 25600, "networks": {
        "resnet18": {w: {"epoch_seconds": [first, 0.4], "images_per_second": rate}
                     for w, first, rate in (("arrays", 9, 90000), ("model:crop", 5, 88000),
                                            ("model:crop mixed", 17, 80000))}}}
    assert "ResNet18 never (it is no faster)" in compare.mixed_precision_payback_text(gpu)
