"""Unit tests of helpers.speed: first epochs, compiling, equal time, throughput, payback."""

import pytest

from helpers import compare, models, speed
from fake_records import record, records, bench, trial_record


def test_accuracy_at_a_time_budget():
    r = record("resnet18", 0.5, val=[0.2, 0.4, 0.35, 0.5, 0.6], seconds=(10,) * 5)
    assert speed.accuracy_at(r, 5) is None
    assert speed.accuracy_at(r, 30) == 0.4  # the best reached by then
    assert speed.accuracy_at(r, 1e9) == 0.6


def test_runs_are_grouped_by_device():
    recs = records(record("vgg16", .5, device="A"), record("resnet18", .5, device="B"))
    assert {d: list(r) for d, r in speed.by_device(recs).items()} == {
        "A": ["vgg16"], "B": ["resnet18"]}


def test_first_epoch_and_equal_time_sentences():
    main = compare.main_runs(records(
        record("vgg16", .1, val=[.10, .12, .2, .2, .2], seconds=(100,) * 5),
        record("resnet18", .5, val=[.3, .4, .5, .5, .5], seconds=(20,) * 5)))
    first = speed.first_epoch_text(main)
    assert "VGG16 10.0 %" in first and "ResNet18 30.0 %" in first and "1,000 images" in first
    assert "between 8.1 and 11.9 %" in first  # 10 % +- 1.96 sqrt(0.1 x 0.9 / 1,000)
    equal = speed.equal_time_text(main)  # the shortest run lasted 100 s: VGG16's first epoch
    assert "1.7 minutes" in equal and "VGG16: seed 0 10.0 %" in equal and "ResNet18: seed 0 50.0 %" in equal
    assert "wall-clock" not in equal  # one run each: no spread of run times to report
    slower = dict(main, resnet18=main["resnet18"] + [
        record("resnet18", .5, seed=1, val=[.3] * 5, seconds=(30,) * 5)])
    assert "ResNet18 1.7 to 2.5 minutes from run to run" in speed.equal_time_text(slower)
    assert speed.first_epoch_text({}) == speed.equal_time_text({}) == "There are no runs to read."
    assert "compiles" not in equal  # every epoch as long as the next


def test_equal_time_sentence_names_a_first_epoch_spent_compiling():
    # on a GPU the first epoch holds the compile: 60 s, then 1 s an epoch
    main = compare.main_runs(records(
        record("vgg16", .8, val=[.2, .5, .7, .8, .8], seconds=(60, 1, 1, 1, 1)),
        record("resnet18", .8, val=[.4, .6, .7, .8, .8], seconds=(30, 1, 1, 1, 1))))
    equal = speed.equal_time_text(main)
    assert "- VGG16: 60 s against 1.0 s\n- ResNet18: 30 s against 1.0 s" in equal
    assert ("- VGG16: seed 0 no epoch finished (its first took 60 s)\n- ResNet18: seed 0 80.0 %"
            in equal)
    assert "over all its runs" not in equal  # one version of the code
    # the reading and what the first epochs weigh are blocks of their own, lists in them
    blocks = equal.split("\n\n")
    assert blocks[0].startswith("Within 0.6 minutes") and blocks[1].startswith("- VGG16: seed 0")
    assert blocks[2].startswith("The first epoch") and blocks[4].startswith("Besides training")
    # the shortest run lasted 34 s: VGG16's first epoch outlasts it, ResNet18's is 30 of the 34
    assert "compiles" in equal and (
        "it alone took from 88 % of it to all of it, depending on the run (1 of the "
        "2 runs: all of it)") in equal
    # several seeds: each run's first epoch, by seed
    main["vgg16"] = main["vgg16"] + [record("vgg16", .8, seed=1, val=[.2, .5, .7, .8, .8],
                                            seconds=(40, 1, 1, 1, 1))]
    assert "- VGG16: 60 and 40 s (seeds 0 and 1) against 1.0 s" in speed.equal_time_text(main)


