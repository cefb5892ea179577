"""``memspice models``: list, show, export and plot the compact device models."""

from __future__ import annotations

import sys
from pathlib import Path

from memspice.commands.output import format_table, parse_assignments, print_json
from memspice.errors import ParameterError
from memspice.inputs import arg_seed, output_file


def register(subparsers) -> None:
    models = subparsers.add_parser(
        "models",
        help="compact device models: list, show, export (Verilog-A, ngspice), plot",
        description="The compact memristor models memspice renders to ngspice, Verilog-A and numpy.",
    )
    sub = models.add_subparsers(title="actions", metavar="ACTION")
    from memspice.commands.models_import import add_import_action  # `models import`: user Verilog-A devices

    add_import_action(sub)

    ls = sub.add_parser("list", help="the available models")
    ls.add_argument("--json", action="store_true", help="print a JSON document instead of a table")
    ls.set_defaults(func=_list)

    show = sub.add_parser("show", help="parameters (value, unit, range, citation) and state of one model")
    show.add_argument("name")
    show.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter (SI)")
    show.add_argument("--json", action="store_true", help="print the model card as JSON")
    show.set_defaults(func=_show)

    export = sub.add_parser("export", help="write the Verilog-A module, ngspice subcircuit or TOML card")
    export.add_argument("name")
    export.add_argument("--format", choices=("va", "spice", "toml"),
                        help="default: spice for a built-in model; va (its source) for an imported one, which "
                             "has no ngspice subcircuit (toml: its card)")
    export.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter (SI)")
    export.add_argument("-o", "--out", type=Path, help="write to this file instead of stdout")
    export.set_defaults(func=_export)

    plot = sub.add_parser("plot", help="I-V hysteresis (3 frequencies) and pulse response, to PNG; for an imported "
                                       "model its VACASK read I-V and read conductance")
    plot.add_argument("name")
    plot.add_argument("-o", "--out", type=Path, help="PNG file (default NAME.png)")
    plot.add_argument("--engine", choices=("numpy", "ngspice"),
                      help="built-in models: numpy (default) or ngspice; an imported model is always VACASK")
    plot.add_argument("--seed", type=arg_seed, default=0, help="seed of the random draws (stochastic models)")
    plot.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter (SI)")
    plot.add_argument("--json", action="store_true", help="print the plotted numbers as JSON")
    plot.set_defaults(func=_plot)
    models.set_defaults(func=lambda args: (models.print_help(), 1)[1])


def _list(args) -> int:
    from memspice.devices import all_model_names, get_model, model_names

    rows = []
    for name in all_model_names():
        m = get_model(name)
        kind = "continuous" if name in model_names() else "stochastic"
        title = m.definition.title if kind == "continuous" else m.title
        rows.append({"name": name, "kind": kind, "subckt": m.subckt_name, "title": title, "citation": m.citation})
    from memspice.commands.models_import import imported_rows

    rows += imported_rows()  # Verilog-A models imported with `memspice models import`
    if args.json:
        print_json(rows)
    else:
        print(format_table(["name", "kind", "subckt", "title"], [[r["name"], r["kind"], r["subckt"], r["title"]] for r in rows]))
    return 0


def _show(args) -> int:
    from memspice.commands.models_import import describe_card, imported_card
    from memspice.devices import all_model_names
    from memspice.devices.cards import card

    imported = imported_card(args.name) if args.name not in all_model_names() else None
    if imported is not None:  # a model imported with `memspice models import`
        if args.param:
            raise ParameterError("--param does not apply to an imported model; re-import it with --param")
        if args.json:
            print_json(imported)
        else:
            print(describe_card(imported))
        return 0
    from memspice.external.registry import builtin_model

    doc = card(builtin_model(args.name, parse_assignments(args.param), where="models show"))
    if args.json:
        print_json(doc)
        return 0
    m = doc["model"]
    print(f"{m['name']}: {m['title']} ({m['kind']}, subcircuit {m['subckt']})")
    print(f"source: {m['citation']}")
    s = doc["state"]
    print(f"state {s['name']} in [{s['min']:g}, {s['max']:g}] {s['unit']}: {s['description']}; "
          f"x0 = {s['x0_default']:g}; read at {s['v_read_v']:g} V")
    rows = [[k, v["value"], v["unit"], v["range"], v["description"]] for k, v in doc["parameters"].items()]
    print(format_table(["parameter", "value", "unit", "range", "description"], rows, "{:.6g}"))
    if "equations" in doc:
        print(f"i(V, X)  = {doc['equations']['current_a']}")
        print(f"dX/dt    = {doc['equations']['dxdt_per_s']}")
    return 0


def _imported_model(args, action: str):
    """The imported model ``args.name`` (None for a built-in name); --param refused (it lives on the card)."""
    from memspice.external.registry import is_imported, resolve_model

    if not is_imported(args.name):
        return None
    if args.param:
        raise ParameterError(f"--param does not apply to `models {action}` of the imported model {args.name}; "
                             "re-import it with --param NAME=VALUE")
    return resolve_model(args.name)


def _export(args) -> int:
    from memspice.devices.cards import card_text
    from memspice.external.registry import builtin_model

    if args.out:
        output_file(args.out, "--out")
    imported = _imported_model(args, "export")
    if imported is not None:
        from memspice.external.card import card_dict

        if args.format == "spice":
            raise ParameterError(f"--format spice: {args.name} is an imported Verilog-A model, which has no ngspice "
                                 "subcircuit (ngspice cannot load compiled Verilog-A; it runs in VACASK); export "
                                 "--format va (its source) or --format toml (its card)")
        if args.format == "toml":
            import tomli_w

            text = tomli_w.dumps(card_dict(imported))
        else:
            text = imported.verilog_a()
    else:
        m = builtin_model(args.name, parse_assignments(args.param), where="models export")
        text = {"va": m.verilog_a, "spice": m.spice_subckt, "toml": lambda: card_text(m)}[args.format or "spice"]()
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _plot(args) -> int:
    import numpy as np

    from memspice.cell.plots import plot_imported_model, plot_model
    from memspice.external.registry import builtin_model

    imported = _imported_model(args, "plot")
    out = output_file(args.out or Path(f"{args.name}.png"), "--out")
    if imported is not None:
        if args.engine is not None:
            raise ParameterError(f"--engine {args.engine}: the plot of the imported model {args.name} is its read "
                                 "table measured in VACASK; leave --engine out")
        summary = plot_imported_model(imported, out)
    else:
        m = builtin_model(args.name, parse_assignments(args.param), where="models plot")
        summary = plot_model(m, out, simulator=args.engine or "numpy", rng=np.random.default_rng(args.seed))
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {out}")
    return 0
