"""Training configuration: TOML file -> frozen dataclasses, with every key documented.

A configuration file has a top-level ``seed`` and five tables (six with the optional [cosim]). Unknown keys,
keys of the wrong type and keys that do not apply to the chosen rule or
dataset are errors (:class:`~memspice.errors.ConfigError`), never ignored.

``seed`` (int, default 1)
    Seeds every random draw of the run: the train/validation(/test) split,
    the initial weights, the shuffling, the pulse trains and the devices'
    variability. Same seed, same config -> identical metrics and weights.

``[data]`` — :class:`DataConfig`
    ``name``                "digits" (default), "fashion-mnist" or "idx".
    ``directory``           fashion-mnist only: folder with the four IDX files
                            (default /usr/share/datasets/fashion-mnist, from
                            Debian's dataset-fashion-mnist package).
    ``train_images``, ``train_labels``, ``test_images``, ``test_labels``
                            idx only (all four required): paths of an IDX
                            pair set, gzip'd or not (MNIST layout). Relative
                            paths are taken from the config file's folder.
    ``validation_fraction`` fraction of the training data held out for
                            validation each epoch (default 0.1).
    ``test_fraction``       digits only: fraction held out as the test set
                            (default 0.2; digits has no official test split).
    ``max_train``           keep only this many training samples (default all).
    ``max_test``            keep only this many test samples (default all).

``[network]`` — :class:`NetworkConfig`
    ``sizes``               layer widths, inputs first, classes last
                            (default [64, 32, 10], for digits). Must match
                            the dataset (64 or 784 inputs, 10 classes).
                            With ``conv``, the first entry is still the
                            image's pixel count and the dense layers are
                            ``sizes[1:]``, fed by the last conv layer's
                            F·H'·W' outputs (e.g. [64, 10]: conv, then one
                            dense layer of 10 classes).
    ``conv``                convolution layers between the input image and
                            the dense layers (default none: an MLP), a list
                            of tables, one per layer, in order::

                                conv = [{filters = 8, kernel = 3}]

                            ``filters`` F (output channels, >= 1) and
                            ``kernel`` k (k x k filters, >= 1); valid
                            (no padding), stride 1, so an H x W image gives
                            (H−k+1) x (W−k+1) outputs per filter, the next
                            layer's image. Each conv layer is one tile of
                            F x (C·k·k + 1) read once per output position
                            (im2col, memspice.learn.conv); every rule trains
                            it with the conv gradient. Images: digits
                            1x8x8, fashion-mnist 1x28x28.
    ``image_shape``         data.name = "idx" with ``conv`` only (required
                            there): [channels, height, width] of the images,
                            e.g. [1, 28, 28] for MNIST; its product must be
                            sizes[0].
    ``activation``          hidden activation: "sigmoid" (default), "relu" or
                            "logistic4" (logistic(4y), the neuron of
                            binary-stochastic).
                            The output is always softmax + cross-entropy.
    ``weight_scaling_omega`` analog rules only: each layer's largest initial
                            weight is put at ω·w_max on its tile and a
                            digital output gain restores the layer's scale
                            (aihwkit's weight scaling; default: none, gain 1).
                            With few device levels (32) this spends them on
                            the weight range the layer actually uses.

``[training]`` — :class:`TrainingConfig`
    ``epochs``              passes over the training set (default 10).
    ``batch_size``          samples per mini-batch (default 32).
    ``eval_batch_size``     samples per forward chunk when evaluating
                            (default 1000; changes speed and memory only).
    ``learning_rate_decay`` γ in (0, 1]: epoch e (0-based) trains with
                            η·γ^e, for every rule alike (default 1: constant
                            η). Pulsed rules whose weights move in whole device
                            steps gain most: a smaller η late in training
                            means fewer, not smaller, random pulses.

``[rule]`` — :class:`RuleConfig`
    ``name``                "sgd" (floating-point baseline, default),
                            "stochastic-coincidence", "mixed-precision",
                            "binary-stochastic", "sbe", "cbram-sc" or
                            "tiki-taka" (the last four: issue 8, see
                            memspice.learn.rules_binary, rules_sbe,
                            rules_cbram_sc, rules_tiki_taka).
    ``learning_rate``       η of the mini-batch SGD step −(η/B)Σ δ xᵀ that
                            every rule targets (default 0.1).
    ``bl``                  stochastic-coincidence, sbe, tiki-taka:
                            pulse-train length BL (default 10).
    ``update_management``   stochastic-coincidence, sbe, tiki-taka: balance
                            the row and column probabilities (Gokmen &
                            Vlasov 2017; default true).
    ``refresh_every``       mixed-precision: mini-batches between refreshes
                            of the differential pairs (default 100, 0 = never).
    ``refresh_threshold``   mixed-precision: refresh a pair when G+ or G−
                            is above this fraction of [g_min, g_max]
                            (default 0.45, below the PCM fixed point 10.6 µS).
    ``epsilon``             mixed-precision: device step ε in weight units
                            (default: from the tile, see
                            memspice.learn.rules.default_epsilon).
    ``threshold``           binary-stochastic: accumulated change (weight
                            units) that fires one pulse (default: the
                            tile's dw_min).
    ``sample_inputs``       binary-stochastic: Bernoulli-sample the inputs
                            (default true). Needs network.activation =
                            "logistic4".
    ``rank``                sbe: outer products per mini-batch (default 1).
    ``pulse_mode``          sbe: "coincidence" (default) or "rounded".
    ``stream_length``       cbram-sc: bits per stochastic stream (default 64).
    ``amplitude_bits``      cbram-sc: resolution of the CBRAM pulse-amplitude
                            DAC (default: unquantised).
    ``transfer_learning_rate``  tiki-taka: η of the A -> C transfer (default 0.1).
    ``transfer_every``      tiki-taka: mini-batches between transfers (default 1).
    ``columns_per_transfer``  tiki-taka: columns of A moved per transfer (default 1).
    ``symmetry_pulses``     tiki-taka: up/down pulse pairs that bring A to its
                            symmetry point (zero shift; default 500).

``[cosim]`` — optional SPICE co-simulation checkpoints (``every_steps``,
``layer``, ...): every K mini-batches a layer's tile runs as a crossbar in
ngspice; see :mod:`memspice.learn.cosim` for its keys.

``[energy]`` — optional settings of the energy estimate every run writes
(``energy_*_j`` columns of metrics.csv, per epoch; the run's totals and the
table used in operations.json): ``table`` (a SPICE-measured energy table
from ``memspice energy measure``, path relative to the config) and the
encodings and digital costs of :mod:`memspice.energy.config`. Without
``table`` (or without [energy]) the counts are priced with the table
memspice ships, measured in ngspice on an 8x8 VTEAM crossbar (the default
device of memspice.validate.defaults, k_on = −0.01 m/s, every cell at
x = 0.5, ideal wires), reads at 10 mV, programming pulses −0.27 V / 50 ns,
V/2 (:mod:`memspice.energy.default`: its provenance and the command that
regenerates it); operations.json then names it ``default: ...``. An explicit
``table`` always wins.

``[tile]`` — the surrogate tile for every rule but "sgd"; see
:func:`memspice.learn.tiles.tile_config_from_table` for its keys (device
model and its parameters, weight mapping, read path).
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memspice.config import check_table, read_toml
from memspice.errors import ConfigError

DATASETS = ("digits", "fashion-mnist", "idx")
RULE_NAMES = (
    "sgd", "stochastic-coincidence", "mixed-precision", "binary-stochastic", "sbe", "cbram-sc", "tiki-taka",
)

# Keys of [rule] that only one rule uses; given with another rule they are an error.
_RULE_ONLY_KEYS = {
    "bl": ("stochastic-coincidence", "sbe", "tiki-taka"),
    "update_management": ("stochastic-coincidence", "sbe", "tiki-taka"),
    "threshold": "binary-stochastic",
    "sample_inputs": "binary-stochastic",
    "rank": "sbe",
    "pulse_mode": "sbe",
    "stream_length": "cbram-sc",
    "amplitude_bits": "cbram-sc",
    "transfer_learning_rate": "tiki-taka",
    "transfer_every": "tiki-taka",
    "columns_per_transfer": "tiki-taka",
    "symmetry_pulses": "tiki-taka",
    "refresh_every": "mixed-precision",
    "refresh_threshold": "mixed-precision",
    "epsilon": "mixed-precision",
}
_DATA_ONLY_KEYS = {
    "directory": "fashion-mnist",
    "train_images": "idx",
    "train_labels": "idx",
    "test_images": "idx",
    "test_labels": "idx",
    "test_fraction": "digits",
}


@dataclass(frozen=True)
class DataConfig:
    name: str = "digits"
    directory: str | None = None
    train_images: str | None = None
    train_labels: str | None = None
    test_images: str | None = None
    test_labels: str | None = None
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    max_train: int | None = None
    max_test: int | None = None


IMAGE_SHAPES = {"digits": (1, 8, 8), "fashion-mnist": (1, 28, 28)}
"""(channels, height, width) of the named datasets' images (data.name = "idx": network.image_shape)."""


