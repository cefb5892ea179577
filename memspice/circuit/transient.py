"""The one circuit runner of a transient: a crossbar under a drive, in ngspice or VACASK, as RunSettings say.

:func:`transient` writes the deck of the engine (with the vectors ``saves``
asks for), runs it, and returns a :class:`Transient`: the result with the
element table it was written from, and the readers every job uses (states at
the end and over time, device voltages, source energies). Reads, writes,
update validation, energy tables and in-array calibration all run here.

Energy per source is E = ∫ v·i dt with v the source's own voltage and i the
current it delivers (:func:`source_energy_j`); a source that powers the
circuit has E > 0.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np

from memspice.circuit.crossbar import Crossbar
from memspice.circuit.network import ElementTable, Topology, build_elements
from memspice.circuit.results import WriteResult
from memspice.circuit.saves import Saves
from memspice.circuit.spice_writer import write_netlist
from memspice.circuit.stimulus import Drive
from memspice.circuit.vacask_writer import device_library, device_state_node, write_vacask_netlist
from memspice.errors import CircuitError, ParameterError, SpiceTimeout
from memspice.spice import RunSettings, SimResult, settings_or_default, simulate

__all__ = ["MAX_CIRCUIT_CELLS", "Transient", "deck_writer", "source_energy_j", "transient", "write_result_from_sim"]


#: largest crossbar (cells) written as a circuit deck: 512 x 512. Writing and checking the deck of one
#: takes ~70 us a cell (200 x 200: 2.8 s, measured), and the simulator far longer; past this size the
#: nodal solver (reads) or a smaller array is the way, and a user gets that answer at once, not a hang
MAX_CIRCUIT_CELLS = 512 * 512
#: time to build, check and write the deck of one cell (s), an upper bound of the ~70 us measured (200 x 200):
#: a job whose deck alone would outlast its time limit is refused before the build, which cannot be stopped
DECK_SECONDS_PER_CELL = 1.5e-4


def deck_writer(crossbar: Crossbar, settings: RunSettings):
    """The deck writer of ``settings.engine`` with its options; the VACASK device is compiled once up front.

    A crossbar of more than :data:`MAX_CIRCUIT_CELLS` cells is refused here, before any deck is built.
    """
    if crossbar.rows * crossbar.cols > MAX_CIRCUIT_CELLS:
        raise ParameterError(f"a {crossbar.rows}x{crossbar.cols} crossbar ({crossbar.rows * crossbar.cols} cells) is "
                             f"too large for a circuit deck ({settings.engine}); the limit is {MAX_CIRCUIT_CELLS} "
                             "cells (512 x 512): use the nodal solver (--solver nodal) for reads, or fewer rows or "
                             "columns")
    build_s = crossbar.rows * crossbar.cols * DECK_SECONDS_PER_CELL
    if build_s > settings.timeout_s:
        raise SpiceTimeout(f"building the deck of a {crossbar.rows}x{crossbar.cols} crossbar takes about "
                           f"{build_s:.3g} s ({DECK_SECONDS_PER_CELL * 1e6:g} us a cell), more than the time limit "
                           f"of {settings.timeout_s:g} s (--timeout / timeout_s); raise the limit or use fewer cells")
    options = dict(settings.options) or None
    if settings.engine == "ngspice":
        return functools.partial(write_netlist, options=options)
    return functools.partial(write_vacask_netlist, device=device_library(crossbar.model), options=options)


def state_node_of(crossbar: Crossbar, settings: RunSettings) -> str:
    """The device's state node in a result of ``settings.engine`` (ngspice subcircuit or Verilog-A)."""
    return device_state_node(crossbar.model) if settings.engine == "vacask" else crossbar.model.spice_state_node


