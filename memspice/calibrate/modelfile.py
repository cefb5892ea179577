"""Fitted model files (TOML): written by calibration, read by the surrogate and ``memspice train``.

Layout::

    format = "memspice.calibrate.fitted/1"

    [tile]                       # exactly the [tile] table of a training config
    device = "SoftBounds"        # a class of memspice.surrogate
    [tile.device_params]         # its fields, SI units (names carry them)
    g_min_s = 2.0e-06
    ...

    [calibration]                # provenance and fit quality; loaders ignore it
    family = "soft-bounds"
    source = "..."
    potentiation_polarity = 1
    rms_error_s = ...
    [calibration.stderr]         # one standard error per fitted field
    g_min_s = ...

The ``[tile]`` table is the format memspice.learn.tiles.tile_config_from_table
reads, so it can be pasted into (or included by) a training config unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import tomli_w

from memspice.config import read_toml
from memspice import surrogate
from memspice.errors import DataError, MemspiceError
from memspice.surrogate import PulseModel, TileConfig

__all__ = ["FORMAT", "model_to_table", "model_from_table", "write_model_file", "read_model_file", "load_tile_config"]

FORMAT = "memspice.calibrate.fitted/1"


def model_to_table(model: PulseModel) -> dict:
    """{"device": class name, "device_params": {field: value}} for a surrogate pulse model."""
    name = type(model).__name__
    if surrogate.PULSE_MODELS.get(name) is not type(model):
        raise MemspiceError(f"{name} is not a class exported by memspice.surrogate; it cannot be written to a model file.")
    params = {}
    for f in dataclasses.fields(model):
        v = getattr(model, f.name)
        if isinstance(v, tuple | list | np.ndarray):
            v = [float(x) for x in v]
        elif isinstance(v, np.generic):
            v = v.item()
        params[f.name] = v
    return {"device": name, "device_params": params}


def model_from_table(table: Mapping, where: str = "[tile]") -> PulseModel:
    """Inverse of model_to_table (TOML arrays become the tuples the dataclasses hold)."""
    name = table.get("device")
    cls = surrogate.PULSE_MODELS.get(str(name)) if name is not None else None
    if cls is None:
        raise DataError(f"{where}: device = {name!r} is not a pulse-update model class of memspice.surrogate.")
    params = dict(table.get("device_params", {}))
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise DataError(f"{where}.device_params: unknown field(s) {unknown} for {cls.__name__}.")
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    return cls(**kw)


def _clean(value):
    """TOML has no NaN/inf in every reader's taste and no None: make them strings."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def write_model_file(path: str | Path, model: PulseModel, calibration: Mapping | None = None, header: str = "") -> Path:
    """Write ``model`` (and a [calibration] table of provenance and fit figures) as TOML."""
    path = Path(path)
    doc = {"format": FORMAT, "tile": model_to_table(model)}
    if calibration:
        doc["calibration"] = _clean(dict(calibration))
    text = tomli_w.dumps(_clean(doc))
    if header:
        text = "".join(f"# {line}\n" for line in header.splitlines()) + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_model_file(path: str | Path) -> tuple[PulseModel, dict]:
    """(model, calibration table) from a fitted model file."""
    path = Path(path)
    doc = read_toml(path, "model file", hint="write one with `memspice calibrate ... -o FILE`", error=DataError)
    if doc.get("format") != FORMAT:
        raise DataError(f"{path}: format = {doc.get('format')!r}, expected {FORMAT!r} (a file written by memspice calibrate).")
    if "tile" not in doc:
        raise DataError(f"{path}: no [tile] table.")
    return model_from_table(doc["tile"], where=f"{path} [tile]"), doc.get("calibration", {})


def load_tile_config(path: str | Path, **tile_fields) -> TileConfig:
    """A surrogate TileConfig whose device is the fitted model of ``path`` (other fields as given)."""
    model, _ = read_model_file(path)
    return TileConfig(device=model, **tile_fields)
