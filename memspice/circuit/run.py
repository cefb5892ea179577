"""Run a crossbar under a stimulus: reads with the nodal solver, ngspice or VACASK; writes with ngspice or VACASK.

Both go through the one circuit runner (:mod:`memspice.circuit.transient`:
deck writer of the engine, :func:`~memspice.circuit.transient.transient`).
``write_result_from_sim`` and ``source_energy_j`` are re-exported from there.
"""

from __future__ import annotations

import time

import numpy as np

from memspice.circuit.crossbar import Crossbar
from memspice.circuit.network import ElementTable, Topology, build_elements, check_graph, to_graph
from memspice.circuit.nodal import NodalSolver
from memspice.circuit.results import ReadResult, WriteResult
from memspice.circuit.stimulus import CoincidenceTrain, Drive, ReadStimulus, WriteScheme
from memspice.circuit.transient import deck_writer, source_energy_j, transient, write_result_from_sim  # noqa: F401
from memspice.errors import ParameterError
from memspice.spice import ENGINES, RunSettings, settings_or_default, simulate
from memspice.spice.settings import SOLVERS


def read(crossbar: Crossbar, stimulus: ReadStimulus, settings: RunSettings | None = None, *,
         solver: str = "nodal") -> ReadResult:
    """DC read of every vector in ``stimulus`` (one ``.op`` per vector, or one nodal factorisation).

    ``solver``: ``"nodal"`` (numpy), or a circuit engine: ``"ngspice"``
    (``settings.backend`` picks subprocess or shared) or ``"vacask"`` (the
    model's Verilog-A in VACASK); the solver names the engine, ``settings``
    gives backend, time limit and options (default :class:`RunSettings()`).
    """
    settings = settings_or_default(settings)
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
    started = time.monotonic()
    write_deck = deck_writer(crossbar, settings)
    what = f"building the deck of a {crossbar.rows}x{crossbar.cols} crossbar"

    drive0 = stimulus.drive(crossbar.rows, crossbar.cols, 0)
    net = build_elements(Topology.of(crossbar, drive0))
    settings.remaining(started, what)
    check_graph(to_graph(net))
    settings = settings.remaining(started, what)  # each read's limit less the time the build took
    parts = []
    for k in range(stimulus.batch.shape[0]):
        deck = write_deck(crossbar, stimulus.drive(crossbar.rows, crossbar.cols, k), network=net, check=False)
        parts.append(_read_from_result(crossbar, net, simulate(deck, settings)))
    return ReadResult(*(np.stack([getattr(p, f) for p in parts]) for f in
                        ("i_cols_a", "i_rows_a", "v_cells_v", "i_cells_a", "v_out_v")), solver=solver)


def _vec(res, net: ElementTable, node: int, index=0):
    return res.v(net.name(node))[index]


def _read_from_result(crossbar: Crossbar, net: ElementTable, res) -> ReadResult:
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
          settings: RunSettings | None = None, *, rng: np.random.Generator | None = None) -> WriteResult:
    """Transient run: device states after the run, device voltages over time, energy per source.

    ``settings.engine``: ``"ngspice"`` (default; ``settings.backend`` picks
    subprocess or shared) or ``"vacask"`` (the model's Verilog-A in VACASK);
    default :class:`RunSettings()`. ``rng``: the per-run draws of a stochastic device (CBRAM's
    thresholds, :func:`memspice.circuit.transient.instance_draws`); required for one.
    """
    settings = settings_or_default(settings)
    if getattr(crossbar.model, "circuit_holds_state", False) and isinstance(stimulus, (WriteScheme, CoincidenceTrain)):
        raise ParameterError(f"model {crossbar.model.name}: its crossbar subcircuit holds each cell's state (its "
                             "programming steps are drawn in numpy), so a circuit write would report no change; "
                             "simulate its pulses with memspice.cell.pulse_response(model, ..., simulator='ngspice') "
                             "or the surrogate tile, or write a model whose state moves in the circuit")
    drive = _as_drive(crossbar, stimulus)
    if not drive.is_transient:
        raise ParameterError("write() needs a transient stimulus (a write scheme, a pulse train or a pulsed read)")
    return transient(crossbar, drive, settings, rng=rng).write_result()


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
