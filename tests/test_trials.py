"""Unit tests of helpers.trials: trials of the fast recipe against today's seeds and the aims."""

from helpers import profiles, trials, wording
from fake_records import trial_record


def test_a_trial_is_set_against_the_seed_spread_of_todays_recipe_where_it_has_seeds():
    today = profiles.PROFILES["fast"]
    gpu = {"device": "NVIDIA H200", "gpu": True, "backend": "jax"}
    own = {f"vgg16-{s}": dict(trial_record("vgg16", acc, seed=s), environment=gpu)
           for s, acc in ((0, 0.8661), (1, 0.8613), (2, 0.8576))}
    weaker = dict(trial_record("vgg16", 0.8186, weight_decay=today.weight_decay / 5), environment=gpu)
    assert trials.todays_text(trials.todays_runs("vgg16", "NVIDIA H200", own)) == (
        "Today's recipe (NVIDIA H200): 86.17 % on average over seeds 0, 1 and 2 (86.61, "
        "86.13 and 85.76 %; standard deviation 0.4 points).")
    text = trials.against_todays_text(weaker, own)
    # seeds' SD 0.43 points (t with 2 df: 4.30): one run +-1.98, the mean of three +-1.26
    assert text.startswith("Against today's mean: \u22124.3 points (95 % interval \u22126.7 to "
                           "\u22122.0), lower beyond the noise of one run against a mean of 3")
    assert "taking the changed recipe to scatter as today's does" in text
    level = dict(weaker, test_accuracy=0.8613)
    assert "0.0 points" in trials.against_todays_text(level, own)
    within = trials.against_todays_text(level, own)
    assert "within the noise of one run" in within
    # two degrees of freedom (three seeds) still leave the spread barely known: said so
    assert "with 2 degrees of freedom behind that spread (a t factor of 4.3)" in within
    assert "weak evidence" not in text  # a verdict beyond the noise needs no such caveat
    # a trial of another seed is still set against them all; the feed's difference is named
    other = dict(weaker, seed=5, hyper=dict(weaker["hyper"], left_out_per_epoch=336))
    own["vgg16-1"]["hyper"] = dict(own["vgg16-1"]["hyper"], left_out_per_epoch=336)
    text = trials.against_todays_text(other, own)
    assert "against a mean of 3" in text
    assert ("It was fed whole batches (336 training images left out each epoch), like today's "
            "seed 1 but not seeds 0 and 2.") in text
    # one run of today's recipe: with the spread the table borrows, another seed may be set
    # against it; without, only the same seed, and the interval says what it leaves out
    single = {"vgg16": own["vgg16-0"]}
    unset = trials.against_todays_text(dict(weaker, seed=3), single)
    assert unset.startswith("Not set against today's recipe on this device: its one run there "
                            "has seed 0, not 3") and "\u22124.7 points mixes seed and recipe" in unset
    text = trials.against_todays_text(dict(weaker, seed=3), single, spread=(0.011, 2, "resnet18"))
    assert text.startswith("Against today's run: ") and (
        "the noise of two single runs (a seed-to-seed spread of 1.1 points, ResNet18's, the "
        "largest of today's recipe on this device, and the test set's)") in text


def test_a_trial_is_judged_against_the_aim_by_its_test_set_interval():
    # GoogLeNet's aim: 89.46 - 1 = 88.46 %; on 10,000 images the interval is about +-0.6 points
    above, short, inside = (trials.trial_text({"googlenet": trial_record("googlenet", acc)})
                            for acc in (0.895, 0.875, 0.885))
    assert "above the recipe's aim of 88.46 %" in above
    assert "short of the recipe's aim of 88.46 %" in short
    assert "lies inside its interval" in inside
    epochs = profiles.PROFILES["fast"].epochs["googlenet"]
    assert "89.46 % after about 150 epochs" in above and f"after {epochs} epochs" in above


def test_trial_table_has_a_row_per_run_in_the_books_network_order():
    table = trials.trial_table({"r": trial_record("resnet18", 0.9), "g": trial_record("googlenet", 0.88)})
    rows = table.splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| GoogLeNet, seed 0 (`g`)",
                                                    "| ResNet18, seed 0 (`r`)"]
    assert "88.46" in rows[0] and "50,000" in rows[0] and "CPU: test (2 cores)" in rows[0]
    assert "today's" in rows[0] and "tensorflow, float32" in rows[0]
    tf32 = trial_record("googlenet", 0.88)
    tf32["environment"] = dict(tf32["environment"], backend="jax", float32_products="tf32",
                               gpu=True, device="GPU: test")
    assert "jax, float32 (TF32 products)" in trials.trial_table({"g": tf32})
    assert "--trial" in trials.trial_text({})  # none yet: how to make one


