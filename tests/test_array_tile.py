"""Array-aware tiles ([tile.array]): coincidence updates through the crossbar's write circuit.

References: the compact model's own numpy integration (ideal wires: every
coinciding cell sees the nominal voltage), ngspice running the same pulse
schedule on the same crossbar, and the exact per-slot solve for the cheaper
per-batch transfer matrix.
"""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from memspice.circuit import Crossbar
from memspice.circuit.schedule import CoincidenceDraw, coincidence_schedule
from memspice.errors import ConfigError, ParameterError
from memspice.learn import config_from_dict, train
from memspice.learn.tiles import make_tile, tile_config_from_table
from memspice.surrogate import AnalogTile
from memspice.surrogate.array_tile import coincidence_update, pair_crossbar_conductances
from memspice.surrogate.tabulated import single_pulse_waveform
from memspice.validate import defaults
from memspice.validate.circuit_run import run_schedule
from memspice.validate.cosim_tile import states_for_conductance

UP, DOWN = defaults.AMPLITUDE_UP_V, defaults.AMPLITUDE_DOWN_V


def _array_table(wire_ohm: float, **extra) -> dict:
    return {"array": {"model": defaults.MODEL, "model_params": dict(defaults.MODEL_PARAMS), "amplitude_up_v": UP,
                      "amplitude_down_v": DOWN, "width_s": defaults.WIDTH_S, "edge_s": defaults.EDGE_S,
                      "wire_ohm": wire_ohm, **extra},
            "mapping": {"g_min_s": 1.2e-3, "g_max_s": 3.0e-3}}


def _tile(wire_ohm: float, n_out: int, n_in: int, seed: int = 0, **extra):
    tile = make_tile(n_out, n_in, tile_config_from_table(_array_table(wire_ohm, **extra)), np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 100)
    tile.set_weights(rng.uniform(-0.8, 0.8, (n_out, n_in)))
    return tile


def _batch(n_out, n_in, batch, bl, seed, p=0.3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (batch, n_in))
    d = rng.uniform(-1, 1, (batch, n_out))
    return x, d, rng.random((batch, bl, n_in)) < p, rng.random((batch, bl, n_out)) < p


def test_ideal_wires_give_the_compact_models_steps():
    # Reference: with ideal wires every coinciding cell sees exactly the nominal +-A, the half-selected
    # A/2 (inside VTEAM's thresholds: no change), so each device takes its coincidence count of
    # compact-model pulses, integrated here with the model's own integrator. Bound: the table's
    # bilinear interpolation (measured < 0.5 % of the mean |dG|).
    tile = _tile(0.0, 3, 5)
    m = tile.config.array_write.compact_model()
    x, d, rb, cb = _batch(3, 5, 1, 10, seed=4)
    g0 = pair_crossbar_conductances(tile._g)
    coincidence_update(tile, x, d, rb, cb)
    g1 = pair_crossbar_conductances(tile._g)
    # the coincidences, pair by pair (G+ column 2j, G- column 2j+1 gets the opposite direction)
    xs = states_for_conductance(m, g0)
    for i in range(5):
        for j in range(3):
            n = int(np.sum(rb[0, :, i] & cb[0, :, j]))
            direction = -np.sign(x[0, i] * d[0, j])  # +1: the weight goes up
            for col, pol in ((2 * j, 1.0), (2 * j + 1, -1.0)):
                amp = UP if direction * pol > 0 else DOWN
                t, w = single_pulse_waveform(amp, defaults.WIDTH_S, defaults.EDGE_S, defaults.EDGE_S)
                xk = np.array([xs[i, col]])
                for _ in range(n):
                    xk = m.integrate(t, w, xk)[-1]
                g_ref = float(m.conductance(xk)[0])
                scale = np.mean(np.abs(g1 - g0)) + 1e-12
                assert abs(g1[i, col] - g_ref) <= 0.005 * scale + 1e-12, (i, col, n)


def test_per_batch_transfer_matrix_against_the_per_slot_solve():
    # Holding the write circuit's conductances for a mini-batch of 8 (refactor = "batch") against a
    # fresh nodal solve for every slot ("slot", exact): 17 x 5 tile, 1 ohm, 30 % firing. Stated bound
    # 1 % of the RMS dG (measured 0.56 %; per sample, "sample", 0.09 %).
    tiles = {r: _tile(1.0, 5, 17, refactor=r) for r in ("batch", "slot")}  # (the default, "sample": 0.09 %)
    x, d, rb, cb = _batch(5, 17, 8, 10, seed=7)
    g0 = tiles["slot"]._g.copy()
    for t in tiles.values():
        coincidence_update(t, x, d, rb, cb)
    dg_ref = tiles["slot"]._g - g0
    err = tiles["batch"]._g - tiles["slot"]._g
    assert np.sqrt(np.mean(dg_ref**2)) > 1e-6  # the devices moved (S)
    assert np.sqrt(np.mean(err**2)) <= 0.01 * np.sqrt(np.mean(dg_ref**2))


