"""The linearised IR-drop read (ReadConfig ir_method "linearised") against the exact nodal solve.

The reference is independent of the tile's reader: the public
memspice.circuit API (a Crossbar of the linear "resistor" model per array,
read with solver="nodal", which agrees with ngspice to ~1e-10; see
test_surrogate_irdrop.py) on the tile's current conductances. The bound
checked is the one the read states, ReadConfig.ir_tol (RMS error of the
outputs relative to the RMS exact output). The test against ngspice itself
is in test_surrogate_irdrop.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.errors import ParameterError
from memspice.surrogate import ReadConfig

from test_surrogate_irdrop import G_OFF, G_ON, _reference
from test_surrogate_irdrop import _tile as _exact_tile


def _tile(rng, n_out, n_in, wire, **read_kw):
    """The ir_drop tile of test_surrogate_irdrop.py, read with the linearised method."""
    return _exact_tile(rng, n_out, n_in, wire, ir_method="linearised", **read_kw)


def _exact(tile, x, wire, transpose=False):
    """The independent reference: the public nodal read of the tile's two arrays."""
    return _reference(tile, x, "nodal", transpose=transpose, wire=wire)


def _rms_rel(y, ref):
    return float(np.sqrt(np.mean((y - ref) ** 2)) / np.sqrt(np.mean(ref**2)))


def _train_like_counts(rng, n_out, n_in, scale=3.0):
    # rank-one pulse counts, as an outer-product SGD update: correlated along rows and columns
    return np.rint(scale * np.outer(rng.uniform(-1, 1, n_out), rng.uniform(-1, 1, n_in))).astype(np.int64)


@pytest.mark.parametrize("wire", [0.5, 1.0, 2.5])
def test_linearised_read_within_its_bound_of_the_exact_solve_during_updates(rng, wire):
    tile = _tile(rng, 64, 64, wire)
    g_start = tile.g_plus.copy()
    worst, ideal_err = 0.0, 0.0
    for step in range(41):
        x = rng.uniform(-1, 1, (16, 64))
        y = tile.forward(x)
        if step % 10 == 0:
            ref = _exact(tile, x, wire)
            worst = max(worst, _rms_rel(y, ref))
            ideal_err = max(ideal_err, _rms_rel(x @ tile.get_weights().T, ref))
        tile.apply_pulses(_train_like_counts(rng, 64, 64))
    drift = np.linalg.norm(tile.g_plus - g_start) / np.linalg.norm(g_start)
    assert drift > 0.01, drift  # the updates moved the state (the read without updates is exact)
    assert worst <= tile.config.read.ir_tol
    assert ideal_err > 0.02  # the wires matter: the ideal read is far outside the bound


def test_large_drift_triggers_a_refresh_and_stays_within_the_bound(rng):
    tile = _tile(rng, 64, 64, 2.5)
    x = rng.uniform(-1, 1, (8, 64))
    tile.forward(x)
    reader = tile._ir_linearised_readers[False][1]
    assert reader.refreshes == 1
    for _ in range(3):
        # +-60 pulses (6 % of the range) on every cell: far more drift than the linearisation holds
        tile.apply_pulses(_train_like_counts(rng, 64, 64, scale=60.0))
        y = tile.forward(x)
        assert _rms_rel(y, _exact(tile, x, 2.5)) <= tile.config.read.ir_tol
    assert reader.refreshes >= 2 and reader.checks >= 1


def test_backward_linearised_read_matches_the_exact_transposed_solve(rng):
    tile = _tile(rng, 24, 40, 2.5)
    for _ in range(5):
        tile.apply_pulses(_train_like_counts(rng, 24, 40))
        d = rng.uniform(-1, 1, (6, 24))
        assert _rms_rel(tile.backward(d), _exact(tile, d, 2.5, transpose=True)) <= tile.config.read.ir_tol


def test_right_after_a_refresh_the_read_is_the_exact_solve(rng):
    # the transfer matrix is solved exactly at a refresh: agreement to solver precision
    tile = _tile(rng, 32, 48, 2.5)
    x = rng.uniform(-1, 1, (5, 48))
    ref = _exact(tile, x, 2.5)
    np.testing.assert_allclose(tile.forward(x), ref, rtol=0, atol=1e-9 * np.abs(ref).max())


def test_refresh_cadence_and_determinism(rng):
    seq = np.random.default_rng(7)
    counts = [_train_like_counts(seq, 16, 16) for _ in range(6)]
    x = np.random.default_rng(8).uniform(-1, 1, (4, 16))
    outs, refreshes = [], []
    for _ in range(2):
        tile = _tile(np.random.default_rng(3), 16, 16, 1.0, ir_refresh_every=2)
        ys = []
        for n in counts:
            ys.append(tile.forward(x))
            tile.apply_pulses(n)
        outs.append(np.array(ys))
        refreshes.append(tile._ir_linearised_readers[False][1].refreshes)
    np.testing.assert_array_equal(outs[0], outs[1])  # same inputs and updates: bit-identical reads
    assert refreshes == [3, 3]  # built at the first read, then after every 2nd of the 5 changes


def test_zero_wire_linearised_read_is_the_ideal_read(rng):
    tile = _tile(rng, 10, 14, 0.0)
    x = rng.uniform(-1, 1, (4, 14))
    tile.apply_pulses(_train_like_counts(rng, 10, 14))
    np.testing.assert_allclose(tile.forward(x), x @ tile.get_weights().T, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw, field", [
    ({"ir_method": "fast"}, "ir_method"),
    ({"ir_tol": 0.0}, "ir_tol"),
    ({"ir_tol": 1.5}, "ir_tol"),
    ({"ir_max_iter": 0}, "ir_max_iter"),
    ({"ir_max_iter": 2.5}, "ir_max_iter"),
    ({"ir_refresh_every": -1}, "ir_refresh_every"),
    ({"ir_refresh_every": "10"}, "ir_refresh_every"),
    ({"ir_tol": "0.5%"}, "ir_tol"),
])
def test_bad_linearised_settings_name_the_field(kw, field):
    with pytest.raises(ParameterError, match=rf"ReadConfig\.{field} = .*(choose|give)"):
        ReadConfig(mode="ir_drop", **kw)


def test_port_fields_give_the_finite_difference_sensitivity(rng):
    # dM_ij/dg_ij = -u_ij w_ij (adjoint formula) against a central difference of two exact nodal solves
    from memspice.circuit.nodal import NodalSolver

    g = rng.uniform(G_OFF, G_ON, (20, 12))
    m, u, w = NodalSolver.from_conductances(g, row_wire_ohm=2.5, col_wire_ohm=2.5).read_port_fields(chunk=7)
    np.testing.assert_allclose(np.eye(20) @ m, _exact_m(g), rtol=1e-10)
    h = 1e-8
    for i, j in [(0, 0), (7, 5), (19, 11)]:
        gp, gm = g.copy(), g.copy()
        gp[i, j] += h
        gm[i, j] -= h
        fd = (_exact_m(gp)[i, j] - _exact_m(gm)[i, j]) / (2 * h)
        assert abs(fd - (-u[i, j] * w[i, j])) <= 1e-6 * abs(fd)


def _exact_m(g):
    from memspice.circuit.nodal import solve_read

    return solve_read(g, np.eye(g.shape[0]), row_wire_ohm=2.5, col_wire_ohm=2.5).i_cols_a
