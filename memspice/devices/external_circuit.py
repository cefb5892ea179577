"""Crossbars of an external Verilog-A device, simulated in VACASK.

A :class:`memspice.circuit.Crossbar` accepts an :class:`ExternalModel` as its
model (it has the attributes a crossbar checks). Reads and transients (V/2 and
V/3 writes, coincidence trains, pulsed reads) then run here exactly as
``memspice.circuit.read(..., solver="vacask")`` / ``write(..., engine="vacask")``
run a built-in model: the same element table (``build_network``), the same
VACASK writer (:func:`memspice.circuit.vacask_writer.write_vacask_netlist`),
the same result readers (states, device voltages, energy per source).

Only the device lines differ, and they are taken from the device itself: its
model card (module and parameter values), its instance line (the module's
terminal order, extra terminals tied to n, each cell's initial state on the
model's own init parameter instead of ``x0``) and the ``save`` item of its
state (an internal node or an output variable instead of ``xs``). The writer
emits the built-in spelling; :func:`vacask_netlist` replaces exactly those
lines and checks it replaced one card and one line per cell.

(The VACASK writer could ask the model for these lines itself -- see the
``vacask_*`` methods of ExternalModel -- which would make the rewrite here
unnecessary; until then it is the one place that knows both spellings.)

memspice.circuit and memspice.spice are later stages of the data flow than
devices; they are imported inside the functions.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from memspice.devices.external import ExternalModel
from memspice.errors import CircuitError, ParameterError

__all__ = ["read", "vacask_netlist", "write"]


def _check_model(crossbar) -> ExternalModel:
    model = crossbar.model
    if not isinstance(model, ExternalModel):
        raise ParameterError(f"this runner is for external Verilog-A devices; {getattr(model, 'name', model)!r} is a "
                             "built-in model: use memspice.circuit.read/write with the vacask engine")
    if not model.settable:
        raise CircuitError(f"{model.module}: a crossbar gives every cell its own initial state, but this device's "
                           "state cannot be set; import it with state=NAME and an init parameter")
    return model


def vacask_netlist(crossbar, drive, *, network=None, check: bool = True, options: dict | None = None) -> str:
    """The VACASK netlist of ``crossbar`` (an ExternalModel device) under ``drive``."""
    from memspice.circuit.vacask_writer import STATE_NODE, write_vacask_netlist

    model = _check_model(crossbar)
    lib = dataclasses.replace(model.interface.compiled, modules=(model.module,))  # the writer loads modules[0]
    text = write_vacask_netlist(crossbar, drive, network=network, check=check, options=options, device=lib)
    card = model.subckt_name
    lines = text.splitlines()
    n_card = n_cells = 0
    cell = re.compile(rf"^(x\d+_\d+) \((\S+) (\S+)\) {re.escape(card)} x0=(\S+)$")
    save = re.compile(rf'v\("(x\d+_\d+):{re.escape(STATE_NODE)}"\)')
    for k, line in enumerate(lines):
        if line.startswith(f"model {card} "):
            lines[k] = model.vacask_model_card()
            n_card += 1
        elif m := cell.match(line):
            lines[k] = model.vacask_instance(m.group(1), m.group(2), m.group(3), float(m.group(4)))
            n_cells += 1
        elif line.lstrip().startswith("save "):
            lines[k] = save.sub(lambda mm: model.vacask_state_save(mm.group(1)), line)
    if n_card != 1 or n_cells != crossbar.rows * crossbar.cols:
        raise CircuitError(
            f"the VACASK writer's device lines were not recognised ({n_card} model card(s), {n_cells} of "
            f"{crossbar.rows * crossbar.cols} cells); memspice.devices.external_circuit must follow "
            "memspice.circuit.vacask_writer")
    return "\n".join(lines) + "\n"


def read(crossbar, stimulus, *, timeout_s: float = 120.0):
    """DC read of every vector of ``stimulus`` in VACASK (a ``memspice.circuit.ReadResult``).

    Column and row currents and cell voltages are VACASK's; the per-cell
    currents ``i_cells_a`` come from the device's VACASK-measured I(V, x) table.
    """
    from memspice.circuit.network import Topology, build_network, check_graph, to_graph
    from memspice.circuit.results import ReadResult
    from memspice.circuit.run import _read_from_result
    from memspice.circuit.stimulus import ReadStimulus
    from memspice.spice import simulate

    _check_model(crossbar)
    if not isinstance(stimulus, ReadStimulus):
        raise ParameterError(f"read() takes a ReadStimulus, got {type(stimulus).__name__}")
    if stimulus.pulse is not None:
        raise ParameterError("a pulsed read is a transient: run it with write()")
    stimulus.check(crossbar.rows, crossbar.cols)
    net = build_network(Topology.of(crossbar, stimulus.drive(crossbar.rows, crossbar.cols, 0)))
    check_graph(to_graph(net))
    parts = []
    for k in range(stimulus.batch.shape[0]):
        deck = vacask_netlist(crossbar, stimulus.drive(crossbar.rows, crossbar.cols, k), network=net, check=False)
        parts.append(_read_from_result(crossbar, net, simulate(deck, backend="vacask", timeout_s=timeout_s)))
    return ReadResult(*(np.stack([getattr(p, f) for p in parts]) for f in
                        ("i_cols_a", "i_rows_a", "v_cells_v", "i_cells_a", "v_out_v")), solver="vacask")


def write(crossbar, stimulus, *, timeout_s: float = 600.0, options: dict | None = None):
    """Transient in VACASK (write scheme, coincidence train, pulsed read or Drive): a ``WriteResult``
    with every cell's state after the run, device voltages and the energy of each source."""
    from memspice.circuit.network import Topology, build_network
    from memspice.circuit.run import _as_drive, write_result_from_sim
    from memspice.spice import simulate

    model = _check_model(crossbar)
    drive = _as_drive(crossbar, stimulus)
    if not drive.is_transient:
        raise ParameterError("write() needs a transient stimulus (a write scheme, a pulse train or a pulsed read)")
    net = build_network(Topology.of(crossbar, drive))
    deck = vacask_netlist(crossbar, drive, network=net, options=options)
    res = simulate(deck, backend="vacask", timeout_s=timeout_s)
    return write_result_from_sim(crossbar, net, res, state_node=model.spice_state_node)
