"""``memspice validate-update``: one update in ngspice next to the surrogate, cell by cell."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from memspice.commands.output import format_table, parse_assignments, print_json
from memspice.errors import ParameterError
from memspice.inputs import (
    arg_float, arg_positive_float, arg_positive_int,
    arg_seed, arg_timeout, input_file, output_dir,
)
from memspice.spice.settings import DEFAULT_TIMEOUT_S
from memspice.validate.config import SURROGATE_KINDS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate-update",
        help="play an update (V/2, V/3 write or a stochastic-coincidence step) through a crossbar in ngspice "
        "and compare every cell's dG with the surrogate",
        description="Run one update on a crossbar in ngspice and report, per cell, the conductance change in "
        "SPICE, in the surrogate and their difference; the half-select disturb, the worst IR-drop loss on the "
        "programmed cells and the energy (total and per programmed cell). Writes a JSON file, a per-cell CSV and "
        "heat maps into --out. Options override the --config file (keys: memspice/validate/config.py).",
    )
    p.add_argument("--config", type=Path, help="TOML job file (see memspice/validate/config.py)")
    p.add_argument("-o", "--out", type=Path, default=Path("validate-out"), help="output folder (default validate-out)")
    p.add_argument("--rows", type=arg_positive_int, help="crossbar rows (default 16)")
    p.add_argument("--cols", type=arg_positive_int, help="crossbar columns (default 16)")
    p.add_argument("--model", help="compact model (default vteam with k_on = -0.01 m/s)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="compact-model parameter override, SI (repeatable; replaces the default overrides)")
    p.add_argument("--wire-ohm", type=arg_float, metavar="OHM", help="row and column wire resistance per segment (default 0.01)")
    p.add_argument("--state", type=arg_float, metavar="X", help="state of every cell (default uniform random in [0.4, 0.9])")
    p.add_argument("--update", choices=("write", "coincidence"), help="update kind (default write)")
    p.add_argument("--scheme", choices=("v/2", "v/3"), help="write scheme (default v/2)")
    p.add_argument("--amplitude", type=arg_float, metavar="V", help="write amplitude, signed cell voltage (default -0.27)")
    p.add_argument("--cells", metavar="I,J;I,J", help="programmed cells, e.g. '3,4;7,1' (default 6 spread cells)")
    p.add_argument("--pulses", type=arg_positive_int, metavar="N", help="write pulses per cell (default 1)")
    p.add_argument("--width", type=arg_positive_float, metavar="S", help="pulse plateau (default 50e-9)")
    p.add_argument("--edge", type=arg_float, metavar="S", help="rise and fall time (default 5e-9)")
    p.add_argument("--surrogate", choices=SURROGATE_KINDS,
                   help="surrogate: array (default; array-aware: the write circuit solved per slot, pulse response "
                        "over amplitude), tabulated (wire-blind, nominal voltage on every cell) or calibrated "
                        "(wire-blind, fitted to ngspice pulse trains)")
    p.add_argument("--seed", type=arg_seed, help="seed of the states and pulse trains (default 1)")
    p.add_argument("--timeout", type=arg_timeout, metavar="S", help=f"ngspice timeout (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    p.set_defaults(func=_validate)


def _config(args):
    from memspice.validate.config import ValidateConfig, load_validate_config

    cfg = load_validate_config(args.config) if args.config else ValidateConfig()
    rep = dataclasses.replace
    xb = cfg.crossbar
    kw = {k: v for k, v in (("rows", args.rows), ("cols", args.cols), ("model", args.model), ("wire_ohm", args.wire_ohm),
                            ("state", args.state)) if v is not None}
    if args.wire_ohm is not None:
        kw.update(row_wire_ohm=None, col_wire_ohm=None)
    if args.model is not None and not args.param:
        kw["model_params"] = {}
    if args.param:
        params = parse_assignments(args.param)
        kw["model_params"] = params
    cfg = rep(cfg, crossbar=rep(xb, **kw))
    kw = {k: v for k, v in (("kind", args.update), ("scheme", args.scheme), ("amplitude_v", args.amplitude),
                            ("n_pulses", args.pulses)) if v is not None}
    if args.cells:
        try:
            kw["cells"] = tuple(tuple(int(s) for s in c.split(",")) for c in args.cells.split(";") if c.strip())
        except ValueError:
            raise ParameterError(f"--cells must look like '3,4;7,1', got {args.cells!r}") from None
    cfg = rep(cfg, update=rep(cfg.update, **kw))
    kw = {k: v for k, v in (("width_s", args.width), ("rise_s", args.edge), ("fall_s", args.edge)) if v is not None}
    cfg = rep(cfg, pulse=rep(cfg.pulse, **kw))
    if args.surrogate:
        cfg = rep(cfg, surrogate=rep(cfg.surrogate, kind=args.surrogate))
    if args.timeout is not None:
        cfg = rep(cfg, spice=rep(cfg.spice, timeout_s=args.timeout))
    if args.seed is not None:
        cfg = rep(cfg, seed=args.seed)
    return cfg


def _validate(args) -> int:
    from memspice.validate.config import run_job

    if args.config is not None:
        input_file(args.config, "--config")
    output_dir(args.out, "--out")
    cfg = _config(args)
    val = run_job(cfg, progress=not args.json)
    paths = val.write_outputs(args.out)
    if args.json:
        doc = val.to_dict(per_cell=False)
        doc["outputs"] = {k: str(v) for k, v in paths.items()}
        print_json(doc)
        return 0
    print(val.description)
    print(format_table(["quantity", "value"], val.table()))
    print()
    rows = [(r["row"], r["col"], r["g_before_s"] * 1e6, r["dg_spice_s"] * 1e6, r["dg_surrogate_s"] * 1e6,
             r["dg_error_s"] * 1e6, 100 * r["ir_loss"])
            for r in val.cell_rows() if r["role"] == "programmed"]
    print(format_table(["row", "col", "G before [µS]", "ΔG ngspice [µS]", "ΔG surrogate [µS]", "difference [µS]",
                        "IR loss [%]"], rows, "{:.5g}"))
    print(f"\nwrote {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    return 0
