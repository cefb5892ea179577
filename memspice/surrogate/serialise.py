"""TileConfig <-> plain dict (for checkpoints and TOML/JSON files).

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

__all__ = ["config_to_dict", "config_from_dict"]


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
