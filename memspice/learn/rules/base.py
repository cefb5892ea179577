"""What every update rule is: the :class:`Rule` base class the trainer codes to, and :class:`RuleConfig`.

The trainer calls only these, and never asks which rule it has::

    rule = registry.build_rule(config.rule)          # a Rule from its RuleConfig
    trace, deltas = rule.train_pass(net, x, labels, rng)   # the passes (default: forward, backward)
    rule.step(net, trace.inputs, deltas, rng, counters)    # the update, counted in ``counters``
    rule.state_dict() / rule.load_state_dict(state)        # checkpoints
    rule.stats()                                           # the rule's tallies for summary.json

``inputs[k]`` is the input of layer k (B, n_in_k), ``deltas[k]`` the error at
its pre-activation (B, n_out_k), both per sample; every rule targets the
mini-batch SGD step ΔW = −(η/B) Σ_b δ_b x_bᵀ, in expectation or to within a
device step. ``counters`` is the run's
:class:`~memspice.learn.counters.OpCounters` (None: nothing is counted); a
rule reports what it did to it through the helpers of
:mod:`memspice.learn.counters`, and keeps no reference to it.

Rules that program tiles (``needs_tiles = True``) act on layers with a
``tile`` and take their operands from ``layer.update_operands(x, δ)``
(:mod:`memspice.learn.operands`): the bias as the tile's last column (input 1)
and the error divided by the layer's output gain.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ConfigError, ParameterError


def positive(name: str, value: float) -> float:
    """``value`` as a float if it is positive and finite, else ParameterError naming ``name``."""
    value = float(value)
    if not np.isfinite(value) or value <= 0.0:
        raise ParameterError(f"{name} = {value}; it must be a positive finite number")
    return value


def tile_of(layer, rule_name: str):
    """The layer's tile; ParameterError if the layer is floating-point (rule ``rule_name`` needs tiles)."""
    tile = getattr(layer, "tile", None)
    if tile is None:
        raise ParameterError(
            f"rule {rule_name!r} programs crossbar tiles, but the network has a {layer.kind} layer; "
            "build the network with a tile factory (the trainer does this for every rule but 'sgd')"
        )
    return tile


def inner_learning_rate(inner: str, doc: str) -> property:
    """A ``learning_rate`` property kept by the rule's inner update ``inner`` (an attribute name).

    Rules that apply their steps through another rule object (SBE and
    Tiki-Taka through a StochasticCoincidence) expose its η as their own, so a
    learning-rate schedule that sets ``rule.learning_rate`` reaches the update
    that uses it.
    """

    def get(self) -> float:
        return getattr(self, inner).learning_rate

    def set(self, eta: float) -> None:
        getattr(self, inner).learning_rate = positive("learning_rate", eta)

    return property(get, set, doc=doc)


@dataclass(frozen=True)
class RuleConfig:
    """The ``[rule]`` keys every rule takes; each rule's config class adds its own fields.

    ``name`` (the rule's registry name, the ``[rule] name`` key) is a class
    constant of each config class. The fields, in order, are the keys of the
    ``[rule]`` table and of the recorded config (``TrainConfig.to_dict``).
    Values are checked when the config is made (ConfigError naming ``rule.KEY``).
    """

    name: ClassVar[str]

    learning_rate: float = 0.1
    """η (dimensionless) of the mini-batch SGD step −(η/B) Σ δ xᵀ that every rule targets. Default 0.1."""

    def __post_init__(self):
        if not self.learning_rate > 0.0:
            raise ConfigError(f"rule.learning_rate = {self.learning_rate}: must be > 0")

    def check_activation(self, activation: str) -> None:
        """ConfigError if the rule cannot train neurons ``activation`` (network.activation); default: any."""

    def _check_at_least(self, key: str, low: int) -> None:
        value = getattr(self, key)
        if value is not None and value < low:
            raise ConfigError(f"rule.{key} = {value}: must be >= {low}")

    def _check_above_zero(self, key: str) -> None:
        value = getattr(self, key)
        if value is not None and not value > 0.0:
            raise ConfigError(f"rule.{key} = {value}: must be > 0")


class Rule(abc.ABC):
    """An update rule (module docstring). Subclasses set ``name``, ``needs_tiles`` and ``config_class``,
    and implement :meth:`from_config` and :meth:`step`."""

    name: ClassVar[str]
    needs_tiles: ClassVar[bool] = True
    config_class: ClassVar[type[RuleConfig]]
    learning_rate: float

    @classmethod
    def uses_tiles(cls, config: RuleConfig) -> bool:
        """Whether the rule with ``config`` trains tiles (``needs_tiles``; a rule whose settings decide overrides)."""
        return cls.needs_tiles

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: RuleConfig) -> "Rule":
        """The rule with the settings of ``config`` (an instance of ``cls.config_class``)."""

    def train_pass(self, net, x: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
        """(trace, deltas) of one mini-batch: the network's forward and backward pass (no random draws).

        A rule that changes the passes themselves (binary stochastic) overrides this.
        """
        trace = net.forward_train(x)
        return trace, net.backward(trace, labels)

    @abc.abstractmethod
    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        """Update ``net``'s weights from one mini-batch's ``inputs`` and ``deltas``; record into ``counters``."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def stats(self) -> dict:
        return {}
