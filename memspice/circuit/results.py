"""Results of crossbar runs: reads (DC operating points) and writes (transients)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class ReadResult:
    """A DC solution of the crossbar for B input vectors (shapes with a leading batch axis B).

    Sign conventions: ``i_cols_a`` is the current flowing down column j out of
    the array, into its readout (or into its driver when the column is driven;
    0 when it floats); ``i_rows_a`` is the current a row's driver pushes into
    the row (0 when floating); ``v_cells_v`` is v(p) - v(n) of each device,
    p on the row side; ``i_cells_a`` the current through each device, p to n.
    ``v_out_v`` is the readout output (TIA output or sense-resistor voltage;
    NaN for an unsensed column, and for the ideal virtual-ground readout which
    has no output voltage).
    """

    i_cols_a: np.ndarray  #: (B, cols) A
    i_rows_a: np.ndarray  #: (B, rows) A
    v_cells_v: np.ndarray  #: (B, rows, cols) V
    i_cells_a: np.ndarray  #: (B, rows, cols) A
    v_out_v: np.ndarray  #: (B, cols) V
    solver: str  #: "nodal" or "ngspice"

    @property
    def batch(self) -> int:
        return self.i_cols_a.shape[0]

    def power_w(self, v_rows_v, v_cols_v=None) -> np.ndarray:
        """(B,) power drawn from all line sources (W) given the source voltages (B, rows) and (B, cols)."""
        p = np.sum(np.atleast_2d(v_rows_v) * self.i_rows_a, axis=1)
        if v_cols_v is not None:
            p -= np.sum(np.atleast_2d(v_cols_v) * self.i_cols_a, axis=1)
        return p


@dataclass(frozen=True, eq=False)
class WriteResult:
    """A transient run (write pulse, pulse train or pulsed read) of the crossbar.

    ``states_before``/``states_after`` (rows, cols): device states at t = 0 and at
    the end (read back from the state node of every device subcircuit).
    ``v_cells_v`` (T, rows, cols) device voltages over ``time_s`` (T,).
    ``energy_j``: energy delivered by each independent source over the run,
    E = -∫ v(+) · i(source) dt with ngspice's sign of i (into the + terminal),
    so a source that powers the circuit has E > 0; ``total_energy_j`` their sum.
    """

    time_s: np.ndarray
    states_before: np.ndarray
    states_after: np.ndarray
    v_cells_v: np.ndarray
    energy_j: Mapping[str, float]
    i_cols_a: np.ndarray | None = None  #: (T, cols) current into each sensed column's readout, if any

    @property
    def total_energy_j(self) -> float:
        return float(sum(self.energy_j.values()))

    def peak_v_cells_v(self) -> np.ndarray:
        """(rows, cols) the voltage of largest magnitude each device saw (signed)."""
        k = np.argmax(np.abs(self.v_cells_v), axis=0)
        return np.take_along_axis(self.v_cells_v, k[None], axis=0)[0]
