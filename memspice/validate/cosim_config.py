"""The ``[cosim]`` table of a training config: SPICE co-simulation checkpoints, as a checked value.

``[cosim]`` keys (a table of the training config):

``every_steps``      K: a checkpoint after every K-th mini-batch (0 = off; default 0)
``layer``            index of the layer (default -1, the last one)
``max_inputs``       tile inputs put in the crossbar (<= 64; default 16): the
                     inputs with the largest mean |x| in the batch (the bias
                     column included if it is among them)
``max_outputs``      outputs (<= 64, 2 columns each; default 8)
``n_reads``          read vectors per checkpoint (default 8)
``model``            compact model name; ``[cosim.model_params]`` its parameter overrides
                     (default: the tile's [tile.array] model, else memspice.validate.defaults,
                     VTEAM with k_on = -0.01 m/s)
``wire_ohm``         wire resistance per segment (default 0.01 ohm)
``amplitude_up_v``   signed cell voltage of a pulse that raises G (default -0.27)
``amplitude_down_v`` signed cell voltage of a pulse that lowers G (default 0.038)
``width_s``, ``edge_s``  pulse plateau and edges (default 50 ns, 5 ns)
``bl``               pulse-train length of the update (default: the rule's bl, else 10)
``learning_rate``    η of the update step (default: the rule's learning rate)
``resync``           copy the SPICE conductances back into the tile (default false)

With an array-aware tile (``[tile.array]``) the checkpoint's circuit defaults
to the tile's own: ``model``, ``model_params``, ``wire_ohm`` (the row wire),
the two amplitudes, ``width_s`` and ``edge_s`` are taken from [tile.array]
unless [cosim] sets them (:func:`cosim_table_with_tile`).

``surrogate``        what ``dg_rel_rms`` compares with ngspice: "array" (default; the
                     array-aware prediction of the same update on the same crossbar,
                     memspice.surrogate.array_write) or "tile" (the tile's own pulse
                     engine, wire-blind); both are always logged
``timeout_s``        wall-clock limit of one checkpoint (default memspice.spice.DEFAULT_TIMEOUT_S, 600)
``backend``          ngspice backend (default "subprocess")
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from memspice.config import check_table
from memspice.errors import ConfigError, ParameterError
from memspice.spice.settings import DEFAULT_TIMEOUT_S
from memspice.validate import defaults

__all__ = ["CosimConfig", "cosim_config_from_table", "cosim_table_with_tile", "COSIM_SURROGATES"]

#: what a checkpoint's dg_rel_rms compares with ngspice: the array-aware prediction or the tile's own pulses
COSIM_SURROGATES = ("array", "tile")

#: What to do when [cosim] names an imported Verilog-A model (memspice.external.registry.builtin_model's fix).
COSIM_IMPORTED_FIX = ("leave [cosim] out for it: check its writes with `memspice crossbar write --model NAME --engine "
                      "vacask` and train on its calibrated surrogate ([tile] model_file)")


@dataclass(frozen=True)
class CosimConfig:
    """The ``[cosim]`` table (see the module docstring)."""

    every_steps: int = 0
    layer: int = -1
    max_inputs: int = 16
    max_outputs: int = 8
    n_reads: int = 8
    model: str = defaults.MODEL
    model_params: dict = field(default_factory=lambda: dict(defaults.MODEL_PARAMS))
    wire_ohm: float = 0.01
    amplitude_up_v: float = defaults.AMPLITUDE_UP_V
    amplitude_down_v: float = defaults.AMPLITUDE_DOWN_V
    width_s: float = defaults.WIDTH_S
    edge_s: float = defaults.EDGE_S
    bl: int | None = None
    learning_rate: float | None = None
    resync: bool = False
    surrogate: str = "array"
    timeout_s: float = DEFAULT_TIMEOUT_S
    backend: str = "subprocess"

    @property
    def enabled(self) -> bool:
        return self.every_steps > 0


#: [cosim] keys that default to the tile's [tile.array] circuit, and the [tile.array] key each one reads
_FROM_TILE_ARRAY = {"model": "model", "model_params": "model_params", "amplitude_up_v": "amplitude_up_v",
                    "amplitude_down_v": "amplitude_down_v", "width_s": "width_s", "edge_s": "edge_s"}


def cosim_table_with_tile(cosim: dict, tile: dict) -> dict:
    """``cosim`` with the circuit keys it leaves out taken from the tile's ``[tile.array]`` (if any)."""
    array = (tile or {}).get("array")
    if not cosim or not isinstance(array, dict):
        return cosim
    out = dict(cosim)
    for key, src in _FROM_TILE_ARRAY.items():
        if key not in out and src in array:
            out[key] = array[src]
    if "wire_ohm" not in out:
        wire = array.get("row_wire_ohm", array.get("wire_ohm"))
        if wire is not None:
            out["wire_ohm"] = wire
    return out