@dataclass(frozen=True)
class ConvLayerConfig:
    """One entry of ``network.conv``: ``filters`` F output channels of ``kernel`` x ``kernel`` filters."""

    filters: int
    kernel: int


@dataclass(frozen=True)
class NetworkConfig:
    sizes: tuple[int, ...] = (64, 32, 10)
    activation: str = "sigmoid"
    weight_scaling_omega: float | None = None
    conv: tuple[ConvLayerConfig, ...] = ()
    image_shape: tuple[int, ...] | None = None

    def input_shape(self, data_name: str) -> tuple[int, int, int] | None:
        """(C, H, W) of the input images for a CNN on ``data_name``; None for an MLP."""
        if not self.conv:
            return None
        return self.image_shape if self.image_shape is not None else IMAGE_SHAPES[data_name]

    def label(self) -> str:
        """Short description for titles: "64-32-10", or with conv layers "64-conv8k3-10"."""
        parts = [str(self.sizes[0])] + [f"conv{c.filters}k{c.kernel}" for c in self.conv]
        return "-".join(parts + [str(s) for s in self.sizes[1:]])


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 10
    batch_size: int = 32
    eval_batch_size: int = 1000
    learning_rate_decay: float = 1.0


@dataclass(frozen=True)
class RuleConfig:
    name: str = "sgd"
    learning_rate: float = 0.1
    bl: int = 10
    update_management: bool = True
    refresh_every: int = 100
    refresh_threshold: float = 0.45
    epsilon: float | None = None
    threshold: float | None = None
    sample_inputs: bool = True
    rank: int = 1
    pulse_mode: str = "coincidence"
    stream_length: int = 64
    amplitude_bits: int | None = None
    transfer_learning_rate: float = 0.1
    transfer_every: int = 1
    columns_per_transfer: int = 1
    symmetry_pulses: int = 500


