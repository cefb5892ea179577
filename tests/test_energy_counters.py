"""Operation counters against a hand-counted mini-batch, for every rule; and the trainer's counters.csv.

The batch (B = 2) of a 3-2-2 network; tiles have a bias column, so layer 0 is
2 x 4 and layer 1 is 2 x 3 (n_out x n_cols). With the bias input 1:

    layer 0: x = [1, 0, .5, 1], [0, 0, 1, 1]        δ = [.5, 0], [-.25, .75]
    layer 1: x = [.5, .25, 1], [1, 0, 1]            δ = [0, .5], [.5, -.5]

Pulse-coincidence rules run with a learning rate so large that every line
with a non-zero operand fires in every slot (p = q = 1), so the trains are
known: in each of the BL slots of sample b, r_b rows (non-zero x) and c_b
columns (non-zero δ) fire. Every number below is worked out by hand in the
comments from those operands.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from memspice.learn.counters import OpCounters, RunAccounting, read_counters_csv
from memspice.learn.network import Trace, build_network
from memspice.learn.rules import FloatSGD, MixedPrecision, StochasticCoincidence
from memspice.learn.rules_binary import BinaryStochastic
from memspice.learn.rules_sbe import StreamingBatchEigenupdate
from memspice.surrogate import AnalogTile, ConstantStep, TileConfig, WeightMapping

X0 = np.array([[1.0, 0.0, 0.5], [0.0, 0.0, 1.0]])
X1 = np.array([[0.5, 0.25], [1.0, 0.0]])
D0 = np.array([[0.5, 0.0], [-0.25, 0.75]])
D1 = np.array([[0.0, 0.5], [0.5, -0.5]])
BL = 2


def _net(analog: bool, rng):
    # w_max = 2 holds the Glorot initial weights (up to 1.1) without an output gain, so the tile's
    # operands are exactly the layer's (x, δ) (a gain s would divide δ by s)
    config = TileConfig(device=ConstantStep(g_min_s=1e-6, g_max_s=1e-4, dg_up_s=1e-7, dg_down_s=1e-7),
                        mapping=WeightMapping(g_min_s=1e-6, g_max_s=1e-4, w_max=2.0))
    factory = (lambda n_out, n_cols: AnalogTile(n_out, n_cols, config, rng)) if analog else None
    return build_network([3, 2, 2], rng, tile_factory=factory)


def _step(rule, analog: bool, rng):
    net = _net(analog, rng)
    counters = OpCounters.for_network(net)
    rule.counters = counters
    rule.step(net, [X0, X1], [D0, D1], rng)
    return counters.totals()


def _field(totals, name):
    return [t[name] for t in totals]


def test_reads_are_counted_per_layer(rng):
    net = _net(True, rng)
    counters = OpCounters.for_network(net)
    trace = Trace(inputs=[X0, X1], outputs=[X1], pre=[X1], probs=np.full((2, 2), 0.5))
    counters.record_passes(net, trace, [D0, D1])
    t = counters.totals()
    # one forward read per sample and layer; backward reads only into layer 1 (layer 0's δ needs none)
    assert _field(t, "forward_reads") == [2, 2]
    assert _field(t, "backward_reads") == [0, 2]
    # driven rows (non-zero inputs, bias included): layer 0: 3 + 2; layer 1: 3 + 2
    assert _field(t, "forward_rows") == [5, 5]
    # u = x / max|x| per vector: [1,0,.5,1] -> Σ|u| 2.5, Σu² 2.25; [0,0,1,1] -> 2, 2
    assert t[0]["forward_sum_abs"] == pytest.approx(4.5)
    assert t[0]["forward_sum_sq"] == pytest.approx(4.25)
    # backward vectors of layer 1: [0,.5] -> u [0,1]; [.5,-.5] -> [1,1]: 3 driven lines, Σ|u| = Σu² = 3
    assert t[1]["backward_rows"] == 3 and t[1]["backward_sum_abs"] == 3 and t[1]["backward_sum_sq"] == 3
    # ADC conversions: one per output line per read: forward 2·n_out, backward 2·n_cols
    assert _field(t, "forward_conversions") == [4, 4]
    assert _field(t, "backward_conversions") == [0, 6]


def test_sgd_baseline_counts_one_outer_product_per_sample(rng):
    t = _step(FloatSGD(0.1), analog=False, rng=rng)
    assert _field(t, "outer_products") == [2, 2]  # B = 2 rank-1 terms per layer
    assert _field(t, "digital_macs") == [2 * 2 * 4, 2 * 2 * 3]  # B·n_out·n_cols
    assert _field(t, "accumulator_updates") == [8, 6]  # every weight written once
    assert _field(t, "train_pulses") == [0, 0] and _field(t, "cell_pulses") == [0, 0]


def test_stochastic_coincidence_trains_by_hand(rng):
    rule = StochasticCoincidence(1e9, bl=BL, update_management=False)  # p = q = 1 on every non-zero operand
    t = _step(rule, analog=True, rng=rng)
    assert _field(t, "outer_products") == [2, 2]  # one parallel update per sample
    assert _field(t, "slots") == [2 * BL, 2 * BL]
    # layer 0 (R = 4 rows, C = 2 columns): sample 1 r=3 c=1, sample 2 r=2 c=2
    #   coincidences BL·(3·1 + 2·2) = 14; half-selected BL·([3·(2-1) + 1·(4-3)] + [2·0 + 2·(4-2)]) = 16
    # layer 1 (R = 3, C = 2): sample 1 r=3 c=1, sample 2 r=2 c=2
    #   coincidences BL·(3 + 4) = 14; half-selected BL·([3·1 + 1·0] + [0 + 2·1]) = 10
    assert _field(t, "coincidences") == [14, 14]
    assert _field(t, "half_selected") == [16, 10]
    assert _field(t, "row_pulses") == [BL * 5, BL * 5]
    assert _field(t, "col_pulses") == [BL * 3, BL * 3]
    # signed counts n = -BL Σ_b sign(δ_b) sign(x_b)ᵀ; layer 0: [-2, 0, 0, 0] / [0, 0, -2, -2] -> Σ|n| = 6
    # layer 1: [-2, 0, -2] / [0, -2, 0] -> 6 (opposite-sign coincidences of the two samples cancel)
    assert _field(t, "train_pulses") == [6, 6]
    assert _field(t, "cell_pulses") == [0, 0] and _field(t, "digital_macs") == [0, 0]


def test_mixed_precision_pulses_by_hand(rng):
    # χ = -(η/B) Σ δ xᵀ with η = 2 -> χ = -Σ δ xᵀ; p = trunc(χ/ε), ε = 1/8
    # layer 0: Σδxᵀ = [.5, 0, 0, .25] / [0, 0, .75, .75] -> |p| = 4, 2, 6, 6 -> 18 pulses on 4 cells
    # layer 1: Σδxᵀ = [.5, 0, .5] / [-.25, .125, 0]      -> |p| = 4, 4, 2, 1 -> 11 pulses on 4 cells
    t = _step(MixedPrecision(2.0, refresh_every=0, epsilon=0.125), analog=True, rng=rng)
    assert _field(t, "cell_pulses") == [18, 11]
    assert _field(t, "programmed_cells") == [4, 4]
    assert _field(t, "outer_products") == [0, 0]  # the update is programmed cell by cell
    assert _field(t, "digital_macs") == [16, 12]  # the accumulator takes B·n_out·n_cols products
    assert _field(t, "accumulator_updates") == [8, 6]


def test_binary_stochastic_fires_one_pulse_per_crossing_cell(rng):
    # threshold tiny: every cell with a non-zero accumulated step fires once (same Σδxᵀ as above: 4 and 4 cells)
    t = _step(BinaryStochastic(1.0, threshold=1e-12), analog=True, rng=rng)
    assert _field(t, "cell_pulses") == [4, 4]
    assert _field(t, "programmed_cells") == [4, 4]
    assert _field(t, "outer_products") == [0, 0]
    assert _field(t, "digital_macs") == [16, 12]
    assert _field(t, "accumulator_updates") == [8, 6]


def test_sbe_one_outer_product_per_batch(rng):
    # rank 1: one outer product per layer and batch instead of B = 2; trains from X̂ and s·Δ̂:
    # layer 0: x's column 1 is 0 in both samples, so X̂ has 3 non-zero rows, Δ̂ 2 columns: each of the BL
    #   slots has 3·2 = 6 coincidences and 2·(4-3) = 2 half-selected cells -> 12 and 4; 6 cells x BL pulses
    # layer 1: all 3 rows non-zero: 6 coincidences, 0 half-selected per slot -> 12 and 0
    # MACs of the streaming power step: B·(3·rank + 1)·(n_cols + n_out) = 2·4·6 = 48 and 2·4·5 = 40
    t = _step(StreamingBatchEigenupdate(1e12, rank=1, bl=BL, update_management=False), analog=True, rng=rng)
    assert _field(t, "outer_products") == [1, 1]
    assert _field(t, "slots") == [BL, BL]
    assert _field(t, "coincidences") == [12, 12]
    assert _field(t, "half_selected") == [4, 0]
    assert _field(t, "train_pulses") == [12, 12]
    assert _field(t, "digital_macs") == [48, 40]


def test_trainer_writes_counters_per_epoch(tmp_path):
    from memspice.learn.config import config_from_dict
    from memspice.learn.metrics import read_csv
    from memspice.learn.trainer import _Streams, load_dataset, train

    doc = {"seed": 3, "data": {"name": "digits", "max_train": 96}, "network": {"sizes": [64, 8, 10]},
           "training": {"epochs": 2, "batch_size": 32}, "rule": {"name": "sgd", "learning_rate": 0.1}}
    config = config_from_dict(doc)
    train(config, tmp_path, progress=False)
    n_train = len(load_dataset(config, _Streams(config.seed).data).train)
    rows = read_counters_csv(tmp_path / "counters.csv")
    assert [(r["epoch"], r["layer"]) for r in rows] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    for r in rows:  # per epoch: every sample read forward once per layer, backward once into layer 1
        assert r["forward_reads"] == n_train
        assert r["backward_reads"] == (n_train if r["layer"] == 1 else 0)
        assert r["outer_products"] == n_train
        assert r["digital_macs"] == n_train * (8 * 65 if r["layer"] == 0 else 10 * 9)
    ops = json.loads((tmp_path / "operations.json").read_text())
    assert ops["rule"] == "sgd" and ops["totals"]["forward_reads"] == 2 * 2 * n_train  # 2 epochs x 2 layers
    assert "energy_total_j" not in read_csv(tmp_path / "metrics.csv")[0]  # no [energy] table: counts only


def test_run_accounting_energy_columns(rng, tmp_path):
    from test_energy import _synthetic_table

    from memspice.energy import EnergyModel

    net = _net(True, rng)
    rule = StochasticCoincidence(1e9, bl=BL, update_management=False)
    acct = RunAccounting(net, rule, EnergyModel(_synthetic_table()))
    rule.step(net, [X0, X1], [D0, D1], rng)
    m = acct.epoch_metrics(tmp_path, 1)
    # update energy of the hand-counted trains: 2 devices x (1 pJ per coincidence + 0.25 pJ per half-selected)
    assert m["energy_update_j"] == pytest.approx(2 * ((14 + 14) * 1e-12 + (16 + 10) * 0.25e-12))
    assert acct.epoch_metrics(tmp_path, 2)["energy_update_j"] == 0.0  # a new epoch starts from zero


def test_energy_estimate_cli_reads_counters_csv(rng, tmp_path, capsys):
    from test_energy import _synthetic_table

    from memspice.cli import main
    from memspice.energy import save_table

    net = _net(True, rng)
    rule = StochasticCoincidence(1e9, bl=BL, update_management=False)
    acct = RunAccounting(net, rule)
    rule.step(net, [X0, X1], [D0, D1], rng)
    acct.epoch_metrics(tmp_path, 1)
    table, _ = save_table(_synthetic_table(), tmp_path / "t.toml")
    args = ["energy", "estimate", str(tmp_path), "--table", str(table), "--adc-energy", "0", "--mac-energy", "0",
            "--accumulator-energy", "0", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    # the hand-counted trains again (test_stochastic_coincidence_trains_by_hand), through the file
    assert doc["epochs"][0]["energy_update_j"] == pytest.approx(2 * ((14 + 14) * 1e-12 + (16 + 10) * 0.25e-12))
    assert (tmp_path / "energy.csv").is_file()
