"""The write circuit of a wide crossbar solved line by line, and coincidence voltages from it at training speed.

A 1R crossbar during a write (every row and column held by its driver,
memspice.surrogate.array_write.write_topology) is a linear network at fixed
conductances. The nodal solver factorises all of it; for a 784 x 512 array
that is 800,000 nodes, too slow to repeat during training. Here the same
network is solved by block Gauss-Seidel over its lines: with the column
nodes held, every row wire is a tridiagonal system (segment conductances,
its driver and first segment in series at column 0's end, each cell's
conductance to its column node), and all rows together are one banded
solve; then the columns likewise (driven at the last row's end) with the
rows held. The network's matrix is symmetric positive definite, so the
sweeps converge for any wires, fast when the wires drop a small part of
the voltage; each sweep is O(rows·cols). Contacts sit in series with the
devices. The tests compare it with the nodal solver.

:func:`coincidence_voltages` gives what an array-aware training step needs
for a layer of any width (``refactor = "mean-field"`` of
memspice.surrogate.array_tile): the plateau voltage each device sees when
its row and its column fire together, for line firing rates P_i (rows) and
Q_j (columns) over a mini-batch's slots. By superposition the mean node
voltages are the solution with every row at P_i·A_r and every column at
Q_j·A_c (A_r = +A/2 and A_c = −A/2 for a V/2 coincidence). When a cell's own
lines fire, they carry more current than on average: the row wire's drop at
the cell (source minus node) is scaled by the ratio of the row's current
when firing to its mean current, both at the ideal voltages, and the
column's drop likewise:

    V_ij ≈ (A_r − A_c) − drop_row,ij · I_row,i|fires / I_row,i − drop_col,ij · I_col,j|fires / I_col,j

It is a first-order estimate (the slots' own patterns scatter around it);
its error against slot-by-slot nodal solves is measured in
benchmarks/array_write.py.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

from memspice.errors import ParameterError

__all__ = ["solve_write_lines", "write_line_nodes", "coincidence_voltages"]


def _lines(g, other, drive, seg_ohm: float, lead_ohm: float, lead_at_start: bool) -> np.ndarray:
    """Node voltages (L, N) of L independent lines of N nodes, the far-side node voltages ``other`` held.

    ``g`` (L, N): each node's cell conductance to its far-side voltage; ``drive`` (L,): the source at
    one end, through ``lead_ohm`` (driver and first segment); ``seg_ohm`` between neighbouring nodes.
    """
    n_lines, n = g.shape
    if seg_ohm == 0.0:  # the whole line is one node
        if lead_ohm == 0.0:
            return np.repeat(drive[:, None], n, axis=1)
        a0 = 1.0 / lead_ohm
        v = (a0 * drive + np.sum(g * other, axis=1)) / (a0 + np.sum(g, axis=1))
        return np.repeat(v[:, None], n, axis=1)
    a = 1.0 / seg_ohm
    diag = g + 2.0 * a
    diag[:, 0] -= a
    diag[:, -1] -= a
    rhs = g * other
    end = 0 if lead_at_start else n - 1
    a0 = 1.0 / lead_ohm  # lead_ohm >= seg_ohm > 0 here
    diag[:, end] += a0
    rhs[:, end] += a0 * drive
    upper = np.full((n_lines, n), -a)  # coupling of node k to node k + 1
    upper[:, -1] = 0.0  # none across the end of a line
    ab = np.zeros((3, n_lines * n))
    ab[0, 1:] = upper.reshape(-1)[:-1]
    ab[1] = diag.reshape(-1)
    ab[2, :-1] = upper.reshape(-1)[:-1]  # symmetric
    out = solve_banded((1, 1), ab, rhs.reshape(-1), overwrite_ab=True, overwrite_b=True, check_finite=False)
    return out.reshape(n_lines, n)


def write_line_nodes(g_s, row_v, col_v, *, row_wire_ohm: float = 0.0, col_wire_ohm: float = 0.0,
                     contact_ohm: float = 0.0, driver_ohm: float = 0.0, tol_v: float = 1e-10,
                     max_sweeps: int = 500) -> tuple[np.ndarray, np.ndarray, int]:
    """(row node voltages, column node voltages, sweeps) of a 1R write with every line driven.

    ``g_s`` (rows, cols) device conductances; ``row_v`` (rows,), ``col_v``
    (cols,) source voltages. Raises ParameterError if the sweeps do not
    settle to ``tol_v`` (V).
    """
    g = np.asarray(g_s, dtype=np.float64)
    rv, cv = np.asarray(row_v, dtype=np.float64), np.asarray(col_v, dtype=np.float64)
    rows, cols = g.shape
    if rv.shape != (rows,) or cv.shape != (cols,):
        raise ParameterError(f"write_line_nodes: {rv.shape} row and {cv.shape} column voltages for a {rows} x {cols} array")
    geff = g / (1.0 + g * contact_ohm) if contact_ohm else g
    x = np.repeat(rv[:, None], cols, axis=1)
    y = np.repeat(cv[None, :], rows, axis=0)
    change = np.inf
    for sweep in range(1, max_sweeps + 1):
        x_new = _lines(geff, y, rv, row_wire_ohm, driver_ohm + row_wire_ohm, lead_at_start=True)
        y_new = _lines(geff.T, x_new.T, cv, col_wire_ohm, driver_ohm + col_wire_ohm, lead_at_start=False).T
        change = max(float(np.max(np.abs(x_new - x))), float(np.max(np.abs(y_new - y))))
        x, y = x_new, y_new
        if change <= tol_v:
            return x, y, sweep
    raise ParameterError(f"the line solve of a {rows} x {cols} write did not settle in {max_sweeps} sweeps (last "
                         f"change {change:.3g} V): the wires drop most of the pulse; use thinner lines or a smaller array")


def solve_write_lines(g_s, row_v, col_v, *, contact_ohm: float = 0.0, **circuit) -> np.ndarray:
    """Device plateau voltages (rows, cols) of a 1R write with every line driven (:func:`write_line_nodes`)."""
    g = np.asarray(g_s, dtype=np.float64)
    x, y, _ = write_line_nodes(g, row_v, col_v, contact_ohm=contact_ohm, **circuit)
    v = x - y
    return v / (1.0 + g * contact_ohm) if contact_ohm else v


def coincidence_voltages(g_s, p_rows, q_cols, row_level_v: float, col_level_v: float, *, contact_ohm: float = 0.0,
                         **circuit) -> np.ndarray:
    """Device plateau voltage (rows, cols) when its row and column fire, at line firing rates ``p_rows``, ``q_cols``.

    ``row_level_v`` / ``col_level_v``: the firing lines' source levels (+A/2
    and −A/2 for V/2); ``circuit``: the wire and driver resistances of
    :func:`write_line_nodes`. The estimate is the module docstring's.
    """
    g = np.asarray(g_s, dtype=np.float64)
    p = np.asarray(p_rows, dtype=np.float64)
    q = np.asarray(q_cols, dtype=np.float64)
    if np.any((p < 0) | (p > 1)) or np.any((q < 0) | (q > 1)):
        raise ParameterError("coincidence_voltages: firing rates must lie in [0, 1]")
    rv, cv = p * row_level_v, q * col_level_v
    x, y, _ = write_line_nodes(g, rv, cv, contact_ohm=contact_ohm, **circuit)
    geff = g / (1.0 + g * contact_ohm) if contact_ohm else g
    ideal = rv[:, None] - cv[None, :]
    i_row, i_col = np.sum(geff * ideal, axis=1), np.sum(geff * ideal, axis=0)
    i_row_fire = np.sum(geff * (row_level_v - cv[None, :]), axis=1)
    i_col_fire = np.sum(geff * (rv[:, None] - col_level_v), axis=0)
    row_scale = np.divide(i_row_fire, i_row, out=np.ones_like(i_row), where=np.abs(i_row) > 0)
    col_scale = np.divide(i_col_fire, i_col, out=np.ones_like(i_col), where=np.abs(i_col) > 0)
    a = row_level_v - col_level_v
    v = a - (rv[:, None] - x) * row_scale[:, None] - (y - cv[None, :]) * col_scale[None, :]
    # a resistive network's node voltages lie within its sources' (the maximum principle), so no device
    # sees more than the nominal pulse, nor the opposite polarity: the first-order scaling can overshoot
    v = np.clip(v, min(a, 0.0), max(a, 0.0))
    return v / (1.0 + g * contact_ohm) if contact_ohm else v
