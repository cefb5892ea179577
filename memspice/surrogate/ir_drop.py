"""IR-drop-aware reads: the tile's conductance pairs solved as crossbars with wire resistance.

Uses the crossbar engineer's nodal solver (memspice.circuit.nodal.NodalSolver):
each array of the pair (G+ and G-) is a 1R crossbar whose rows carry the
inputs as voltages (x v_read) and whose columns end in ideal virtual-ground
readouts; every wire segment between neighbouring cells has ``wire_r_ohm``.
The sparse nodal matrix is factorised once per state (the tile caches the
solvers until its conductances change) and each read is one batched
triangular solve. Outputs in weight units: y = (I+ - I-) / (g_scale v_read).

This is ReadConfig ir_method "exact". ir_method "linearised"
(memspice.surrogate.ir_fast) reads with a dense transfer matrix instead, at
the cost of a matrix product, within a checked bound ``ir_tol``.

The transposed read drives the columns and senses the rows: the same wires,
so it is the nodal solve of the transposed conductance matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.circuit.nodal import NodalSolver

__all__ = ["IRDropReader"]


@dataclass(frozen=True, eq=False)
class IRDropReader:
    """Factorised nodal solvers of the G+ and G- arrays for one read direction."""

    plus: NodalSolver
    minus: NodalSolver
    v_read_v: float
    g_scale_s: float

    @classmethod
    def build(cls, g_plus_s: np.ndarray, g_minus_s: np.ndarray, wire_r_ohm: float, v_read_v: float,
              g_scale_s: float, transpose: bool) -> "IRDropReader":
        """``g_*_s`` (n_out, n_in). Forward: rows = inputs (the crossbar is G^T); transpose: rows = outputs."""
        def solver(g):
            mat = g if transpose else g.T
            return NodalSolver.from_conductances(mat, row_wire_ohm=wire_r_ohm, col_wire_ohm=wire_r_ohm)

        return cls(plus=solver(g_plus_s), minus=solver(g_minus_s), v_read_v=float(v_read_v), g_scale_s=float(g_scale_s))

    def read(self, x: np.ndarray) -> np.ndarray:
        """x (B, n_lines_driven) in input units -> (B, n_lines_sensed) in weight units."""
        v = x * self.v_read_v
        i_plus = self.plus.solve(v).i_cols_a
        i_minus = self.minus.solve(v).i_cols_a
        return (i_plus - i_minus) / (self.g_scale_s * self.v_read_v)
