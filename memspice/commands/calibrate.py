"""``memspice calibrate``: fit a surrogate pulse-update model to ngspice runs or to a measured CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memspice.commands.output import format_table, parse_assignments, print_json
from memspice.errors import ParameterError
from memspice.inputs import arg_float, arg_positive_float, arg_positive_int, input_file, output_dir, output_file

_EPILOG = """\
examples:
  memspice calibrate --from-spice vteam --experiment pulse-train --amplitude -0.2117 \\
      --amplitude-down 0.092 --width 50e-9 --pulses 30 --family tabulated -o fitted.toml
  memspice calibrate --from-csv examples/measured/soft_bounds_devices.csv --family soft-bounds \\
      -o fitted.toml --report report/
  memspice calibrate --set-csv examples/measured/wide_set.csv --reset-csv examples/measured/wide_reset.csv \\
      --set-voltage 1.2 --reset-voltage -1.2 --pulse-width 50e-9 --family tabulated -o fitted.toml
  memspice calibrate --from-spice vteam --amplitude -0.2117 --amplitude-down 0.092 --width 50e-9 \\
      --array 32x32 --wire-ohm 10 -o in_array.toml --report report/
  memspice calibrate --from-spice drift_cell --engine vacask --amplitude 1.0 --amplitude-down -1.0 \\
      --width 10e-9 --pulses 60 --cycles 2 --family tabulated -o drift_fit.toml

