"""IR-drop read at training speed: a dense transfer matrix, linearised in the conductances, with a checked bound.

A read of a resistive crossbar with wires is linear in its inputs, so for
fixed conductances it *is* a matrix product, y = x M(G), with the exact
transfer matrix M (driven lines x sensed lines) of the wired array. This
reader keeps, for each array of the pair (G+ and G-), at a reference state
G0 (a "refresh"):

  * M0 = M(G0), solved exactly: one nodal solve per driven line;
  * S0 = dM_ij / dG_ij, the sensitivity of each entry to its own cell, from
    the adjoint formula dM_ij/dg_ij = -u_ij w_ij, where u_ij is the voltage
    across cell (i, j) with line i driven at 1 V and w_ij the voltage across
    it with sensed line j driven at 1 V (one more nodal solve per sensed line).

Both come from one factorisation (NodalSolver.read_port_fields); a refresh
costs rows + cols sparse solves per array (0.2 s at 64 x 64, ~2 min at
784 x 256 on one core), which is what bounds this reader's speed on large
arrays.

Between refreshes a read is x M~ with M~ = M0 + (G - G0) * S0 (elementwise):
one matrix product, like the ideal read, plus an O(cells) patch when the
conductances changed. What it leaves out is how a cell's change moves its
neighbours' currents through the shared wires (and second order terms), so
its error grows with the drift of G from G0.

The check (the bound is measured, not assumed): after a conductance change, when
the relative drift |G - G0| / |G0| (Frobenius, both arrays) has grown past the
point set at the previous check, two rows of the batch (the first and the
largest) are solved exactly by refinement on the reference factorisation
(NodalSolver.solve_changed) and the RMS error of the linearised outputs
relative to the RMS exact outputs is measured. Above half the tolerance, or
if the refinement does not converge in ``ir_max_iter`` iterations, the reader
refreshes at the current state (then it is exact again). Otherwise the next
check comes when the drift has grown by sqrt(tol / error) (at least x1.41):
where a quadratic growth of the error from the measured one would reach the
tolerance (measured errors grow about linearly, so this is on the safe
side; between checks the bound is that extrapolation). Everything is
deterministic (no random probes).
"""

from __future__ import annotations

import numpy as np

from memspice.circuit.nodal import NodalSolver

__all__ = ["LinearisedIRReader"]


def _transfer_and_sensitivity(g: np.ndarray, wire_r_ohm: float) -> tuple[NodalSolver, np.ndarray, np.ndarray]:
    """Exact M (rows, cols) and dM_ij/dg_ij of the crossbar ``g`` (rows driven, columns sensed), and its solver."""
    solver = NodalSolver.from_conductances(g, row_wire_ohm=wire_r_ohm, col_wire_ohm=wire_r_ohm)
    m, u, w = solver.read_port_fields()
    return solver, m, -u * w


