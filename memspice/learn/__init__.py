"""Training networks on surrogate tiles: datasets, layers, update rules, the training loop.

Stage 10 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit, memspice.cell, memspice.surrogate,
memspice.calibrate, memspice.energy and memspice.validate (and the foundation modules),
nothing later.

Public API::

    from memspice.learn import load_config, train
    result = train(load_config("examples/digits_sgd.toml"), "runs/digits-sgd")

See :mod:`memspice.learn.config` for where every configuration key is
documented and :mod:`memspice.learn.rules` for the update rules (one module
each, one registry, the :class:`~memspice.learn.rules.base.Rule` base class).
"""

from memspice.learn.config import TrainConfig, config_from_dict, load_config
from memspice.learn.conv import Conv2d, build_cnn
from memspice.learn.datasets import Dataset, Split, load_digits, load_fashion_mnist, load_idx, read_idx
from memspice.learn.layers import AnalogDense, FloatDense
from memspice.learn.network import Network, build_network
from memspice.learn.rules import FloatSGD, MixedPrecision, StochasticCoincidence
from memspice.learn.trainer import TrainResult, evaluate, train

__all__ = [
    "AnalogDense",
    "Conv2d",
    "Dataset",
    "FloatDense",
    "FloatSGD",
    "MixedPrecision",
    "Network",
    "Split",
    "StochasticCoincidence",
    "TrainConfig",
    "TrainResult",
    "build_cnn",
    "build_network",
    "config_from_dict",
    "evaluate",
    "load_config",
    "load_digits",
    "load_fashion_mnist",
    "load_idx",
    "read_idx",
    "train",
]