@dataclass(frozen=True, eq=False)
class Transient:
    """A finished transient: its result, the element table and drive it ran, and its readers."""

    crossbar: Crossbar
    drive: Drive
    network: ElementTable
    result: SimResult
    state_node: str

    @property
    def time_s(self) -> np.ndarray:
        return self.result.time

    def state(self, i: int, j: int) -> np.ndarray:
        """(T,) state of cell (i, j) over time."""
        return self.result.v(f"x{i}_{j}.{self.state_node}")

    def states_after(self) -> np.ndarray:
        """(rows, cols) device states at the end of the run."""
        R, C = self.crossbar.shape
        return np.array([self.state(i, j)[-1] for i in range(R) for j in range(C)]).reshape(R, C)

    def states_over_time(self) -> np.ndarray:
        """(T, rows, cols) device states at every time point."""
        R, C = self.crossbar.shape
        s = np.stack([self.state(i, j) for i in range(R) for j in range(C)], axis=1)
        return s.reshape(self.time_s.size, R, C)

    def cell_voltage(self, i: int, j: int) -> np.ndarray:
        """(T,) device voltage v(p) - v(n) of cell (i, j)."""
        net = self.network
        return self.result.v(net.name(net.device_p[i, j])) - self.result.v(net.name(net.device_n[i, j]))

    def drive_energies_j(self) -> dict:
        """Energy of every line and gate source, with v the drive's own waveform (needs only the source currents)."""
        t, res, net, drive = self.time_s, self.result, self.network, self.drive
        energy = {}
        for i in net.row_source:
            energy[f"Vrow{i}"] = source_energy_j(t, drive.rows[i].at(t), -res.i(f"vrow{i}"))
        for j in net.col_source:
            energy[f"Vcol{j}"] = source_energy_j(t, drive.cols[j].at(t), -res.i(f"vcol{j}"))
        acc = self.crossbar.access
        for i in net.gate_source:  # DC gates: only the charging of the gate capacitance, ~0
            v_gate = acc.v_gate_on_v if drive.gates_on[i] else acc.v_gate_off_v
            energy[f"Vgate{i}"] = source_energy_j(t, np.full(t.size, v_gate), -res.i(f"vgate{i}"))
        return energy

    def write_result(self) -> WriteResult:
        """States, device voltages and source energies (needs every vector: ``saves=None``)."""
        return write_result_from_sim(self.crossbar, self.network, self.result, state_node=self.state_node)


def instance_draws(crossbar: Crossbar, rng: np.random.Generator | None) -> dict | None:
    """Per-cell random instance parameters of a stochastic device for one run, or None for a deterministic one.

    A CBRAM cell (memspice.devices.cbram) switches when its hazard crosses a
    unit-exponential threshold drawn per device and per run (``e_set``,
    ``e_reset``; one draw of each per cell, row by row, from ``rng``); without
    them every cell would share the threshold 1 and the device would be
    deterministic in an array.
    """
    draw = getattr(crossbar.model, "draw_thresholds", None)
    if draw is None:
        return None
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(f"model {crossbar.model.name} draws each cell's switching thresholds per run: pass "
                             "rng=numpy.random.default_rng(seed) to the write (the CLI's --seed)")
    e_set, e_reset = draw(rng, crossbar.shape)
    return {"e_set": e_set, "e_reset": e_reset}


def transient(crossbar: Crossbar, drive: Drive, settings: RunSettings | None = None, *,
              saves: Saves | None = None, network: ElementTable | None = None,
              rng: np.random.Generator | None = None) -> Transient:
    """Run ``drive`` (a transient) on ``crossbar`` in ``settings.engine``; keep the vectors of ``saves``.

    ``saves``: None keeps every vector (ngspice) or what the readers use
    (VACASK). ``network``: the element table, if the caller built it already.
    ``rng``: the draws of a stochastic device (:func:`instance_draws`; required for one).
    Raises SpiceError & co. when the run fails.
    """
    settings = settings_or_default(settings)
    if not drive.is_transient:
        raise ParameterError("transient() needs a transient drive (a write scheme, a pulse train or a pulsed read)")
    started = time.monotonic()
    write_deck = deck_writer(crossbar, settings)
    net = build_elements(Topology.of(crossbar, drive)) if network is None else network
    draws = instance_draws(crossbar, rng)
    kw = {"instance_params": draws} if draws is not None else {}
    deck = write_deck(crossbar, drive, network=net, saves=saves, **kw)
    settings = settings.remaining(started, f"building the deck of a {crossbar.rows}x{crossbar.cols} crossbar")
    return Transient(crossbar=crossbar, drive=drive, network=net, result=simulate(deck, settings),
                     state_node=state_node_of(crossbar, settings))


