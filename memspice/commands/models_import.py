"""``memspice models import FILE.va``: bring your own Verilog-A device; and the imported models for list/show.

The action is added to ``memspice models`` by memspice/commands/models.py
(:func:`add_import_action`); this module defines no top-level command.
"""

from __future__ import annotations

from pathlib import Path

from memspice.commands.output import format_table, parse_assignments, print_json
from memspice.inputs import arg_float, check_name, input_file, output_file


def add_import_action(sub) -> None:
    """Add ``import`` to the actions of ``memspice models``."""
    imp = sub.add_parser(
        "import", help="import a Verilog-A model of your own (compiled with openvaf-r, simulated in VACASK)",
        description="Compile FILE.va, report its module, terminals, nodes and parameters, map the device "
                    "terminals and the state, measure its read table in VACASK and write a model card "
                    "(default: the user models folder, $MEMSPICE_MODELS or ~/.local/share/memspice/models).")
    imp.add_argument("file", type=Path, help="the Verilog-A source (.va)")
    imp.add_argument("--state", metavar="NAME",
                     help="internal node or output variable that is the state (default: the read conductance)")
    imp.add_argument("--terminals", nargs=2, metavar=("P", "N"),
                     help="the module terminals used as the cell's p and n (required for more than two terminals)")
    imp.add_argument("--init-param", metavar="NAME", help="instance parameter that sets the initial state")
    imp.add_argument("--state-range", nargs=2, type=arg_float, metavar=("LOW", "HIGH"),
                     help="range of the state (default: the init parameter's declared range)")
    imp.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a model parameter on the card (checked against its declared range)")
    imp.add_argument("--v-read", type=arg_float, default=0.1, metavar="V", help="read voltage (default 0.1 V)")
    imp.add_argument("--module", help="the module to use when the file defines several")
    imp.add_argument("--name", help="name of the imported model (default: the module name)")
    imp.add_argument("-o", "--out", type=Path, help="write the card here instead of the user models folder")
    imp.add_argument("--json", action="store_true", help="print the card as JSON")
    imp.set_defaults(func=_import)


def _import(args) -> int:
    from memspice.external.card import card_dict, write_external_card
    from memspice.external.importer import import_verilog_a

    input_file(args.file, "Verilog-A file")
    if args.name is not None:
        check_name(args.name, "--name")
    if args.out is not None:
        output_file(args.out, "--out")
    model = import_verilog_a(
        args.file, state=args.state, terminals=args.terminals, init_param=args.init_param,
        state_range=tuple(args.state_range) if args.state_range else None, params=parse_assignments(args.param),
        v_read_v=args.v_read, module=args.module, name=args.name,
    )
    path = write_external_card(model, args.out)
    doc = card_dict(model)
    doc["card"] = str(path)
    if model.table is not None:
        doc["read_conductance_s"] = {"at_min": float(model.conductance(model.x_min)),
                                     "at_max": float(model.conductance(model.x_max))}
    if args.json:
        print_json(doc)
        return 0
    print(describe_card(doc))
    print(f"wrote {path}")
    return 0


def describe_card(doc: dict) -> str:
    """What was found in the file and chosen on import, as text."""
    m, t, st, found = doc["model"], doc["terminals"], doc["state"], doc.get("found", {})
    lines = [f"{m['name']}: Verilog-A module {m['module']} from {m['source']} (external, VACASK engine)",
             f"terminals: {', '.join(t['ports'])}; device p = {t['p']}, n = {t['n']}"
             + (" (others tied to n)" if len(t["ports"]) > 2 else ""),
             f"internal nodes: {', '.join(found.get('internal_nodes', [])) or 'none'}; "
             f"output variables: {', '.join(found.get('output_variables', [])) or 'none'}"]
    if st["kind"] == "conductance":
        lines.append("state: the read conductance (no state chosen; pass --state NAME to use a node or output variable); "
                     "crossbars need a settable state")
    else:
        lines.append(f"state: {st['name']} ({st['kind']}) in [{st['min']:g}, {st['max']:g}], set per cell by "
                     f"instance parameter {st['init_param']}")
    lines.append(f"read voltage: {m['v_read_v']:g} V")
    if "read_conductance_s" in doc:
        g = doc["read_conductance_s"]
        lines.append(f"read conductance: {g['at_min']:.4g} S at the state's low end, {g['at_max']:.4g} S at its high end")
    values = doc.get("values", {})
    rows = [[k, values.get(k, v["default"]), v["default"], v["range"], v["kind"], v.get("units", "")]
            for k, v in doc["parameters"].items()]
    lines.append(format_table(["parameter", "value", "default", "range", "kind", "units"], rows, "{:.6g}"))
    return "\n".join(lines)


def imported_rows() -> list[dict]:
    """One row per imported model card (for ``memspice models list``)."""
    from memspice.external.card import imported_cards

    return [{"name": doc["model"]["name"], "kind": "external", "subckt": f"ext_{doc['model']['module']}",
             "title": f"Verilog-A module {doc['model']['module']} ({Path(doc['model']['source']).name})",
             "citation": doc["model"]["source"], "card": str(path)}
            for path, doc in imported_cards()]


def imported_card(name: str) -> dict | None:
    """The card of the imported model ``name``, or None."""
    from memspice.external.card import imported_cards

    for path, doc in imported_cards():
        if doc["model"]["name"] == name:
            return dict(doc, card=str(path))
    return None
