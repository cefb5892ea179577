"""``memspice doctor`` and ``memspice run``: the simulator itself."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import numpy as np

from memspice.commands.output import format_table, print_json
from memspice.errors import DataError
from memspice.commands.spice_args import add_timeout, run_settings
from memspice.inputs import output_file, read_text
from memspice.spice import BACKENDS, ngspice_info, simulate
from memspice.spice.includes import resolve_includes
from memspice.spice.vacask_tools import vacask_info


def register(subparsers) -> None:
    doctor = subparsers.add_parser(
        "doctor",
        help="check that ngspice and its shared library work",
        description="Report the ngspice executable and version, whether libngspice loads "
        "through PySpice, whether this ngspice can load compiled Verilog-A (OSDI), and the "
        "optional second engine (VACASK with the openvaf-r compiler).",
    )
    doctor.add_argument("--json", action="store_true", help="print a JSON document instead of text")
    doctor.set_defaults(func=_doctor)

    run = subparsers.add_parser(
        "run",
        help="run a SPICE netlist and print or save its result vectors",
        description="Run NETLIST (a full ngspice deck with one analysis card: .op, .dc or .tran) "
        "and print its vectors at full precision, or write them as CSV.",
    )
    run.add_argument("netlist", type=Path, help="the deck to run")
    run.add_argument("--backend", choices=BACKENDS, default="subprocess",
                     help="subprocess: `ngspice -b` in a child process (default, isolated); "
                     "shared: libngspice in this process (faster for many small runs)")
    add_timeout(run, "kill the run after S seconds")
    run.add_argument("--csv", type=Path, metavar="FILE", help="write the vectors to FILE (one column per vector)")
    run.add_argument("--json", action="store_true", help="print a JSON document instead of a table")
    run.set_defaults(func=_run)


#: an analysis card (or a .control block, which runs its own) at the start of a line
_ANALYSIS = re.compile(r"^\s*\.(op|dc|tran|ac|noise|tf|sens|disto|pz|sp|pss|control)\b", re.IGNORECASE | re.MULTILINE)


def _doctor(args) -> int:
    info = ngspice_info()
    vacask = vacask_info()
    if args.json:
        print_json({**info, "vacask": vacask})
    else:
        print(f"ngspice executable : {info['executable'] or 'NOT FOUND'}")
        print(f"ngspice version    : {info['version'] or '-'}")
        print(f"shared library     : {info['shared_library'] or 'NOT LOADED'}")
        print(f"OSDI (Verilog-A)   : {'yes' if info['osdi'] else 'no (models run as behavioural subcircuits)'}")
        print(f"VACASK             : {vacask.get('executable') or 'NOT FOUND'} {vacask.get('version') or ''}".rstrip())
        print(f"openvaf-r          : {vacask.get('openvaf') or 'NOT FOUND'} {vacask.get('openvaf_version') or ''}".rstrip())
        for problem in info["problems"] + [f"(vacask) {p}" for p in vacask.get("problems", [])]:
            print(f"problem: {problem}")
    # ngspice is required; VACASK is the optional second engine.
    return 0 if not info["problems"] else 1


def _run(args) -> int:
    text = resolve_includes(read_text(args.netlist, "netlist"), args.netlist.parent, source=args.netlist)
    if not _ANALYSIS.search(text):
        raise DataError(f"netlist {str(args.netlist)!r} has no analysis card, so ngspice would simulate nothing: "
                        "add one, e.g. .op, .dc V1 0 1 0.1 or .tran 1n 100n")
    if args.csv:
        output_file(args.csv, "--csv")
    result = simulate(text, run_settings(args))
    names = list(result.vectors)
    if result.axis in names:  # the independent variable first
        names.remove(result.axis)
        names.insert(0, result.axis)
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([f"{n} [{result.units.get(n, '')}]" for n in names])
            for row in np.column_stack([np.real(result.vectors[n]) for n in names]):
                writer.writerow([repr(float(v)) for v in row])
    if args.json:
        print_json({"analysis": result.analysis, "axis": result.axis, "units": dict(result.units),
                    "vectors": {n: result.vectors[n] for n in names}})
    elif not args.csv:
        if result.analysis == "op":
            rows = [(n, float(np.real(result.vectors[n][0])), result.units.get(n, "")) for n in names]
            print(format_table(["vector", "value", "unit"], rows, "{:.15g}"))
        else:
            headers = [f"{n} [{result.units.get(n, '')}]" for n in names]
            table = np.column_stack([np.real(result.vectors[n]) for n in names])
            print(format_table(headers, table.tolist(), "{:.9g}"))
    else:
        print(f"wrote {len(names)} vectors x {result.n_points} points to {args.csv}", file=sys.stderr)
    return 0