def test_a_trial_of_a_retuned_recipe_says_so_and_a_variant_gets_no_aim():
    assert trials.is_current_recipe(trial_record("googlenet", 0.88))
    today = profiles.PROFILES["fast"]
    rate, doubled = f"{today.learning_rate:g}", f"{2 * today.learning_rate:g}"
    old = trial_record("googlenet", 0.88, learning_rate=2 * today.learning_rate)
    assert not trials.is_current_recipe(old)
    assert not trials.is_current_recipe(dict(trial_record("googlenet", 0.88), epochs=20))
    changed = f"learning rate {doubled} instead of {rate}"
    assert f"- {wording.capitalized(changed)} (seed 0, CPU: test, `g`)" in trials.trial_text({"g": old})
    assert changed in trials.trial_table({"g": old})
    shorter = dict(old, epochs=20, hyper=dict(old["hyper"], batch_size=128))
    assert trials.recipe_differences(shorter) == [
        f"20 epochs instead of {today.epochs['googlenet']}",
        f"batch 128 instead of {today.batch_size}", changed]
    close = dict(old, hyper=dict(old["hyper"], learning_rate=today.learning_rate + 1e-8,
                                 warmup_epochs=float(today.warmup_epochs)))
    # 2 and 2.0 are the same; a difference too small for :g to show is shown in full
    assert trials.recipe_differences(close) == [
        f"learning rate {today.learning_rate + 1e-8!r} instead of {today.learning_rate!r}"]
    older = dict(old, hyper={k: v for k, v in old["hyper"].items() if k != "bn_recalibration"})
    assert "BN re-estimate images 0 instead of 2000" in trials.recipe_differences(older)
    variant = dict(trial_record("googlenet", 0.88), run="googlenet-use_pool_branch=True",
                   options={"use_pool_branch": True})
    assert "aim" not in trials.trial_text({"v": variant})
    assert "(`v`)" in trials.trial_table({"v": variant})


def test_a_collapse_of_training_accuracy_is_named_with_its_epochs():
    steady = dict(trial_record("googlenet", 0.88), history={"accuracy": [0.3, 0.5, 0.6, 0.58, 0.7]})
    assert trials.collapse_text(steady) == ""  # 2 points below the best: not a collapse
    fell = dict(trial_record("googlenet", 0.78),
                history={"accuracy": [0.3, 0.8035, 0.7866, 0.5975, 0.7, 0.8038]})
    assert trials.collapse_text(fell) == ("its training accuracy fell from 80.3 % (epoch 2) to "
                                           "59.8 % (epoch 4) and ended at 80.4 %")
    assert "On the way, its training accuracy fell" in trials.trial_text({"g": fell})


def test_a_changed_trial_is_set_against_todays_recipe_on_its_device_and_seed():
    today = profiles.PROFILES["fast"]
    gpu = {"device": "NVIDIA H200", "gpu": True, "backend": "jax"}
    trial = dict(trial_record("vgg16", 0.8683, learning_rate=today.learning_rate / 2), environment=gpu)
    own = {"vgg16": dict(trial_record("vgg16", 0.8661), environment=gpu)}
    text = trials.against_todays_text(trial, own)
    # two runs of 10,000 images near 87 %: a half-width of about 0.93 points
    assert text.startswith("Against today's run of the same seed: +0.2 points (95 % interval "
                           "\u22120.7 to +1.2), within the two runs' test-set noise")
    block = trials.trial_text({"t": trial}, own=own)
    assert text in block and "Today's recipe (NVIDIA H200): 86.61 % (seed 0, one run)." in block
    assert block.startswith("**VGG16.** The post reports 93.04 % after about 100 epochs; the "
                            "recipe aims at 92.04 %.")
    lower = dict(trial, test_accuracy=0.8744 - 0.0113 - 0.02)
    text = trials.against_todays_text(lower, own)
    assert "lower than the two runs' test-set noise allows, but not shown to be the change's " \
           "doing" in text and "how far seeds scatter on this device is not measured" in text
    # a trial fed whole batches (JAX, since 409b750) against a record that was not: said
    whole = dict(trial, hyper=dict(trial["hyper"], left_out_per_epoch=336))
    assert "It was fed whole batches (336 training images left out each epoch), unlike today's runs." in (
        trials.against_todays_text(whole, own))
    assert "It was fed" not in trials.against_todays_text(trial, own)
    # nothing to set it against: another device, another seed, a record of an older recipe,
    # or a trial of today's recipe itself
    assert trials.against_todays_text(dict(trial, environment={"device": "CPU: test"}), own) == ""
    assert "mixes seed and recipe" in trials.against_todays_text(dict(trial, seed=1), own)
    older = {"vgg16": dict(own["vgg16"], epochs=20)}
    assert trials.against_todays_text(trial, older) == ""
    assert trials.against_todays_text(dict(trial_record("vgg16", 0.87), environment=gpu), own) == ""
    # a trial of today's recipe on a device serves as today's run there
    cpu_today, cpu_lower = trial_record("vgg16", 0.85), trial_record("vgg16", 0.80, learning_rate=0.1)
    block = trials.trial_text({"a": cpu_today, "b": cpu_lower})
    assert "Today's recipe (CPU: test): 85.00 % (seed 0, one run)." in block
    assert "Against today's run of the same seed: \u22125.0 points" in block