def _column(rates, device="CPU: test", ranges=None):
    """A speed column; each network's timed epochs all at its rate unless ``ranges`` says."""
    ranges = {n: (r, r) for n, r in rates.items()} | (ranges or {})
    return speed.SpeedColumn(f"images/s on {device}", device, rates, ranges)


def test_speed_text_reads_the_mac_rates():
    cost = {"vgg16": 313_463_808, "vgg16_bigconv": 314_512_384, "googlenet": 63_888_384,
            "resnet18": 141_497_344}
    even = speed.speed_text(cost, [_column({"vgg16": 32.6, "vgg16_bigconv": 34.1,
                                            "googlenet": 164.8, "resnet18": 65.5})])
    assert "9.3 billion to 10.7 billion a second" in even and "predicts their relative speed" in even
    assert "forward-pass multiply-accumulates" in even
    assert "both faster there than either VGG" in even and "devices can rank" not in even
    uneven = speed.speed_text(cost, [_column({"vgg16": 300, "vgg16_bigconv": 300,
                                              "googlenet": 250, "resnet18": 700})])
    assert "does not predict speed" in uneven and "both" not in uneven
    assert ("GoogLeNet was slower than either VGG in every timed epoch and ResNet18 was faster "
            "than either VGG") in uneven
    # each device its own sentence and ranking
    two = speed.speed_text(cost, [_column({n: 100.0 for n in cost}),
                                  _column({"vgg16": 1000, "vgg16_bigconv": 4000,
                                           "googlenet": 900, "resnet18": 800}, "GPU: test")])
    assert "On CPU: test" in two and "On GPU: test: 57.5 billion to 1.3 trillion a second" in two
    # a list item per device, then the closing paragraph (glued with the glue:md directive)
    assert "By device:\n\n- On CPU: test" in two and "\n- On GPU: test" in two
    assert "\n\nHow well a device suits each layer shape" in two
    assert "both slower there than either VGG" in two and "devices can rank" in two
    assert "no benchmark" in speed.speed_text(cost, [])


def test_a_network_whose_epochs_overlap_the_vggs_is_not_ranked_against_them():
    cost = {"vgg16": 313_463_808, "vgg16_bigconv": 314_512_384, "googlenet": 63_888_384,
            "resnet18": 141_497_344}
    medians = {"vgg16": 1000, "vgg16_bigconv": 1100, "googlenet": 500, "resnet18": 900}
    # ResNet18's median is the lowest but one, yet its fastest epoch beat VGG16's slowest
    one = speed.speed_text(cost, [_column(medians, ranges={"vgg16": (900, 1100),
                                                           "resnet18": (800, 950)})])
    assert "both slower" not in one
    assert ("GoogLeNet was slower than either VGG in every timed epoch and ResNet18's timed "
            "epochs overlap the VGGs'") in one
    both = speed.speed_text(cost, [_column(medians, ranges={"googlenet": (400, 1000),
                                                            "resnet18": (800, 950),
                                                            "vgg16": (900, 1100)})])
    assert "does not rank the complex networks" in both
    # between the two VGGs, touching neither: not said to overlap them
    between = speed.speed_text(cost, [_column(medians, ranges={"vgg16": (900, 950),
                                                               "resnet18": (1000, 1050)})])
    assert "ResNet18 fell between the two VGGs" in between and "ResNet18's" not in between


def test_speed_ranges_span_the_timed_epochs_the_first_left_out():
    bench = {"images": 1000,
             "networks": {"vgg16": {"arrays": {"images_per_second": 1000.0,
                                               "epoch_seconds": [9.0, 1.0, 2.0, 1.0]}},
                          "resnet18": {"book": {"images_per_second": 50.0}},
                          "googlenet": {"arrays": {"images_per_second": 10.0,
                                                   "range_images_per_second": [8.0, 12.0]}}}}
    ranges = speed.speed_ranges(bench)
    assert ranges["vgg16"] == (500.0, 1000.0)  # 1,000 images an epoch of 1 to 2 s; not 9 s
    assert ranges["resnet18"] == (50.0, 50.0) and ranges["googlenet"] == (8.0, 12.0)


