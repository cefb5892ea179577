"""Crossbars of an external Verilog-A device, simulated in VACASK.

A :class:`memspice.circuit.Crossbar` accepts an :class:`ExternalModel` as its
model (it has the attributes a crossbar checks). Reads and transients (V/2 and
V/3 writes, coincidence trains, pulsed reads) then run here exactly as
``memspice.circuit.read(..., solver="vacask")`` / ``write(..., engine="vacask")``
run a built-in model: the same element table (``build_network``), the same
VACASK writer (:func:`memspice.circuit.vacask_writer.write_vacask_netlist`),
the same result readers (states, device voltages, energy per source).

Only the device lines differ, and the writer takes them from the device
itself: its model card (module and parameter values), its instance line (the
module's terminal order, extra terminals tied to n, each cell's initial state
on the model's own init parameter instead of ``x0``) and the ``save`` item of
its state (an internal node or an output variable instead of ``xs``) -- the
``vacask_*`` methods of ExternalModel, which
:func:`memspice.circuit.vacask_writer.write_vacask_netlist` calls for any model
that has them. So ``memspice.circuit.read(xb, stim, solver="vacask")`` and
``memspice.circuit.write(xb, stim, engine="vacask")`` run an external device
directly; the functions here are those calls with the checks an external
device needs first (an initial state that can be set per cell).

memspice.circuit and memspice.spice are later stages of the data flow than
devices; they are imported inside the functions.
"""

from __future__ import annotations

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
    from memspice.circuit.vacask_writer import write_vacask_netlist

    _check_model(crossbar)
    return write_vacask_netlist(crossbar, drive, network=network, check=check, options=options)


def read(crossbar, stimulus, *, timeout_s: float = 120.0):
    """DC read of every vector of ``stimulus`` in VACASK (a ``memspice.circuit.ReadResult``):
    ``memspice.circuit.read(crossbar, stimulus, solver="vacask")``.

    Column and row currents and cell voltages are VACASK's; the per-cell
    currents ``i_cells_a`` come from the device's VACASK-measured I(V, x) table.
    """
    from memspice.circuit.run import read as circuit_read

    _check_model(crossbar)
    return circuit_read(crossbar, stimulus, solver="vacask", timeout_s=timeout_s)


def write(crossbar, stimulus, *, timeout_s: float = 600.0, options: dict | None = None):
    """Transient in VACASK (write scheme, coincidence train, pulsed read or Drive): a ``WriteResult``
    with every cell's state after the run, device voltages and the energy of each source.

    ``memspice.circuit.write(crossbar, stimulus, engine="vacask")``; with ``options``
    (VACASK ``options``, e.g. ``{"reltol": 1e-5}``, which that function does not
    take) the same deck with the options card, through the same result reader.
    """
    from memspice.circuit.run import write as circuit_write

    model = _check_model(crossbar)
    if options is None:
        return circuit_write(crossbar, stimulus, engine="vacask", timeout_s=timeout_s)
    from memspice.circuit.network import Topology, build_network
    from memspice.circuit.run import _as_drive, write_result_from_sim
    from memspice.spice import simulate

    drive = _as_drive(crossbar, stimulus)
    if not drive.is_transient:
        raise ParameterError("write() needs a transient stimulus (a write scheme, a pulse train or a pulsed read)")
    net = build_network(Topology.of(crossbar, drive))
    deck = vacask_netlist(crossbar, drive, network=net, options=options)
    res = simulate(deck, backend="vacask", timeout_s=timeout_s)
    return write_result_from_sim(crossbar, net, res, state_node=model.spice_state_node)