@dataclass(frozen=True)
class TrainConfig:
    """A whole run. ``tile`` is the raw [tile] table (validated when the tile is built)."""

    seed: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    rule: RuleConfig = field(default_factory=RuleConfig)
    tile: dict = field(default_factory=dict)
    cosim: dict = field(default_factory=dict)
    """The raw [cosim] table: SPICE co-simulation checkpoints (memspice.learn.cosim); empty = off."""
    energy: dict = field(default_factory=dict)
    """The raw [energy] table: energy model for the per-epoch estimate (memspice.energy.config); empty = the
    shipped default table (memspice.energy.default)."""

    def to_dict(self) -> dict:
        """Plain dict (TOML-shaped) of the whole configuration."""
        out = {"seed": self.seed}
        for name in ("data", "network", "training", "rule"):
            section = dataclasses.asdict(getattr(self, name))
            out[name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in section.items() if v is not None}
        if not self.network.conv:
            out["network"].pop("conv")  # an MLP's dict is what it was before conv layers existed (resume)
        if self.training.learning_rate_decay == 1.0:
            out["training"].pop("learning_rate_decay")  # likewise before the schedule existed
        # Keys that belong to another rule or data set are left out (their
        # defaults are inert here), so the dict loads back with config_from_dict.
        for key, only in _RULE_ONLY_KEYS.items():
            if self.rule.name not in (only if isinstance(only, tuple) else (only,)):
                out["rule"].pop(key, None)
        for key, only in _DATA_ONLY_KEYS.items():
            if self.data.name != only:
                out["data"].pop(key, None)
        if self.tile:
            out["tile"] = self.tile
        if self.cosim:
            out["cosim"] = self.cosim
        if self.energy:
            out["energy"] = self.energy
        return out


