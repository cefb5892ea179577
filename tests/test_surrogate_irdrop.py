"""IR-drop-aware reads of the surrogate tile vs the crossbar's nodal solver and vs ngspice (64x64).

The reference crossbars are built independently of the tile: the public
memspice.circuit API with the linear "resistor" compact model, whose state x
sets G = G_off + x (G_on - G_off), one crossbar for G+ and one for G-.
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.circuit.crossbar import Crossbar
from memspice.circuit.run import read
from memspice.circuit.stimulus import ReadStimulus
from memspice.devices import get_model
from memspice.surrogate import AnalogTile, ConstantStep, ReadConfig, TileConfig

G_OFF, G_ON = 1e-6, 1e-4  # the resistor model's default range (r_off 1 MOhm, r_on 10 kOhm)
V_READ = 0.2
WIRE = 2.5  # ohm per segment: a few % IR drop at 64 x 64 and 100 µS cells


def _tile(rng, n_out, n_in, wire=WIRE, **read_kw):
    dev = ConstantStep(g_min_s=G_OFF, g_max_s=G_ON, dg_up_s=1e-7, dg_down_s=1e-7)
    read_cfg = ReadConfig(mode="ir_drop", wire_r_ohm=wire, v_read_v=V_READ, **read_kw)
    tile = AnalogTile(n_out, n_in, TileConfig(device=dev, read=read_cfg), rng)
    tile.set_weights(rng.uniform(-1, 1, (n_out, n_in)))
    return tile


def _reference(tile, x, solver, transpose=False, wire=WIRE):
    m = get_model("resistor")
    out = []
    for g in (tile.g_plus, tile.g_minus):
        mat = g if transpose else g.T  # rows are the driven lines
        cb = Crossbar(model=m, states=(mat - G_OFF) / (G_ON - G_OFF), row_wire_ohm=wire, col_wire_ohm=wire)
        out.append(read(cb, ReadStimulus(v_rows_v=x * V_READ), solver=solver).i_cols_a)
    return (out[0] - out[1]) / (tile.mapping.g_scale_s * V_READ)


def test_ir_drop_read_equals_crossbar_nodal_solver(rng):
    tile = _tile(rng, 64, 64)
    x = rng.uniform(-1, 1, (3, 64))
    y = tile.forward(x)
    ref = _reference(tile, x, "nodal")
    scale = np.abs(ref).max()
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-9 * scale)
    # the wires matter: the ideal product differs by far more than the tolerance
    ideal = x @ tile.get_weights().T
    assert np.abs(ideal - y).max() > 1e-3 * scale
    d = rng.uniform(-1, 1, (2, 64))
    np.testing.assert_allclose(tile.backward(d), _reference(tile, d, "nodal", transpose=True), rtol=0,
                               atol=1e-9 * scale)


def _ngspice_deck(tile, x):
    """Plain-resistor deck of both arrays (independent of the netlist writer and the device subcircuits).

    Same topology as memspice.circuit: each row driven through one wire
    segment into its first cell, segments between neighbouring cells, each
    column leaving its last cell through one segment into a 0 V ammeter.
    Rows are the tile's inputs (the crossbar holds G^T).
    """
    lines = ["* surrogate IR-drop reference: two 1R arrays with wire resistance"]
    n_in, n_out = tile.n_in, tile.n_out
    for tag, g in (("p", tile.g_plus), ("m", tile.g_minus)):
        for i in range(n_in):
            lines.append(f"V{tag}row{i} {tag}rin{i} 0 DC {x[i] * V_READ:.15g}")
            lines.append(f"R{tag}wr{i}_0 {tag}rin{i} {tag}r{i}_0 {WIRE:.15g}")
            for j in range(1, n_out):
                lines.append(f"R{tag}wr{i}_{j} {tag}r{i}_{j - 1} {tag}r{i}_{j} {WIRE:.15g}")
            for j in range(n_out):
                lines.append(f"R{tag}x{i}_{j} {tag}r{i}_{j} {tag}c{i}_{j} {1.0 / g[j, i]:.15g}")
        for j in range(n_out):
            for i in range(n_in - 1):
                lines.append(f"R{tag}wc{i}_{j} {tag}c{i}_{j} {tag}c{i + 1}_{j} {WIRE:.15g}")
            lines.append(f"R{tag}wc{n_in - 1}_{j} {tag}c{n_in - 1}_{j} {tag}cb{j} {WIRE:.15g}")
            lines.append(f"V{tag}sense{j} {tag}cb{j} 0 DC 0")
    lines += [".op", ".end"]
    return "\n".join(lines)


# ngspice's .op on the 64 x 64 pair (16k resistors) takes ~25 s here (its cost
# grows ~n^3 with the mesh), so that size is in the slow set; 32 x 32 runs always.
@pytest.mark.spice
@pytest.mark.parametrize("n", [32, pytest.param(64, marks=pytest.mark.slow)])
def test_ir_drop_read_equals_ngspice(rng, n):
    from memspice.spice import RunSettings, simulate

    tile = _tile(rng, n, n)
    x = rng.uniform(-1, 1, n)
    y = tile.forward(x)
    res = simulate(_ngspice_deck(tile, x), RunSettings(backend="subprocess", timeout_s=300.0))
    i_p = np.array([res.i(f"vpsense{j}") for j in range(n)]).ravel()
    i_m = np.array([res.i(f"vmsense{j}") for j in range(n)]).ravel()
    # ngspice's branch current of the ammeter flows from the column end to ground
    ref = (i_p - i_m) / (tile.mapping.g_scale_s * V_READ)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-6 * np.abs(ref).max())


def test_zero_wire_resistance_is_the_ideal_read(rng):
    tile = _tile(rng, 10, 14, wire=0.0)
    x = rng.uniform(-1, 1, (4, 14))
    np.testing.assert_allclose(tile.forward(x), x @ tile.get_weights().T, rtol=1e-10, atol=1e-12)


def test_ir_drop_factorisation_is_refreshed_after_an_update(rng):
    tile = _tile(rng, 16, 16)
    x = rng.uniform(-1, 1, (2, 16))
    tile.forward(x)
    tile.apply_pulses(np.full((16, 16), 3))
    np.testing.assert_allclose(tile.forward(x), _reference(tile, x, "nodal"), rtol=0, atol=1e-9)


@pytest.mark.spice
def test_linearised_ir_drop_read_within_half_a_percent_of_ngspice(rng):
    # ReadConfig ir_method "linearised" (memspice.surrogate.ir_fast) after training-like updates,
    # against ngspice's .op of the plain-resistor deck above: the bound, 0.5 % RMS at 64 x 64, 2.5 ohm
    dev = ConstantStep(g_min_s=G_OFF, g_max_s=G_ON, dg_up_s=1e-7, dg_down_s=1e-7)
    read_cfg = ReadConfig(mode="ir_drop", wire_r_ohm=WIRE, v_read_v=V_READ, ir_method="linearised")
    tile = AnalogTile(64, 64, TileConfig(device=dev, read=read_cfg), rng)
    tile.set_weights(rng.uniform(-1, 1, (64, 64)))
    for _ in range(20):
        tile.forward(rng.uniform(-1, 1, (8, 64)))
        tile.apply_pulses(np.rint(3 * np.outer(rng.uniform(-1, 1, 64), rng.uniform(-1, 1, 64))).astype(int))
    from memspice.spice import RunSettings, simulate

    x = rng.uniform(-1, 1, 64)
    y = tile.forward(x)
    res = simulate(_ngspice_deck(tile, x), RunSettings(backend="subprocess", timeout_s=300.0))
    i_p = np.array([res.i(f"vpsense{j}") for j in range(64)]).ravel()
    i_m = np.array([res.i(f"vmsense{j}") for j in range(64)]).ravel()
    ref = (i_p - i_m) / (tile.mapping.g_scale_s * V_READ)
    rms = np.sqrt(np.mean(ref**2))
    assert np.sqrt(np.mean((y - ref) ** 2)) <= 0.005 * rms
    assert np.sqrt(np.mean((x @ tile.get_weights().T - ref) ** 2)) > 0.05 * rms  # the ideal read is far off
