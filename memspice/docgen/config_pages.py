"""The config reference: every key of the TOML files memspice reads, from the dataclasses that read them."""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import functools
import inspect
import os
import re
import sys
import textwrap
import typing
from pathlib import Path

from memspice.docgen.common import _anchor, _HEADER, KeyDoc, TableDoc, ROOT, REFERENCE_DIR  # noqa: F401


# --------------------------------------------------------------------------- descriptions from the source

def _clean(text: str) -> str:
    """One paragraph: whitespace collapsed, RST double backquotes -> Markdown code."""
    text = " ".join(textwrap.dedent(text).split())
    return re.sub(r"``([^`]+)``", r"`\1`", text)


@functools.lru_cache(maxsize=None)
def _class_field_docs(cls) -> dict[str, str]:
    """Field name -> docstring or ``#:`` / trailing comment, from ``cls``'s own source (not its bases)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    out: dict[str, str] = {}
    body = node.body
    for i, stmt in enumerate(body):
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        name = stmt.target.id
        nxt = body[i + 1] if i + 1 < len(body) else None
        if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            out[name] = _clean(nxt.value.value)
            continue
        last = lines[stmt.end_lineno - 1]
        m = re.search(r"#:?\s*(.+)$", last)
        if m and "#" not in _strip_strings(last[: m.start()]):
            out[name] = _clean(m.group(1))
            continue
        before, j = [], stmt.lineno - 2
        while j >= 0 and lines[j].strip().startswith("#:"):
            before.insert(0, lines[j].strip()[2:])
            j -= 1
        if before:
            out[name] = _clean(" ".join(before))
    return out


def _strip_strings(code: str) -> str:
    return re.sub(r"(\"[^\"]*\"|'[^']*')", "", code)


def field_docs(cls) -> dict[str, str]:
    """Field name -> description for a dataclass, its bases' fields included (the nearest class wins)."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            out.update(_class_field_docs(klass))
    return out


_RST_KEY = re.compile(r"^(\s*)((?:``[A-Za-z_][\w.<>]*``(?:\s*,\s*|\s+and\s+|\s*/\s*)?)+)(.*)$")
_LITERAL_KEY = re.compile(r"^\s*([a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*)\s*(?:=\s*[^#]*?)?\s*#\s*(.*)$")
_LITERAL_TABLE = re.compile(r"^\s*\[([a-z_.]+)\]\s*(?:#\s*(.*))?$")


@functools.lru_cache(maxsize=None)
def docstring_keys(module_name: str) -> dict[tuple[str, str], str]:
    """(table, key) -> description from a module docstring; table "" for RST definition entries.

    Two styles are read: RST-like entries (a line starting with ````key````, the
    text after it and on the more indented lines below), and a ``::`` literal
    TOML example whose lines ``key = value  # text`` sit under ``[table]``
    headings (continuation ``# ...`` lines are appended).
    """
    module = sys.modules.get(module_name) or __import__(module_name, fromlist=["_"])
    doc = inspect.getdoc(module) or ""
    lines = doc.splitlines()
    out: dict[tuple[str, str], str] = {}
    table = ""
    last: list[tuple[str, str]] = []
    in_literal = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            in_literal, table, last = True, "", []
            i += 1
            continue
        if in_literal and line.strip() and not line.startswith(" "):
            in_literal = False
        if in_literal:
            m = _LITERAL_TABLE.match(line)
            if m:
                table, last = m.group(1), []
            elif (m := _LITERAL_KEY.match(line)) and not line.lstrip().startswith("#"):
                last = [(table, k.strip()) for k in m.group(1).split(",")]
                for k in last:
                    out[k] = _clean(m.group(2))
            elif line.strip().startswith("#") and last:
                for k in last:
                    out[k] = out[k] + " " + _clean(line.strip()[1:])
            i += 1
            continue
        m = _RST_KEY.match(line)
        if m:
            indent = len(m.group(1))
            names = re.findall(r"``([^`]+)``", m.group(2))
            text = [m.group(3)]
            i += 1
            while i < len(lines) and lines[i].strip() and (len(lines[i]) - len(lines[i].lstrip())) > indent \
                    and not _RST_KEY.match(lines[i]):
                text.append(lines[i])
                i += 1
            desc = _clean(" ".join(text))
            for name in names:
                out.setdefault(("", name), desc)
            continue
        i += 1
    return out


