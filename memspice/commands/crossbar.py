"""``memspice crossbar netlist|read|write|golden``: write crossbar decks, solve reads and write pulses, regenerate golden decks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from memspice.commands.output import format_table, print_json
from memspice.commands.spice_args import SOLVERS, add_engine, add_timeout, run_settings
from memspice.errors import ParameterError
from memspice.inputs import arg_float, arg_positive_float, arg_positive_int, arg_seed, output_file


def register(subparsers) -> None:
    xb = subparsers.add_parser(
        "crossbar",
        help="crossbar netlists, reads and write pulses (ngspice, VACASK or the nodal solver)",
        description="Build a crossbar of one device model, write its SPICE deck, or solve a read.",
    )
    sub = xb.add_subparsers(title="crossbar commands", metavar="ACTION")

    net = sub.add_parser("netlist", help="write the circuit deck of a crossbar under a stimulus")
    _crossbar_args(net)
    net.add_argument("--stimulus", choices=("read", "v/2", "v/3"), default="read",
                     help="read (DC row voltages, default) or a V/2 / V/3 write pulse")
    _pulse_args(net, amplitude_v=1.0)
    add_engine(net, "dialect: an ngspice deck (default) or a VACASK netlist (compiles the model's Verilog-A)")
    net.add_argument("-o", "--out", type=Path, help="write the deck to this file (default: standard output)")
    net.set_defaults(func=_netlist)

    rd = sub.add_parser("read", help="solve a DC read and print the column currents")
    _crossbar_args(rd)
    rd.add_argument("--solver", choices=SOLVERS, default="nodal",
                    help="nodal (default), or a circuit engine: ngspice or vacask")
    add_timeout(rd)
    rd.add_argument("--json", action="store_true", help="print a JSON document instead of a table")
    rd.set_defaults(func=_read)

    wr = sub.add_parser("write", help="simulate one V/2 or V/3 write pulse and print the state change per cell")
    _crossbar_args(wr)
    wr.add_argument("--scheme", choices=("v/2", "v/3"), default="v/2", help="biasing scheme (default v/2)")
    _pulse_args(wr, amplitude_v=None)
    wr.add_argument("--steps-per-edge", type=arg_positive_int, default=50, metavar="N",
                    help="largest time step = shortest edge / N (default 50, at least 5)")
    add_engine(wr)
    add_timeout(wr)
    wr.add_argument("--json", action="store_true", help="print a JSON document instead of a table")
    wr.set_defaults(func=_write)

    gold = sub.add_parser("golden", help="regenerate the golden decks in netlists/")
    gold.add_argument("-o", "--out", type=Path, help="folder to write to (default: netlists/ of the source checkout)")
    gold.add_argument("--check", action="store_true", help="only compare; exit 1 if a deck differs")
    gold.set_defaults(func=_golden)
    xb.set_defaults(func=lambda args: (xb.print_help(), 1)[1])


def _pulse_args(p, *, amplitude_v: float | None) -> None:
    p.add_argument("--select", default="0,0", metavar="I,J",
                   help="selected cell of a write as row,col (default 0,0)")
    p.add_argument("--amplitude", type=arg_float, default=amplitude_v, required=amplitude_v is None, metavar="V",
                   help="write amplitude in volts" + ("" if amplitude_v is None else f" (default {amplitude_v:g})"))
    p.add_argument("--width", type=arg_positive_float, default=10e-9, metavar="S", help="write pulse plateau in seconds (default 10e-9)")
    p.add_argument("--edge", type=arg_float, default=1e-9, metavar="S", help="rise and fall time in seconds (default 1e-9)")


def _write_scheme(args, scheme: str, steps_per_edge: int = 50):
    from memspice.circuit import PulseShape, WriteScheme

    try:
        i, j = (int(s) for s in args.select.split(","))
    except ValueError:
        raise ParameterError(f"--select must be ROW,COL (e.g. 3,5), got {args.select!r}") from None
    pulse = PulseShape(width_s=args.width, rise_s=args.edge, fall_s=args.edge, steps_per_edge=steps_per_edge)
    return WriteScheme(args.amplitude, (i, j), scheme=scheme, pulse=pulse)


def _crossbar_args(p) -> None:
    p.add_argument("--rows", type=arg_positive_int, default=8, help="number of rows (default 8)")
    p.add_argument("--cols", type=arg_positive_int, default=8, help="number of columns (default 8)")
    p.add_argument("--model", default="vteam",
                   help="device model: built-in or imported (memspice models list), or a card NAME.toml; default vteam")
    p.add_argument("--cell", choices=("1R", "1T1R"), default="1R", help="cell type (default 1R)")
    p.add_argument("--wire-ohm", type=arg_float, default=0.0, metavar="OHM",
                   help="resistance of one row and one column wire segment (default 0)")
    p.add_argument("--row-wire-ohm", type=arg_float, metavar="OHM", help="row segment resistance (overrides --wire-ohm)")
    p.add_argument("--col-wire-ohm", type=arg_float, metavar="OHM", help="column segment resistance (overrides --wire-ohm)")
    p.add_argument("--contact-ohm", type=arg_float, default=0.0, metavar="OHM", help="contact resistance per cell (default 0)")
    p.add_argument("--driver-ohm", type=arg_float, default=0.0, metavar="OHM", help="driver output resistance (default 0)")
    p.add_argument("--readout", choices=("virtual_ground", "tia", "sense_resistor"), default="virtual_ground",
                   help="column readout (default virtual_ground)")
    p.add_argument("--state", type=arg_float, metavar="X", help="state of every cell (default: random, see --seed)")
    p.add_argument("--seed", type=arg_seed, default=0, help="seed of the random states (uniform in the state range)")
    p.add_argument("--v-read", type=arg_float, metavar="V", help="read voltage of every row (default: the model's v_read)")


def crossbar_spec(args, model_params: dict | None = None):
    """The CrossbarSpec of the crossbar options (:func:`_crossbar_args`): random states from --seed unless --state."""
    from memspice.circuit.spec import MODEL_RANGE, CrossbarSpec

    return CrossbarSpec(
        rows=args.rows, cols=args.cols, cell=args.cell, model=args.model, model_params=model_params or {},
        wire_ohm=args.wire_ohm, row_wire_ohm=args.row_wire_ohm, col_wire_ohm=args.col_wire_ohm,
        contact_ohm=args.contact_ohm, driver_ohm=args.driver_ohm, readout=args.readout,
        state=args.state, state_range=MODEL_RANGE if args.state is None else None,
    )


def build_crossbar(args, model_params: dict | None = None, rng: np.random.Generator | None = None):
    """The crossbar of the command line (states drawn from ``rng``, default numpy.random.default_rng(--seed))."""
    return crossbar_spec(args, model_params).build(np.random.default_rng(args.seed) if rng is None else rng)


def _build(args, rng: np.random.Generator | None = None):
    xb = build_crossbar(args, rng=rng)
    v_read = xb.model.v_read_v if args.v_read is None else args.v_read
    return xb, np.full(args.rows, v_read)


def _netlist(args) -> int:
    from memspice.circuit import ReadStimulus, write_netlist
    from memspice.circuit.vacask_writer import write_vacask_netlist

    if args.out:
        output_file(args.out, "--out")
    xb, v = _build(args)
    if args.stimulus == "read":
        drive = ReadStimulus(v).drive(xb.rows, xb.cols)
    else:
        drive = _write_scheme(args, args.stimulus).drive(xb.rows, xb.cols)
    text = (write_vacask_netlist if args.engine == "vacask" else write_netlist)(xb, drive)
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out} ({xb.describe()})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _read(args) -> int:
    from memspice.circuit import ReadStimulus, read

    xb, v = _build(args)
    res = read(xb, ReadStimulus(v), run_settings(args), solver=args.solver)
    ideal = v @ xb.conductances_s()
    if args.json:
        print_json({"crossbar": xb.describe(), "solver": args.solver, "v_rows_v": v, "i_cols_a": res.i_cols_a[0],
                    "i_ideal_a": ideal, "v_out_v": res.v_out_v[0]})
    else:
        print(f"{xb.describe()}; solver {args.solver}")
        rows = [(j, res.i_cols_a[0, j], ideal[j], res.i_cols_a[0, j] / ideal[j] - 1) for j in range(xb.cols)]
        print(format_table(["column", "I [A]", "I ideal G.V [A]", "IR-drop error"], rows, "{:.9g}"))
    return 0


def _write(args) -> int:
    from memspice.circuit import write

    rng = np.random.default_rng(args.seed)  # the states, then a stochastic device's thresholds (CBRAM)
    xb, _ = _build(args, rng)
    ws = _write_scheme(args, args.scheme, args.steps_per_edge)
    res = write(xb, ws, run_settings(args), rng=rng)
    delta = res.states_after - res.states_before
    sel_r, sel_c = ws.selected(xb.rows, xb.cols)
    selected = np.zeros(xb.shape, bool)
    selected[np.ix_(sel_r, sel_c)] = True
    half = np.zeros(xb.shape, bool)
    half[list(sel_r), :] = True
    half[:, list(sel_c)] = True
    half &= ~selected
    groups = [("selected", selected), ("half-selected", half), ("unselected", ~(selected | half))]
    summary = [(name, int(m.sum()), float(np.mean(delta[m])) if m.any() else 0.0,
                float(np.max(np.abs(delta[m]))) if m.any() else 0.0) for name, m in groups]
    if args.json:
        print_json({"crossbar": xb.describe(), "engine": args.engine, "scheme": args.scheme, "select": args.select,
                    "amplitude_v": args.amplitude, "states_before": res.states_before, "delta_states": delta,
                    "energy_j": dict(res.energy_j), "total_energy_j": res.total_energy_j,
                    "groups": [{"cells": n, "count": c, "mean_delta": m, "max_abs_delta": a} for n, c, m, a in summary]})
    else:
        print(f"{xb.describe()}; {args.scheme} write {args.amplitude:g} V on {args.select}; engine {args.engine}")
        print(format_table(["cells", "count", "mean state change", "max |state change|"], summary, "{:.6g}"))
        print(f"energy from the sources: {res.total_energy_j:.6g} J")
    return 0


def _golden(args) -> int:
    from memspice.circuit.golden import regenerate

    changed = regenerate(args.out, check=args.check)
    verb = "differ" if args.check else "rewritten"
    print(f"{len(changed)} deck(s) {verb}: {', '.join(changed) or '-'}")
    return 1 if (args.check and changed) else 0
