"""Operation counters against a hand-counted mini-batch, for every rule; and the trainer's counters.csv.

The batch (B = 2) of a 3-2-2 network; tiles have a bias column, so layer 0 is
2 x 4 and layer 1 is 2 x 3 (n_out x n_cols). With the bias input 1:

    layer 0: x = [1, 0, .5, 1], [0, 0, 1, 1]        δ = [.5, 0], [-.25, .75]
    layer 1: x = [.5, .25, 1], [1, 0, 1]            δ = [0, .5], [.5, -.5]

Pulse-coincidence rules run with a learning rate so large that every line
with a non-zero operand fires in every slot (p = q = 1), so the trains are
known: in each of the BL slots of sample b, r_b rows (non-zero x) and c_b
columns (non-zero δ) fire. CBRAM-SC gets operands of its own (X0_SC, ...)
whose bit streams are all ones or all zeros. Every number below is worked
out by hand in the comments from those operands. The trainer tests check
the energy columns every run writes (the shipped default table, or the
config's own).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from memspice.energy import load_default_table
from memspice.learn.counters import OpCounters, RunAccounting, read_counters_csv
from memspice.learn.network import Trace, build_network
from memspice.learn.rules import FloatSGD, MixedPrecision, StochasticCoincidence
from memspice.learn.rules.binary_stochastic import BinaryStochastic
from memspice.learn.rules.cbram_sc import CBRAMStochasticComputing
from memspice.learn.rules.sbe import StreamingBatchEigenupdate
from memspice.learn.rules.tiki_taka import TikiTaka
from memspice.learn.stochastic_computing import CBRAMSwitching
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


def _counted_coincidence_step(rng, energy_model=None) -> RunAccounting:
    """One stochastic-coincidence step on X0/D0, X1/D1 under RunAccounting (the hand-counted trains:
    28 coincidences and 26 half-selected cells over both layers, see the test below)."""
    net = _net(True, rng)
    rule = StochasticCoincidence(1e9, bl=BL, update_management=False)
    acct = RunAccounting(net, rule.name, energy_model)
    rule.step(net, [X0, X1], [D0, D1], rng, acct.counters)
    return acct


def _step(rule, analog: bool, rng):
    net = _net(analog, rng)
    counters = OpCounters.for_network(net)
    rule.step(net, [X0, X1], [D0, D1], rng, counters)
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


# CBRAM-SC operands of their own: every sample's non-zero magnitudes equal its largest, so after the
# rule's per-sample scaling (x/m_x, δ/m_δ) every stream encodes 0 or 1, and with a driver whose
# strongest pulse sets a cell with p_full > 1 − 2⁻²⁴ (above every float32 uniform the encoder draws)
# each stream is all ones or all zeros: the SC estimate is Σ_b δ_b x_bᵀ / p_full², no noise.
X0_SC = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])  # with the bias: [1, 0, -1, 1], [0, 1, 1, 1]
D0_SC = np.array([[0.5, 0.0], [-0.25, -0.25]])
X1_SC = np.array([[-1.0, 1.0], [0.0, 0.0]])  # with the bias: [-1, 1, 1], [0, 0, 1]
D1_SC = np.array([[0.5, -0.5], [1.0, 0.0]])


def test_cbram_sc_pulses_by_hand(rng):
    switching = CBRAMSwitching(v_max_v=4.6)  # t/τ(4.6 V) = 27.2: p_full = 1 − 1.6e-12
    assert switching.p_full > 1.0 - 2.0**-24
    net = _net(True, rng)
    eps = net.layers[0].tile.dw_min  # ε of both tiles (same device and mapping): default_epsilon = dw_min
    assert net.layers[1].tile.dw_min == eps
    # η = B·ε·F with F = 10.2: χ = −(η/B) Σδxᵀ -> p = trunc(χ/ε) = trunc(−10.2 Σδxᵀ), far from integers
    rule = CBRAMStochasticComputing(2 * eps * 10.2, stream_length=8, switching=switching)
    counters = OpCounters.for_network(net)
    rule.step(net, [X0_SC, X1_SC], [D0_SC, D1_SC], rng, counters)
    t = counters.totals()
    # layer 0: Σδxᵀ = .5·[1,0,-1,1] + (-.25)·[0,1,1,1] = [.5,-.25,-.75,.25] / (-.25)·[0,1,1,1] = [0,-.25,-.25,-.25]
    #   10.2·|Σδxᵀ| = [5.1, 2.55, 7.65, 2.55] / [0, 2.55, 2.55, 2.55] -> |p| = 5+2+7+2 + 0+2+2+2 = 22 on 7 cells
    # layer 1: Σδxᵀ = [.5,-.5]ᵀ[-1,1,1] + [1,0]ᵀ[0,0,1] = [-.5,.5,1.5] / [.5,-.5,-.5]
    #   10.2·|Σδxᵀ| = [5.1, 5.1, 15.3] / [5.1, 5.1, 5.1] -> |p| = 25 + 15 = 40 on 6 cells
    assert _field(t, "cell_pulses") == [22, 40]
    assert _field(t, "programmed_cells") == [7, 6]
    assert _field(t, "accumulator_updates") == [8, 6]  # every χ of the 2x4 and 2x3 tiles written once
    # the products come from SC gates (AND + counter), not digital MACs; programmed cell by cell, no trains
    assert _field(t, "digital_macs") == [0, 0] and _field(t, "outer_products") == [0, 0]
    assert _field(t, "slots") == [0, 0] and _field(t, "train_pulses") == [0, 0]
    assert rule.stats()["pulses"] == 22 + 40  # the rule's own tally of the pulses it applied agrees


def test_tiki_taka_trains_reads_and_zero_shift_by_hand(rng):
    # p = q = 1 on every non-zero operand of both updates (η, η_t huge, no update management), so the
    # fast update of A is the stochastic-coincidence case above (same counts and trains), and each
    # transfer is known too. Three transfers per layer: columns 0, 1, 2 of A.
    rule = TikiTaka(1e9, transfer_learning_rate=1e9, transfer_every=1, columns_per_transfer=3, bl=BL,
                    update_management=False, symmetry_pulses=3)
    t = _step(rule, analog=True, rng=rng)
    # 1. zero shift when A is made: 2·3 = 6 whole-array pulses, each one slot with every row and column
    #    firing: layer 0 (R = 4, C = 2) 8 coincidences a slot, layer 1 (R = 3, C = 2) 6; none half-selected
    # 2. fast update (test_stochastic_coincidence_trains_by_hand): 2·BL slots, 14 coincidences,
    #    16 / 10 half-selected, rows 10, columns 6, Σ|n| 6, 2 outer products; A's counts (units of its step)
    #    layer 0: [-2, 0, 0, 0] / [0, 0, -2, -2]; layer 1: [-2, 0, -2] / [0, -2, 0]
    # 3. transfers: column i of A read (x = e_i: one line driven), v = A e_i − A₀ e_i; C gets trains
    #    from x = e_i, δ = −v: one row and the columns with v ≠ 0 fire in each of BL slots
    #    layer 0: v ∝ [-2, 0], [0, 0], [0, -2]: column 1 is untouched (v = 0 exactly: no trains);
    #      columns 0 and 2: 1 coincidence and C·1 + R·1 − 2 = 4 half-selected a slot, Σ|n| = BL each
    #    layer 1: v ∝ [-2, 0], [0, -2], [-2, 0]: 1 coincidence and 2 + 3 − 2 = 3 half-selected a slot
    assert _field(t, "slots") == [6 + 2 * BL + 2 * BL, 6 + 2 * BL + 3 * BL]
    assert _field(t, "coincidences") == [6 * 8 + 14 + 2 * BL, 6 * 6 + 14 + 3 * BL]
    assert _field(t, "half_selected") == [0 + 16 + 2 * BL * 4, 0 + 10 + 3 * BL * 3]
    assert _field(t, "row_pulses") == [6 * 4 + BL * 5 + 2 * BL, 6 * 3 + BL * 5 + 3 * BL]
    assert _field(t, "col_pulses") == [6 * 2 + BL * 3 + 2 * BL, 6 * 2 + BL * 3 + 3 * BL]
    assert _field(t, "train_pulses") == [6 * 8 + 6 + 2 * BL, 6 * 6 + 6 + 3 * BL]
    assert _field(t, "outer_products") == [6 + 2 + 2, 6 + 2 + 3]
    # the transfer reads of A: 3 one-line reads per layer (Σ|u| = Σu² = 1 each), n_out = 2 conversions each
    assert _field(t, "forward_reads") == [3, 3] and _field(t, "forward_rows") == [3, 3]
    assert _field(t, "forward_sum_abs") == [3, 3] and _field(t, "forward_sum_sq") == [3, 3]
    assert _field(t, "forward_conversions") == [6, 6]
    assert _field(t, "backward_reads") == [0, 0] and _field(t, "cell_pulses") == [0, 0]
    stats = rule.stats()  # the rule's own tallies agree with the trains' Σ|n| (zero shift aside)
    assert stats["fast_pulses"] == 6 + 6 and stats["transfer_pulses"] == 2 * BL + 3 * BL
    assert stats["column_transfers"] == 6


def test_trainer_writes_counters_per_epoch(tmp_path):
    from memspice.learn.config import config_from_dict
    from memspice.learn.metrics import read_csv
    from memspice.learn.run_state import Streams, load_dataset
    from memspice.learn.trainer import train

    doc = {"seed": 3, "data": {"name": "digits", "max_train": 96}, "network": {"sizes": [64, 8, 10]},
           "training": {"epochs": 2, "batch_size": 32}, "rule": {"name": "sgd", "learning_rate": 0.1}}
    config = config_from_dict(doc)
    train(config, tmp_path, progress=False)
    n_train = len(load_dataset(config, Streams(config.seed).data).train)
    rows = read_counters_csv(tmp_path / "counters.csv")
    assert [(r["epoch"], r["layer"]) for r in rows] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    for r in rows:  # per epoch: every sample read forward once per layer, backward once into layer 1
        assert r["forward_reads"] == n_train
        assert r["backward_reads"] == (n_train if r["layer"] == 1 else 0)
        assert r["outer_products"] == n_train
        assert r["digital_macs"] == n_train * (8 * 65 if r["layer"] == 0 else 10 * 9)
    ops = json.loads((tmp_path / "operations.json").read_text())
    assert ops["rule"] == "sgd" and ops["totals"]["forward_reads"] == 2 * 2 * n_train  # 2 epochs x 2 layers
    # no [energy] table: the shipped default table prices the counts, and the run says so
    assert ops["energy_table"].startswith("default: circuits/energy_default.toml")
    assert json.loads((tmp_path / "summary.json").read_text())["energy_table"] == ops["energy_table"]
    metrics = read_csv(tmp_path / "metrics.csv")
    default = load_default_table()
    a2 = default.one(kind="read", direction="forward", encoding="analog", level=1.0).per_cell_j
    for epoch in (1, 2):
        m = metrics[epoch - 1]
        # ADC: 1 pJ (DigitalCosts default) per conversion: forward n_out = 8 + 10, backward into layer 1 n_cols = 9
        assert m["energy_adc_j"] == pytest.approx(1e-12 * n_train * (8 + 10 + 9), rel=1e-12)
        # analog forward reads of the ohmic default cell: e(u) = a2·u² per cell, 2 arrays x n_out cells a line
        layers = [r for r in rows if r["epoch"] == epoch]
        fwd = sum(2 * r["n_out"] * a2 * r["forward_sum_sq"] for r in layers)
        assert m["energy_forward_read_j"] == pytest.approx(fwd, rel=1e-6)
        assert m["energy_update_j"] == 0.0  # FP SGD pulses nothing
        # SGD's update: B·n_out·n_cols MACs at 4.6 pJ per sample, every weight written once per mini-batch
        n_batches = -(-n_train // 32)
        assert m["energy_digital_update_j"] == pytest.approx(
            (4.6e-12 * n_train + 0.9e-12 * n_batches) * (8 * 65 + 10 * 9), rel=1e-12)


def test_explicit_energy_table_wins_over_the_default(tmp_path):
    from test_energy import _synthetic_table

    from memspice.energy import save_table
    from memspice.learn.config import config_from_dict
    from memspice.learn.metrics import read_csv
    from memspice.learn.trainer import train

    table, _ = save_table(_synthetic_table(), tmp_path / "tables" / "mine.toml")
    doc = {"seed": 3, "data": {"name": "digits", "max_train": 64}, "network": {"sizes": [64, 4, 10]},
           "training": {"epochs": 1, "batch_size": 32}, "rule": {"name": "sgd"},
           "energy": {"table": "tables/mine.toml", "adc_conversion_j": 0.0, "mac_j": 0.0,
                      "accumulator_update_j": 0.0}}
    config = config_from_dict(doc, base_dir=tmp_path)  # the path is relative to the config's folder
    train(config, tmp_path / "run", progress=False)
    ops = json.loads((tmp_path / "run" / "operations.json").read_text())
    assert ops["energy_table"] == str(table.resolve())
    (row,) = read_csv(tmp_path / "run" / "metrics.csv")
    layers = read_counters_csv(tmp_path / "run" / "counters.csv")
    # the synthetic table's read e(u) = 4e-15·u² per cell (not the default's 2.03e-15 at full scale)
    fwd = sum(2 * r["n_out"] * 4e-15 * r["forward_sum_sq"] for r in layers)
    assert row["energy_forward_read_j"] == pytest.approx(fwd, rel=1e-9)
    assert row["energy_adc_j"] == 0.0 and row["energy_digital_update_j"] == 0.0


def test_run_accounting_energy_columns(rng, tmp_path):
    from test_energy import _synthetic_table

    from memspice.energy import EnergyModel

    acct = _counted_coincidence_step(rng, EnergyModel(_synthetic_table()))
    m = acct.epoch_metrics(tmp_path, 1)
    # update energy of the hand-counted trains: 2 devices x (1 pJ per coincidence + 0.25 pJ per half-selected)
    assert m["energy_update_j"] == pytest.approx(2 * ((14 + 14) * 1e-12 + (16 + 10) * 0.25e-12))
    assert acct.epoch_metrics(tmp_path, 2)["energy_update_j"] == 0.0  # a new epoch starts from zero


def test_energy_estimate_cli_reads_counters_csv(rng, tmp_path, capsys):
    from test_energy import _synthetic_table

    from memspice.cli import main
    from memspice.energy import save_table

    _counted_coincidence_step(rng).epoch_metrics(tmp_path, 1)
    table, _ = save_table(_synthetic_table(), tmp_path / "t.toml")
    args = ["energy", "estimate", str(tmp_path), "--table", str(table), "--adc-energy", "0", "--mac-energy", "0",
            "--accumulator-energy", "0", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    # the hand-counted trains again (test_stochastic_coincidence_trains_by_hand), through the file
    assert doc["epochs"][0]["energy_update_j"] == pytest.approx(2 * ((14 + 14) * 1e-12 + (16 + 10) * 0.25e-12))
    assert (tmp_path / "energy.csv").is_file()


def test_resumed_run_keeps_the_energy_columns_it_started_with(rng):
    # a checkpoint from before every run had an estimate (no energy_source in its accounting state) has
    # metrics.csv rows without energy columns: resumed, it stays counts-only (else the old rows lack
    # columns the new ones have); a new run, or one resumed from a new checkpoint, prices with the default
    from memspice.energy.estimate import energy_columns
    from memspice.learn.config import config_from_dict

    config = config_from_dict({"rule": {"name": "stochastic-coincidence"}})
    net = _net(True, rng)
    rule = StochasticCoincidence(1e9, bl=BL, update_management=False)
    new = RunAccounting.start(net, rule.name, config)
    assert new.metric_columns == energy_columns() and new.energy_source.startswith("default: ")
    assert RunAccounting.start(net, rule.name, config, {"accounting": new.state_dict()}).energy_source == new.energy_source
    old_state = new.state_dict()
    del old_state["energy_source"]
    old = RunAccounting.start(net, rule.name, config, {"accounting": old_state})
    assert old.metric_columns == () and old.energy_source is None


@pytest.mark.parametrize("scale", [0.9, 3.0])  # all |v| <= 1 (the whole-array path) and beyond (row maxima)
def test_batched_read_counts_equal_the_per_vector_definition(scale):
    # Reference: the definition evaluated row by row in float64 on the explicit
    # rows [v, 1] (bias line) or v: driven lines, sum |u| and sum u^2 with
    # u = v / max|v| of the row. 40 mini-batches of 8 reads are recorded one by
    # one (batched internally, float32 input) and must sum to it to 1e-6
    # relative (float32 BLAS sums); the line count exactly.
    rng = np.random.default_rng(8)
    batches = [(scale * rng.uniform(-1, 1, (8, 5)) * (rng.random((8, 5)) < 0.7)).astype(np.float32) for _ in range(40)]
    for bias in (False, True):
        c = OpCounters([(3, 6)])
        for v in batches:
            c.record_read(0, "forward", v, bias=bias)
        rows = np.concatenate(batches).astype(np.float64)
        if bias:
            rows = np.concatenate([rows, np.ones((rows.shape[0], 1))], axis=1)
        u = np.abs(rows) / np.abs(rows).max(axis=1, keepdims=True)
        t = c.totals()[0]
        assert t["forward_reads"] == 320 and t["forward_conversions"] == 320 * 3
        assert t["forward_rows"] == np.count_nonzero(rows)
        assert t["forward_sum_abs"] == pytest.approx(u.sum(), rel=1e-6)
        assert t["forward_sum_sq"] == pytest.approx((u * u).sum(), rel=1e-6)


def test_per_sample_read_statistics_sum_to_the_batch_statistics():
    # Reference: vector_stats of the batch rows themselves (the definition, tested
    # above against a float64 row-by-row count); the per-sample statistics the
    # trainer precomputes for the data set, gathered for a batch and summed,
    # must give the same reads and lines exactly and the same sums to 1e-6.
    from memspice.learn.read_stats import sample_stats, vector_stats

    rng = np.random.default_rng(9)
    x = (rng.uniform(-1.5, 1.5, (300, 7)) * (rng.random((300, 7)) < 0.6)).astype(np.float32)
    per = sample_stats(x, chunk=64)
    idx = rng.permutation(300)[:50]
    reads, rows, s_abs, s_sq = vector_stats(x[idx], bias=True)
    assert reads == 50 and rows == per[0][idx].sum()
    assert s_abs == pytest.approx(per[1][idx].sum(), rel=1e-6) and s_sq == pytest.approx(per[2][idx].sum(), rel=1e-6)