class LinearisedIRReader:
    """The linearised transfer matrices of one read direction of a tile (see the module docstring).

    Conductances are given as the tile holds them, (n_out, n_in); the
    forward read drives the inputs (its crossbar is G^T), the transposed read
    (``transpose=True``) the outputs. Counters ``refreshes``, ``checks`` and
    ``last_error`` (the last measured relative RMS error, nan before any
    check) are for benchmarks and tests.
    """

    def __init__(self, wire_r_ohm: float, tol: float, max_iter: int, refresh_every: int, g_scale_s: float,
                 transpose: bool):
        self.wire_r_ohm = float(wire_r_ohm)
        self.tol = float(tol)
        self.max_iter = int(max_iter)
        self.refresh_every = int(refresh_every)
        self.g_scale_s = float(g_scale_s)
        self.transpose = bool(transpose)
        self.refreshes = 0
        self.checks = 0
        self.last_error = float("nan")
        self._g0 = None

    def _crossbar(self, g: np.ndarray) -> np.ndarray:
        return g if self.transpose else g.T

    def _tile_layout(self, a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a if self.transpose else a.T)

    # -- state ----------------------------------------------------------------------

    def _refresh(self, g_plus: np.ndarray, g_minus: np.ndarray) -> None:
        self._g0 = (g_plus.copy(), g_minus.copy())
        self._norm0 = float(np.sqrt(np.vdot(g_plus, g_plus) + np.vdot(g_minus, g_minus)))
        if self.wire_r_ohm == 0.0:  # no wires: M = G exactly, dM/dG = 1
            self._solvers = None
            self._m0 = (g_plus - g_minus) / self.g_scale_s
            self._s0 = (np.full_like(g_plus, 1.0 / self.g_scale_s), np.full_like(g_minus, 1.0 / self.g_scale_s))
        else:
            fp, mp, sp_ = _transfer_and_sensitivity(np.ascontiguousarray(self._crossbar(g_plus)), self.wire_r_ohm)
            fm, mm, sm = _transfer_and_sensitivity(np.ascontiguousarray(self._crossbar(g_minus)), self.wire_r_ohm)
            self._solvers = (fp, fm)
            self._m0 = self._tile_layout((mp - mm) / self.g_scale_s)
            self._s0 = (self._tile_layout(sp_ / self.g_scale_s), self._tile_layout(sm / self.g_scale_s))
        self._m = self._m0.copy()
        self._buf = (np.empty_like(self._m), np.empty_like(self._m))
        self._next_check = 0.0
        self._changes = 0
        self.refreshes += 1

    def _linearise(self, g_plus: np.ndarray, g_minus: np.ndarray) -> float:
        """M~ at the current state (in place); returns the relative drift from the reference state."""
        d_p = np.subtract(g_plus, self._g0[0], out=self._buf[0])
        d_m = np.subtract(g_minus, self._g0[1], out=self._buf[1])
        drift = float(np.sqrt(np.vdot(d_p, d_p) + np.vdot(d_m, d_m))) / self._norm0
        d_p *= self._s0[0]
        d_m *= self._s0[1]
        np.subtract(d_p, d_m, out=self._m)
        self._m += self._m0
        return drift

    def _check(self, x: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray) -> bool:
        """Whether the linearised read of two batch rows is within tol/2 of the exact one."""
        norms = np.einsum("ij,ij->i", x, x)
        probe = x[sorted({0, int(np.argmax(norms))})]
        self.checks += 1
        if not np.any(probe):
            return True
        exact = []
        for solver, g in zip(self._solvers, (g_plus, g_minus)):
            i_cols, _, converged = solver.solve_changed(probe, self._crossbar(g), rtol=1e-12, max_iter=self.max_iter)
            if not converged:
                self.last_error = float("nan")
                return False
            exact.append(i_cols)
        ref = (exact[0] - exact[1]) / self.g_scale_s
        rms_ref = float(np.sqrt(np.mean(ref**2)))
        if rms_ref == 0.0:
            return True
        self.last_error = float(np.sqrt(np.mean((self.read(probe) - ref) ** 2))) / rms_ref
        return self.last_error <= 0.5 * self.tol

    def sync(self, x: np.ndarray, g_plus: np.ndarray, g_minus: np.ndarray) -> None:
        """Bring M~ to the current conductances (n_out, n_in), once after each state change.

        ``x`` is the batch about to be read: the check's probe rows come from it.
        """
        if self._g0 is None:
            self._refresh(g_plus, g_minus)
            return
        self._changes += 1
        if self.refresh_every and self._changes >= self.refresh_every:
            self._refresh(g_plus, g_minus)
            return
        drift = self._linearise(g_plus, g_minus)
        if drift == 0.0 or self._solvers is None or drift < self._next_check:
            return
        if not self._check(x, g_plus, g_minus):
            self._refresh(g_plus, g_minus)
            return
        err = self.last_error
        growth = 4.0 if not err > 0.0 else min(4.0, np.sqrt(self.tol / err))
        self._next_check = drift * growth

    def read(self, x: np.ndarray) -> np.ndarray:
        """x (B, driven lines) in input units -> (B, sensed lines) in weight units."""
        return x @ self._m if self.transpose else x @ self._m.T
