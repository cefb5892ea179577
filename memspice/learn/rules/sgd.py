"""The floating-point baseline: plain mini-batch SGD on float weights (``[rule] name = "sgd"``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ParameterError
from memspice.learn.counters import record_outer
from memspice.learn.operands import apply_float_update, update_operands
from memspice.learn.rules.base import Rule, RuleConfig, positive


@dataclass(frozen=True)
class SGDConfig(RuleConfig):
    """``[rule]`` of "sgd": ``learning_rate`` only (see :class:`~memspice.learn.rules.base.RuleConfig`)."""

    name: ClassVar[str] = "sgd"


class FloatSGD(Rule):
    """Plain mini-batch SGD on float weights (the baseline): W ← W − (η/B) δᵀx, b ← b − (η/B) Σδ.

    A layer that uses its weights several times per sample (a convolution,
    :mod:`memspice.learn.conv`) gives its rows through ``update_operands``
    (:mod:`memspice.learn.operands`): W|b ← W|b − (η/R) Σ_r δ_r x_rᵀ over its R rows.
    """

    name = SGDConfig.name
    needs_tiles = False
    config_class = SGDConfig

    def __init__(self, learning_rate: float):
        self.learning_rate = positive("learning_rate", learning_rate)

    @classmethod
    def from_config(cls, config: SGDConfig) -> "FloatSGD":
        return cls(config.learning_rate)

    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            if layer.kind != "float":
                raise ParameterError(f"rule 'sgd' updates floating-point layers; got a {layer.kind} layer")
            if hasattr(layer, "update_operands"):  # conv: R = B·P rows, the bias as the last column
                xr, dr = update_operands(layer, x, d)
                apply_float_update(layer, -(self.learning_rate / xr.shape[0]) * (dr.T @ xr))
                rows = xr.shape[0]
            else:
                scale = self.learning_rate / x.shape[0]
                layer.w -= scale * (d.T @ x)
                layer.b -= scale * d.sum(axis=0)
                rows = x.shape[0]
            n_w = layer.w.shape[0] * (layer.w.shape[1] + 1)  # operation counters (memspice.learn.counters)
            record_outer(counters, k, rows, macs=rows * n_w, accumulator_updates=n_w)