# --------------------------------------------------------------------------- types and defaults

def _type_name(annotation) -> str:
    """A field's annotation (a string under ``from __future__ import annotations``) in TOML words."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    parts = [p.strip() for p in re.split(r"\|(?![^\[]*\])", text)]
    words = []
    for p in parts:
        if p == "None":
            continue
        base = p.split("[")[0].split(".")[-1]
        words.append({"str": "string", "int": "integer", "float": "float", "bool": "boolean", "tuple": "array",
                      "list": "array", "dict": "table", "Path": "path"}.get(base, base))
    return " or ".join(words) or "none"


def _toml(value) -> str:
    """A default value as it would be written in TOML (None: not set)."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}" if value else "{}"
    if dataclasses.is_dataclass(value):
        return type(value).__name__ + "()"
    return str(value)


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        return _toml(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return _toml(f.default_factory())
    return "required"


def dataclass_keys(cls, *, skip=(), fallback=(), tables: dict[str, str] | None = None) -> tuple[KeyDoc, ...]:
    """The keys of a table read into dataclass ``cls``: one per field (``skip``: fields that are not keys).

    ``fallback``: (module name, docstring table) pairs whose docstring entries describe fields the class
    leaves undocumented; ``tables``: field -> note for fields that are sub-tables documented elsewhere.
    """
    docs = field_docs(cls)
    hints = {}
    with contextlib.suppress(Exception):
        hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        desc = docs.get(f.name, "")
        for module_name, table in fallback:
            if desc:
                break
            entries = docstring_keys(module_name)
            desc = entries.get((table, f.name), "") or entries.get(("", f.name), "")
        if tables and f.name in tables:
            desc = (desc + " " if desc else "") + tables[f.name]
        ann = f.type if isinstance(f.type, str) else hints.get(f.name, f.type)
        out.append(KeyDoc(f.name, _type_name(ann), _default(f), desc))
    return tuple(out)


# --------------------------------------------------------------------------- the config files

TRAIN = "training config"
VALIDATE = "validate-update job"
SWEEP = "sweep file"


def _training_tables() -> list[TableDoc]:
    from memspice.energy import config as energy_config
    from memspice.energy.estimate import DigitalCosts, EnergyModel
    from memspice.learn import config as learn_config
    from memspice.learn import config_tables, tiles
    from memspice.learn.rules import RULES, RuleConfig
    from memspice.surrogate import PULSE_MODELS, ArrayWriteConfig, ReadConfig, WeightMapping
    from memspice.validate.cosim_config import CosimConfig

    lc = "memspice.learn.config"
    top = dataclass_keys(learn_config.TrainConfig, skip=learn_config._SECTIONS, fallback=[(lc, "")])
    out = [TableDoc(TRAIN, "", "Top-level keys of a training config (`memspice train CONFIG`); every other key "
                    "lives in one of the tables below.", top, "memspice.learn.config.TrainConfig")]

    def table(name, cls, intro, **kw):
        out.append(TableDoc(TRAIN, name, intro, dataclass_keys(cls, **kw), f"{cls.__module__}.{cls.__qualname__}"))

    table("[data]", config_tables.DataConfig, _clean(config_tables.DataConfig.__doc__.split("\n")[0]))
    table("[network]", config_tables.NetworkConfig, _clean(config_tables.NetworkConfig.__doc__.split("\n\n")[0]),
          tables={"conv": "Each entry is a `[[network.conv]]` table (below)."})
    table("[[network.conv]]", config_tables.ConvLayerConfig,
          _clean(config_tables.ConvLayerConfig.__doc__.split("\n\n")[0]))
    table("[training]", config_tables.TrainingConfig, _clean(config_tables.TrainingConfig.__doc__.split("\n\n")[0]))

    names = ", ".join(f'"{n}"' for n in RULES)
    common = (KeyDoc("name", "string", '"sgd"', f"The learning rule: one of {names}; the other keys are the "
                     "fields of that rule's config (tables below)."),
              *dataclass_keys(RuleConfig))
    out.append(TableDoc(TRAIN, "[rule]", "The learning rule and its keys; `learning_rate` is common to all.",
                        common, "memspice.learn.rules.registry.RULES"))
    common_names = {f.name for f in dataclasses.fields(RuleConfig)}
    for rule_name, entry in RULES.items():
        cls = entry.config
        keys = dataclass_keys(cls, skip=common_names)
        intro = _clean((cls.__doc__ or "").split("\n\n")[0])
        out.append(TableDoc(TRAIN, f'[rule] name = "{rule_name}"', intro, keys, f"{cls.__module__}.{cls.__qualname__}"))

    tile_docs = docstring_keys("memspice.learn.tiles")
    tile_keys = []
    for key in tiles._TILE_KEYS:
        desc = tile_docs.get(("", key), "") or tile_docs.get(("", f"[tile.{key}]"), "")
        sub = {"device_params": "[tile.device_params]", "mapping": "[tile.mapping]", "read": "[tile.read]",
               "backward_read": "[tile.backward_read]", "array": "[tile.array]"}.get(key)
        if sub:
            desc = f"A sub-table: see `{sub}` below. " + desc
        tile_keys.append(KeyDoc(key, "table" if sub else "string", _TILE_DEFAULTS.get(key, "not set"), desc))
    out.append(TableDoc(TRAIN, "[tile]", "The analog tile of every rule but \"sgd\": device model, weight mapping, "
                        "reads, and optionally the crossbar's write circuit.", tuple(tile_keys), "memspice.learn.tiles"))
    for name, cls in PULSE_MODELS.items():
        first = _clean((cls.__doc__ or "").split("\n\n")[0])
        table(f'[tile.device_params] with device = "{name}"', cls, first)
    table("[tile.mapping]", WeightMapping, _clean(WeightMapping.__doc__.split("\n\n")[0]))
    table("[tile.read]", ReadConfig, _clean(ReadConfig.__doc__.split("\n\n")[0]) +
          " `[tile.backward_read]` (the transposed read) takes the same keys; without it the backward read is "
          "the forward one.")
    array_keys = (*dataclass_keys(ArrayWriteConfig, tables={"model_params": "Given as the table "
                                                            "`[tile.array.model_params]` (name = value)."}),
                  KeyDoc("wire_ohm", "float", "not set", "Sets `row_wire_ohm` and `col_wire_ohm` together "
                         "(each may still be given on its own)."))
    out.append(TableDoc(TRAIN, "[tile.array]", _clean(tile_docs.get(("", "[tile.array]"), "")), array_keys,
                        "memspice.surrogate.ArrayWriteConfig"))
    table("[cosim]", CosimConfig, "SPICE co-simulation checkpoints: every `every_steps` mini-batches one layer's "
          "tile runs as a crossbar in ngspice and the surrogate's prediction is compared with it.",
          fallback=[("memspice.validate.cosim_config", "")],
          tables={"model_params": "Given as the table `[cosim.model_params]` (name = value)."})

    energy_docs = docstring_keys("memspice.energy.config")
    fields = {f.name: (cls, f) for cls in (EnergyModel, DigitalCosts) for f in dataclasses.fields(cls)}
    energy_keys = []
    for key in energy_config.KEYS:
        desc = energy_docs.get(("", key), "")
        if key in fields:
            cls, f = fields[key]
            desc = field_docs(cls).get(key, "") or desc
            energy_keys.append(KeyDoc(key, _type_name(f.type), _default(f), desc))
        else:
            energy_keys.append(KeyDoc(key, "path", "the shipped table", desc))
    out.append(TableDoc(TRAIN, "[energy]", "The energy estimate every run writes (the `energy_*_j` columns of "
                        "metrics.csv); digital costs default to " + _clean(DigitalCosts.__doc__.split("\n\n")[0]),
                        tuple(energy_keys), "memspice.energy.config"))
    return out


#: defaults of the [tile] keys that are not dataclass fields (tile_config_from_table's .get defaults)
_TILE_DEFAULTS = {"device": '"ConstantStep"', "pair_scheme": '"auto"', "update_engine": '"auto"',
                  "read_preset": '"ReadConfig"'}


def _validate_tables() -> list[TableDoc]:
    from memspice.validate import config as vc

    mod = "memspice.validate.config"
    out = [TableDoc(VALIDATE, "", "Top-level keys of a validate-update job (`memspice validate-update --config "
                    "JOB.toml`).", dataclass_keys(vc.ValidateConfig, skip=tuple(vc._SECTIONS), fallback=[(mod, "")]),
                    "memspice.validate.config.ValidateConfig")]
    notes = {"model_params": "Given as the table `[crossbar.model_params]` (name = value)."}
    for name, cls in vc._SECTIONS.items():
        intro = docstring_keys(mod).get((name, ""), "") or _clean((cls.__doc__ or "").split("\n\n")[0]) \
            if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "(") else ""
        out.append(TableDoc(VALIDATE, f"[{name}]", intro,
                            dataclass_keys(cls, fallback=[(mod, name)], tables=notes if name == "crossbar" else None),
                            f"{cls.__module__}.{cls.__qualname__}"))
    return out


