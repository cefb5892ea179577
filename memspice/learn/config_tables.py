"""The ``[data]``, ``[network]`` and ``[training]`` tables of a training config: documented frozen
dataclasses (one field per key) and the checks of their values."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from memspice.config import check_table
from memspice.errors import ConfigError, ParameterError
from memspice.inputs import check_allocation
from memspice.learn.table_values import read_section

DATASETS = ("digits", "fashion-mnist", "idx")

# Keys of [data] that only one data set uses; given with another they are an error.
_DATA_ONLY_KEYS = {
    "directory": "fashion-mnist",
    "train_images": "idx",
    "train_labels": "idx",
    "test_images": "idx",
    "test_labels": "idx",
    "test_fraction": "digits",
}
_IDX_PATHS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: which data set, where its files are, how it is split and cut."""

    name: str = "digits"
    """"digits" (scikit-learn's 8x8 digits, default), "fashion-mnist" or "idx" (any IDX files)."""

    directory: str | None = None
    """fashion-mnist only: folder with the four IDX files. Default /usr/share/datasets/fashion-mnist
    (Debian's dataset-fashion-mnist package)."""

    train_images: str | None = None
    """idx only (required there, as are the next three): path of the training images, an IDX file, gzip'd
    or not (MNIST layout). Relative paths are taken from the config file's folder."""

    train_labels: str | None = None
    """idx only: path of the training labels (IDX)."""

    test_images: str | None = None
    """idx only: path of the test images (IDX)."""

    test_labels: str | None = None
    """idx only: path of the test labels (IDX)."""

    validation_fraction: float = 0.1
    """Fraction of the training data held out for validation after every epoch, in (0, 1). Default 0.1."""

    test_fraction: float = 0.2
    """digits only: fraction held out as the test set, in (0, 1) (digits has no official test split).
    Default 0.2."""

    max_train: int | None = None
    """Keep only this many training samples (>= 1). Default: all."""

    max_test: int | None = None
    """Keep only this many test samples (>= 1). Default: all."""

    pool: int | None = None
    """digits and fashion-mnist MLPs: average each image over ``pool`` x ``pool`` pixel blocks, e.g. 2 makes
    digits 4x4 = 16 inputs (a layer small enough for circuit-in-the-loop training) and Fashion-MNIST 14x14 =
    196; the image side must be a multiple of it. Default: the full image."""


IMAGE_SHAPES = {"digits": (1, 8, 8), "fashion-mnist": (1, 28, 28)}
"""(channels, height, width) of the named datasets' images (data.name = "idx": network.image_shape)."""


@dataclass(frozen=True)
class ConvLayerConfig:
    """One entry of ``network.conv``: ``filters`` F output channels of ``kernel`` x ``kernel`` filters."""

    filters: int
    """F (>= 1): output channels of the layer."""

    kernel: int
    """k (>= 1): the filters are k x k; valid convolution (no padding), stride 1."""


