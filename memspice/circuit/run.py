"""Run a crossbar under a stimulus: reads with the nodal solver, ngspice or VACASK; writes with ngspice or VACASK."""

from __future__ import annotations

import functools

import numpy as np

from memspice.circuit.crossbar import Crossbar
from memspice.circuit.network import Network, Topology, build_network, check_graph, to_graph
from memspice.circuit.nodal import NodalSolver
from memspice.circuit.results import ReadResult, WriteResult
from memspice.circuit.spice_writer import write_netlist
from memspice.circuit.stimulus import CoincidenceTrain, Drive, ReadStimulus, WriteScheme
from memspice.circuit.vacask_writer import device_library, device_state_node, write_vacask_netlist
from memspice.errors import ParameterError
from memspice.spice import ENGINES, RunSettings, simulate
from memspice.spice.settings import SOLVERS



def read(crossbar: Crossbar, stimulus: ReadStimulus, settings: RunSettings | None = None, *, solver: str = "nodal",
         **legacy) -> ReadResult:
    """DC read of every vector in ``stimulus`` (one ``.op`` per vector, or one nodal factorisation).

    ``solver``: ``"nodal"`` (numpy), or a circuit engine: ``"ngspice"``
    (``settings.backend`` picks subprocess or shared) or ``"vacask"`` (the
    model's Verilog-A in VACASK); the solver names the engine, ``settings``
    gives backend, time limit and options. ``legacy``: the old ``backend=`` /
    ``timeout_s=`` keywords (:meth:`RunSettings.of`).
    """
    settings = RunSettings.of(settings, **legacy)
    if not isinstance(stimulus, ReadStimulus):
        raise ParameterError(f"read() takes a ReadStimulus, got {type(stimulus).__name__}")
    if stimulus.pulse is not None:
        raise ParameterError("a pulsed read is a transient: run it with write() (it returns states and energy)")
    stimulus.check(crossbar.rows, crossbar.cols)
    if solver == "nodal":
        return NodalSolver.for_crossbar(crossbar, stimulus).solve(stimulus.batch)
    if solver not in ENGINES:
        raise ParameterError(f"solver {solver!r} is unknown; choose one of {', '.join(SOLVERS)}")
    settings = settings.replace(engine=solver)
    write_deck = _dialect(crossbar, settings)

    drive0 = stimulus.drive(crossbar.rows, crossbar.cols, 0)
    net = build_network(Topology.of(crossbar, drive0))
    check_graph(to_graph(net))
    parts = []
    for k in range(stimulus.batch.shape[0]):
        deck = write_deck(crossbar, stimulus.drive(crossbar.rows, crossbar.cols, k), network=net, check=False)
        parts.append(_read_from_result(crossbar, net, simulate(deck, settings)))
    return ReadResult(*(np.stack([getattr(p, f) for p in parts]) for f in
                        ("i_cols_a", "i_rows_a", "v_cells_v", "i_cells_a", "v_out_v")), solver=solver)


def _vec(res, net: Network, node: int, index=0):
    return res.v(net.name(node))[index]


def _read_from_result(crossbar: Crossbar, net: Network, res) -> ReadResult:
    R, C = crossbar.rows, crossbar.cols
    names = np.vectorize(net.name, otypes=[str])
    vp = np.array([res.v(n)[0] for n in names(net.device_p).ravel()]).reshape(R, C)
    vn = np.array([res.v(n)[0] for n in names(net.device_n).ravel()]).reshape(R, C)
    v_cells = vp - vn
    i_cells = np.asarray(crossbar.model.current(v_cells, crossbar.states), dtype=float)
    i_cols = np.zeros(C)
    for j in net.ammeter:
        i_cols[j] = res.i(f"vsense{j}")[0]  # into the ammeter's + terminal = down the column
    for j in net.col_source:
        i_cols[j] = res.i(f"vcol{j}")[0]
    i_rows = np.zeros(R)
    for i in net.row_source:
        i_rows[i] = -res.i(f"vrow{i}")[0]  # a source feeding the row has i(V) < 0 in ngspice's sign
    v_out = np.full(C, np.nan)
    for j, node in net.sense_node.items():
        v_out[j] = res.v(net.name(node))[0]
    return ReadResult(i_cols_a=i_cols, i_rows_a=i_rows, v_cells_v=v_cells, i_cells_a=i_cells, v_out_v=v_out, solver="ngspice")


def write(crossbar: Crossbar, stimulus: WriteScheme | CoincidenceTrain | ReadStimulus | Drive,
          settings: RunSettings | None = None, **legacy) -> WriteResult:
    """Transient run: device states after the run, device voltages over time, energy per source.

    ``settings.engine``: ``"ngspice"`` (default; ``settings.backend`` picks
    subprocess or shared) or ``"vacask"`` (the model's Verilog-A in VACASK).
    ``legacy``: the old ``backend=`` / ``timeout_s=`` / ``engine=`` keywords.
    """
    settings = RunSettings.of(settings, **legacy)
    drive = _as_drive(crossbar, stimulus)
    if not drive.is_transient:
        raise ParameterError("write() needs a transient stimulus (a write scheme, a pulse train or a pulsed read)")
    net = build_network(Topology.of(crossbar, drive))
    write_deck = _dialect(crossbar, settings)
    res = simulate(write_deck(crossbar, drive, network=net), settings)
    return write_result_from_sim(crossbar, net, res,
                                 state_node=device_state_node(crossbar.model) if settings.engine == "vacask" else None)


def _dialect(crossbar: Crossbar, settings: RunSettings):
    """The deck writer of ``settings.engine``; the VACASK device is compiled once up front."""
    if settings.engine == "ngspice":
        return functools.partial(write_netlist, options=dict(settings.options) or None)
    lib = device_library(crossbar.model)
    return functools.partial(write_vacask_netlist, device=lib, options=dict(settings.options) or None)


def _as_drive(crossbar: Crossbar, stimulus) -> Drive:
    if isinstance(stimulus, Drive):
        return stimulus
    if isinstance(stimulus, ReadStimulus):
        if stimulus.batch.shape[0] != 1:
            raise ParameterError("a pulsed read through write() takes one vector; loop over the batch")
        return stimulus.drive(crossbar.rows, crossbar.cols, 0)
    if isinstance(stimulus, (WriteScheme, CoincidenceTrain)):
        return stimulus.drive(crossbar.rows, crossbar.cols)
    raise ParameterError(f"unknown stimulus type {type(stimulus).__name__}")


def write_result_from_sim(crossbar: Crossbar, net: Network, res, *, state_node: str | None = None) -> WriteResult:
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
