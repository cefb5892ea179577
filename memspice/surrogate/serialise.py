"""TileConfig <-> plain dict (for checkpoints and TOML/JSON files), and an AnalogTile's whole state as a dict.

A dataclass becomes {"type": "module.QualName", field: value, ...}; only
classes defined inside the memspice package are rebuilt, so a checkpoint
cannot make us import arbitrary code. Arrays (a Tabulated model's table)
become lists.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import numpy as np

from memspice.errors import DataError, MemspiceError
from memspice.surrogate.pulse_base import DeviceDraws

__all__ = ["config_to_dict", "config_from_dict", "tile_state_dict", "tile_from_state_dict"]

_STATE_FORMAT = "memspice.surrogate.AnalogTile/1"


def config_to_dict(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        out: dict[str, Any] = {"type": f"{cls.__module__}.{cls.__qualname__}"}
        for f in dataclasses.fields(value):
            out[f.name] = config_to_dict(getattr(value, f.name))
        return out
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "data": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"type": "tuple", "items": [config_to_dict(v) for v in value]}
    if isinstance(value, np.generic):
        return value.item()
    return value


def config_from_dict(data: Any) -> Any:
    if isinstance(data, dict) and "type" in data:
        kind = data["type"]
        if kind == "ndarray":
            return np.array(data["data"], dtype=data.get("dtype", "float64"))
        if kind == "tuple":
            return tuple(config_from_dict(v) for v in data["items"])
        module_name, _, qual = str(kind).rpartition(".")
        if not module_name.startswith("memspice."):
            raise DataError(f"config entry of type {kind!r}: only memspice classes can be restored.")
        try:
            cls = getattr(importlib.import_module(module_name), qual)
        except (ImportError, AttributeError):
            raise DataError(f"config entry of type {kind!r}: no such class in this memspice version.") from None
        if not dataclasses.is_dataclass(cls):
            raise DataError(f"config entry of type {kind!r} is not a dataclass.")
        kwargs = {k: config_from_dict(v) for k, v in data.items() if k != "type"}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(kwargs) - names
        if unknown:
            raise DataError(f"config entry of type {kind!r} has unknown fields {sorted(unknown)}.")
        try:
            return cls(**kwargs)
        except MemspiceError:
            raise
        except TypeError as exc:
            raise DataError(f"config entry of type {kind!r} cannot be built: {exc}.") from None
    if isinstance(data, list):
        return [config_from_dict(v) for v in data]
    return data


def tile_state_dict(tile) -> dict[str, Any]:
    """An AnalogTile's state as a plain dict of numpy arrays and its config (as a dict), for an exact round trip."""
    d = tile.draws
    out: dict[str, Any] = {
        "format": _STATE_FORMAT,
        "n_out": tile.n_out,
        "n_in": tile.n_in,
        "config": config_to_dict(tile.config),
        "g": tile._g.copy(),
        "t_prog_s": tile._t_prog.copy(),
        "time_s": tile.time_s,
        "lo_s": d.lo_s.copy(),
        "hi_s": d.hi_s.copy(),
        "f_up": d.f_up.copy(),
        "f_down": d.f_down.copy(),
    }
    if tile._nu is not None:
        out["nu"] = tile._nu.copy()
    mean_field = tile.__dict__.get("_mean_field")  # array-aware "mean-field" step factors and their age
    if mean_field is not None and mean_field["scale"] is not None:
        out["mean_field_batches"] = int(mean_field["batches"])
        out["mean_field_scale"] = mean_field["scale"].copy()
    if "_circuit_agreement" in tile.__dict__:  # circuit in the loop: this epoch's write-model agreement sums
        out["circuit_agreement"] = tile._circuit_agreement.copy()
    return out


def tile_from_state_dict(cls, state: dict[str, Any], rng: np.random.Generator):
    """The tile of class ``cls`` (AnalogTile) rebuilt from :func:`tile_state_dict`; ``rng`` drives its future draws."""
    if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
        raise DataError(
            f"not an AnalogTile checkpoint (format {state.get('format') if isinstance(state, dict) else None!r}, "
            f"expected {_STATE_FORMAT!r})."
        )
    try:
        config = config_from_dict(state["config"])
        n_out, n_in = int(state["n_out"]), int(state["n_in"])
        tile = cls.__new__(cls)
        tile.n_out, tile.n_in = n_out, n_in
        tile.config = config
        tile.mapping = config.weight_mapping
        tile.rng = rng
        shape = (2, n_out, n_in)
        arrays = {k: np.array(state[k], dtype=np.float64) for k in ("g", "t_prog_s", "lo_s", "hi_s", "f_up", "f_down")}
    except KeyError as exc:
        raise DataError(f"AnalogTile checkpoint misses the entry {exc}.") from None
    for k, a in arrays.items():
        if a.shape != shape:
            raise DataError(f"AnalogTile checkpoint entry {k!r} has shape {a.shape}, expected {shape}.")
    tile.draws = DeviceDraws(lo_s=arrays["lo_s"], hi_s=arrays["hi_s"], f_up=arrays["f_up"], f_down=arrays["f_down"])
    tile._g = arrays["g"]
    tile._t_prog = arrays["t_prog_s"]
    tile.time_s = float(state["time_s"])
    tile._nu = np.array(state["nu"], dtype=np.float64) if "nu" in state else None
    if config.read.has_drift and tile._nu is None:
        raise DataError("AnalogTile checkpoint has drift configured but no 'nu' entry.")
    tile._cache = {}
    if "mean_field_scale" in state:
        tile._mean_field = {"batches": int(state["mean_field_batches"]),
                            "scale": np.array(state["mean_field_scale"], dtype=np.float64)}
    if "circuit_agreement" in state:
        tile._circuit_agreement = np.array(state["circuit_agreement"], dtype=np.float64)
    return tile