def _check_value(value, hint, where: str):
    """``value`` converted to the field type ``hint``, or ConfigError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _check_value(value, args[0], where)
    if origin is tuple:
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{where} = {value!r}: expected a non-empty list of integers, e.g. [64, 32, 10]")
        return tuple(_check_value(v, typing.get_args(hint)[0], f"{where}[{i}]") for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} = {value!r}: expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} = {value!r}: expected an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} = {value!r}: expected a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} = {value!r}: expected a string")
        return value
    raise AssertionError(f"unhandled config type {hint}")


def _section(cls, table, name: str):
    check_table(table, [f.name for f in dataclasses.fields(cls)], name)
    hints = typing.get_type_hints(cls)
    return cls(**{k: _check_value(v, hints[k], f"{name}.{k}") for k, v in table.items()})


def _conv_layers(value) -> tuple[ConvLayerConfig, ...]:
    """``network.conv`` (a list of {filters, kernel} tables) as ConvLayerConfig values, or ConfigError."""
    example = "e.g. conv = [{filters = 8, kernel = 3}]"
    if not isinstance(value, list):
        raise ConfigError(f"network.conv = {value!r}: expected a list of tables, {example}")
    layers = []
    for i, entry in enumerate(value):
        where = f"network.conv[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} = {entry!r}: expected a table with filters and kernel, {example}")
        check_table(entry, ["filters", "kernel"], where)
        missing = [k for k in ("filters", "kernel") if k not in entry]
        if missing:
            raise ConfigError(f"{where} needs {' and '.join(missing)}, {example}")
        layer = _section(ConvLayerConfig, entry, where)
        for key in ("filters", "kernel"):
            if getattr(layer, key) < 1:
                raise ConfigError(f"{where}.{key} = {getattr(layer, key)}: must be >= 1")
        layers.append(layer)
    return tuple(layers)


def _check_conv_shapes(network: NetworkConfig, data_name: str) -> None:
    """image_shape only where it applies; every kernel fits the image it sees; the pixels match sizes[0]."""
    if network.image_shape is not None:
        if not network.conv:
            raise ConfigError("network.image_shape applies only with network.conv (a CNN); remove it")
        if data_name != "idx":
            raise ConfigError(
                f"network.image_shape applies only to data.name = 'idx'; {data_name!r} images are "
                f"{'x'.join(map(str, IMAGE_SHAPES[data_name]))}: remove it"
            )
        if len(network.image_shape) != 3 or min(network.image_shape) < 1:
            raise ConfigError(
                f"network.image_shape = {list(network.image_shape)}: give [channels, height, width], all >= 1, "
                "e.g. [1, 28, 28] for MNIST"
            )
    if not network.conv:
        return
    if network.image_shape is None and data_name not in IMAGE_SHAPES:
        raise ConfigError(
            f"network.conv with data.name = {data_name!r} needs network.image_shape = [channels, height, width] "
            "of the images, e.g. [1, 28, 28] for MNIST"
        )
    shape = network.input_shape(data_name)
    pixels = shape[0] * shape[1] * shape[2]
    if network.sizes[0] != pixels:
        raise ConfigError(
            f"network.sizes[0] = {network.sizes[0]}, but the {'x'.join(map(str, shape))} input images have "
            f"{pixels} pixels; start sizes with {pixels} (the dense layers are sizes[1:])"
        )
    height, width = shape[1:]
    for i, layer in enumerate(network.conv):
        if layer.kernel > min(height, width):
            seen = "the input image" if i == 0 else f"the output of network.conv[{i - 1}]"
            raise ConfigError(
                f"network.conv[{i}].kernel = {layer.kernel} is larger than its {height}x{width} input "
                f"({seen}, valid convolution without padding); use kernel <= {min(height, width)}, "
                "or fewer or smaller conv layers before it"
            )
        height, width = height - layer.kernel + 1, width - layer.kernel + 1  # valid, stride 1


def config_from_dict(doc: dict, base_dir: Path | None = None) -> TrainConfig:
    """A :class:`TrainConfig` from a TOML-shaped dict; ``base_dir`` resolves relative data paths."""
    known = ["seed", "data", "network", "training", "rule", "tile", "cosim", "energy"]
    if not isinstance(doc, dict):
        raise ConfigError(f"a training configuration is a TOML table, got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(known))
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {', '.join(unknown)}; the top level has: {', '.join(known)}")
    for name in known[1:]:
        if name in doc and not isinstance(doc[name], dict):
            raise ConfigError(f"[{name}] must be a table (a [{name}] section with key = value lines), got {doc[name]!r}")
    seed = _check_value(doc.get("seed", 1), int, "seed")
    if seed < 0:
        raise ConfigError(f"seed = {seed}: must be >= 0")
    data_table = dict(doc.get("data", {}))
    data = _section(DataConfig, data_table, "data")
    if data.name not in DATASETS:
        raise ConfigError(f"data.name = {data.name!r}: choose one of {', '.join(DATASETS)}")
    for key, only in _DATA_ONLY_KEYS.items():
        if key in data_table and data.name != only:
            raise ConfigError(f"data.{key} applies only to data.name = {only!r}, not {data.name!r}; remove it")
    if data.name == "idx":
        missing = [k for k in ("train_images", "train_labels", "test_images", "test_labels") if k not in data_table]
        if missing:
            raise ConfigError(f"data.name = 'idx' needs the paths {', '.join('data.' + m for m in missing)}")
    if base_dir is not None:
        resolved = {}
        for key in ("directory", "train_images", "train_labels", "test_images", "test_labels"):
            value = getattr(data, key)
            if value is not None and not Path(value).is_absolute():
                resolved[key] = str((base_dir / value).resolve())
        data = dataclasses.replace(data, **resolved)
    for key in ("max_train", "max_test"):
        value = getattr(data, key)
        if value is not None and value < 1:
            raise ConfigError(f"data.{key} = {value}: must be >= 1 (leave it out to use all samples)")
    for key in ("validation_fraction", "test_fraction"):
        value = getattr(data, key)
        if not 0.0 < value < 1.0:
            raise ConfigError(f"data.{key} = {value}: must lie strictly between 0 and 1")

    network_table = doc.get("network", {})
    check_table(network_table, [f.name for f in dataclasses.fields(NetworkConfig)], "network")
    network_table = dict(network_table)
    conv = _conv_layers(network_table.pop("conv", []))
    network = dataclasses.replace(_section(NetworkConfig, network_table, "network"), conv=conv)
    if len(network.sizes) < 2 or min(network.sizes) < 1:
        raise ConfigError(f"network.sizes = {list(network.sizes)}: give at least two widths, all >= 1")
    _check_conv_shapes(network, data.name)
    omega = network.weight_scaling_omega
    if omega is not None and not 0.0 < omega <= 1.0:
        raise ConfigError(f"network.weight_scaling_omega = {omega}: must lie in (0, 1]")
    if network.activation not in ("sigmoid", "relu", "logistic4"):
        raise ConfigError(
            f"network.activation = {network.activation!r}: choose 'sigmoid', 'relu' or 'logistic4' "
            "(logistic(4y), for rule 'binary-stochastic')"
        )

    training = _section(TrainingConfig, doc.get("training", {}), "training")
    for key in ("epochs", "batch_size", "eval_batch_size"):
        if getattr(training, key) < 1:
            raise ConfigError(f"training.{key} = {getattr(training, key)}: must be >= 1")
    if not 0.0 < training.learning_rate_decay <= 1.0:
        raise ConfigError(
            f"training.learning_rate_decay = {training.learning_rate_decay}: the per-epoch factor must lie in (0, 1] "
            "(1 keeps the learning rate constant)"
        )

    rule_table = dict(doc.get("rule", {}))
    rule = _section(RuleConfig, rule_table, "rule")
    if rule.name not in RULE_NAMES:
        raise ConfigError(f"rule.name = {rule.name!r}: choose one of {', '.join(RULE_NAMES)}")
    for key, only in _RULE_ONLY_KEYS.items():
        allowed = only if isinstance(only, tuple) else (only,)
        if key in rule_table and rule.name not in allowed:
            names = " or ".join(repr(a) for a in allowed)
            raise ConfigError(f"rule.{key} applies only to rule.name = {names}, not {rule.name!r}; remove it")
    if not rule.learning_rate > 0.0:
        raise ConfigError(f"rule.learning_rate = {rule.learning_rate}: must be > 0")
    if rule.bl < 1:
        raise ConfigError(f"rule.bl = {rule.bl}: the pulse-train length must be >= 1 (10 is typical)")
    if rule.refresh_every < 0:
        raise ConfigError(f"rule.refresh_every = {rule.refresh_every}: must be >= 0 (0 disables refresh)")
    if rule.epsilon is not None and not rule.epsilon > 0.0:
        raise ConfigError(f"rule.epsilon = {rule.epsilon}: must be > 0 (weight units)")
    if not 0.0 < rule.refresh_threshold <= 1.0:
        raise ConfigError(f"rule.refresh_threshold = {rule.refresh_threshold}: must lie in (0, 1]")
    for key, low in (("rank", 1), ("stream_length", 1), ("transfer_every", 1), ("columns_per_transfer", 1),
                     ("symmetry_pulses", 0), ("amplitude_bits", 1)):
        value = getattr(rule, key)
        if value is not None and value < low:
            raise ConfigError(f"rule.{key} = {value}: must be >= {low}")
    for key in ("threshold", "transfer_learning_rate"):
        value = getattr(rule, key)
        if value is not None and not value > 0.0:
            raise ConfigError(f"rule.{key} = {value}: must be > 0")
    if rule.pulse_mode not in ("coincidence", "rounded"):
        raise ConfigError(f"rule.pulse_mode = {rule.pulse_mode!r}: choose 'coincidence' or 'rounded'")
    if rule.name == "binary-stochastic" and network.activation != "logistic4":
        raise ConfigError(
            f"rule.name = 'binary-stochastic' trains neurons logistic(4y); set network.activation = 'logistic4' "
            f"(not {network.activation!r})"
        )

    tile = doc.get("tile", {})
    if not isinstance(tile, dict):
        raise ConfigError(f"[tile] must be a table, got {tile!r}")
    if omega is not None and rule.name == "sgd":
        raise ConfigError("network.weight_scaling_omega applies to analog rules only, not rule.name = 'sgd'; remove it")
    if tile and rule.name == "sgd":
        raise ConfigError("[tile] is given but rule.name = 'sgd' trains floating-point weights; remove [tile]")
    cosim = doc.get("cosim", {})
    if cosim:
        from memspice.validate.cosim_config import cosim_config_from_table

        if cosim_config_from_table(cosim).enabled and rule.name == "sgd":
            raise ConfigError("[cosim] checkpoints run a layer's tile in SPICE; rule.name = 'sgd' has no tiles")
    energy = doc.get("energy", {})
    if energy:
        from memspice.energy.config import energy_model_from_table

        energy = dict(energy)
        if base_dir is not None and "table" in energy and not Path(energy["table"]).is_absolute():
            energy["table"] = str((base_dir / energy["table"]).resolve())
        energy_model_from_table(energy)  # checks the keys and loads the table now, not mid-run
    config = TrainConfig(seed, data, network, training, rule, tile, cosim, energy)
    if rule.name != "sgd":
        from memspice.learn.tiles import tile_config_from_table

        tile_config_from_table(tile)  # validate now, not after the data are loaded
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
