"""The write circuit solved line by line (memspice.surrogate.line_solver) and the mean-field array-aware update.

References: the nodal solver's exact solution of the same element table
(scipy sparse LU, itself checked against ngspice in test_circuit_read); the
ideal-wire voltages by hand (A/2 − (−A/2) = A); the slot-by-slot array-aware
update (every slot solved exactly, tests/test_array_tile.py checks it against
ngspice) for the mean-field estimate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from memspice.circuit.network import Topology
from memspice.circuit.nodal import NodalSolver
from memspice.errors import ConfigError, ParameterError
from memspice.surrogate.array_write import write_topology
from memspice.surrogate.line_solver import coincidence_voltages, solve_write_lines, write_line_nodes


@pytest.mark.parametrize("rows, cols, wires", [
    (16, 24, dict(row_wire_ohm=0.5, col_wire_ohm=1.0, contact_ohm=10.0, driver_ohm=5.0)),
    (8, 8, dict()),
    (8, 8, dict(col_wire_ohm=2.0, driver_ohm=3.0)),
    (32, 16, dict(row_wire_ohm=1.0)),
    (10, 12, dict(row_wire_ohm=2.0, col_wire_ohm=2.0)),
])
def test_line_solve_equals_the_nodal_solver(rng, rows, cols, wires):
    g = rng.uniform(1e-4, 3e-3, (rows, cols))
    rv, cv = rng.uniform(-0.2, 0.2, rows), rng.uniform(-0.2, 0.2, cols)
    topo = write_topology(Topology(rows=rows, cols=cols, **wires))
    exact = NodalSolver(topo, g).solve(rv[None], cv[None]).v_cells_v[0]
    # 1e-9 V on 0.4 V spans: the sweeps stop at 1e-10 V of change
    np.testing.assert_allclose(solve_write_lines(g, rv, cv, **wires), exact, rtol=0, atol=1e-9)


def test_ideal_wires_give_the_nominal_coincidence_voltage_and_strong_wires_refuse_to_guess(rng):
    g = rng.uniform(1e-4, 3e-3, (6, 5))
    v = coincidence_voltages(g, np.full(6, 0.3), np.full(5, 0.2), 0.135, -0.135)
    np.testing.assert_array_equal(v, np.full((6, 5), 0.27))  # A/2 - (-A/2), no wire to drop anything
    with pytest.raises(ParameterError, match="did not settle in 1 sweeps"):
        write_line_nodes(g, np.full(6, 0.1), np.full(5, -0.1), row_wire_ohm=50.0, col_wire_ohm=50.0, max_sweeps=1)
    with pytest.raises(ParameterError, match="firing rates"):
        coincidence_voltages(g, np.full(6, 1.5), np.full(5, 0.2), 0.135, -0.135)


def _tile_pair(wire: float, refactor: str):
    from memspice.learn.config import load_config
    from memspice.learn.tiles import tile_config_from_table

    tile = dict(load_config("examples/digits_stochastic_wires.toml").tile)
    tile["array"] = {**tile["array"], "wire_ohm": wire, "refactor": refactor}
    return tile_config_from_table(tile)


@pytest.mark.parametrize("wire, bound", [(0.01, 0.01), (0.05, 0.03)])
def test_mean_field_update_follows_the_slot_by_slot_solve(wire, bound):
    from memspice.learn.rules import build_rule
    from memspice.learn.config import load_config
    from memspice.learn.rules.pulse_trains import mean_field_trains
    from memspice.surrogate.array_tile import coincidence_update
    from memspice.surrogate.tile import AnalogTile

    rule = build_rule(load_config("examples/digits_stochastic_wires.toml").rule)
    n_out, n_in, batch = 8, 17, 4
    x = np.random.default_rng(5).uniform(0, 1, (batch, n_in))
    d = np.random.default_rng(6).normal(0, 0.3, (batch, n_out))
    dg = {}
    for refactor in ("slot", "mean-field"):
        tile = AnalogTile(n_out, n_in, _tile_pair(wire, refactor), np.random.default_rng(1))
        g0 = tile._g.copy()
        trains = []
        rule.cell_counts(x, d, tile.dw_min, np.random.default_rng(9), on_trains=lambda r, c, n: trains.append((r, c)))
        rows, cols = trains[0]
        if refactor == "slot":
            coincidence_update(tile, x, d, (rows.toarray() != 0).reshape(batch, rule.bl, -1),
                               (cols.toarray() != 0).reshape(batch, rule.bl, -1))
        else:
            mean_field_trains(tile, rows, cols, batch * rule.bl)
        dg[refactor] = tile._g - g0
    ref = dg["slot"]
    assert np.sqrt(np.mean(ref ** 2)) > 1e-6  # the batch does move the devices (~10 uS steps)
    # measured 0.14 % / 0.81 % on 33 x 32 crossbars at 0.01 / 0.05 ohm (docs/results/array_training.md)
    assert np.sqrt(np.mean((dg["mean-field"] - ref) ** 2)) / np.sqrt(np.mean(ref ** 2)) < bound


def test_refresh_every_must_be_a_whole_number_of_batches():
    from memspice.learn.tiles import array_write_from_table

    with pytest.raises(ConfigError, match="refresh_every = 0"):
        array_write_from_table({"model": "vteam", "amplitude_up_v": -0.27, "amplitude_down_v": 0.038,
                                "refactor": "mean-field", "refresh_every": 0})
    assert dataclasses.asdict(_tile_pair(0.05, "mean-field").array_write)["refresh_every"] == 1


def test_gross_counts_keep_what_the_net_count_cancels():
    from memspice.learn.rules.pulse_trains import PulseTrains, coincidences, gross_counts

    # 3 slots, 2 rows, 1 column; row 0 fires +, +, - ; the column fires +, -, - : cell (0, 0) sees
    # same signs in slot 0 (lowers), opposite in slot 1 (raises), same in slot 2 (lowers): 1 up, 2 down
    rows = PulseTrains(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([1.0, 1.0, -1.0]), (3, 2))
    cols = PulseTrains(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([1.0, -1.0, -1.0]), (3, 1))
    up, down = gross_counts(rows, cols, 2)
    assert list(up) == [1, 0] and list(down) == [2, 0]
    cells, net = coincidences(rows, cols)  # the net count the wire-blind tile applies: -(up - down) signs
    assert list(cells) == [0] and abs(int(net[0])) == 1


def test_bits_and_trains_give_the_same_mean_field_update():
    # coincidence_update (the co-simulation checkpoints' entry, pulse bits) and the rule's entry (pulse
    # trains) must be one update: the checkpoint compares ngspice with what training does
    from memspice.learn.config import load_config
    from memspice.learn.rules import build_rule
    from memspice.learn.rules.pulse_trains import mean_field_trains
    from memspice.surrogate.array_tile import coincidence_update
    from memspice.surrogate.tile import AnalogTile

    rule = build_rule(load_config("examples/digits_stochastic_wires.toml").rule)
    n_out, n_in, batch = 6, 9, 3
    x = np.random.default_rng(5).uniform(-1, 1, (batch, n_in))
    d = np.random.default_rng(6).normal(0, 0.3, (batch, n_out))
    tiles = [AnalogTile(n_out, n_in, _tile_pair(0.05, "mean-field"), np.random.default_rng(1)) for _ in range(2)]
    trains = []
    rule.cell_counts(x, d, tiles[0].dw_min, np.random.default_rng(9), on_trains=lambda r, c, n: trains.append((r, c)))
    rows, cols = trains[0]
    mean_field_trains(tiles[0], rows, cols, batch * rule.bl)
    coincidence_update(tiles[1], x, d, (rows.toarray() != 0).reshape(batch, rule.bl, -1),
                       (cols.toarray() != 0).reshape(batch, rule.bl, -1))
    assert np.any(tiles[0]._g != AnalogTile(n_out, n_in, tiles[0].config, np.random.default_rng(1))._g)
    np.testing.assert_array_equal(tiles[0]._g, tiles[1]._g)


def test_a_resumed_mean_field_tile_keeps_its_step_factors():
    # refresh_every = 3: the step factors solved at the first batch serve the next two. A tile saved and restored
    # after batch 1 (a checkpoint) must step batch 2 with those factors, as the uninterrupted tile does
    # (reference: the uninterrupted tile, bit for bit; before the factors were checkpointed the restored tile
    # solved afresh at the moved conductances and came out different).
    from memspice.learn.rules.pulse_trains import PulseTrains, mean_field_trains
    from memspice.surrogate.tile import AnalogTile

    cfg = _tile_pair(0.05, "mean-field")
    cfg = dataclasses.replace(cfg, array_write=dataclasses.replace(cfg.array_write, refresh_every=3))
    n_out, n_in, slots = 4, 6, 40
    rng = np.random.default_rng(3)
    batches = []
    for _ in range(2):
        r = np.flatnonzero(rng.random(slots * n_in) < 0.3)
        c = np.flatnonzero(rng.random(slots * n_out) < 0.3)
        batches.append((PulseTrains(r // n_in, r % n_in, rng.choice([-1.0, 1.0], r.size), (slots, n_in)),
                        PulseTrains(c // n_out, c % n_out, rng.choice([-1.0, 1.0], c.size), (slots, n_out))))
    straight = AnalogTile(n_out, n_in, cfg, np.random.default_rng(1))
    resumed = AnalogTile(n_out, n_in, cfg, np.random.default_rng(1))
    for rows, cols in batches:
        mean_field_trains(straight, rows, cols, slots)
    mean_field_trains(resumed, *batches[0], slots)
    resumed = AnalogTile.from_state_dict(resumed.state_dict(), np.random.default_rng(1))
    mean_field_trains(resumed, *batches[1], slots)
    assert np.abs(straight._g - AnalogTile(n_out, n_in, cfg, np.random.default_rng(1))._g).max() > 1e-7  # it moved
    np.testing.assert_array_equal(resumed._g, straight._g)