@dataclass(frozen=True)
class NetworkConfig:
    """``[network]``: the layers of the MLP or CNN and its neurons."""

    sizes: tuple[int, ...] = (64, 32, 10)
    """Layer widths, inputs first, classes last; default [64, 32, 10] (for digits). Must match the data set
    (64 or 784 inputs, 10 classes). With ``conv`` the first entry is still the image's pixel count and the
    dense layers are ``sizes[1:]``, fed by the last conv layer's F·H'·W' outputs (e.g. [64, 10]: conv, then
    one dense layer of 10 classes)."""

    activation: str = "sigmoid"
    """Hidden activation: "sigmoid" (default), "relu" or "logistic4" (logistic(4y), the neuron of
    binary-stochastic). The output is always softmax + cross-entropy."""

    weight_scaling_omega: float | None = None
    """ω in (0, 1], analog rules only: each layer's largest initial weight is put at ω·w_max on its tile
    and a digital output gain restores the layer's scale (aihwkit's weight scaling). Default: none (gain 1).
    With few device levels (32) this spends them on the weight range the layer actually uses."""

    conv: tuple[ConvLayerConfig, ...] = ()
    """Convolution layers between the input image and the dense layers, a list of tables in order,
    e.g. ``conv = [{filters = 8, kernel = 3}]`` (:class:`ConvLayerConfig`). Default none: an MLP. An H x W
    image gives (H−k+1) x (W−k+1) outputs per filter, the next layer's image. Each conv layer is one tile
    of F x (C·k·k + 1) read once per output position (im2col, memspice.learn.conv); every rule trains it
    with the conv gradient. Images: digits 1x8x8, fashion-mnist 1x28x28."""

    image_shape: tuple[int, ...] | None = None
    """[channels, height, width] of the images: data.name = "idx" with ``conv`` only (required there),
    e.g. [1, 28, 28] for MNIST; its product must be sizes[0]."""

    def input_shape(self, data_name: str) -> tuple[int, int, int] | None:
        """(C, H, W) of the input images for a CNN on ``data_name``; None for an MLP."""
        if not self.conv:
            return None
        return self.image_shape if self.image_shape is not None else IMAGE_SHAPES[data_name]

    def label(self) -> str:
        """Short description for titles: "64-32-10", or with conv layers "64-conv8k3-10"."""
        parts = [str(self.sizes[0])] + [f"conv{c.filters}k{c.kernel}" for c in self.conv]
        return "-".join(parts + [str(s) for s in self.sizes[1:]])


TARGET_ACTIONS = ("stop", "mark")
"""training.target_action: end the run at the loss target, or record it and train on."""


@dataclass(frozen=True)
class TrainingConfig:
    """``[training]``: epochs, mini-batches and the learning-rate schedule."""

    epochs: int = 10
    """Passes over the training set (>= 1). Default 10."""

    batch_size: int = 32
    """B: samples per mini-batch (>= 1). Default 32."""

    eval_batch_size: int = 1000
    """Samples per forward chunk when evaluating (>= 1; changes speed and memory only). Default 1000."""

    learning_rate_decay: float = 1.0
    """γ in (0, 1]: epoch e (0-based) trains with η·γ^e, for every rule alike. Default 1 (constant η).
    Pulsed rules whose weights move in whole device steps gain most: a smaller η late in training means
    fewer, not smaller, random pulses."""

    target_loss: float | None = None
    """A training-loss target (nats, > 0): after each epoch the network's mean cross-entropy on the whole
    training set (weights fixed, not the epoch's running mean) is compared with it, and the updates,
    pulses, steps and epochs until the first epoch at or below it are recorded (memspice.learn.target).
    Default: none."""

    target_action: str = "stop"
    """What reaching ``target_loss`` does: "stop" (end the run after that epoch) or "mark" (record it and
    train on to training.epochs). Default "stop"."""


def data_config_from_table(table: dict, base_dir: Path | None) -> DataConfig:
    """The checked ``[data]`` table; ``base_dir`` resolves relative data paths."""
    table = dict(table)
    data = read_section(DataConfig, table, "data")
    if data.name not in DATASETS:
        raise ConfigError(f"data.name = {data.name!r}: choose one of {', '.join(DATASETS)}")
    for key, only in _DATA_ONLY_KEYS.items():
        if key in table and data.name != only:
            raise ConfigError(f"data.{key} applies only to data.name = {only!r}, not {data.name!r}; remove it")
    if data.name == "idx":
        missing = [k for k in _IDX_PATHS if k not in table]
        if missing:
            raise ConfigError(f"data.name = 'idx' needs the paths {', '.join('data.' + m for m in missing)}")
    if base_dir is not None:
        resolved = {}
        for key in ("directory", *_IDX_PATHS):
            value = getattr(data, key)
            if value is not None and not Path(value).is_absolute():
                resolved[key] = str((base_dir / value).resolve())
        data = dataclasses.replace(data, **resolved)
    for key in ("max_train", "max_test"):
        value = getattr(data, key)
        if value is not None and value < 1:
            raise ConfigError(f"data.{key} = {value}: must be >= 1 (leave it out to use all samples)")
    if data.pool is not None:
        shape = IMAGE_SHAPES.get(data.name)
        if shape is None:
            raise ConfigError(f"data.pool applies to 'digits' and 'fashion-mnist' images, not {data.name!r}; remove it")
        if data.pool < 1 or shape[1] % data.pool or shape[2] % data.pool:
            sides = [k for k in range(1, shape[1] + 1) if shape[1] % k == 0 and shape[2] % k == 0]
            raise ConfigError(f"data.pool = {data.pool}: {data.name} images are {shape[1]}x{shape[2]}; choose a block "
                              f"side that divides them: {', '.join(map(str, sides))}")
    for key in ("validation_fraction", "test_fraction"):
        value = getattr(data, key)
        if not 0.0 < value < 1.0:
            raise ConfigError(f"data.{key} = {value}: must lie strictly between 0 and 1")
    return data


