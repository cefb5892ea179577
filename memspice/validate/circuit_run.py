"""Run a pulse schedule on a crossbar in ngspice and keep what the validation needs.

The run is memspice.circuit's transient (the same crossbar, wires, drivers
and device subcircuits), keeping only the source currents, every device's
state node and the device voltages of the programmed cells
(:class:`memspice.circuit.Saves`) -- not every node of the array at every
time point (a 16x16 V/2 transient with all nodes is tens of MB).

Energy per source is E = ∫ v·i dt with v the source's own PWL voltage (the
ideal source terminal, before the driver resistance) and i the current it
delivers, integrated exactly for piecewise-linear v and i
(:func:`memspice.circuit.transient.source_energy_j`). A source that powers the
circuit has E > 0; a column held at 0 V delivers none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.circuit import Crossbar, build_elements
from memspice.circuit.network import Topology
from memspice.circuit.saves import Saves
from memspice.circuit.spice_writer import write_netlist
from memspice.circuit.transient import transient
from memspice.errors import ParameterError
from memspice.spice import RunSettings
from memspice.circuit.schedule import PulseSchedule

__all__ = ["CircuitUpdate", "run_schedule", "schedule_deck", "schedule_saves"]


@dataclass(frozen=True, eq=False)
class CircuitUpdate:
    """What ngspice says a schedule did to the crossbar."""

    states_before: np.ndarray  #: (rows, cols) device states at t = 0
    states_after: np.ndarray  #: (rows, cols) device states at the end of the run
    energy_j: dict  #: source name -> energy delivered over the run (J)
    v_selected_v: np.ndarray  #: (K, rows, cols) device voltage at the middle of each slot's plateau (V); NaN off the programmed cells
    n_time_points: int

    @property
    def total_energy_j(self) -> float:
        return float(sum(self.energy_j.values()))


def schedule_saves(schedule: PulseSchedule) -> Saves:
    """What the validation reads: every source current and device state, the device voltages of the programmed cells."""
    return Saves.of_cells(schedule.selected)


def schedule_deck(crossbar: Crossbar, schedule: PulseSchedule, *, options: dict | None = None) -> tuple[str, object]:
    """(deck text, element table) of ``schedule`` on ``crossbar`` with the reduced ``.save`` cards."""
    _check_shape(crossbar, schedule)
    drive = schedule.drive()
    net = build_elements(Topology.of(crossbar, drive))
    return write_netlist(crossbar, drive, network=net, options=options, saves=schedule_saves(schedule)), net


def _check_shape(crossbar: Crossbar, schedule: PulseSchedule) -> None:
    if schedule.shape != crossbar.shape:
        raise ParameterError(f"the schedule drives a {schedule.shape[0]} x {schedule.shape[1]} array; the crossbar is "
                             f"{crossbar.rows} x {crossbar.cols}")


def run_schedule(crossbar: Crossbar, schedule: PulseSchedule, settings: RunSettings | None = None) -> CircuitUpdate:
    """Transient of ``schedule`` on ``crossbar`` in ngspice (raises SpiceError & co. on failure)."""
    _check_shape(crossbar, schedule)
    run = transient(crossbar, schedule.drive(), settings, saves=schedule_saves(schedule))
    t = run.time_s
    R, C = crossbar.shape
    mids = schedule.plateau_mid_s()
    v_sel = np.full((schedule.n_slots, R, C), np.nan)
    for i, j in np.argwhere(schedule.selected):
        v_sel[:, i, j] = np.interp(mids, t, run.cell_voltage(i, j))
    return CircuitUpdate(states_before=crossbar.states.copy(), states_after=run.states_after(),
                         energy_j=run.drive_energies_j(), v_selected_v=v_sel, n_time_points=int(t.size))
