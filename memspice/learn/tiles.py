"""The ``[tile]`` table of a training config -> :class:`memspice.surrogate.TileConfig`, and tiles.

Keys of ``[tile]`` (all optional; the defaults give the surrogate's defaults):

``device``        name of a pulse-update model class of
                  :mod:`memspice.surrogate.pulse_models`: a family
                  ("ConstantStep", "LinearStep", "SoftBounds", "ExpStep",
                  "PowerStep", "PCMStatistical") or a preset that cites its
                  paper ("GokmenVlasov2016", "GongReRAMSoftBounds2018",
                  "GongReRAMExpStep2018", "TangECRAM2018",
                  "NandakumarPCM2018"), or "Tabulated" (dG tables over G, as
                  written by memspice calibrate). Default "ConstantStep".
``pair_scheme``   "auto" (default), "push_pull" or "unipolar" (how a signed
                  pulse count reaches G+ and G−; see memspice.surrogate.tile).
``update_engine`` "auto" (default), "closed_form" or "per_pulse".
``model_file``    a fitted model file written by ``memspice calibrate -o FILE``
                  (relative to the config file): its [tile] table gives
                  ``device`` and ``[tile.device_params]`` (leave both out
                  here); the other keys of this table still apply. The
                  config a run records holds the file's device itself, so
                  the run does not depend on the file afterwards.
``[tile.device_params]``  fields of the device class (``g_min_s``,
                  ``g_max_s``, ``dg_up_s``, ``c2c_rel``, ...), documented on
                  the class in memspice.surrogate.pulse_models; override the
                  class defaults.
``[tile.mapping]``  fields of :class:`memspice.surrogate.WeightMapping`
                  (``g_min_s``, ``g_max_s``, ``w_max``); when left out, the
                  device's [g_min_s, g_max_s] with w_max = 1.
``[tile.read]``   fields of :class:`memspice.surrogate.ReadConfig` (``mode``,
                  ``dac_bits``, ``adc_bits``, ``dac_range``, ``adc_range``,
                  ``out_noise_std``, ``g_noise_rel``, ``g_noise_abs_s``,
                  ``drift_nu``, ...) for the forward read; ``read_preset =
                  "PCMReadNandakumar2018"`` in [tile] starts from that preset.
``[tile.backward_read]``  the same for the transposed read (default: as [tile.read]).
``[tile.array]``  the crossbar's write circuit (array-aware coincidence
                  updates, memspice.surrogate.array_tile): ``model`` (compact
                  model name), ``[tile.array.model_params]``,
                  ``amplitude_up_v``, ``amplitude_down_v``, ``width_s``,
                  ``edge_s``, ``wire_ohm`` (row and column segments; or
                  ``row_wire_ohm`` / ``col_wire_ohm``), ``contact_ohm``,
                  ``driver_ohm``, ``refactor`` ("sample", "batch", "slot", or
                  "mean-field" for layers of any width, its write circuit
                  solved every ``refresh_every`` mini-batches); ``circuit_layers`` (e.g. [-1])
                  and ``circuit_engine`` ("vacask" or "ngspice") put those
                  layers' updates into the circuit engine (circuit in the
                  loop, layers of up to 64 x 64 weights). Without ``device`` the tile's
                  device is tabulated from that compact model at those pulses
                  (its window: [tile.mapping] if given, else the model's
                  whole range; the array's devices may leave the window,
                  the compact model bounds them). With [tile.read] mode =
                  "ir_drop" and no ``wire_r_ohm``, reads take the array's
                  row-wire resistance. Only the
                  "stochastic-coincidence" rule plays its pulses through it.

Unknown keys, unknown class names and invalid values are ConfigErrors.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from memspice.config import check_table
from memspice.errors import ConfigError, ParameterError
from memspice import surrogate
from memspice.surrogate import AnalogTile, ReadConfig, TileConfig, WeightMapping

_DEVICES = surrogate.PULSE_MODELS  # Tabulated included: tables from tabulate_compact_model / calibrate model files
_READ_PRESETS = {"ReadConfig": ReadConfig, "PCMReadNandakumar2018": surrogate.PCMReadNandakumar2018}
_TILE_KEYS = (
    "device", "pair_scheme", "update_engine", "read_preset", "device_params", "mapping", "read", "backward_read",
    "array", "model_file",
)


def expand_model_file(table: dict, base_dir=None) -> dict:
    """``table`` with its ``model_file`` replaced by the file's ``device`` and ``device_params``.

    A relative path is taken from ``base_dir`` (the config file's folder) when given.
    """
    if "model_file" not in table:
        return table
    from pathlib import Path

    from memspice.calibrate.modelfile import read_model_file, model_to_table

    name = table["model_file"]
    if not isinstance(name, str) or not name:
        raise ConfigError(f"tile.model_file = {name!r}: give the path of a model file written by memspice calibrate -o")
    clash = [k for k in ("device", "device_params") if k in table]
    if clash:
        raise ConfigError(f"[tile] has model_file = {name!r} and {' and '.join(clash)}: the model file gives the "
                          f"device; remove {' and '.join(clash)} (or model_file)")
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if path.is_dir() or not path.exists():
        raise ConfigError(f"tile.model_file = {name!r}: no file {path} (write one with `memspice calibrate ... -o FILE`)")
    model, _ = read_model_file(path)
    rest = {k: v for k, v in table.items() if k != "model_file"}
    return {**model_to_table(model), **rest}


def array_write_from_table(table: dict) -> "surrogate.ArrayWriteConfig":
    """The :class:`memspice.surrogate.ArrayWriteConfig` of a ``[tile.array]`` table."""
    names = [f.name for f in dataclasses.fields(surrogate.ArrayWriteConfig)] + ["wire_ohm"]
    check_table(table, names, "tile.array")
    kw = dict(table)
    if "wire_ohm" in kw:
        w = kw.pop("wire_ohm")
        kw.setdefault("row_wire_ohm", w)
        kw.setdefault("col_wire_ohm", w)
    params = kw.get("model_params", {})
    if not isinstance(params, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in params.values()):
        raise ConfigError(f"tile.array.model_params must be a table of numbers, got {params!r}")
    kw["model_params"] = tuple(params.items())
    if "circuit_layers" in kw:
        if not isinstance(kw["circuit_layers"], (list, tuple)):
            raise ConfigError(f"tile.array.circuit_layers = {kw['circuit_layers']!r}: give a list of layer indices, e.g. [-1]")
        kw["circuit_layers"] = tuple(kw["circuit_layers"])
    try:
        cfg = surrogate.ArrayWriteConfig(**kw)
        cfg.compact_model()
    except (ParameterError, TypeError) as exc:
        raise ConfigError(f"[tile.array]: {exc}") from None
    return cfg


def _fields_from_table(cls, table, where: str, base=None):
    check_table(table, [f.name for f in dataclasses.fields(cls)], where)
    kwargs = {}
    for key, value in table.items():
        if isinstance(value, list):
            value = tuple(value)  # TOML arrays for tuple fields such as dac_range
        if isinstance(value, dict):
            raise ConfigError(f"{where}.{key} is a table; expected a number, string or list")
        kwargs[key] = value
    try:
        if base is not None:
            return dataclasses.replace(base, **kwargs)
        return cls(**kwargs)
    except (ParameterError, TypeError) as exc:
        raise ConfigError(f"[{where}]: {exc}") from None


def tile_config_from_table(table: dict) -> TileConfig:
    """The :class:`TileConfig` described by a ``[tile]`` table (see the module docstring)."""
    check_table(table, _TILE_KEYS, "tile")
    array = array_write_from_table(table["array"]) if "array" in table else None
    device_name = table.get("device", "ConstantStep")
    if device_name not in _DEVICES:
        raise ConfigError(f"tile.device = {device_name!r}: choose one of {', '.join(_DEVICES)}")
    if array is not None and "device" not in table:
        device = surrogate.tabulate_compact_model(array.compact_model(), array.amplitude_up_v, array.amplitude_down_v,
                                                  array.width_s, rise_s=array.edge_s, fall_s=array.edge_s)
        if "mapping" in table:  # the operating window: the tile's nominal step (dw_min) is the window's
            window = _fields_from_table(WeightMapping, table["mapping"], "tile.mapping")
            device = dataclasses.replace(device, g_min_s=window.g_min_s, g_max_s=window.g_max_s)
        if table.get("device_params"):
            raise ConfigError("[tile.device_params] needs [tile] device; with [tile.array] alone the device is the "
                              "array's compact model")
    else:
        device = _fields_from_table(_DEVICES[device_name], table.get("device_params", {}), "tile.device_params")
    mapping = None
    if "mapping" in table:
        mapping = _fields_from_table(WeightMapping, table["mapping"], "tile.mapping")
    preset_name = table.get("read_preset", "ReadConfig")
    if preset_name not in _READ_PRESETS:
        raise ConfigError(f"tile.read_preset = {preset_name!r}: choose one of {', '.join(_READ_PRESETS)}")
    read_table = dict(table.get("read", {}))
    if array is not None and read_table.get("mode") == "ir_drop" and "wire_r_ohm" not in read_table:
        read_table["wire_r_ohm"] = array.row_wire_ohm  # one wire value: the array's, for its reads too
    read = _fields_from_table(ReadConfig, read_table, "tile.read", base=_READ_PRESETS[preset_name]())
    backward = None
    if "backward_read" in table:
        backward = _fields_from_table(ReadConfig, table["backward_read"], "tile.backward_read")
    for key in ("pair_scheme", "update_engine"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"tile.{key} = {table[key]!r}: expected a string")
    try:
        return TileConfig(
            device=device,
            mapping=mapping,
            read=read,
            backward_read=backward,
            pair_scheme=table.get("pair_scheme", "auto"),
            update_engine=table.get("update_engine", "auto"),
            array_write=array,
        )
    except ParameterError as exc:
        raise ConfigError(f"[tile]: {exc}") from None


def make_tile(n_out: int, n_cols: int, config: TileConfig, rng: np.random.Generator) -> AnalogTile:
    """A fresh tile (its device-to-device draws come from ``rng``, which it keeps for later draws)."""
    return AnalogTile(n_out, n_cols, config, rng)


def tile_from_state(state: dict, rng: np.random.Generator) -> AnalogTile:
    """A tile restored from ``AnalogTile.state_dict()``, continuing with ``rng``."""
    return AnalogTile.from_state_dict(state, rng)
