"""``memspice energy measure|estimate``: the ngspice energy table of a crossbar, and a run's energy per epoch."""

from __future__ import annotations

import shlex
from pathlib import Path


from memspice.commands.output import format_table, parse_assignments, print_json
from memspice.errors import ParameterError
from memspice.inputs import (
    arg_float, arg_floats, arg_nonnegative_float, arg_positive_float,
    arg_positive_int, input_file, output_dir, output_file,
)


def register(subparsers) -> None:
    from memspice.commands.crossbar import _crossbar_args
    from memspice.commands.spice_args import add_backend, add_timeout

    en = subparsers.add_parser(
        "energy", help="energy per read and per programming pulse (ngspice), and energy per epoch of a run",
        description="Measure the energy table of a crossbar in ngspice, or estimate a training run's energy per "
        "epoch from its counters.csv and a table. Details: memspice.energy.",
    )
    sub = en.add_subparsers(title="energy commands", metavar="ACTION")

    m = sub.add_parser("measure", help="measure per-read and per-pulse energies of a crossbar in ngspice")
    _crossbar_args(m)
    m.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="model parameter override in SI units (repeatable), e.g. r_on_ohm=1e4")
    m.add_argument("--dac-levels", type=arg_floats, default=(0.25, 0.5, 0.75, 1.0), metavar="U,...",
                   help="analog read levels as fractions of the read voltage (default 0.25,0.5,0.75,1)")
    m.add_argument("--read-width", type=arg_positive_float, default=10e-9, metavar="S", help="read pulse plateau (default 10 ns)")
    m.add_argument("--bit-width", type=arg_positive_float, default=2e-9, metavar="S",
                   help="plateau of one stochastic bit slot (default 2 ns)")
    m.add_argument("--amplitude", type=arg_floats, default=(1.0,), metavar="V,...",
                   help="programming pulse amplitudes in V, sign = polarity (default 1)")
    m.add_argument("--write-width", type=arg_positive_float, default=50e-9, metavar="S", help="write pulse plateau (default 50 ns)")
    m.add_argument("--edge", type=arg_float, default=1e-9, metavar="S",
                   help="rise and fall of read and write pulses (default 1 ns; bit slots use a tenth)")
    m.add_argument("--no-backward", action="store_true", help="skip the transposed (backward) read")
    add_backend(m)
    add_timeout(m, "ngspice timeout per run")
    m.add_argument("-o", "--out", type=Path, default=Path("energy.toml"),
                   help="table file (.toml; a .csv is written beside it; default energy.toml)")
    m.add_argument("--json", action="store_true", help="print a JSON document instead of the table")
    m.set_defaults(func=_measure)

    e = sub.add_parser("estimate", help="energy per epoch of a training run from its counters.csv")
    e.add_argument("run", type=Path, help="run folder (holds counters.csv)")
    e.add_argument("--table", type=Path, default=None,
                   help="energy table (.toml from `memspice energy measure`; default: the shipped table, "
                   "memspice.energy.default)")
    e.add_argument("--forward-encoding", choices=("analog", "binary", "stochastic"), default="analog")
    e.add_argument("--backward-encoding", choices=("analog", "binary", "stochastic"), default="analog")
    e.add_argument("--bl", type=arg_positive_int, default=10, help="bit-stream length of the stochastic encoding (default 10)")
    e.add_argument("--write-scheme", choices=("v/2", "v/3"), default="v/2",
                   help="scheme of cell-by-cell programming (default v/2)")
    e.add_argument("--write-voltage", type=arg_float, default=None, metavar="V",
                   help="pulse amplitude of the table to use (default: its only one)")
    e.add_argument("--adc-energy", type=arg_nonnegative_float, default=1e-12, metavar="J", help="energy per ADC conversion (default 1 pJ)")
    e.add_argument("--mac-energy", type=arg_nonnegative_float, default=4.6e-12, metavar="J",
                   help="energy per digital MAC (default 4.6 pJ, fp32 45 nm, Horowitz 2014)")
    e.add_argument("--accumulator-energy", type=arg_nonnegative_float, default=0.9e-12, metavar="J",
                   help="energy per accumulator write (default 0.9 pJ, fp32 add 45 nm, Horowitz 2014)")
    e.add_argument("--json", action="store_true", help="print a JSON document instead of the table")
    e.set_defaults(func=_estimate)
    en.set_defaults(func=lambda args: (en.print_help(), 1)[1])


