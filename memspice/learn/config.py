"""Training configuration: a TOML file -> a checked :class:`TrainConfig` of frozen dataclasses.

A configuration file has a top-level ``seed`` and tables; unknown keys, keys
of the wrong type and keys that do not apply to the chosen rule or data set
are errors (:class:`~memspice.errors.ConfigError`), never ignored. Each
table's keys are documented where they are defined, one field (with its
symbol, unit, meaning and default) per key:

``seed`` (int >= 0, default 1)
    Seeds every random draw of the run: the train/validation(/test) split,
    the initial weights, the shuffling, the pulse trains and the devices'
    variability. Same seed, same config -> identical metrics and weights.
``[data]``, ``[network]`` (with ``conv``), ``[training]``
    :class:`~memspice.learn.config_tables.DataConfig`,
    :class:`~memspice.learn.config_tables.NetworkConfig` (and
    :class:`~memspice.learn.config_tables.ConvLayerConfig`),
    :class:`~memspice.learn.config_tables.TrainingConfig`.
``[rule]``
    ``name`` picks the rule (default "sgd"); the other keys are the fields of
    that rule's config class, listed in :mod:`memspice.learn.rules` and
    documented in each rule's module (``learning_rate``, common to all:
    :class:`~memspice.learn.rules.base.RuleConfig`). The registry
    :data:`memspice.learn.rules.registry.RULES` is the one list of rules.
``[tile]``
    the surrogate tile for every rule but "sgd" (device model and its
    parameters, weight mapping, read path):
    :func:`memspice.learn.tiles.tile_config_from_table`.
``[cosim]`` (optional)
    SPICE co-simulation checkpoints: every K mini-batches a layer's tile runs
    as a crossbar in ngspice; :mod:`memspice.validate.cosim`.
``[energy]`` (optional)
    the energy estimate every run writes (``energy_*_j`` columns of
    metrics.csv per epoch, the run's totals and the table used in
    operations.json): ``table`` (a SPICE-measured energy table from
    ``memspice energy measure``, path relative to the config) and the
    encodings and digital costs of :mod:`memspice.energy.config`. Without
    ``table`` (or without [energy]) the counts are priced with the table
    memspice ships, measured in ngspice on an 8x8 VTEAM crossbar (the default
    device of memspice.validate.defaults, k_on = −0.01 m/s, every cell at
    x = 0.5, ideal wires), reads at 10 mV, programming pulses −0.27 V / 50 ns,
    V/2 (:mod:`memspice.energy.default`: its provenance and the command that
    regenerates it); operations.json then names it ``default: ...``. An
    explicit ``table`` always wins.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memspice.config import read_toml
from memspice.errors import ConfigError
from memspice.learn.config_tables import (
    DATASETS,
    IMAGE_SHAPES,
    ConvLayerConfig,
    DataConfig,
    NetworkConfig,
    TrainingConfig,
    data_config_from_table,
    data_dict,
    network_config_from_table,
    training_config_from_table,
)
from memspice.learn.rules import RULES, RuleConfig, SGDConfig, rule_config_dict, rule_config_from_table
from memspice.learn.table_values import check_value

_SECTIONS = ("data", "network", "training", "rule", "tile", "cosim", "energy")


@dataclass(frozen=True)
class TrainConfig:
    """A whole run. ``rule`` is the config of the rule ``[rule] name`` picks (one of the config classes of
    :data:`memspice.learn.rules.RULES`); ``tile`` is the raw [tile] table (validated when the tile is built)."""

    seed: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    rule: RuleConfig = field(default_factory=SGDConfig)
    tile: dict = field(default_factory=dict)
    cosim: dict = field(default_factory=dict)
    """The raw [cosim] table: SPICE co-simulation checkpoints (memspice.validate.cosim); empty = off."""
    energy: dict = field(default_factory=dict)
    """The raw [energy] table: energy model for the per-epoch estimate (memspice.energy.config); empty = the
    shipped default table (memspice.energy.default)."""

    def to_dict(self) -> dict:
        """Plain dict (TOML-shaped) of the whole configuration; it loads back with :func:`config_from_dict`.

        Keys that belong to another rule or data set are not in the dict (they do not exist for this run).
        """
        out = {"seed": self.seed, "data": data_dict(self.data)}
        for name in ("network", "training"):
            section = dataclasses.asdict(getattr(self, name))
            out[name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in section.items() if v is not None}
        if not self.network.conv:
            out["network"].pop("conv")  # an MLP's dict is what it was before conv layers existed (resume)
        if self.training.learning_rate_decay == 1.0:
            out["training"].pop("learning_rate_decay")  # likewise before the schedule existed
        if self.training.target_loss is None:
            out["training"].pop("target_action")  # likewise before loss targets existed
        out["rule"] = rule_config_dict(self.rule)
        if self.tile:
            out["tile"] = self.tile
        if self.cosim:
            out["cosim"] = self.cosim
        if self.energy:
            out["energy"] = self.energy
        return out


def config_from_dict(doc: dict, base_dir: Path | None = None) -> TrainConfig:
    """A :class:`TrainConfig` from a TOML-shaped dict; ``base_dir`` resolves relative data paths."""
    known = ["seed", *_SECTIONS]
    if not isinstance(doc, dict):
        raise ConfigError(f"a training configuration is a TOML table, got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(known))
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {', '.join(unknown)}; the top level has: {', '.join(known)}")
    for name in _SECTIONS:
        if name in doc and not isinstance(doc[name], dict):
            raise ConfigError(f"[{name}] must be a table (a [{name}] section with key = value lines), got {doc[name]!r}")
    seed = check_value(doc.get("seed", 1), int, "seed")
    if seed < 0:
        raise ConfigError(f"seed = {seed}: must be >= 0")
    data = data_config_from_table(doc.get("data", {}), base_dir)
    network = network_config_from_table(doc.get("network", {}), data.name)
    training = training_config_from_table(doc.get("training", {}))
    rule = rule_config_from_table(doc.get("rule", {}))
    rule.check_activation(network.activation)
    analog = RULES[rule.name].rule.uses_tiles(rule)

    tile = doc.get("tile", {})
    if not isinstance(tile, dict):
        raise ConfigError(f"[tile] must be a table, got {tile!r}")
    if network.weight_scaling_omega is not None and not analog:
        raise ConfigError(
            f"network.weight_scaling_omega applies to analog rules only, not rule.name = {rule.name!r}; remove it"
        )
    if tile and analog:
        from memspice.learn.tiles import expand_model_file

        tile = expand_model_file(tile, base_dir)
    if tile and not analog:
        raise ConfigError(
            f"[tile] is given but rule.name = {rule.name!r} trains floating-point weights; remove [tile]"
        )
    cosim = doc.get("cosim", {})
    if cosim:
        from memspice.validate.cosim_config import cosim_config_from_table

        if cosim_config_from_table(cosim).enabled and not analog:
            raise ConfigError(f"[cosim] checkpoints run a layer's tile in SPICE; rule.name = {rule.name!r} has no tiles")
    energy = doc.get("energy", {})
    if energy:
        from memspice.energy.config import energy_model_from_table

        energy = dict(energy)
        if base_dir is not None and "table" in energy and not Path(energy["table"]).is_absolute():
            energy["table"] = str((base_dir / energy["table"]).resolve())
        energy_model_from_table(energy)  # checks the keys and loads the table now, not mid-run
    config = TrainConfig(seed, data, network, training, rule, tile, cosim, energy)
    if analog:
        from memspice.learn.tiles import tile_config_from_table

        tc = tile_config_from_table(tile)  # validate now, not after the data are loaded
        if tc.array_write is not None and rule.name != "stochastic-coincidence":
            raise ConfigError(f"[tile.array]: array-aware writes play stochastic-coincidence pulse trains; rule.name = "
                              f"{rule.name!r} updates with pulse counts (leave [tile.array] out or use that rule)")
    return config


def set_dotted(doc: dict, overrides: Mapping[str, Any], where: str) -> dict:
    """``doc`` with each dotted key of ``overrides`` set to its value, in place.

    ``{"rule.learning_rate": 1.0, "seed": 2}`` sets ``doc["rule"]["learning_rate"]``
    and ``doc["seed"]``; missing tables are created. A dotted key whose parent
    is not a table (``seed.x``) is a ConfigError naming ``where``. Whether the
    key exists is left to :func:`config_from_dict`, which rejects unknown keys.
    """
    for name, value in overrides.items():
        *parents, leaf = name.split(".")
        if not leaf or not all(parents):
            raise ConfigError(f"{name!r} in {where}: not a key path such as rule.learning_rate")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name!r} in {where}: {part!r} is not a table of the config")
        node[leaf] = value
    return doc


def parse_override(text: str) -> tuple[str, Any]:
    """``"rule.learning_rate=1.0"`` -> ``("rule.learning_rate", 1.0)``: the value is read as TOML.

    Numbers, booleans, quoted strings, arrays and inline tables are TOML
    values; anything else that TOML cannot read (``tile.device=ConstantStep``)
    is taken as a bare string, so names need no shell-escaped quotes.
    """
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. --set rule.learning_rate=1.0")
    try:
        return key, tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key, value


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read and validate a training configuration file (TOML).

    ``overrides`` (dotted key -> value, see :func:`set_dotted`) replace the
    file's values before validation: ``memspice train --set`` and the train
    sweeps use it.
    """
    path = Path(path)
    doc = read_toml(path, "config file", hint="see examples/ for shipped configs")
    if overrides:
        set_dotted(doc, overrides, f"the overrides of {path}")
    try:
        return config_from_dict(doc, base_dir=path.resolve().parent)
    except ConfigError as exc:
        with_overrides = " with " + ", ".join(f"{k}={v!r}" for k, v in overrides.items()) if overrides else ""
        raise ConfigError(f"{path}{with_overrides}: {exc}") from None


__all__ = ["DATASETS", "IMAGE_SHAPES", "ConvLayerConfig", "DataConfig", "NetworkConfig", "RuleConfig",
           "TrainConfig", "TrainingConfig", "config_from_dict", "load_config", "parse_override", "set_dotted"]