def _sweep_tables() -> list[TableDoc]:
    from memspice.sweep import spec, tasks

    mod = "memspice.sweep.spec"
    docs = docstring_keys(mod)
    sweep_fields = {f.name: f for f in dataclasses.fields(spec.SweepSpec)}
    sweep_docs = field_docs(spec.SweepSpec)
    head = []
    for key in spec._SWEEP_KEYS:
        desc = docs.get(("sweep", key), "") or sweep_docs.get(key, "")
        f = sweep_fields.get(key)
        default = _default(f) if f is not None and f.name != "output" else ("<file stem>.csv" if key == "output"
                                                                            else "required")
        head.append(KeyDoc(key, "boolean" if key == "parquet" else "string", default, desc))
    out = [TableDoc(SWEEP, "[sweep]", "What the sweep runs and where its results table goes "
                    "(`memspice sweep run FILE`). `[base]` holds the parameters every point shares, `[grid]` lists "
                    "whose every combination is run, `[[cases]]` parameter sets that vary together; all take the "
                    "keys of the task kind below.", tuple(head), "memspice.sweep.spec")]
    for kind, task in tasks.TASKS.items():
        keys = [KeyDoc(k, _sweep_type(key.types), "required" if key.required else "optional", _clean(key.doc))
                for k, key in task.keys.items()]
        keys += [KeyDoc(p + "<name>", _sweep_type(key.types), "optional", _clean(key.doc))
                 for p, key in getattr(task, "prefixes", {}).items()]
        intro = _clean((type(task).__doc__ or "").split("\n\n")[0])
        out.append(TableDoc(SWEEP, f'parameters of kind = "{kind}"', intro, tuple(keys),
                            f"{type(task).__module__}.{type(task).__qualname__}"))
    return out