def test_the_pipeline_text_reads_the_two_places_against_unaugmented_arrays():
    def way(rate, ratio, seconds):
        return {"images_per_second": rate, "ratio_to_arrays": ratio, "epoch_seconds": seconds}

    bench = {"batch_size": 512, "images": 25_600,
             "environment": {"device": "NVIDIA H200", "gpu": True, "backend": "jax"},
             "ways": ["arrays", "model:crop", "pipeline:crop"],
             "networks": {"resnet18": {"arrays": way(31_000.0, 1.0, [9, 0.8, 0.8, 0.9]),
                                       "model:crop": way(30_000.0, 0.97, [9, 0.85, 0.86, 0.9]),
                                       "pipeline:crop": way(2_260.0, 0.07, [20, 11.3, 11.4])}}}
    text = speed.pipeline_text(bench)
    assert text.startswith("On NVIDIA H200 (jax, float32, batch 512, 25,600 images an epoch")
    assert ("ResNet18 trained at 0.07x the speed of unaugmented arrays with pad-and-crop in the "
            "input pipeline (2,260 images/s) and at 0.97x with it inside the model, so inside "
            "the model was the faster place there.") in text
    # epochs that overlap are not ranked, and no idle share is claimed
    bench["networks"]["resnet18"]["pipeline:crop"] = way(29_000.0, 0.94, [20, 0.84, 0.95])
    assert "do not tell apart" in speed.pipeline_text(bench)
    assert speed.pipeline_text(None) == speed.PIPELINE_UNRECORDED
    assert speed.pipeline_text(None, unrecorded="") == ""  # chapter 2's CPU record, when absent
    del bench["networks"]["resnet18"]["pipeline:crop"]  # a record without both places: none
    assert speed.pipeline_text(bench, unrecorded="") == ""


def test_the_largest_epoch_spread_leaves_out_compiling_epochs():
    bench = {"networks": {"vgg16": {"arrays": {"epoch_seconds": [9.0, 1.0, 1.2]},
                                    "model:crop": {"epoch_seconds": [5.0, 1.0, 1.5, 1.1]},
                                    "timed_by": {"git_commit": "abc"}},
                          "resnet18": {"arrays": {"epoch_seconds": [9.0, 2.0]}}}}
    assert speed.largest_epoch_spread(bench) == pytest.approx(0.5)
    assert speed.largest_epoch_spread(None) is None


def test_speed_column_names_device_backend_precision_and_batch():
    cpu = {"batch_size": 128, "environment": {"device": "CPU: test", "cpu_cores": 2,
                                              "backend": "tensorflow", "precision": "float32"},
           "networks": {"vgg16": {"book": {"images_per_second": 10.0}}}}
    heading, device, rates, ranges = speed.speed_column(cpu)
    assert heading == "images/s on CPU: test (2 cores): tensorflow, float32, unaugmented arrays, batch 128"
    assert device == "CPU: test (2 cores), with tensorflow, float32, unaugmented arrays, batch 128"
    assert rates == {"vgg16": 10.0} and ranges == {"vgg16": (10.0, 10.0)}
    gpu = {"ways": ["arrays", "model:crop mixed"], "batch_size": 512,
           "environment": {"device": "GPU: test", "gpu": True, "backend": "jax"},
           "networks": {"vgg16": {"arrays": {"images_per_second": 900.0, "dtype_policy": "float32"},
                                  "model:crop mixed": {"images_per_second": 1500.0,
                                                       "dtype_policy": "mixed_bfloat16"}}}}
    assert speed.speed_column(gpu)[2] == {"vgg16": 900.0}
    heading, _, rates, _ = speed.speed_column(gpu, "model:crop mixed")
    assert rates == {"vgg16": 1500.0}
    assert heading == "images/s on GPU: test: jax, mixed precision, pad-and-crop in the model, batch 512"
    # float32 on a GPU: TF32 products unless the record says otherwise
    assert ("float32 (TF32 products by default; the record does not say), unaugmented arrays"
            in speed.speed_column(gpu)[0])
    gpu["environment"]["float32_products"] = "float32"
    assert "jax, float32 (full float32 products), unaugmented arrays" in speed.speed_column(gpu)[0]


