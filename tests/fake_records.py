"""Records and bench results shaped like the real ones, for the unit tests of chapter 7's
computations (fields as helpers.results writes them; values made up). Each record passes
``results.validate``: a computation tested on it sees every field a real record has."""

import dataclasses

from helpers import profiles, results


def _complete(rec, accuracy):
    """``rec`` with the fields a real record has and the tests leave to chance, validated."""
    epochs = rec["epochs"]
    history = rec["history"]
    filler = {"loss": [1.0] * epochs, "accuracy": [accuracy] * epochs,
              "val_loss": [1.0] * epochs, "val_accuracy": [accuracy] * epochs,
              "learning_rate": [0.1] * epochs, "seconds": [60.0] * epochs}
    for key, values in filler.items():
        if key not in history:
            history[key] = values
        elif len(history[key]) != epochs:  # a short history the test gives: its last values
            history[key] = ([history[key][0]] * epochs + list(history[key]))[-epochs:]
    rec.setdefault("schema", results.SCHEMA)
    rec.setdefault("hyper", {})
    rec.setdefault("train_accuracy", history["accuracy"][-1])
    rec.setdefault("final_val_accuracy", history["val_accuracy"][-1])
    rec.setdefault("best_val_accuracy", max(history["val_accuracy"]))
    rec.setdefault("params", 1)
    rec["data"].setdefault("source", "test")
    return results.validate(rec)


def record(model, test, train=None, seed=0, options=None, test_size=10_000, epochs=5,
           seconds=(60.0,) * 5, device="CPU: test", val=None, run=None):
    """A results record with the fields compare reads."""
    train = test if train is None else train
    val = val or [test] * epochs
    return _complete({
        "run": run or (model if not seed else f"{model}-seed{seed}"),
        "model": model, "options": options or {}, "profile": "cpu", "seed": seed,
        "data": {"source": "test", "train_size": 5_000, "val_size": 1_000,
                 "test_size": test_size},
        "epochs": epochs, "train_accuracy": train, "test_accuracy": test,
        "history": {"val_accuracy": list(val), "seconds": list(seconds)},
        "total_seconds": float(sum(seconds)), "environment": {"device": device},
    }, test)


def records(*recs):
    return {r["run"]: r for r in recs}


def bench(rates, ratios=(0.95, 1.06)):
    return {"environment": {"device": "CPU: test"}, "networks": {
        name: {"book": {"images_per_second": rate, "epoch_seconds": [50.0, 40.0, 39.0]},
               "ratio_to_post_style": ratio}
        for (name, rate), ratio in zip(rates.items(), list(ratios) * 4)}}


def trial_record(model, acc, seed=0, **hyper):
    fast = profiles.PROFILES["fast"]
    settings = {k: v for k, v in dataclasses.asdict(fast).items() if k != "epochs"}
    return _complete({
        "run": model + (f"-seed{seed}" if seed else ""), "model": model, "seed": seed,
        "profile": "fast", "options": {}, "epochs": fast.epochs[model], "test_accuracy": acc,
        "history": {"accuracy": [0.5, acc]},
        "total_seconds": 3000.0, "data": {"train_size": 50000, "test_size": 10000},
        "hyper": {**settings, "dtype_policy": "float32", **hyper},
        "environment": {"device": "CPU: test", "cpu_cores": 2, "gpu": False,
                        "backend": "tensorflow"}}, acc)
