"""A run's random streams, data set and network: made from the config, saved to and restored from a checkpoint.

Randomness: one :class:`numpy.random.SeedSequence` from ``config.seed`` is
split into independent streams (:class:`Streams`): data split, initial
weights, shuffling, the rule's draws (pulse trains), and one stream per tile
(device-to-device and cycle-to-cycle draws, read noise).

The network is the MLP of ``network.sizes`` or, with ``network.conv``, the
CNN of :func:`memspice.learn.conv.build_cnn` (conv layers, then the dense
layers ``sizes[1:]``), floating-point for rules that need no tiles and on one
tile per layer for every other rule; conv layers are checkpointed like dense
ones (weights or tile, output gain, the tile's random stream, plus their
image shape and kernel).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from memspice.errors import ConfigError, ParameterError
from memspice.learn import checkpoint as ckpt
from memspice.learn.config import IMAGE_SHAPES, TrainConfig
from memspice.learn.conv import Conv2d, build_cnn
from memspice.learn.datasets import Dataset, load_digits, load_fashion_mnist, load_idx, pool_images
from memspice.learn.layers import AnalogDense, FloatDense
from memspice.learn.network import Network, build_network

_STREAMS = ("data", "init", "shuffle", "rule", "tiles")


def load_dataset(config: TrainConfig, rng: np.random.Generator) -> Dataset:
    """The dataset named by ``config.data``, split with ``rng``."""
    d = config.data
    limits = {"max_train": d.max_train, "max_test": d.max_test, "validation_fraction": d.validation_fraction}
    if d.pool not in (None, 1):
        if config.network.conv:
            raise ConfigError("data.pool applies to MLPs; a CNN (network.conv) reads the full image: remove one")
        unpooled = dataclasses.replace(config, data=dataclasses.replace(d, pool=None))
        return pool_images(load_dataset(unpooled, rng), IMAGE_SHAPES[d.name], d.pool)
    if d.name == "digits":
        return load_digits(rng, test_fraction=d.test_fraction, **limits)
    if d.name == "fashion-mnist":
        kwargs = {"directory": d.directory} if d.directory else {}
        return load_fashion_mnist(rng, **kwargs, **limits)
    return load_idx(d.train_images, d.train_labels, d.test_images, d.test_labels, rng, name="idx", **limits)



class Streams:
    """The run's independent random streams, created from the seed."""

    def __init__(self, seed: int):
        children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
        self.seeds = dict(zip(_STREAMS, children))
        self.data = np.random.default_rng(self.seeds["data"])
        self.init = np.random.default_rng(self.seeds["init"])
        self.shuffle = np.random.default_rng(self.seeds["shuffle"])
        self.rule = np.random.default_rng(self.seeds["rule"])

    def tile_rngs(self, n: int) -> list[np.random.Generator]:
        return [np.random.default_rng(s) for s in self.seeds["tiles"].spawn(n)]


def build_network_of(config: TrainConfig, rng: np.random.Generator, tile_factory=None) -> Network:
    """The MLP, or with ``network.conv`` the CNN (memspice.learn.conv), of ``config.network``."""
    n = config.network
    omega = n.weight_scaling_omega if tile_factory is not None else None
    if not n.conv:
        return build_network(n.sizes, rng, activation=n.activation, tile_factory=tile_factory,
                             weight_scaling_omega=omega)
    return build_cnn(
        n.input_shape(config.data.name), [(c.filters, c.kernel) for c in n.conv], n.sizes[1:], rng,
        activation=n.activation, tile_factory=tile_factory, weight_scaling_omega=omega,
    )


def new_network(config: TrainConfig, rule, streams: Streams) -> tuple[Network, list]:
    if not rule.needs_tiles:
        return build_network_of(config, streams.init), []
    from memspice.learn.tiles import make_tile, tile_config_from_table

    tile_config = tile_config_from_table(config.tile)
    rngs = streams.tile_rngs(len(config.network.conv) + len(config.network.sizes) - 1)  # one per layer, in order
    pending = list(rngs)

    def factory(n_out: int, n_cols: int):
        cfg = tile_config
        if cfg.array_write is not None and cfg.array_write.circuit_layers:  # circuit-in-the-loop layers
            k = len(rngs) - len(pending)
            try:
                aw = cfg.array_write.for_layer(k, len(rngs), (n_out, n_cols))
            except ParameterError as exc:
                raise ConfigError(f"[tile.array] circuit_layers: {exc}") from None
            cfg = dataclasses.replace(cfg, array_write=aw)
        return make_tile(n_out, n_cols, cfg, pending.pop(0))

    return build_network_of(config, streams.init, factory), rngs


def network_state(net: Network, tile_rngs: list) -> list:
    """Per layer: its weights (float) or its tile, output gain and the tile's random stream (analog);
    conv layers also their image shape and kernel."""
    out = []
    for k, layer in enumerate(net.layers):
        if layer.kind == "float":
            entry = {"kind": "float", "w": layer.w.copy(), "b": layer.b.copy()}
        else:
            entry = {
                "kind": "analog",
                "tile": layer.tile.state_dict(),
                "out_scale": layer.out_scale,
                "rng": ckpt.generator_state(tile_rngs[k]),
            }
        if isinstance(layer, Conv2d):
            entry["conv"] = {"in_shape": list(layer.in_shape), "kernel": layer.kernel}
        out.append(entry)
    return out


def network_from_state(state: list, activation: str) -> tuple[Network, list]:
    layers, rngs = [], []
    for entry in state:
        conv = entry.get("conv")  # absent: a dense layer (and every layer of checkpoints before CNNs)
        if entry["kind"] == "float":
            if conv is None:
                layers.append(FloatDense(entry["w"], entry["b"]))
            else:
                layers.append(Conv2d(conv["in_shape"], conv["kernel"], w=entry["w"], b=entry["b"]))
        else:
            from memspice.learn.tiles import tile_from_state

            rng = ckpt.generator_from_state(entry["rng"])
            tile = tile_from_state(entry["tile"], rng)
            if conv is None:
                layers.append(AnalogDense(tile, out_scale=entry["out_scale"]))
            else:
                layers.append(Conv2d(conv["in_shape"], conv["kernel"], tile=tile, out_scale=entry["out_scale"]))
            rngs.append(rng)
    return Network(layers, activation), rngs


def check_sizes(config: TrainConfig, data: Dataset) -> None:
    batch, n_train = config.training.batch_size, len(data.train)
    if batch > n_train:
        raise ConfigError(f"training.batch_size = {batch} is larger than the training set ({n_train} samples of "
                          f"{data.name!r} after the split and data.max_train): use batch_size <= {n_train}")
    sizes = list(config.network.sizes)
    if sizes[0] != data.n_features or sizes[-1] != data.n_classes:
        raise ConfigError(
            f"network.sizes = {sizes} does not fit dataset {data.name!r}, which has {data.n_features} "
            f"inputs and {data.n_classes} classes; use sizes = [{data.n_features}, ..., {data.n_classes}]"
            + (" and a network.image_shape of as many pixels" if config.network.image_shape is not None else "")
        )