def test_cost_table_and_post_style_text():
    built = {"googlenet": models.build("googlenet")}
    table = speed.cost_table(built, [_column({"googlenet": 164.8})])
    assert "| GoogLeNet | 1,903,906 | 64 | 3 / 62 / 14 / 21 | 164.8 |" in table
    assert "images/s" not in speed.cost_table(built)
    assert "| 66,847 |" in speed.cost_table(built, [_column({"googlenet": 66847.4})])
    text = speed.post_style_text(bench({"vgg16": 1, "resnet18": 1}))
    assert "0.95 to 1.06" in text and "both sides of 1" in text and "39.0 to 40.0 s" in text
    one_side = speed.post_style_text(bench({"vgg16": 1, "resnet18": 1}, ratios=(1.1, 1.2)))
    assert "one side of 1, the book's build timing 10 to 20 % faster" in one_side
    assert "faster: more than twice what one network's epochs vary" in one_side
    close = speed.post_style_text(bench({"vgg16": 1, "resnet18": 1}, ratios=(1.02, 1.03)))
    assert "2 to 3 % faster" in close and "does not establish" in close
    earlier = {"networks": {"vgg16": {"ratio_to_post_style": 0.99}}}
    unrepeated = speed.post_style_text(
        bench({"vgg16": 1, "resnet18": 1}, ratios=(1.1, 1.2)), earlier)
    assert "came out at 0.99" in unrepeated and "did not repeat" in unrepeated


def test_the_augmentation_table_gives_each_way_against_unaugmented_arrays():
    bench = {"ways": ["arrays", "model:crop", "model:crop mixed"], "networks": {
        "resnet18": {"arrays": {"images_per_second": 1000.0},
                     "model:crop": {"images_per_second": 950.0},
                     "model:crop mixed": {"images_per_second": 1900.0}}}}
    table = speed.augmentation_table(bench)
    assert "pad-and-crop in the model, mixed precision" in table
    assert "| ResNet18 | 1,000 | 950 (x0.95) | 1,900 (x1.90) |" in table
    assert "no augmentation (arrays) (reference)" in table
    assert speed._way_label("arrays mixed") == "no augmentation (arrays), mixed precision"
    # the ratios are to the record's own reference, its first way
    bench["ways"] = ["model:crop", "arrays"]
    assert "| ResNet18 | 950 | 1,000 (x1.05) |" in speed.augmentation_table(bench)


def test_gpu_speed_text_reads_the_records():
    way = lambda rate, **kw: {"images_per_second": rate, **kw}  # noqa: E731
    gpu = {"ways": ["arrays", "model:crop", "model:crop mixed"], "batch_size": 512,
           "environment": {"device": "GPU: test", "gpu": True},
           "networks": {"vgg16": {"arrays": way(1000.0), "model:crop": way(1000.0),
                                  "model:crop mixed": way(1500.0, dtype_policy="mixed_bfloat16")},
                        "resnet18": {"arrays": way(800.0), "model:crop": way(400.0),
                                     "model:crop mixed": way(600.0)}}}
    cpu = {"batch_size": 128, "environment": {"device": "CPU: test", "cpu_cores": 2},
           "networks": {"vgg16": {"book": {"images_per_second": 10.0}}}}
    text = speed.gpu_speed_text(gpu, cpu)
    assert "mixed precision (mixed_bfloat16)" in text and "1.50 to 1.50" not in text
    assert "1.50 times as fast" in text  # VGG16: 1500 / 1000 and ResNet18: 600 / 400, the same way in float32
    assert "VGG16 1,000 images/s against 10 (100 times)" in text  # the float32 reference, like for like
    assert "ResNet18 800" not in text  # no CPU figure to set it against
    assert speed.gpu_speed_text(None) == "There is no GPU benchmark record yet."
    assert "TF32" in speed.gpu_speed_text(gpu) and "against" not in speed.gpu_speed_text(gpu)
    gpu["environment"]["float32_products"] = "float32"  # a record that says
    assert "augmentation in float32 (full float32 products)." in speed.gpu_speed_text(gpu)
    del gpu["environment"]["float32_products"]
    assert "separate calls" not in text  # one call timed it all
    gpu["environment"]["git_commit"] = "f18485043"
    gpu["networks"]["vgg16"]["timed_by"] = {"git_commit": "b688f8ef4007c5f7"}
    assert ("The record joins networks timed in separate calls: VGG16 by the code at b688f8e; "
            "ResNet18 by the code at f184850.") in speed.gpu_speed_text(gpu)
    gpu["networks"]["vgg16"]["timed_by"] = {"git_commit": "f184850433-dirty"}
    assert "VGG16 by the code at f184850-dirty; ResNet18" in speed.gpu_speed_text(gpu)