#: how far (share of the state range) a simulated state may pass a bound before the run is refused:
#: the models' window functions hold a state inside by construction, so a larger excursion is a failed
#: integration (a time step too coarse for the drive), never a device
STATE_BOUND_TOLERANCE = 1e-3


def check_states_in_bounds(model, states) -> None:
    """CircuitError when a simulated state left the model's range [x_min, x_max] (a wrong result, not reported)."""
    states = np.asarray(states, dtype=float)
    lo, hi = float(model.x_min), float(model.x_max)
    tol = STATE_BOUND_TOLERANCE * (hi - lo)
    bad = ~np.isfinite(states) | (states < lo - tol) | (states > hi + tol)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise CircuitError(f"the simulated state of cell ({i}, {j}) is {float(states[i, j]):.6g}, outside the "
                           f"{model.name} state range [{lo:g}, {hi:g}] ({int(bad.sum())} cell(s)): the transient is "
                           "not a valid device result; lower the write amplitude or raise --steps-per-edge")


def write_result_from_sim(crossbar: Crossbar, net: ElementTable, res, *, state_node: str | None = None) -> WriteResult:
    """States, device voltages and source energies from a transient SimResult of a memspice deck.

    ``state_node``: the device's internal state node (default: the ngspice
    subcircuit's, ``model.spice_state_node``; a VACASK run has the Verilog-A one).
    """
    R, C = crossbar.rows, crossbar.cols
    t = res.time
    names = np.vectorize(net.name, otypes=[str])
    vp = np.stack([res.v(n) for n in names(net.device_p).ravel()], axis=1)
    vn = np.stack([res.v(n) for n in names(net.device_n).ravel()], axis=1)
    v_cells = (vp - vn).reshape(t.size, R, C)
    node = crossbar.model.spice_state_node if state_node is None else state_node
    states = np.array([res.v(f"x{i}_{j}.{node}")[-1] for i in range(R) for j in range(C)]).reshape(R, C)
    check_states_in_bounds(crossbar.model, states)
    energy = {}
    sources = [(f"Vrow{i}", n) for i, n in net.row_source.items()] + [(f"Vcol{j}", n) for j, n in net.col_source.items()]
    sources += [(f"Vgate{i}", n) for i, n in net.gate_source.items()]
    for src, n in sources:
        energy[src] = source_energy_j(t, res.v(net.name(n)), -res.i(src))
    i_cols = None
    if net.ammeter:
        i_cols = np.zeros((t.size, C))
        for j in net.ammeter:
            i_cols[:, j] = res.i(f"vsense{j}")
    return WriteResult(time_s=t, states_before=crossbar.states.copy(), states_after=states, v_cells_v=v_cells,
                       energy_j=energy, i_cols_a=i_cols)


def source_energy_j(t_s, v_v, i_out_a) -> float:
    """Energy ∫ v i dt (J) delivered by a source with voltage v and output current i on time grid t.

    Between two time points ngspice's solution is linear in t (trapezoidal
    integration of a PWL-driven circuit), so v i is quadratic there and
    ∫ = h/6 (2 v0 i0 + v0 i1 + v1 i0 + 2 v1 i1) integrates it exactly, where the
    plain trapezoid rule would be off by h^2/12 * (v i)'' on every edge.
    """
    t, v, i = (np.asarray(a, dtype=float) for a in (t_s, v_v, i_out_a))
    h = np.diff(t)
    return float(np.sum(h / 6 * (2 * v[:-1] * i[:-1] + v[:-1] * i[1:] + v[1:] * i[:-1] + 2 * v[1:] * i[1:])))