def cosim_config_from_table(table: dict) -> CosimConfig:
    """A checked :class:`CosimConfig` from a ``[cosim]`` table (ConfigError on bad keys or values)."""
    fields = {f.name: f for f in dataclasses.fields(CosimConfig)}
    check_table(table, list(fields), "cosim")
    kw = {}
    for k, v in table.items():
        if k == "model_params":
            if not isinstance(v, dict) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values()):
                raise ConfigError(f"cosim.model_params must be a table of numbers, got {v!r}")
            v = {str(a): float(b) for a, b in v.items()}
        elif k in ("resync",):
            if not isinstance(v, bool):
                raise ConfigError(f"cosim.{k} = {v!r}: expected true or false")
        elif k in ("model", "backend", "surrogate"):
            if not isinstance(v, str):
                raise ConfigError(f"cosim.{k} = {v!r}: expected a string")
        elif k in ("every_steps", "layer", "max_inputs", "max_outputs", "n_reads", "bl"):
            if isinstance(v, bool) or not isinstance(v, int):
                raise ConfigError(f"cosim.{k} = {v!r}: expected an integer")
        else:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ConfigError(f"cosim.{k} = {v!r}: expected a finite number")
            v = float(v)
        kw[k] = v
    cfg = CosimConfig(**kw)
    if cfg.every_steps < 0:
        raise ConfigError(f"cosim.every_steps = {cfg.every_steps}: must be >= 0 (0 turns co-simulation off)")
    for k in ("max_inputs", "max_outputs"):
        if not 1 <= getattr(cfg, k) <= 64:
            raise ConfigError(f"cosim.{k} = {getattr(cfg, k)}: must lie in 1..64 (a SPICE checkpoint is at most a 64x64 tile)")
    if cfg.surrogate not in COSIM_SURROGATES:
        raise ConfigError(f"cosim.surrogate = {cfg.surrogate!r}: choose one of {', '.join(map(repr, COSIM_SURROGATES))}")
    if cfg.n_reads < 1:
        raise ConfigError(f"cosim.n_reads = {cfg.n_reads}: must be >= 1")
    if cfg.bl is not None and cfg.bl < 1:
        raise ConfigError(f"cosim.bl = {cfg.bl}: must be >= 1")
    for k in ("width_s", "edge_s", "timeout_s", "wire_ohm"):
        if getattr(cfg, k) < 0 or (k != "wire_ohm" and getattr(cfg, k) == 0):
            raise ConfigError(f"cosim.{k} = {getattr(cfg, k)}: must be > 0" + (" (or 0 for ideal wires)" if k == "wire_ohm" else ""))
    if cfg.learning_rate is not None and not cfg.learning_rate > 0:
        raise ConfigError(f"cosim.learning_rate = {cfg.learning_rate}: must be > 0")
    if cfg.amplitude_up_v == 0 or cfg.amplitude_down_v == 0:
        raise ConfigError("cosim.amplitude_up_v and amplitude_down_v must be non-zero voltages")
    from memspice.external.registry import builtin_model

    try:
        builtin_model(cfg.model, cfg.model_params, where="[cosim]", fix=COSIM_IMPORTED_FIX)
    except ParameterError as exc:
        raise ConfigError(f"[cosim] model: {exc}") from None
    return cfg