def test_the_compile_time_a_run_recorded_is_set_against_its_first_epoch():
    run = trial_record("vgg16", 0.86)
    run["history"] = {"seconds": [24.2, 0.7, 0.9, 0.7]}
    assert speed.compiling_text({"vgg16": [run]}) == ""  # no record holds the figure
    run["compile_seconds"] = {"train_step": 17.6, "test_step": 1.8, "other": 2.1, "total": 21.5}
    text = speed.compiling_text({"vgg16": [dict(run, seed=1)], "resnet18": [trial_record("resnet18", .8)]})
    assert text.startswith("The first epoch is mostly compiling: XLA, through JAX, took VGG16 "
                           "(seed 1) 22 s, 18 s of it its training step, against a first epoch "
                           "of 24 s and 0.7 s for each later one.")
    assert "ResNet18" not in text


def test_run_to_run_times_name_the_versions_of_the_code_beside_the_machines_load():
    runs = []
    for seed, minutes, commit in ((0, 1.8, "aaa1111"), (1, 0.8, "bbb2222"), (2, 0.85, "bbb2222")):
        r = trial_record("vgg16", 0.86, seed=seed)
        r["history"] = {"seconds": [20.0] + [60.0 * minutes / 4] * 4, "val_accuracy": [0.8] * 5}
        r["environment"] = dict(r["environment"], git_commit=commit)
        runs.append(r)
    resnet = trial_record("resnet18", 0.88)
    resnet["history"] = {"seconds": [20.0, 10.0], "val_accuracy": [0.8, 0.9]}
    resnet["environment"] = dict(resnet["environment"], git_commit="ccc3333" + "-dirty")
    text = speed.equal_time_text({"vgg16": runs, "resnet18": [resnet]})
    assert ("which the machine's load moves, as does the version of the code (VGG16's runs come "
            "from 2 versions of it, named below): the same recipe took VGG16") in text
    assert ("The runs come from 3 versions of the code: aaa1111 (VGG16, seed 0), bbb2222 (VGG16, "
            "seeds 1 and 2) and ccc3333-dirty (ResNet18, seed 0).") in text
    assert "VGG16 27.00 s (aaa1111) against 12.38 s (bbb2222)" in text
    # the first-epoch sentence's later epoch pools the versions, and says so
    assert "the median of a network's later epochs, over all its runs, of any version" in text
    assert "ResNet18" not in text.split("A typical later epoch")[1].split(":")[0]
    for r in runs + [resnet]:
        r["environment"]["git_commit"] = "aaa1111"
    assert "versions of the code" not in speed.equal_time_text({"vgg16": runs, "resnet18": [resnet]})


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
    text = speed.mixed_precision_payback_text(gpu, epochs={"vgg16": 33, "googlenet": 30,
                                                             "resnet18": 50})
    assert text.startswith("Mixed precision also compiles longer. The bench's first epoch "
                           "(25,600 images), mostly compiling, took in mixed precision against "
                           "float32, with the same augmentation: VGG16 19 s against 5 s, "
                           "GoogLeNet 66 s against 9 s")
    # VGG16: 13.8 s more, 0.2512 s saved per 50,000 images: 55 epochs
    assert "VGG16 after about 55 epochs" in text and "in brackets" not in text  # even epochs
    assert "GoogLeNet only after more than a thousand epochs" in text
    assert "ResNet18 at once" in text  # its mixed start was the shorter
    assert "the `fast` recipe's runs of VGG16 (33 epochs) and GoogLeNet (30 epochs) sooner" in text
    # float32's first epoch followed the unaugmented way's in the same process: said, with figures
    assert "These figures favour float32" in text and "another float32 way, no augmentation (arrays), in" in text
    assert "VGG16 9 s, GoogLeNet 28 s and ResNet18 9 s" in text
    # against float32's cold first epoch (12 s: 7.1 s more, repaid in 28 epochs), VGG16's 33
    # epochs no longer favour float32: undecided, said so
    gpu["networks"]["vgg16"]["arrays"]["epoch_seconds"][0] = 12.0
    text = speed.mixed_precision_payback_text(gpu, epochs={"vgg16": 33, "googlenet": 30})
    assert "the `fast` recipe's runs of GoogLeNet (30 epochs) sooner" in text
    assert ("Whether float32 would have finished the `fast` recipe's runs of VGG16 (33 epochs) "
            "sooner turns on which float32 first epoch is set against mixed precision's") in text
    # with no network sooner at all, the undecided sentence still stands on its own
    alone = speed.mixed_precision_payback_text(gpu, epochs={"vgg16": 33})
    assert "even at mixed precision's best" not in alone and "Whether float32" in alone
    # a cold start no longer than the warm one: the warm figures decide alone
    gpu["networks"]["vgg16"]["arrays"]["epoch_seconds"][0] = 4.0
    assert "runs of VGG16 (33 epochs) sooner on this GPU" in speed.mixed_precision_payback_text(
        gpu, epochs={"vgg16": 33})
    gpu["ways"][0] = "arrays mixed"  # a mixed reference would favour mixed precision: no claim
    gpu["networks"] = {n: {("arrays mixed" if w == "arrays" else w): v for w, v in row.items()}
                       for n, row in gpu["networks"].items()}
    assert "favour float32" not in speed.mixed_precision_payback_text(gpu)
    assert speed.mixed_precision_payback_text({"ways": ["arrays"], "networks": {}}) == ""
    assert speed.mixed_precision_payback_text(None) == ""


