"""Run a pulse schedule on a crossbar in ngspice and keep what the validation needs.

The deck is memspice.circuit's (the same crossbar, wires, drivers and device
subcircuits); only a ``.save`` card is added so the raw file holds the
source currents, every device's state node and the device voltages of the
programmed cells -- not every node of the array at every time point (a
16x16 V/2 transient with all nodes is tens of MB).

Energy per source is E = ∫ v·i dt with v the source's own PWL voltage (the
ideal source terminal, before the driver resistance) and i the current it
delivers, integrated exactly for piecewise-linear v and i
(:func:`memspice.circuit.run.source_energy_j`). A source that powers the
circuit has E > 0; a column held at 0 V delivers none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.circuit import Crossbar, build_network
from memspice.circuit.network import Topology
from memspice.circuit.run import source_energy_j
from memspice.circuit.spice_writer import write_netlist
from memspice.errors import ParameterError
from memspice.spice import RunSettings, simulate
from memspice.validate.schedule import PulseSchedule

__all__ = ["CircuitUpdate", "run_schedule", "schedule_deck"]


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


def schedule_deck(crossbar: Crossbar, schedule: PulseSchedule, *, options: dict | None = None) -> tuple[str, object]:
    """(deck text, network) of ``schedule`` on ``crossbar`` with the reduced ``.save`` card."""
    if schedule.shape != crossbar.shape:
        raise ParameterError(f"the schedule drives a {schedule.shape[0]} x {schedule.shape[1]} array; the crossbar is "
                             f"{crossbar.rows} x {crossbar.cols}")
    drive = schedule.drive()
    net = build_network(Topology.of(crossbar, drive))
    deck = write_netlist(crossbar, drive, network=net, options=options)
    node = crossbar.model.spice_state_node
    R, C = crossbar.shape
    saves = [f"i(vrow{i})" for i in net.row_source] + [f"i(vcol{j})" for j in net.col_source]
    saves += [f"i(vgate{i})" for i in net.gate_source]
    saves += [f"v(x{i}_{j}.{node})" for i in range(R) for j in range(C)]
    nodes = set()
    for i, j in np.argwhere(schedule.selected):
        nodes.update((net.name(net.device_p[i, j]), net.name(net.device_n[i, j])))
    saves += [f"v({n})" for n in sorted(nodes) if n != "0"]
    lines = deck.splitlines()
    k = next(n for n, line in enumerate(lines) if line.lower().startswith(".tran"))
    # ngspice reads long .save cards fine, but keep lines short for a human reading the deck
    card = [".save " + " ".join(saves[s:s + 8]) for s in range(0, len(saves), 8)]
    lines[k:k] = ["", "* ---- what the validation reads (memspice.validate)"] + card
    return "\n".join(lines) + "\n", net


def run_schedule(crossbar: Crossbar, schedule: PulseSchedule, settings: RunSettings | None = None) -> CircuitUpdate:
    """Transient of ``schedule`` on ``crossbar`` in ngspice (raises SpiceError & co. on failure)."""
    settings = RunSettings() if settings is None else settings
    deck, net = schedule_deck(crossbar, schedule, options=dict(settings.options) or None)
    res = simulate(deck, settings)
    t = res.time
    R, C = crossbar.shape
    node = crossbar.model.spice_state_node
    after = np.array([res.v(f"x{i}_{j}.{node}")[-1] for i in range(R) for j in range(C)]).reshape(R, C)
    rows_w, cols_w = schedule.row_waveforms(), schedule.col_waveforms()
    energy = {}
    for i in net.row_source:
        energy[f"Vrow{i}"] = source_energy_j(t, rows_w[i].at(t), -res.i(f"vrow{i}"))
    for j in net.col_source:
        energy[f"Vcol{j}"] = source_energy_j(t, cols_w[j].at(t), -res.i(f"vcol{j}"))
    acc = crossbar.access
    for i in net.gate_source:  # DC gates: only the charging of the gate capacitance, ~0
        energy[f"Vgate{i}"] = source_energy_j(t, np.full(t.size, acc.v_gate_on_v), -res.i(f"vgate{i}"))
    mids = schedule.plateau_mid_s()
    v_sel = np.full((schedule.n_slots, R, C), np.nan)
    for i, j in np.argwhere(schedule.selected):
        vp = res.v(net.name(net.device_p[i, j]))
        vn = res.v(net.name(net.device_n[i, j]))
        v_sel[:, i, j] = np.interp(mids, t, vp - vn)
    return CircuitUpdate(states_before=crossbar.states.copy(), states_after=after, energy_j=energy,
                         v_selected_v=v_sel, n_time_points=int(t.size))