@pytest.mark.spice
def test_array_tile_update_matches_ngspice_with_one_ohm_wires():
    # The tile's own update, one sample of pulse trains on a 12 x (2 x 4) array with 1 ohm per
    # segment, against ngspice playing the same schedule on the same crossbar. Bound: issue 19's
    # 5 % RMS over the pulsed devices (measured 0.26 %); the same counts applied by the wire-blind
    # tile (same device table, nominal voltage) are off by 52 %.
    tile = _tile(1.0, 4, 12, seed=2)
    cfg = tile.config.array_write
    m = cfg.compact_model()
    x, d, rb, cb = _batch(4, 12, 1, 10, seed=5, p=0.4)
    g0 = pair_crossbar_conductances(tile._g)
    draw = CoincidenceDraw(row_bits=rb[0], col_bits=np.repeat(cb[0], 2, axis=1), p_rows=np.zeros(12),
                           q_cols=np.zeros(8), n_clipped=0)
    sched, counts = coincidence_schedule(x[0], np.repeat(d[0], 2), amplitude_up_v=UP, amplitude_down_v=DOWN,
                                         pulse=cfg.pulse, column_polarity=np.tile([1.0, -1.0], 4), draw=draw)
    xb = Crossbar(m, states_for_conductance(m, g0), row_wire_ohm=1.0, col_wire_ohm=1.0)
    g_spice = np.asarray(m.conductance(run_schedule(xb, sched).states_after), dtype=float)
    coincidence_update(tile, x, d, rb, cb)
    g_tile = pair_crossbar_conductances(tile._g)
    pulsed = counts != 0
    dg_spice = (g_spice - g0)[pulsed]
    rel = np.sqrt(np.mean(((g_tile - g0)[pulsed] - dg_spice) ** 2)) / np.sqrt(np.mean(dg_spice**2))
    assert rel <= 0.05
    blind = AnalogTile(4, 12, dataclasses.replace(tile.config, array_write=None), np.random.default_rng(0))
    blind.set_conductances(g0[:, 0::2].T, g0[:, 1::2].T)
    blind.apply_pulses(counts[:, 0::2].T)
    dg_blind = (pair_crossbar_conductances(blind._g) - g0)[pulsed]
    assert np.sqrt(np.mean((dg_blind - dg_spice) ** 2)) / np.sqrt(np.mean(dg_spice**2)) > 0.2


def test_tile_array_table_is_checked():
    with pytest.raises(ConfigError, match="tile.array"):
        tile_config_from_table({"array": {**_array_table(1.0)["array"], "wires": 1.0}})
    with pytest.raises(ConfigError, match="row_wire_ohm = -1.0 must be a finite resistance"):
        tile_config_from_table(_array_table(-1.0))
    with pytest.raises(ConfigError, match="drift"):
        tile_config_from_table({**_array_table(1.0), "read": {"drift_nu": 0.05}})
    with pytest.raises(ConfigError, match="leave the range"):
        tile_config_from_table({**_array_table(1.0), "mapping": {"g_min_s": 1e-4, "g_max_s": 3e-3}})
    doc = _digits_config(1.0, {})
    doc["rule"] = {"name": "mixed-precision", "learning_rate": 0.5}
    with pytest.raises(ConfigError, match="stochastic-coincidence"):
        config_from_dict(doc)


def _digits_config(wire_ohm: float, cosim: dict) -> dict:
    return {
        "seed": 3,
        "data": {"name": "digits", "max_train": 160, "max_test": 100},
        "network": {"sizes": [64, 4, 10], "weight_scaling_omega": 0.8},
        "training": {"epochs": 1, "batch_size": 16},
        "rule": {"name": "stochastic-coincidence", "learning_rate": 0.5, "bl": 10},
        "tile": _array_table(wire_ohm),
        "cosim": cosim,
    }