def _measure(args) -> int:
    from memspice.circuit import PulseShape
    from memspice.commands.crossbar import build_crossbar
    from memspice.commands.spice_args import run_settings
    from memspice.energy import EnergySettings, measure_energy_table, save_table

    output_file(args.out, "--out")
    xb = build_crossbar(args, parse_assignments(args.param))
    edge = args.edge
    settings = EnergySettings(
        v_read_v=args.v_read, dac_levels=args.dac_levels,
        read_pulse=PulseShape(width_s=args.read_width, rise_s=edge, fall_s=edge, delay_s=edge, tail_s=edge),
        bit_pulse=PulseShape(width_s=args.bit_width, rise_s=edge / 10, fall_s=edge / 10, delay_s=edge / 10,
                             tail_s=edge / 10),
        write_amplitudes_v=args.amplitude,
        write_pulse=PulseShape(width_s=args.write_width, rise_s=edge, fall_s=edge, delay_s=edge, tail_s=edge),
        backward=not args.no_backward,
    )
    table = measure_energy_table(xb, settings, run_settings(args))
    table.description["command"] = measure_command(args)  # provenance: the command that remakes this table
    toml_path, csv_path = save_table(table, args.out)
    if args.json:
        print_json({"table": str(toml_path), "csv": str(csv_path), "description": table.description,
                    "entries": [e.__dict__ for e in table.entries]})
        return 0
    print(xb.describe())
    rows = [(e.kind, e.direction or e.scheme, e.encoding, e.level, e.voltage_v, e.width_s, e.per_cell_j,
             e.per_line_j if e.kind == "read" else e.half_selected_j, e.unselected_j if e.kind == "pulse" else 0.0,
             e.total_j) for e in table.entries]
    print(format_table(("kind", "dir/scheme", "encoding", "level", "V", "width s", "cell J (selected)",
                        "line J / half-sel J", "unselected J", "total J"), rows))
    print(f"wrote {toml_path} and {csv_path}")
    return 0


def measure_command(args) -> str:
    """``memspice energy measure`` with every option that sets a measured value spelled out (replayable even
    if the defaults change); ``--timeout`` and ``--json`` change no number and are left out."""
    opts = ["--rows", args.rows, "--cols", args.cols, "--model", args.model, "--cell", args.cell]
    for p in args.param:
        opts += ["--param", p]
    opts += ["--wire-ohm", args.wire_ohm]
    for flag, value in (("--row-wire-ohm", args.row_wire_ohm), ("--col-wire-ohm", args.col_wire_ohm),
                        ("--v-read", args.v_read)):
        if value is not None:
            opts += [flag, value]
    opts += ["--contact-ohm", args.contact_ohm, "--driver-ohm", args.driver_ohm, "--readout", args.readout]
    opts += ["--state", args.state] if args.state is not None else ["--seed", args.seed]
    opts += ["--dac-levels", ",".join(map(repr, args.dac_levels)), "--read-width", args.read_width,
             "--bit-width", args.bit_width, "--amplitude", ",".join(map(repr, args.amplitude)),
             "--write-width", args.write_width, "--edge", args.edge]
    if args.no_backward:
        opts.append("--no-backward")
    opts += ["--backend", args.backend, "-o", args.out]
    return shlex.join(["memspice", "energy", "measure", *(repr(v) if isinstance(v, float) else str(v) for v in opts)])


def _estimate(args) -> int:
    from memspice.energy import DigitalCosts, EnergyModel, estimate_run, load_table
    from memspice.energy.default import default_table_path
    from memspice.energy.estimate import write_estimate_csv

    input_file(args.run / "counters.csv", "counters.csv of the run")
    if args.table is not None:
        input_file(args.table, "--table")
    label = str(args.table)
    if args.table is None:
        from memspice.energy.default import default_label

        args.table, label = default_table_path(), default_label()
    model = EnergyModel(
        load_table(args.table), forward_encoding=args.forward_encoding, backward_encoding=args.backward_encoding,
        bl=args.bl, write_scheme=args.write_scheme, write_voltage_v=args.write_voltage,
        digital=DigitalCosts(adc_conversion_j=args.adc_energy, mac_j=args.mac_energy,
                             accumulator_update_j=args.accumulator_energy),
    )
    epochs = estimate_run(args.run, model)
    csv_path = write_estimate_csv(args.run / "energy.csv", epochs)
    if args.json:
        print_json({"run": str(args.run), "table": str(args.table), "csv": str(csv_path), "epochs": epochs})
        return 0
    cols = ("forward_read_j", "backward_read_j", "update_j", "adc_j", "digital_update_j", "total_j")
    rows = [(e["epoch"], *(e[f"energy_{c}"] for c in cols)) for e in epochs]
    print(format_table(("epoch", "fwd read J", "bwd read J", "update J", "ADC J", "digital J", "total J"), rows))
    print(f"energy table: {label}")
    print(f"wrote {csv_path}")
    return 0