def test_the_payback_carries_the_range_of_the_timed_epochs():
    # GPU epochs vary: the payback from the slowest and fastest timed epochs, beside the median
    gpu = {"ways": ["model:crop", "model:crop mixed"], "images": 25600, "networks": {"vgg16": {
        "model:crop": {"epoch_seconds": [5.3, 0.38, 0.40], "images_per_second": 66000},
        "model:crop mixed": {"epoch_seconds": [19.1, 0.2, 0.3], "images_per_second": 99000}}}}
    text = speed.mixed_precision_payback_text(gpu)
    # 13.8 s more; per 50,000 images 0.39 s saved at best (0.40 against 0.2 s a bench epoch,
    # x 50,000 / 25,600), 0.16 s at worst (0.38 against 0.3)
    assert "VGG16 after about 55 epochs (35 to 88)." in text
    assert "The figures in brackets come from the timed epochs' extremes" in text


def test_where_the_timed_epochs_overlap_no_payback_is_claimed_and_float32_only_at_worst():
    # mixed precision's epochs range over float32's: a speed-up is neither shown nor ruled out
    gpu = {"ways": ["model:crop", "model:crop mixed"], "images": 25600, "networks": {
        "resnet18": {"model:crop": {"epoch_seconds": [5.0, 0.29, 0.29], "images_per_second": 88000},
                     "model:crop mixed": {"epoch_seconds": [17.0, 0.21, 0.30],
                                          "images_per_second": 95000}}}}
    text = speed.mixed_precision_payback_text(gpu, epochs={"resnet18": 50})
    # 12 s more; at best (0.21 against 0.29 s a bench epoch) 0.156 s saved per 50,000 images
    assert "ResNet18 at best after about 77 epochs, perhaps never (its timed epochs overlap" in text
    assert "even at mixed precision's best, float32 would have finished" in text
    assert "sooner" not in speed.mixed_precision_payback_text(gpu, epochs={"resnet18": 100})