@pytest.mark.spice
def test_training_with_an_array_tile_is_what_ngspice_does(tmp_path):
    # Digits 64-4-10 trained with [tile.array] at 1 ohm; the checkpoints cover the whole output layer
    # (5 inputs x 10 outputs = 5 x 20 crossbar), so the tile's own update and ngspice's play the same
    # pulses on the same circuit: within 5 % RMS (issue 19; measured below 1 %). [cosim] names no
    # circuit: model, wires and pulses come from [tile.array].
    cosim = {"every_steps": 5, "layer": -1, "max_inputs": 5, "max_outputs": 10, "n_reads": 4}
    res = train(config_from_dict(_digits_config(1.0, cosim)), tmp_path, progress=False)
    assert res.epochs_completed == 1
    with open(tmp_path / "cosim.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows)
    for r in rows:
        assert int(r["pulsed_devices"]) > 0
        assert float(r["dg_rel_rms_tile"]) <= 0.05
        assert float(r["dg_rel_rms_array"]) <= 0.05


def test_cosim_takes_its_circuit_from_tile_array():
    from memspice.validate.cosim_config import cosim_config_from_table, cosim_table_with_tile

    tile = _array_table(0.7)
    cfg = cosim_config_from_table(cosim_table_with_tile({"every_steps": 3}, tile))
    assert (cfg.wire_ohm, cfg.amplitude_up_v, cfg.model) == (0.7, UP, defaults.MODEL)
    # a key [cosim] sets wins
    assert cosim_config_from_table(cosim_table_with_tile({"every_steps": 3, "wire_ohm": 0.1}, tile)).wire_ohm == 0.1


def test_wired_reads_take_the_arrays_wire():
    tc = tile_config_from_table({**_array_table(0.7), "read": {"mode": "ir_drop", "ir_method": "linearised"}})
    assert tc.read.wire_r_ohm == 0.7
    tc = tile_config_from_table({**_array_table(0.7), "read": {"mode": "ir_drop", "wire_r_ohm": 0.1}})
    assert tc.read.wire_r_ohm == 0.1


def test_state_round_trip_keeps_the_array_config(rng):
    tile = _tile(1.0, 2, 3)
    copy = type(tile).from_state_dict(tile.state_dict(), rng)
    assert copy.config.array_write == tile.config.array_write
    assert dataclasses.asdict(copy.config.array_write)["row_wire_ohm"] == 1.0


@pytest.mark.spice
def test_circuit_in_the_loop_update_matches_the_array_aware_one():
    # Circuit in the loop (engine "vacask": the mini-batch's pulses as one VACASK transient of the tile's
    # crossbar) against the array-aware surrogate (engine "nodal") from the same conductances, 4 samples
    # on a 6 x (2 x 4) array with 1 ohm: independent solvers of the same circuit. Bound: issue 19's 5 %
    # RMS of the moved devices' dG (measured 1.0 %; against ngspice 0.48 %, VACASK vs ngspice 0.55 %).
    tiles = {e: _tile(1.0, 4, 6, seed=8, engine=e) for e in ("nodal", "vacask")}
    x, d, rb, cb = _batch(4, 6, 4, 10, seed=9, p=0.3)
    g0 = tiles["nodal"]._g.copy()
    for t in tiles.values():
        coincidence_update(t, x, d, rb, cb)
    dg_n, dg_v = tiles["nodal"]._g - g0, tiles["vacask"]._g - g0
    moved = np.abs(dg_v) > 1e-9 * np.abs(g0).max()
    assert moved.sum() > 4
    assert np.sqrt(np.mean((dg_n - dg_v)[moved] ** 2)) <= 0.05 * np.sqrt(np.mean(dg_v[moved] ** 2))
    # the circuit tile's own record of the surrogates' agreement on those pulses (memspice.learn.circuit_metrics):
    # its array-aware figure is the hand RMS above over all devices (the nodal tile made the same prediction from
    # the same states); the wire-blind one, every device at its nominal voltage, is off by tens of % at 1 ohm
    from memspice.learn.circuit_metrics import circuit_epoch_metrics

    class Net:  # one layer holding the circuit tile
        layers = [type("Layer", (), {"tile": tiles["vacask"]})()]

    hand = np.sqrt(np.sum((dg_n - dg_v) ** 2) / np.sum(dg_v ** 2))
    m = circuit_epoch_metrics(Net())
    assert m["circuit_dg_rel_rms_array_L0"] == pytest.approx(hand, rel=1e-9)
    assert m["circuit_dg_rel_rms_wire_blind_L0"] > 0.2
    after = type(tiles["vacask"]).from_state_dict(tiles["vacask"].state_dict(), np.random.default_rng(0))
    assert np.all(after._circuit_agreement == 0)  # read once per epoch, then started again (and checkpointed)


def test_circuit_layers_are_checked():
    cfg = tile_config_from_table(_array_table(1.0, circuit_layers=[-1])).array_write
    assert cfg.for_layer(1, 2, (10, 5)).engine == "vacask" and cfg.for_layer(0, 2, (4, 65)).engine == "nodal"
    with pytest.raises(ParameterError, match="at most 64 x 64"):
        cfg.for_layer(1, 2, (10, 65))
    with pytest.raises(ConfigError, match="circuit_engine"):
        tile_config_from_table(_array_table(1.0, circuit_engine="spectre"))
