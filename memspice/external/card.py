"""Model cards of imported Verilog-A devices, and the user's folder of them.

``memspice models import FILE.va`` writes one TOML card per device into the
user models folder -- ``$MEMSPICE_MODELS``, else ``$XDG_DATA_HOME/memspice/models``,
else ``~/.local/share/memspice/models`` -- and ``memspice models list/show``
list them beside the built-in models. A card records what was found in the
file and the choices made on import::

    format = "memspice.devices.external/1"
    [model]       name, module, source (absolute path), source_sha256, v_read_v
    [terminals]   p, n (module terminals), ports (all, in port order)
    [state]       kind (node | opvar | conductance), name, init_param, min, max
    [values]      parameter values set on import (model card overrides)
    [parameters.NAME]   default, range, kind (model | instance), type, units, description

:func:`load_external_card` rebuilds the device from the card (recompiling from
the cache and re-measuring the read table); a source file that changed since
the import is an error (re-import it), so a card never silently describes
another model.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path

import tomli_w

from memspice.errors import ConfigError
from memspice.external.importer import import_verilog_a
from memspice.external.model import ExternalModel
from memspice.spice import RunSettings

__all__ = ["FORMAT", "card_dict", "imported_cards", "load_external_card", "user_models_dir", "write_external_card"]

#: The card format tag (it names the module the format began in; kept so existing cards load).
FORMAT = "memspice.devices.external/1"


def user_models_dir() -> Path:
    """Folder of imported model cards: ``$MEMSPICE_MODELS``, else the XDG user data folder."""
    env = os.environ.get("MEMSPICE_MODELS")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "memspice" / "models"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_dict(model: ExternalModel) -> dict:
    """The card of ``model`` as a plain dict (what the TOML file holds)."""
    iface = model.interface
    st = model.state
    state = {"kind": st.kind, "min": float(st.x_min), "max": float(st.x_max)}
    if st.name:
        state["name"] = st.name
    if st.init_param:
        state["init_param"] = st.init_param
        state["x0_default"] = float(model.x0_default)
    params = {}
    for p in iface.parameters:
        entry = {"default": p.default, "range": p.range_text(), "kind": p.kind, "type": p.type}
        if p.units:
            entry["units"] = p.units
        if p.description:
            entry["description"] = p.description
        params[p.name] = entry
    return {
        "format": FORMAT,
        "model": {"name": model.name, "kind": "external-verilog-a", "module": iface.module,
                  "source": str(Path(iface.source).resolve()), "source_sha256": _sha256(Path(iface.source)),
                  "v_read_v": float(model.v_read_v)},
        "terminals": {"p": model.terminals[0], "n": model.terminals[1], "ports": list(iface.terminals)},
        "state": state,
        "found": {"internal_nodes": list(iface.internal_nodes), "output_variables": list(iface.opvars),
                  "instance_parameters": list(iface.instance_parameters)},
        "values": {k: v for k, v in model.params.items()},
        "parameters": params,
    }


def write_external_card(model: ExternalModel, path: str | os.PathLike | None = None) -> Path:
    """Write the card of ``model`` (default: ``<user models dir>/<name>.toml``); returns its path."""
    from memspice.devices import all_model_names

    if model.name in all_model_names():
        raise ConfigError(f"an imported model cannot be called {model.name!r}: that is a built-in model's name; "
                          "give it another with name=NAME (--name NAME)")
    target = Path(path) if path is not None else user_models_dir() / f"{model.name}.toml"
    header = (f"# {model.name}: external Verilog-A device imported by `memspice models import`; "
              "re-import after editing the .va\n")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + tomli_w.dumps(card_dict(model)))
    return target


def _read(path: Path) -> dict:
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable model card ({exc})") from None
    if doc.get("format") != FORMAT:
        raise ConfigError(f"{path}: format = {doc.get('format')!r}, expected {FORMAT!r} "
                          "(a card written by `memspice models import`)")
    return doc


def load_external_card(path: str | os.PathLike, *, params: dict | None = None,
                       settings: RunSettings | None = None) -> ExternalModel:
    """The device of a card written by :func:`write_external_card` (compiled from cache, table re-measured;
    ``params``: parameter values over the card's own (checked like the card's); ``settings``: the time limit
    of that VACASK run, default :class:`~memspice.spice.RunSettings()`)."""
    path = Path(path)
    doc = _read(path)
    try:
        m, t, st = doc["model"], doc["terminals"], doc["state"]
        source = Path(m["source"])
        if not source.is_file():
            raise ConfigError(f"{path}: the Verilog-A source {source} is gone; re-import the model from its new place")
        if _sha256(source) != m["source_sha256"]:
            raise ConfigError(f"{path}: {source} changed since it was imported; re-run "
                              f"`memspice models import {source}` to refresh the card")
        state_range = (float(st["min"]), float(st["max"])) if st["kind"] != "conductance" else None
        return import_verilog_a(source, state=st.get("name"), terminals=(t["p"], t["n"]),
                                init_param=st.get("init_param"), state_range=state_range,
                                params={**doc.get("values", {}), **dict(params or {})}, v_read_v=float(m["v_read_v"]),
                                module=m["module"], name=m["name"], settings=settings)
    except KeyError as exc:
        raise ConfigError(f"{path}: model card lacks the key {exc}; re-import the model") from None


def imported_cards(folder: str | os.PathLike | None = None) -> list[tuple[Path, dict]]:
    """(path, card dict) of every imported model card in ``folder`` (default: the user models dir), by name."""
    folder = Path(folder) if folder is not None else user_models_dir()
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.glob("*.toml")):
        try:
            out.append((p, _read(p)))
        except ConfigError:
            continue  # not one of ours (a fitted surrogate file, a note): not an imported model
    return out