def test_compile_text_and_payback_where_a_figure_is_missing_or_mixed_is_no_faster():
    run = trial_record("vgg16", 0.86)
    run["history"] = {"seconds": [24.2, 0.7, 0.7]}
    run["compile_seconds"] = {"other": 0.3, "total": 0.3}  # no train_step among them
    assert "0 s, against a first epoch of 24 s" in speed.compiling_text({"vgg16": [run]})
    assert "training step" not in speed.compiling_text({"vgg16": [run]})
    gpu = {"ways": ["arrays", "model:crop", "model:crop mixed"], "images": 25600, "networks": {
        "resnet18": {w: {"epoch_seconds": [first, 0.4], "images_per_second": rate}
                     for w, first, rate in (("arrays", 9, 90000), ("model:crop", 5, 88000),
                                            ("model:crop mixed", 17, 80000))}}}
    assert "ResNet18 never (it is no faster)" in speed.mixed_precision_payback_text(gpu)
    assert "in brackets" not in speed.mixed_precision_payback_text(gpu)  # no range shown


def test_sizes_say_whether_the_posts_lower_complexity_vggs_are_the_smaller_networks():
    params = {"vgg16": 15e6, "vgg16_bigconv": 21e6, "googlenet": 2e6, "resnet18": 11e6}
    macs = {"vgg16": 313e6, "vgg16_bigconv": 314e6, "googlenet": 64e6, "resnet18": 141e6}
    text = speed.sizes_text(params, macs)
    assert text.startswith('By both counts the VGGs, of "lower complexity" in the post\'s words, '
                           "are the larger networks (parameters: VGG16 and VGG16-big 15.0 and "
                           "21.0 million, GoogLeNet and ResNet18 2.0 and 11.0 million;")
    smaller = {n: 1e9 / v for n, v in params.items()}
    assert "are the smaller networks" in speed.sizes_text(smaller, {n: 1e9 / v for n, v in macs.items()})
    assert "neither all larger nor all smaller" in speed.sizes_text(params, smaller)


def test_the_latest_run_of_each_network_is_set_against_the_time_aim():
    def run(seed, seconds, date, commit="aaaaaaa1", device="GPU: test"):
        return {"seed": seed, "total_seconds": sum(seconds), "history": {"seconds": seconds},
                "environment": {"device": device, "gpu": True, "date": date,
                                "git_commit": commit}}

    main = {"vgg16": [run(0, [60.0, 60.0], "2026-01-02"), run(1, [30.0, 30.0], "2026-01-03")],
            "resnet18": [run(0, [90.0, 30.0], "2026-01-01")]}
    names = ("vgg16", "resnet18")
    text = speed.one_of_each_text(main, 3.0, names)
    # the latest VGG16 run (seed 1, 60 s) and the one ResNet18 run (120 s)
    assert "took 3.0 minutes of training added up on the GPU: test: VGG16 60 s (seed 1" in text
    assert "the first epochs make up 2.0 minutes of the total (the longest, ResNet18's, 90 s)" in text
    assert text.endswith("Against the recipe's aim of 3 minutes for one run of each on one "
                         "H200-class GPU, these runs are within it.")
    assert speed.one_of_each_text(main, 2.5, names).endswith("these runs are over it.")
    assert speed.one_of_each_text(main, 3.0, ("vgg16", "googlenet")) == ""  # a network missing
    # runs from two versions of the code: their times are given, with no verdict
    main["resnet18"][0]["environment"]["git_commit"] = "bbbbbbb2"
    mixed = speed.one_of_each_text(main, 3.0, names)
    assert "ResNet18 120 s (seed 0, code bbbbbbb)" in mixed and "within" not in mixed
    assert "come from 2 versions of the code, so they do not set the recipe" in mixed
    # a later run of one network under newer code does not undo a complete older set
    main["resnet18"][0]["environment"]["git_commit"] = "aaaaaaa1"
    main["vgg16"].append(run(2, [10.0, 10.0], "2026-01-05", commit="ccccccc3"))
    kept = speed.one_of_each_text(main, 3.0, names)
    assert kept.startswith("The latest run of each network from one version of the code took "
                           "3.0 minutes") and "(seed 1, code aaaaaaa)" in kept, kept
    assert kept.endswith("these runs are within it.")
    main["vgg16"].pop()
    main["resnet18"][0]["environment"]["git_commit"] = "bbbbbbb2"
    main["resnet18"].append(run(1, [1.0, 1.0], "2026-01-04", device="CPU: test"))
    on_two = speed.one_of_each_text(main, 3.0, names)
    assert "2 devices" in on_two and "(seed 1, code aaaaaaa, CPU: test)" in on_two


