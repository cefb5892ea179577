"""Crossbar reads: the nodal solver and ngspice against hand-derived results and against each other.

References: Ohm's and Kirchhoff's laws worked out by hand in each test (the
derivation is in the test's comment), and, for large arrays, ngspice on the
deck written from the same crossbar (an independent solver: ngspice's own
sparse LU on the full MNA system incl. the device subcircuits).
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.circuit import run
from memspice.circuit.crossbar import Crossbar, Readout
from memspice.circuit.nodal import NodalSolver, solve_read
from memspice.circuit.stimulus import ReadStimulus
from memspice.devices import get_model

RESISTOR = get_model("resistor")  # G(x) = 1 uS + x * 99 uS, linear in v (memspice.devices.library.resistor)


def _g(x):
    return 1e-6 + np.asarray(x) * (1e-4 - 1e-6)


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b) / np.abs(b)))


# ------------------------------------------------------------------ ideal wires: I = G^T V
def test_ideal_wires_nodal_equals_gv_for_a_batch(rng):
    # Reference: with 0-ohm wires and drivers and a virtual-ground readout every
    # cell sees exactly its row voltage, so I_j = sum_i G_ij V_i (Ohm + KCL).
    g = rng.uniform(1e-6, 1e-4, size=(12, 7))
    v = rng.uniform(-0.2, 0.2, size=(16, 12))
    res = NodalSolver.from_conductances(g).solve(v)
    assert _rel(res.i_cols_a, v @ g) < 1e-9
    # device voltages are the row voltages, to the last bit
    assert np.max(np.abs(res.v_cells_v - v[:, :, None])) < 1e-15


@pytest.mark.spice
def test_ideal_wires_ngspice_equals_gv(rng):
    xb = Crossbar(RESISTOR, rng.uniform(0, 1, size=(6, 5)))
    v = rng.uniform(0.05, 0.2, size=(2, 6))
    res = run.read(xb, ReadStimulus(v), solver="ngspice")
    assert _rel(res.i_cols_a, v @ _g(xb.states)) < 1e-9


# ------------------------------------------------------------------ 2x2 with wire resistance, by hand
def _two_by_two_column_only(g, v, r):
    """Ideal rows, column wire r per segment, virtual ground.

    Each column j is independent: top node c0 (cell 0), bottom node c1 (cell 1),
    segment r from c0 to c1 and from c1 to ground (0 V). With a = 1/r, KCL:
        c0:  (G0 + a) c0 -  a c1      = G0 V0
        c1:   -a c0 + (G1 + 2a) c1    = G1 V1
    Cramer: det = (G0 + a)(G1 + 2a) - a^2,
        c1 = ((G0 + a) G1 V1 + a G0 V0) / det,   I = a c1,
        c0 = (G0 V0 (G1 + 2a) + a G1 V1) / det.
    """
    a = 1 / r
    cur, cells = np.zeros(2), np.zeros((2, 2))
    for j in range(2):
        g0, g1 = g[0, j], g[1, j]
        det = (g0 + a) * (g1 + 2 * a) - a * a
        c1 = ((g0 + a) * g1 * v[1] + a * g0 * v[0]) / det
        c0 = (g0 * v[0] * (g1 + 2 * a) + a * g1 * v[1]) / det
        cur[j] = a * c1
        cells[:, j] = [v[0] - c0, v[1] - c1]
    return cur, cells


def _two_by_two_full(g, v, rr, rc):
    """Row wire rr and column wire rc per segment, 0-ohm driver, virtual ground: 8 nodes.

    Unknowns u = (r00, r01, r10, r11, c00, c01, c10, c11) (row i / column j node at cell (i, j)).
    Row i: source V_i -rr- r_i0 -rr- r_i1. Column j: c0j -rc- c1j -rc- ground.
    KCL at every node (current out = 0), a = 1/rr, b = 1/rc:
      r_i0: a(r_i0 - V_i) + a(r_i0 - r_i1) + G_i0 (r_i0 - c_i0) = 0
      r_i1: a(r_i1 - r_i0) + G_i1 (r_i1 - c_i1) = 0
      c_0j: b(c_0j - c_1j) + G_0j (c_0j - r_0j) = 0
      c_1j: b(c_1j - c_0j) + b c_1j + G_1j (c_1j - r_1j) = 0
    Written out as a dense 8x8 system here, independently of the sparse solver.
    """
    a, b = 1 / rr, 1 / rc
    ridx = {(0, 0): 0, (0, 1): 1, (1, 0): 2, (1, 1): 3}
    cidx = {(0, 0): 4, (0, 1): 5, (1, 0): 6, (1, 1): 7}
    A, rhs = np.zeros((8, 8)), np.zeros(8)
    for i in range(2):
        r0, r1 = ridx[i, 0], ridx[i, 1]
        A[r0, r0] += 2 * a; A[r0, r1] -= a; rhs[r0] += a * v[i]  # noqa: E702
        A[r1, r1] += a; A[r1, r0] -= a  # noqa: E702
    for j in range(2):
        c0, c1 = cidx[0, j], cidx[1, j]
        A[c0, c0] += b; A[c0, c1] -= b  # noqa: E702
        A[c1, c1] += 2 * b; A[c1, c0] -= b  # noqa: E702
    for (i, j), k in ridx.items():
        c = cidx[i, j]
        A[k, k] += g[i, j]; A[k, c] -= g[i, j]; A[c, c] += g[i, j]; A[c, k] -= g[i, j]  # noqa: E702
    u = np.linalg.solve(A, rhs)
    cur = np.array([b * u[cidx[1, j]] for j in range(2)])
    cells = np.array([[u[ridx[i, j]] - u[cidx[i, j]] for j in range(2)] for i in range(2)])
    return cur, cells


@pytest.mark.spice
def test_two_by_two_column_wires_matches_closed_form():
    x = np.array([[0.9, 0.2], [0.4, 0.7]])
    g, v, r = _g(x), np.array([0.2, 0.15]), 1e3  # kOhm wires so the drop is ~10 %, not a rounding effect
    cur, cells = _two_by_two_column_only(g, v, r)
    xb = Crossbar(RESISTOR, x, col_wire_ohm=r)
    for solver in ("nodal", "ngspice"):
        res = run.read(xb, ReadStimulus(v), solver=solver)
        assert _rel(res.i_cols_a[0], cur) < 1e-9, solver
        assert _rel(res.v_cells_v[0], cells) < 1e-9, solver
    assert np.all(cur < v @ g * 0.99)  # the IR drop is real: >1 % below G.V


@pytest.mark.spice
def test_two_by_two_row_and_column_wires_matches_hand_kcl():
    x = np.array([[0.9, 0.2], [0.4, 0.7]])
    g, v = _g(x), np.array([0.2, 0.15])
    cur, cells = _two_by_two_full(g, v, rr=700.0, rc=1300.0)
    xb = Crossbar(RESISTOR, x, row_wire_ohm=700.0, col_wire_ohm=1300.0)
    for solver in ("nodal", "ngspice"):
        res = run.read(xb, ReadStimulus(v), solver=solver)
        assert _rel(res.i_cols_a[0], cur) < 1e-9, solver
        assert _rel(res.v_cells_v[0], cells) < 1e-9, solver


# ------------------------------------------------------------------ periphery, by hand
@pytest.mark.spice
@pytest.mark.parametrize("solver", ["nodal", "ngspice"])
def test_contact_and_driver_resistance_in_series(solver):
    # One column, ideal wires: cell i is R_drv + R_c + 1/G_i in series from V_i to 0 V,
    # I_i = V_i / (R_drv + R_c + 1/G_i), device voltage I_i / G_i.
    x = np.array([[0.1], [0.5], [1.0]])
    v = np.array([0.1, -0.2, 0.3])
    rd, rcont = 250.0, 4e3
    res = run.read(Crossbar(RESISTOR, x, driver_ohm=rd, contact_ohm=rcont), ReadStimulus(v), solver=solver)
    g = _g(x[:, 0])
    i_cell = v / (rd + rcont + 1 / g)
    assert _rel(res.i_cols_a[0], [i_cell.sum()]) < 1e-9
    assert _rel(res.v_cells_v[0, :, 0], i_cell / g) < 1e-9
    assert _rel(res.i_rows_a[0], i_cell) < 1e-9


@pytest.mark.spice
@pytest.mark.parametrize("solver", ["nodal", "ngspice"])
def test_tia_output_and_virtual_ground_offset(solver):
    # TIA (circuits/tia.cir): VCVS gain A, feedback R_f. Column node v_in with ideal wires:
    # sum_i G_i (V_i - v_in) = (v_in - v_out)/R_f and v_out = -A v_in
    # => v_in = sum G_i V_i / (sum G_i + (1 + A)/R_f),  v_out = -A v_in.
    x = np.array([[0.3, 0.8], [0.6, 0.1]])
    v = np.array([0.2, 0.1])
    ro = Readout(kind="tia", tia_feedback_ohm=2e4, tia_gain=1e3)  # low gain so the offset is visible
    res = run.read(Crossbar(RESISTOR, x, readout=ro), ReadStimulus(v), solver=solver)
    g = _g(x)
    v_in = (v @ g) / (g.sum(axis=0) + (1 + 1e3) / 2e4)
    assert _rel(res.v_out_v[0], -1e3 * v_in) < 1e-9
    assert _rel(res.i_cols_a[0], ((v[:, None] - v_in) * g).sum(axis=0)) < 1e-9
    # an ideal amplifier would give v_out = -R_f G.V; finite gain costs ~ R_f sum(G)/A
    assert _rel(res.v_out_v[0], -2e4 * (v @ g)) < 3e-3


@pytest.mark.spice
@pytest.mark.parametrize("solver", ["nodal", "ngspice"])
def test_sense_resistor_divider(solver):
    # Sense resistor R_s at the column end: v_out = sum G_i V_i / (sum G_i + 1/R_s).
    x = np.array([[0.3, 0.8], [0.6, 0.1]])
    v = np.array([0.2, 0.1])
    res = run.read(Crossbar(RESISTOR, x, readout=Readout(kind="sense_resistor", sense_ohm=5e3)), ReadStimulus(v), solver=solver)
    g = _g(x)
    v_s = (v @ g) / (g.sum(axis=0) + 1 / 5e3)
    assert _rel(res.v_out_v[0], v_s) < 1e-9
    assert _rel(res.i_cols_a[0], v_s / 5e3) < 1e-9


# ------------------------------------------------------------------ sneak paths
@pytest.mark.spice
@pytest.mark.parametrize("solver", ["nodal", "ngspice"])
def test_single_cell_read_with_floating_lines_has_the_sneak_current(solver):
    # 4x4, ideal wires, read cell (0,0) (HRS, 1 uS) with row 0 at V, column 0 sensed, all other
    # lines floating, every other cell LRS (G = 100 uS). Sneak path: 3 cells of row 0 in parallel,
    # then the 3x3 block (9 in parallel), then 3 cells of column 0: G_sneak = 1/(1/3G + 1/9G + 1/3G) = 9G/7.
    x = np.ones((4, 4))
    x[0, 0] = 0.0
    v = np.array([0.2, 0, 0, 0])
    st = ReadStimulus(v, floating_rows=(1, 2, 3), floating_cols=(1, 2, 3))
    res = run.read(Crossbar(RESISTOR, x), st, solver=solver)
    expected = 0.2 * 1e-6 + 0.2 * 9 * 1e-4 / 7
    assert _rel(res.i_cols_a[0, 0], expected) < 1e-9
    assert res.i_cols_a[0, 1:].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.spice
def test_1t1r_gates_off_removes_the_sneak_path():
    # Same read as above. In 1T1R with the gates of rows 1..3 off the sneak path is cut by the off
    # transistors: the current equals that of the lone cell (0,0) + its transistor, a 1x1 1T1R array
    # solved by ngspice (reference), to the off-transistor leakage (gmin ~1e-12 S), i.e. 1e-6 relative.
    # The 1R array passes the sneak current 9G/7 V, >100x the cell's own current.
    x = np.ones((4, 4))
    x[0, 0] = 0.0
    v = np.array([0.2, 0, 0, 0])
    st = ReadStimulus(v, floating_rows=(1, 2, 3), floating_cols=(1, 2, 3), gate_rows_on=(0,))
    i_1r = run.read(Crossbar(RESISTOR, x), st, solver="ngspice").i_cols_a[0, 0]
    i_1t1r = run.read(Crossbar(RESISTOR, x, cell="1T1R"), st, solver="ngspice").i_cols_a[0, 0]
    i_alone = run.read(Crossbar(RESISTOR, x[:1, :1], cell="1T1R"), ReadStimulus([0.2]), solver="ngspice").i_cols_a[0, 0]
    assert abs(i_1t1r / i_alone - 1) < 1e-6
    assert i_1r / i_1t1r > 100
    # the transistor is on: the cell keeps > 99 % of the 1 MOhm cell's ideal current 0.2 uA
    assert 0.99 * 0.2e-6 < i_alone < 0.2e-6


# ------------------------------------------------------------------ random arrays: nodal vs ngspice
def _random_case(rng, n, model):
    xb = Crossbar(model, rng.uniform(0, 1, size=(n, n)), row_wire_ohm=1.0, col_wire_ohm=1.0)
    v = rng.uniform(0.2, 1.0, size=(1, n)) * model.v_read_v  # positive reads: no cell near 0 V
    return xb, ReadStimulus(v)


@pytest.mark.spice
def test_32x32_vteam_nodal_matches_ngspice(rng):
    # VTEAM (r_on 50 ohm, r_off 1 kOhm) with 1-ohm segments: IR drop is a few %, so agreement
    # to 1e-6 tests the wire model, not just G.V.
    xb, st = _random_case(rng, 32, get_model("vteam"))
    a = run.read(xb, st, solver="nodal")
    b = run.read(xb, st, solver="ngspice")
    assert _rel(a.i_cols_a, b.i_cols_a) < 1e-6
    assert _rel(a.v_cells_v, b.v_cells_v) < 1e-6
    ideal = st.batch @ xb.conductances_s()
    assert _rel(b.i_cols_a, ideal) > 1e-3  # the wires matter


@pytest.mark.spice
def test_64x64_resistor_nodal_matches_ngspice(rng):
    xb, st = _random_case(rng, 64, RESISTOR)
    xb = Crossbar(RESISTOR, xb.states, row_wire_ohm=100.0, col_wire_ohm=100.0, contact_ohm=500.0, driver_ohm=50.0)
    a = run.read(xb, st, solver="nodal")
    b = run.read(xb, st, solver="ngspice")
    assert _rel(a.i_cols_a, b.i_cols_a) < 1e-6
    assert _rel(a.v_cells_v, b.v_cells_v) < 1e-6


@pytest.mark.spice
@pytest.mark.slow
def test_64x64_vteam_nodal_matches_ngspice(rng):
    xb, st = _random_case(rng, 64, get_model("vteam"))
    a = run.read(xb, st, solver="nodal")
    b = run.read(xb, st, solver="ngspice")
    assert _rel(a.i_cols_a, b.i_cols_a) < 1e-6
    assert _rel(a.v_cells_v, b.v_cells_v) < 1e-6


def test_solve_read_accepts_a_conductance_matrix_like_a_crossbar(rng):
    # Reference: the Crossbar path with the same conductances (device model -> G) must give the
    # same currents as the bare-matrix path the surrogate uses.
    xb = Crossbar(RESISTOR, rng.uniform(0, 1, size=(9, 11)), row_wire_ohm=2.0, col_wire_ohm=3.0, contact_ohm=10.0)
    v = rng.uniform(0, 0.2, size=(4, 9))
    a = solve_read(xb, v)
    b = solve_read(_g(xb.states), v, row_wire_ohm=2.0, col_wire_ohm=3.0, contact_ohm=10.0)
    assert _rel(a.i_cols_a, b.i_cols_a) < 1e-12
    # and one solver instance gives the same answer vector by vector as for the batch
    s = NodalSolver.for_crossbar(xb)
    for k in range(4):
        assert _rel(s.solve(v[k]).i_cols_a[0], a.i_cols_a[k]) < 1e-12