def data_dict(data: DataConfig) -> dict:
    """``[data]`` as recorded (TrainConfig.to_dict): None values and other data sets' keys left out."""
    out = {k: v for k, v in dataclasses.asdict(data).items() if v is not None}
    for key, only in _DATA_ONLY_KEYS.items():
        if data.name != only:
            out.pop(key, None)
    return out


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
        layer = read_section(ConvLayerConfig, entry, where)
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


#: memory a weight takes during training (bytes), estimated before anything is allocated: up to eight float64
#: arrays of the weight's shape (the weights, their gradient, an analog tile's conductance pair and device
#: states, a rule's accumulator and a draw)
BYTES_PER_WEIGHT = 64


def network_config_from_table(table: dict, data_name: str) -> NetworkConfig:
    """The checked ``[network]`` table for data set ``data_name``."""
    check_table(table, [f.name for f in dataclasses.fields(NetworkConfig)], "network")
    table = dict(table)
    conv = _conv_layers(table.pop("conv", []))
    network = dataclasses.replace(read_section(NetworkConfig, table, "network"), conv=conv)
    if len(network.sizes) < 2 or min(network.sizes) < 1:
        raise ConfigError(f"network.sizes = {list(network.sizes)}: give at least two widths, all >= 1")
    weights = sum(a * b for a, b in zip(network.sizes[:-1], network.sizes[1:]))
    try:
        check_allocation(weights * BYTES_PER_WEIGHT, f"network.sizes = {list(network.sizes)} ({weights} weights)",
                         "use smaller layers")
    except ParameterError as exc:
        raise ConfigError(str(exc)) from None
    _check_conv_shapes(network, data_name)
    omega = network.weight_scaling_omega
    if omega is not None and not 0.0 < omega <= 1.0:
        raise ConfigError(f"network.weight_scaling_omega = {omega}: must lie in (0, 1]")
    if network.activation not in ("sigmoid", "relu", "logistic4"):
        raise ConfigError(
            f"network.activation = {network.activation!r}: choose 'sigmoid', 'relu' or 'logistic4' "
            "(logistic(4y), for rule 'binary-stochastic')"
        )
    return network


def training_config_from_table(table: dict) -> TrainingConfig:
    """The checked ``[training]`` table."""
    training = read_section(TrainingConfig, table, "training")
    for key in ("epochs", "batch_size", "eval_batch_size"):
        if getattr(training, key) < 1:
            raise ConfigError(f"training.{key} = {getattr(training, key)}: must be >= 1")
    if not 0.0 < training.learning_rate_decay <= 1.0:
        raise ConfigError(
            f"training.learning_rate_decay = {training.learning_rate_decay}: the per-epoch factor must lie in (0, 1] "
            "(1 keeps the learning rate constant)"
        )
    if training.target_loss is not None and not (math.isfinite(training.target_loss) and training.target_loss > 0):
        raise ConfigError(f"training.target_loss = {training.target_loss}: give a training loss in nats > 0 "
                          "(or leave it out)")
    if training.target_action not in TARGET_ACTIONS:
        raise ConfigError(f"training.target_action = {training.target_action!r}: choose "
                          f"{' or '.join(repr(a) for a in TARGET_ACTIONS)}")
    if "target_action" in table and training.target_loss is None:
        raise ConfigError("training.target_action is given without training.target_loss; set the target loss "
                          "or remove target_action")
    return training