def test_xla_text_reads_the_xla_record():
    def way(rate, first):
        return {"images_per_second": rate, "first_epoch_seconds": first}

    record = {"batch_size": 128, "images": 1280, "epochs": 4, "data": "cifar10-jpeg.tar.gz",
              "environment": {"device": "CPU: test", "cpu_cores": 2, "backend": "tensorflow",
                              "backend_version": "2.21.0", "date": "2026-11-30T12:00:00"},
              "networks": {"vgg16": {"xla_off": way(200.0, 9.0), "xla_on": way(150.0, 40.0),
                                     "ratio_xla_on_to_off": 0.75},
                           "resnet18": {"xla_off": way(300.0, 8.0), "xla_on": way(330.0, 30.0),
                                        "ratio_xla_on_to_off": 1.1}}}
    text = speed.xla_text(record)
    assert "On the CPU: test (2 cores), tensorflow 2.21.0, batch 128, 1,280 real CIFAR-10" in text
    assert "VGG16 150 against 200 (x0.75) and ResNet18 330 against 300 (x1.10)" in text
    assert "XLA was the faster for ResNet18 only." in text
    assert text.endswith("Not timed: VGG16-big and GoogLeNet.")
    assert "took VGG16 40 against 9 s and ResNet18 30 against 8 s" in text
    record["networks"]["vgg16"]["ratio_xla_on_to_off"] = 1.2
    assert "XLA was the faster for every network." in speed.xla_text(record)
    assert "--only xla" in speed.xla_text(None)
    # merged: a network timed by a later run joins in the book's order, with that run's date
    record["networks"] = {"resnet18": record["networks"]["resnet18"],
                          "vgg16": {**record["networks"]["vgg16"],
                                    "timed_by": {"date": "2026-11-28T09:00:00",
                                                 "git_commit": "a" * 40}}}
    record["environment"]["git_commit"] = "b" * 40
    merged = speed.xla_text(record)
    assert "(`benchmarks/bench.py --only xla`, 2026-11-28 and 2026-11-30)" in merged
    assert ("The record joins networks timed in separate calls: VGG16 by the code at aaaaaaa; "
            "ResNet18 by the code at bbbbbbb.") in merged
    assert "VGG16 150 against 200 (x1.20) and ResNet18" in merged


def test_stored_cpu_hours_come_from_each_record_with_its_cpu():
    epyc = {"batch_size": 128, "environment": {"device": "CPU: AMD EPYC", "cpu_cores": 2},
            "networks": {"vgg16": {"book": {"images_per_second": 175.0}}}}
    xeon = {"batch_size": 128, "environment": {"device": "CPU: Intel Xeon", "cpu_cores": 2},
            "networks": {"vgg16": {"xla_off": {"images_per_second": 70.0}}}}
    text = speed.stored_cpu_hours_text({"bench": (epyc, "book"), "xla": (xeon, "xla_off"),
                                        "missing": (None, "book")})
    # 100 epochs of 50,000 images: 5,000,000 / 175 s = 7.9 h; / 70 s = 19.8 h
    assert text.startswith("The stored benchmark records put 100 epochs of VGG16 at about 8 hours "
                           "on the AMD EPYC with 2 cores (175 images/s; bench, batch 128) and "
                           "about 20 hours on the Intel Xeon with 2 cores")
    assert speed.stored_cpu_hours_text({"bench": (epyc, "book")}, network="resnet18") == ""
