"""Writes: V/2 and V/3 schemes, stochastic coincidence trains, state readback and source energy."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.circuit import run
from memspice.circuit.crossbar import Crossbar
from memspice.circuit.nodal import NodalSolver
from memspice.circuit.stimulus import CoincidenceTrain, PulseShape, ReadStimulus, WriteScheme
from memspice.devices import get_model

RESISTOR = get_model("resistor")
PULSE = PulseShape(width_s=10e-9, rise_s=1e-9, fall_s=1e-9, delay_s=1e-9, tail_s=1e-9)


def _plateau_index(res, pulse=PULSE):
    t_mid = pulse.delay_s + pulse.rise_s + pulse.width_s / 2
    return int(np.argmin(np.abs(res.time_s - t_mid)))


def _nodal_write(xb, scheme):
    v_r, v_c = scheme.line_levels_v(xb.rows, xb.cols)
    s = NodalSolver.from_conductances(
        xb.conductances_s(), row_wire_ohm=xb.row_wire_ohm, col_wire_ohm=xb.col_wire_ohm,
        contact_ohm=xb.contact_ohm, driver_ohm=xb.driver_ohm, driven_cols=range(xb.cols),
    )
    return s.solve(v_r, v_c), v_r, v_c


@pytest.mark.spice
def test_v_half_scheme_selected_half_selected_unselected(rng):
    # Reference: the nodal solution of the same instantaneous circuit (all lines driven through
    # 100-ohm drivers, 50-ohm segments) at the pulse plateau, where the resistor network is static.
    xb = Crossbar(RESISTOR, rng.uniform(0.5, 1, size=(6, 6)), row_wire_ohm=50.0, col_wire_ohm=50.0, driver_ohm=100.0)
    scheme = WriteScheme(1.0, (2, 3), scheme="v/2", pulse=PULSE)
    res = run.write(xb, scheme)
    v_spice = res.v_cells_v[_plateau_index(res)]
    nodal, _, _ = _nodal_write(xb, scheme)
    v_nodal = nodal.v_cells_v[0]
    assert np.max(np.abs(v_spice - v_nodal)) < 1e-6 * 1.0  # 1 uV on a 1 V write
    sel = v_spice[2, 3]
    assert 0.8 < sel < 1.0  # V minus the IR drop (here ~7 %)
    half = np.concatenate([np.delete(v_spice[2, :], 3), np.delete(v_spice[:, 3], 2)])
    assert np.all(np.abs(half - 0.5) < 0.1)  # half-selected: about V/2
    unsel = np.delete(np.delete(v_spice, 2, axis=0), 3, axis=1)
    assert np.all(np.abs(unsel) < 0.05)  # unselected: about 0
    # the resistor's state never changes; the readback holds it to the hold leak (tau = 1e9 s)
    assert np.max(np.abs(res.states_after - xb.states)) < 1e-9


def test_v_third_scheme_bias_levels():
    # Ideal wires: cell (i, j) sees v_row_i - v_col_j exactly. V/3 scheme (selected row V,
    # selected column 0, other rows V/3, other columns 2V/3): selected V, every other cell +-V/3.
    xb = Crossbar.uniform(RESISTOR, 4, 5, state=0.5)
    scheme = WriteScheme(1.2, (1, 4), scheme="v/3")
    res, _, _ = _nodal_write(xb, scheme)
    v = res.v_cells_v[0]
    assert abs(v[1, 4] - 1.2) < 1e-12
    others = np.abs(np.delete(v.ravel(), 1 * 5 + 4))
    assert np.max(np.abs(others - 0.4)) < 1e-12


@pytest.mark.spice
def test_energy_per_source_matches_v_squared_over_r():
    # Fixed resistors, ideal lines (0-ohm wires and drivers): a cell between row level V_r and
    # column level V_c dissipates (V_r - V_c)^2 G. All lines ramp together (v(t) = s(t) * level,
    # s the trapezoid), so every power scales with s(t)^2 and the energy is
    # E = P_plateau * (width + rise/3 + fall/3)   (integral of a linear ramp squared = t_r / 3).
    # Per source: a row source delivers V_r * sum_j G_ij (V_r - V_cj); a column source -V_c * its current.
    x = np.array([[1.0, 0.2, 0.6], [0.4, 0.9, 0.0]])
    xb = Crossbar(RESISTOR, x)
    scheme = WriteScheme(0.8, (0, 1), scheme="v/2", pulse=PULSE)
    res = run.write(xb, scheme)
    v_r, v_c = scheme.line_levels_v(2, 3)
    g = 1e-6 + x * (1e-4 - 1e-6)
    dv = v_r[:, None] - v_c[None, :]
    t_eff = PULSE.width_s + (PULSE.rise_s + PULSE.fall_s) / 3
    for i in range(2):
        assert res.energy_j[f"Vrow{i}"] == pytest.approx(v_r[i] * np.sum(g[i] * dv[i]) * t_eff, rel=1e-6)
    for j in range(3):
        e = -v_c[j] * np.sum(g[:, j] * dv[:, j]) * t_eff
        assert res.energy_j[f"Vcol{j}"] == pytest.approx(e, rel=1e-6, abs=1e-21)
    assert res.total_energy_j == pytest.approx(np.sum(g * dv**2) * t_eff, rel=1e-6)


@pytest.mark.spice
def test_pulsed_read_plateau_equals_dc_read(rng):
    # A pulsed read settles (no capacitance outside the state nodes) to the DC solution.
    xb = Crossbar(RESISTOR, rng.uniform(0, 1, size=(3, 4)), row_wire_ohm=20.0, col_wire_ohm=20.0)
    v = rng.uniform(0.05, 0.2, size=3)
    res = run.write(xb, ReadStimulus(v, pulse=PULSE))
    dc = NodalSolver.for_crossbar(xb).solve(v)
    k = _plateau_index(res)
    assert np.max(np.abs(res.i_cols_a[k] / dc.i_cols_a[0] - 1)) < 1e-9


def test_coincidence_train_is_reproducible_and_unbiased():
    p, q = np.array([0.1, 0.5, 0.9]), np.array([0.3, 0.7])
    a = CoincidenceTrain.draw(p, q, 20000, np.random.default_rng(5), amplitude_v=1.0)
    b = CoincidenceTrain.draw(p, q, 20000, np.random.default_rng(5), amplitude_v=1.0)
    assert np.array_equal(a.row_bits, b.row_bits) and np.array_equal(a.col_bits, b.col_bits)
    # Gokmen & Vlasov 2016: independent Bernoulli streams, so E[coincidences] = BL p_i q_j.
    # Binomial std of the count <= sqrt(BL/4) = 71; 5 sigma on 20000 slots is 0.018 in rate.
    rate = a.coincidences() / 20000
    assert np.max(np.abs(rate - np.outer(p, q))) < 0.018


@pytest.mark.spice
def test_coincidence_train_moves_only_coinciding_cells():
    # VTEAM (v_on = -0.2 V): a -0.24 V coincidence (row -0.12 V, column +0.12 V) drives a cell past
    # its ON threshold, one pulse alone (0.12 V magnitude) does not. Reference: the device's numpy
    # integration (memspice.devices) of each cell's ideal-wire voltage v_row(t) - v_col(t).
    m = get_model("vteam")
    rng = np.random.default_rng(11)
    pulse = PulseShape(width_s=2e-9, rise_s=0.5e-9, fall_s=0.5e-9, delay_s=0.5e-9, tail_s=0.5e-9)
    train = CoincidenceTrain.draw([0.6, 0.3, 0.8], [0.5, 0.9, 0.2], 6, rng, amplitude_v=-0.24, pulse=pulse)
    xb = Crossbar.uniform(m, 3, 3, state=0.9)
    res = run.write(xb, train)
    n = train.coincidences()
    moved = np.abs(res.states_after - 0.9) > 1e-6
    assert np.array_equal(moved, n > 0)
    drive = train.drive(3, 3)
    t = res.time_s
    for i in range(3):
        for j in range(3):
            v_t = drive.rows[i].at(t) - drive.cols[j].at(t)
            x_np = m.integrate(t, v_t, np.array(0.9))[-1]
            # each coincidence moves x by ~0.054; ngspice at steps of edge/50 and the numpy
            # integration agree to ~1e-4 per pulse, 1e-3 is 0.1 % of the state range
            assert abs(res.states_after[i, j] - x_np) < 1e-3, (i, j)