The model file's [tile] table is the [tile] table of a training config
(memspice train); the report is Markdown with PNG plots. drift_cell: a cell
imported with `memspice models import`, which runs in VACASK.
"""


def register(subparsers) -> None:
    from memspice.calibrate.families import FAMILIES

    p = subparsers.add_parser(
        "calibrate",
        help="fit a surrogate pulse-update model to ngspice pulse trains or a measured CSV",
        description="Run a pulse-train experiment on a compact model in ngspice (one cell, or one cell "
        "inside a crossbar) or read measured pulse responses from CSV, fit a pulse-update family of the "
        "surrogate with bounded least squares, and write a model file (TOML) and a fit report.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-spice", metavar="MODEL",
                     help="model name: built-in (simulated in ngspice, or --engine vacask) or imported with "
                          "`memspice models import` (simulated in VACASK)")
    src.add_argument("--from-csv", metavar="FILE", type=Path, nargs="+",
                     help="measured pulse responses, one or more CSV files: the long layout device,[train,]pulse,"
                          "voltage [V],width [s],conductance [S] (memspice.calibrate.data), or the wide layout of one "
                          "column per cycle with a direction column (memspice.calibrate.wide)")
    src.add_argument("--set-csv", metavar="FILE", type=Path, nargs="+",
                     help="wide files of set (potentiation) ramps, one column per cycle; pair each with --reset-csv")
    p.add_argument("--family", choices=list(FAMILIES), default="soft-bounds", help="pulse-update family to fit (default soft-bounds)")
    p.add_argument("-o", "--out", "--output", dest="output", type=Path, required=True, metavar="TOML", help="fitted model file to write")
    p.add_argument("--report", type=Path, metavar="DIR", help="write report.md and PNG plots into DIR")
    p.add_argument("--no-plots", action="store_true", help="report without PNG plots")
    p.add_argument("--fix", action="append", default=[], metavar="FIELD=VALUE",
                   help="hold a model field at a value (SI), e.g. --fix g_min_s=1e-6; repeatable")
    p.add_argument("--polarity", type=int, choices=(1, -1), help="voltage sign that raises the conductance (default: from the data)")
    p.add_argument("--nodes", type=arg_positive_int, default=9, help="table nodes of the 'tabulated' family (default 9)")
    p.add_argument("--json", action="store_true", help="print a JSON document instead of a table")
    p.add_argument("--no-progress", "--quiet", dest="quiet", action="store_true", help="no progress bars")
    w = p.add_argument_group("wide measured layout (with --set-csv, or --from-csv files of one column per cycle)")
    w.add_argument("--reset-csv", metavar="FILE", type=Path, nargs="+", default=[],
                   help="wide files of reset (depression) ramps, the k-th paired with the k-th --set-csv file")
    w.add_argument("--set-voltage", type=arg_float, metavar="V", help="signed amplitude of the set pulses (V)")
    w.add_argument("--reset-voltage", type=arg_float, metavar="V", help="signed amplitude of the reset pulses (V)")
    w.add_argument("--pulse-width", type=arg_positive_float, metavar="S", help="width of the set and reset pulses (s)")
    w.add_argument("--device", metavar="NAME",
                   help="device name of columns without a NAME/ prefix (default: the file name's stem)")
    g = p.add_argument_group("SPICE experiment (with --from-spice)")
    g.add_argument("--experiment", choices=("pulse-train",), default="pulse-train", help="experiment to run (default pulse-train)")
    g.add_argument("--amplitude", type=arg_float, help="signed amplitude of the first block of pulses (V)")
    g.add_argument("--amplitude-down", type=arg_float, help="signed amplitude of the second block (V; default -amplitude)")
    g.add_argument("--width", type=arg_positive_float, help="pulse width (s)")
    g.add_argument("--pulses", type=arg_positive_int, default=20, help="pulses per block (default 20)")
    g.add_argument("--cycles", type=arg_positive_int, default=1, help="up/down block pairs (default 1)")
    g.add_argument("--x0", type=arg_float, help="initial device state (model units; default the model's)")
    g.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="compact-model parameter override; repeatable")
    g.add_argument("--engine", choices=("spice", "vacask", "numpy"),
                   help="spice: ngspice (the default for a built-in model), vacask: the model's Verilog-A in VACASK "
                        "(the default, and the only engine, for an imported model), numpy: the compact model's "
                        "own integrator")
    g.add_argument("--backend", choices=("subprocess", "shared"), default="subprocess", help="ngspice backend")
    g.add_argument("--held-out-pulses", type=arg_positive_int, metavar="N",
                   help="also run a held-out train of N pulses per block (3 cycles) and report how well the model predicts it")
    g.add_argument("--array", metavar="RxC", help="run the cell inside an R x C crossbar (V/2 half-select), e.g. 32x32")
    g.add_argument("--wire-ohm", type=arg_float, default=0.0, help="resistance of one wire segment in the array (ohm)")
    g.add_argument("--cell", metavar="ROW,COL", help="the calibrated cell in the array (default: the far corner)")
    g.add_argument("--workers", type=arg_positive_int, help="parallel processes for independent runs (default: half the cores)")
    g.add_argument("--save-data", type=Path, metavar="CSV", help="write the simulated pulse responses as CSV")
    p.set_defaults(func=_calibrate)


def _engine(args) -> str:
    """--engine, or its default: VACASK for an imported model (the only engine that runs it), else ngspice."""
    from memspice.external.registry import is_imported

    if not is_imported(args.from_spice):
        return args.engine or "spice"
    if args.engine not in (None, "vacask"):
        raise ParameterError(f"--engine {args.engine}: {args.from_spice} is an imported Verilog-A model, which "
                             "runs in VACASK only; give --engine vacask or leave --engine out")
    if args.array:
        raise ParameterError(f"--array: {args.from_spice} is an imported Verilog-A model; the in-array "
                             "calibration runs in ngspice, which cannot load it; calibrate the single cell "
                             "(leave --array out)")
    return "vacask"


def _where(args):
    from memspice.calibrate.runners import NumpyCell, SpiceCell
    from memspice.spice import RunSettings

    engine = _engine(args)

    if args.array:
        from memspice.calibrate.inarray import SpiceArrayCell

        try:
            rows, cols = (int(x) for x in args.array.lower().split("x"))
        except ValueError:
            raise ParameterError(f"--array {args.array!r}: write ROWSxCOLS, e.g. 32x32.") from None
        cell = None
        if args.cell:
            try:
                cell = tuple(int(x) for x in args.cell.split(","))
            except ValueError:
                raise ParameterError(f"--cell {args.cell!r}: write ROW,COL, e.g. 31,31.") from None
        return SpiceArrayCell(rows=rows, cols=cols, wire_ohm=args.wire_ohm, cell=cell,
                              settings=RunSettings(backend=args.backend).long())
    if engine == "numpy":
        return NumpyCell()
    if engine == "vacask":
        return SpiceCell(settings=RunSettings(engine="vacask"))
    return SpiceCell(settings=RunSettings(backend=args.backend))


def _calibrate(args) -> int:
    from memspice.calibrate import (
        PulseTrainExperiment,
        calibrate_compact_model,
        calibrate_pulse_data,
        save_calibration,
        write_pulse_csv,
    )
    from memspice.calibrate.runners import ModelRef

    output_file(args.output, "--out")
    if args.report is not None:
        output_dir(args.report, "--report")
    if args.save_data is not None:
        output_file(args.save_data, "--save-data")
    measured = [*(args.from_csv or []), *(args.set_csv or []), *args.reset_csv]
    for f, flag in zip(measured, ["--from-csv"] * len(args.from_csv or []) + ["--set-csv"] * len(args.set_csv or [])
                       + ["--reset-csv"] * len(args.reset_csv)):
        input_file(f, flag)
    if args.reset_csv and not args.set_csv:
        raise ParameterError("--reset-csv needs its --set-csv files (the set ramps of the same cycles)")
    fixed = parse_assignments(args.fix, "--fix")
    if measured:
        from memspice.calibrate.wide import read_measured

        data = read_measured(args.from_csv or (), args.set_csv or (), args.reset_csv, set_voltage_v=args.set_voltage,
                             reset_voltage_v=args.reset_voltage, width_s=args.pulse_width, device=args.device)
        cal = calibrate_pulse_data(data, args.family, fixed=fixed, potentiation_polarity=args.polarity,
                                   n_nodes=args.nodes, progress=not args.quiet and not args.json,
                                   provenance={"source": ", ".join(str(f) for f in measured)})
    else:
        if args.amplitude is None or args.width is None:
            raise ParameterError("--from-spice needs --amplitude (V) and --width (s) of the pulses.")
        train = PulseTrainExperiment(amplitude_up_v=args.amplitude, amplitude_down_v=args.amplitude_down,
                                     width_s=args.width, n_up=args.pulses, cycles=args.cycles, x0=args.x0)
        held = []
        if args.held_out_pulses:
            held.append(PulseTrainExperiment(amplitude_up_v=args.amplitude, amplitude_down_v=args.amplitude_down,
                                             width_s=args.width, n_up=args.held_out_pulses, cycles=3, x0=args.x0))
        ref = ModelRef(args.from_spice, parse_assignments(args.param))
        cal = calibrate_compact_model(ref, train, args.family, where=_where(args), held_out=held, fixed=fixed,
                                      n_nodes=args.nodes, workers=args.workers, progress=not args.quiet and not args.json)
        if args.save_data:
            from dataclasses import replace

            runs = [replace(f.data[0], device=f"{f.data[0].device}-fit") for _, f in cal.fits]
            runs += [replace(h.data, device=f"{h.data.device}-heldout{k}") for k, (_, h) in enumerate(cal.held_out)]
            write_pulse_csv(args.save_data, runs,
                            comments=[f"simulated by memspice calibrate: {cal.provenance.get('source', '')}",
                                      str(cal.provenance.get("experiment", ""))])
    paths = save_calibration(cal, args.output, args.report, plots=not args.no_plots)
    summary = cal.summary()
    summary["written"] = {k: str(v) for k, v in paths.items()}
    for label, fit in summary["fits"].items():
        if fit["undetermined"]:
            print(f"memspice: warning: {label}: the data do not determine {', '.join(fit['undetermined'])} (infinite "
                  f"standard error: e.g. table nodes one pulse direction never reached); their values are guesses. "
                  f"Give trains that sweep the whole window in both directions (more pulses, --cycles 2, another --x0)",
                  file=sys.stderr)
    if args.json:
        print_json(summary)
        return 0
    for label, f in cal.fits:
        print(f"{label}: {f.family} ({type(f.model).__name__}), RMS {f.fit.rms_error:.4g} S "
              f"({100 * f.rms_rel_range:.3g} % of range), max {f.fit.max_error:.4g} S, R^2 {f.fit.r_squared:.6f}")
    print(format_table(
        ["fit", "one-step", "mean-cycle replay", "per-cycle replay (median)", "cycle spread of the data", "cycles"],
        [[label, f"{100 * r['one_step_rms_rel_range']:.3g} %", f"{100 * r['mean_cycle_replay_rms_rel_range']:.3g} %",
          f"{100 * r['per_cycle_replay_rms_rel_range_median']:.3g} %", f"{100 * r['cycle_to_cycle_spread_rel_range']:.3g} %",
          r["cycles"]] for label, r in ((lab, summary["fits"][lab]["replay"]) for lab, _ in cal.fits)]))
    print("(RMS errors as % of the data's conductance range; the cycle spread is how far the data's cycles lie "
          "from their mean: start states, noise and drift)")
    rows = []
    first = cal.fits[0][1]
    for name, (v, e) in first.model_params.items():
        rows.append([name, v, e])
    if len(cal.fits) == 1:
        print(format_table(["parameter", "value", "std. error"], rows))
    if cal.statistics is not None:
        print(format_table(["d2d field", "value"], [[k, v] for k, v in cal.statistics.d2d.items()]))
    for lab, h in cal.held_out:
        print(f"held-out {h.label}: RMS {h.evaluation.rms_error_s:.4g} S ({100 * h.evaluation.rms_rel_range:.3g} % of range)")
    for k, v in paths.items():
        print(f"wrote {k}: {v}")
    return 0
