"""Updates to a training-loss target ([training] target_loss / target_action; memspice.learn.target).

References: hand counts of steps and rank-1 updates (docs/algorithms.md,
"Streaming batch eigenupdate": per-sample SGD one rank-1 update per sample and
layer, SBE k per batch and layer; mini-batch GD one per batch and layer), and
the training-set cross-entropy recomputed by hand in numpy from the run's weights.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from memspice.errors import ConfigError
from memspice.learn import config_from_dict, train
from memspice.learn.run_state import Streams, load_dataset

N_TRAIN, BATCH = 200, 16  # 12 batches of 16 and one of 8 per epoch
STEPS_PER_EPOCH = 13
LAYERS = 2


def _config(rule: dict, epochs=3, **training):
    return config_from_dict({
        "seed": 3,
        "data": {"name": "digits", "max_train": N_TRAIN},
        "network": {"sizes": [64, 16, 10], "activation": "relu"},
        "training": {"epochs": epochs, "batch_size": BATCH, **training},
        "rule": rule,
    })


def _rows(out):
    import csv

    with open(out / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("rule, per_step", [
    ({"name": "sgd", "learning_rate": 0.2}, None),  # per-sample SGD: the batch's rows, B (8 in the last batch)
    ({"name": "sbe", "learning_rate": 0.2, "pulse_mode": "float", "rank": 3}, 3),
    ({"name": "sbe", "learning_rate": 0.2, "pulse_mode": "float", "rank": 2, "estimator": "exact"}, 2),
])
def test_counts_until_target_are_the_hand_counts(tmp_path, rule, per_step):
    # target never reached (1e-9 nats) with "mark": every epoch is trained and counted
    result = train(_config(rule, target_loss=1e-9, target_action="mark"), tmp_path, progress=False, plot=False)
    assert result.epochs_completed == 3
    rows = _rows(tmp_path)
    for e, row in enumerate(rows, start=1):
        assert int(row["steps_total"]) == STEPS_PER_EPOCH * e
        per_epoch = N_TRAIN if per_step is None else STEPS_PER_EPOCH * per_step
        assert int(row["outer_products_total"]) == LAYERS * per_epoch * e
        assert int(row["pulses_total"]) == 0  # floating-point weights: no device pulses
        assert row["target_reached"] == "0"
    target = json.loads((tmp_path / "summary.json").read_text())["target"]
    assert target == {"loss": 1e-9, "measure": "train_set_loss", "action": "mark", "reached": False,
                      "epoch": None, "steps": None, "outer_products": None, "pulses": None, "train_set_loss": None}


def _train_set_loss_by_hand(config, weights):
    # mean cross-entropy (nats) of the ReLU/softmax MLP on the whole training set, in float64 numpy
    data = load_dataset(config, Streams(config.seed).data)
    h = data.train.x.astype(np.float64)
    for k, (w, b) in enumerate(weights):
        h = h @ np.asarray(w, np.float64).T + b
        if k < len(weights) - 1:
            h = np.maximum(h, 0.0)
    h -= h.max(axis=1, keepdims=True)
    logp = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(logp)), data.train.y].mean())


def test_stop_ends_the_run_at_the_first_epoch_at_or_below_the_target(tmp_path):
    rule = {"name": "sgd", "learning_rate": 0.2}
    marked = train(_config(rule, epochs=6, target_loss=1e-9, target_action="mark"), tmp_path / "mark",
                   progress=False, plot=False)
    losses = [float(r["train_set_loss"]) for r in _rows(tmp_path / "mark")]
    assert all(b < a for a, b in zip(losses, losses[1:]))  # the loss falls every epoch at this rate
    target = 0.5 * (losses[2] + losses[3])  # between epochs 3 and 4: epoch 4 is the first at or below it
    config = _config(rule, epochs=6, target_loss=target)
    stopped = train(config, tmp_path / "stop", progress=False, plot=False)
    assert marked.epochs_completed == 6 and stopped.epochs_completed == 4
    rows = _rows(tmp_path / "stop")
    assert [r["target_reached"] for r in rows] == ["0", "0", "0", "1"]
    assert float(rows[-1]["train_set_loss"]) == pytest.approx(_train_set_loss_by_hand(config, stopped.weights),
                                                              rel=1e-5)  # float32 network vs float64 by hand
    record = json.loads((tmp_path / "stop" / "summary.json").read_text())["target"]
    assert record["reached"] and record["epoch"] == 4 and record["action"] == "stop"
    assert record["steps"] == 4 * STEPS_PER_EPOCH and record["outer_products"] == 4 * LAYERS * N_TRAIN
    # "mark" records the same epoch and counts, and trains on
    marked_record = json.loads((tmp_path / "mark" / "summary.json").read_text())["target"]
    assert marked_record["epoch"] is None  # that run's target was 1e-9
    rows_mark = _rows(tmp_path / "mark")
    assert rows_mark[3]["outer_products_total"] == rows[3]["outer_products_total"]
    # resuming a run that stopped at its target trains no further
    again = train(config, tmp_path / "stop", resume=True, progress=False, plot=False)
    assert again.epochs_completed == 4


def test_pulses_until_target_are_the_rules_own_pulse_count(tmp_path):
    # SBE on tiles (pulse coincidence): pulses_total (counters: sum |n| of the trains' signed counts)
    # equals the rule's own count of the pulses it applied (stats()["pulses"], summed from the count matrices)
    rule = {"name": "sbe", "learning_rate": 0.25, "bl": 31}
    config = config_from_dict({
        "seed": 3,
        "data": {"name": "digits", "max_train": N_TRAIN},
        "network": {"sizes": [64, 16, 10], "activation": "relu"},
        "training": {"epochs": 2, "batch_size": BATCH, "target_loss": 1e-9, "target_action": "mark"},
        "rule": rule,
        "tile": {"device": "ConstantStep",
                 "device_params": {"g_min_s": 1e-6, "g_max_s": 15e-6, "dg_up_s": 2.8e-8, "dg_down_s": 2.8e-8}},
    })
    result = train(config, tmp_path, progress=False, plot=False)
    last = _rows(tmp_path)[-1]
    assert int(last["pulses_total"]) == result.stats["pulses"] > 0
    assert int(last["outer_products_total"]) == 2 * STEPS_PER_EPOCH * LAYERS  # rank 1


@pytest.mark.parametrize("training, words", [
    ({"target_loss": 0.0}, "target_loss"),
    ({"target_loss": float("nan")}, "target_loss"),
    ({"target_loss": 0.1, "target_action": "halt"}, "'stop' or 'mark'"),
    ({"target_action": "mark"}, "without training.target_loss"),
])
def test_bad_target_settings_are_config_errors(training, words):
    with pytest.raises(ConfigError, match=words):
        _config({"name": "sgd", "learning_rate": 0.1}, **training)


def test_sbe_float_mode_refuses_a_tile():
    with pytest.raises(ConfigError, match=r"\[tile\] is given"):
        config_from_dict({"data": {"name": "digits"}, "network": {"sizes": [64, 16, 10]},
                          "rule": {"name": "sbe", "learning_rate": 0.1, "pulse_mode": "float"},
                          "tile": {"device": "ConstantStep"}})


def test_exact_rank_k_counts_at_most_the_batch_rows(tmp_path):
    # G of B rows has rank <= B: exact rank 4 at batch 2 applies (and counts) 2 updates per layer and batch,
    # 200 / 2 = 100 batches per epoch
    config = config_from_dict({
        "seed": 3, "data": {"name": "digits", "max_train": N_TRAIN},
        "network": {"sizes": [64, 16, 10], "activation": "relu"},
        "training": {"epochs": 1, "batch_size": 2, "target_loss": 1e-9, "target_action": "mark"},
        "rule": {"name": "sbe", "learning_rate": 0.05, "pulse_mode": "float", "rank": 4, "estimator": "exact"},
    })
    train(config, tmp_path, progress=False, plot=False)
    assert int(_rows(tmp_path)[0]["outer_products_total"]) == LAYERS * 2 * 100


def test_sbe_study_script_counts_sgd_and_mini_batch_gd_by_hand(tmp_path):
    # examples/studies/sbe_updates.py at a tiny scale: a target of 5 nats (above the initial ~2.3) is
    # reached after epoch 1, so sgd = 2 layers x 200 samples and mbgd = 2 layers x 13 steps (hand counts)
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "studies" / "sbe_updates.py"
    spec = importlib.util.spec_from_file_location("sbe_updates", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    study.main(["--out", str(tmp_path), "--max-train", str(N_TRAIN), "--hidden", "16", "--target", "5",
                "--max-epochs", "2", "--tune-epochs", "1", "--lrs", "0.1", "--batches", str(BATCH), "--rank", "2",
                "--ratio-batch", str(BATCH)])
    rows = {r["method"]: r for r in study._read(tmp_path / "updates.csv")}
    assert int(rows["sgd"]["updates"]) == LAYERS * N_TRAIN and int(rows["mbgd"]["updates"]) == LAYERS * STEPS_PER_EPOCH
    assert int(rows["sbe-2"]["updates"]) == LAYERS * STEPS_PER_EPOCH * 2
    assert all(r["reached"] == "True" and r["epochs"] == "1" for r in rows.values())
    assert (tmp_path / "updates.png").exists() and "sbe-2" in (tmp_path / "updates.md").read_text()