def test_the_recipes_own_runs_are_set_against_its_aim_once_per_network():
    runs = {"vgg16": [trial_record("vgg16", 0.8661), trial_record("vgg16", 0.8613, seed=1)],
            "resnet18": [trial_record("resnet18", 0.95), trial_record("resnet18", 0.85, seed=1)]}
    text = trials.aims_text(runs)
    assert text.startswith("VGG16 (CPU: test) reached 86.61 and 86.13 % (seeds 0 and 1) after 33 "
                           "epochs: each short of the recipe's aim of 92.04 %, beyond the test "
                           "set's noise.")
    assert ("seed 0 above the recipe's aim of 91.70 %, beyond the test set's noise; seed 1 short "
            "of the recipe's aim") in text
    assert "No record of VGG16-big and GoogLeNet yet." in text


def test_a_trial_against_two_seeds_of_todays_recipe_carries_the_spread_given():
    gpu = {"device": "NVIDIA H200", "gpu": True, "backend": "jax"}
    own = {f"v{s}": dict(trial_record("vgg16", acc, seed=s), environment=gpu)
           for s, acc in ((0, 0.8661), (1, 0.8660))}  # two seeds that happen to agree
    trial = dict(trial_record("vgg16", 0.8186, label_smoothing=0.0), environment=gpu)
    text = trials.against_todays_text(trial, own, spread=(0.0113, 2, "resnet18"))
    assert "against a mean of 2 (a seed-to-seed spread of 1.1 points, ResNet18's" in text
    # through trial_text, the spread is the largest of today's recipe on that device
    own.update({f"r{s}": dict(trial_record("resnet18", acc, seed=s), environment=gpu)
                for s, acc in ((0, 0.8857), (1, 0.8637), (2, 0.8699))})
    block = trials.trial_text({"t": trial}, own=own)
    assert "a seed-to-seed spread of 1.1 points, ResNet18's, the largest" in block


def test_when_every_seeds_interval_holds_the_aim_the_sentence_says_so_once():
    runs = {"googlenet": [trial_record("googlenet", 0.885), trial_record("googlenet", 0.884, seed=1)]}
    assert ("the recipe's aim of 88.46 % lies inside each run's interval, so none can say "
            "whether it is met.") in trials.aims_text(runs)


def test_the_aims_say_when_a_run_meets_its_aim_only_with_the_bn_re_estimate():
    runs = [dict(trial_record("vgg16_bigconv", acc, seed=i), test_accuracy_as_trained=as_trained)
            for i, (acc, as_trained) in enumerate(((0.867, 0.744), (0.868, 0.862)))]
    text = trials.aims_text({"vgg16_bigconv": runs})
    assert "each above the recipe's aim of 84.91 %" in text
    assert ("only with the BN statistics re-estimated before the test, which the recipe does: on "
            "the statistics training left, as the post scored, seed 0 reached 74.40 %, below the "
            "aim") in text
    runs[1]["test_accuracy_as_trained"] = 0.70
    assert "seeds 0 and 1 reached 74.40 and 70.00 %" in trials.aims_text({"vgg16_bigconv": runs})
    for r in runs:  # a recipe that does not re-estimate: nothing to add
        del r["test_accuracy_as_trained"]
    assert "re-estimated" not in trials.aims_text({"vgg16_bigconv": runs})


def test_todays_seeds_are_listed_by_device_and_only_for_todays_recipe():
    own = {"a": trial_record("googlenet", 0.846), "b": trial_record("googlenet", 0.84, seed=2),
           "c": trial_record("googlenet", 0.83, seed=1), "d": trial_record("resnet18", 0.8),
           "e": trial_record("googlenet", 0.78, seed=3, learning_rate=0.4)}  # a changed recipe
    own["c"]["environment"]["device"] = "CPU: Intel Xeon"
    assert trials.todays_seeds_text("googlenet", own) == (
        "seed 1 on the Intel Xeon; seeds 0 and 2 on the test; records of different devices are "
        "not pooled")
    assert trials.todays_seeds_text("googlenet", own, where=lambda d: "Xeon" in d) == (
        "seed 1 on the Intel Xeon")
    assert trials.todays_seeds_text("vgg16", own) == ""