def _sweep_type(types: tuple) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array", dict: "table"}
    if set(types) >= {int, float}:
        types = tuple(t for t in types if t is not int)
    return " or ".join(names.get(t, t.__name__) for t in types)


def config_tables() -> list[TableDoc]:
    """Every table of every config file memspice reads, in page order."""
    return [*_training_tables(), *_validate_tables(), *_sweep_tables()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def render_config() -> str:
    tables = config_tables()
    lines = [_HEADER, "# Config reference", "",
             "Every key of the TOML files memspice reads, generated from the code that reads them "
             "(`python -m memspice.docgen`). Unknown keys are errors, never ignored. Units are SI and "
             "sit in the key's name (`_s` seconds, `_v` volts, `_ohm` ohms, `_s` on a conductance: siemens).", ""]
    files = [TRAIN, VALIDATE, SWEEP]
    titles = {TRAIN: "Training config (`memspice train CONFIG`)",
              VALIDATE: "Validate-update job (`memspice validate-update --config JOB`)",
              SWEEP: "Sweep file (`memspice sweep run FILE`)"}
    lines.append("Contents:")
    lines.append("")
    for file in files:
        lines.append(f"- [{titles[file]}](#{_anchor(titles[file])})")
    for file in files:
        lines += ["", f"## {titles[file]}", ""]
        for t in (t for t in tables if t.file == file):
            heading = t.name if t.name else "top level"
            lines += [f"### {file}: {heading}", ""]
            if t.intro:
                lines += [t.intro, ""]
            lines += [f"Source: `{t.source}`.", "", "| key | type | default | description |", "|---|---|---|---|"]
            lines += [f"| `{k.key}` | {_cell(k.type)} | {_cell(k.default)} | {_cell(k.description)} |" for k in t.keys]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
