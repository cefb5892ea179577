"""Binary stochastic learning (``[rule] name = "binary-stochastic"``; Li, Ielmini, Liu et al., arXiv 2304.12866;
docs/algorithms.md, "Binary stochastic learning").

Every elementary operation of training is binarised:

* forward: inputs are Bernoulli(x) samples; a neuron computes z = logistic(4y)
  of its pre-activation y and outputs a Bernoulli(z) sample (0 or 1);
* the activation derivative dz/dy = 4z(1−z) (which lies in [0, 1]) is
  replaced by a Bernoulli sample with that probability — an unbiased binary
  estimate of the true derivative, which is why the logistic has slope 4;
* errors: at the output, sampled output − one-hot label (ternary, −1/0/+1);
  in hidden layers sign(δ_next W_next) × the sampled derivative (ternary);
* weights change step-wise: a digital accumulator per weight collects the
  mini-batch step −(η/B) Σ_b δ_b x_bᵀ; where it reaches ±θ one SET (or RESET)
  pulse is fired on that device and its accumulator restarts from zero.

The device of the paper, ΔG = [(G_max−G_min)/(1−e^(−α)) − (G−G_min)]·
(1−e^(−α/N))·(1+γξ), is the surrogate's
:meth:`memspice.surrogate.LinearStep.from_exponential_levels` (levels N,
nonlinearity α, ``c2c_rel`` = γ); :func:`exponential_levels_params` gives its
``[tile.device_params]`` for a config file.

Readings where the paper leaves a choice (ours, stated here): the accumulator
restarts from zero after a pulse (no wind-up: at most one pulse per weight and
mini-batch, as the method prescribes, and a reversed gradient acts at once);
θ defaults to the tile's mean step Δw_min, so one pulse is worth what the
accumulator held; the bias column sees a constant input 1 (not sampled);
inference uses the expectation of the stochastic neurons (deterministic
logistic(4y), the network's activation ``"logistic4"``), and the class is the
output with the largest y.

The rule replaces the network's forward and backward pass during training:
it overrides :meth:`Rule.train_pass <memspice.learn.rules.base.Rule.train_pass>`
``(net, x, labels, rng) -> (trace, deltas)``, whose default runs
``net.forward_train`` and ``net.backward``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ConfigError, ParameterError
from memspice.learn.activations import sigmoid, softmax
from memspice.learn.counters import record_programmed
from memspice.learn.network import Trace
from memspice.learn.operands import apply_float_update, layer_tile, update_operands
from memspice.learn.rules.base import Rule, RuleConfig, positive

ACTIVATION = "logistic4"
"""The network activation this rule trains: z = logistic(4y), see memspice.learn.activations."""


@dataclass(frozen=True)
class BinaryStochasticConfig(RuleConfig):
    """``[rule]`` of "binary-stochastic": ``learning_rate`` and the keys below; needs
    ``network.activation = "logistic4"``."""

    name: ClassVar[str] = "binary-stochastic"

    threshold: float | None = None
    """θ (weight units): the accumulated change that fires one pulse. Default: the tile's dw_min."""

    sample_inputs: bool = True
    """Bernoulli-sample the network inputs, x -> Bernoulli(x) (inputs must lie in [0, 1]). Default true."""

    def __post_init__(self):
        super().__post_init__()
        self._check_above_zero("threshold")

    def check_activation(self, activation: str) -> None:
        if activation != ACTIVATION:
            raise ConfigError(
                f"rule.name = {self.name!r} trains neurons logistic(4y); set network.activation = {ACTIVATION!r} "
                f"(not {activation!r})"
            )


def exponential_levels_params(
    n_levels: float, nonlinearity: float, cycle_noise: float, g_min_s: float, g_max_s: float
) -> dict:
    """``[tile.device_params]`` of a "LinearStep" device equal to docs/algorithms.md, "Binary stochastic learning"'s pulse model.

    ΔG_SET = [(G_max−G_min)/(1−e^(−α)) − (G−G_min)]·(1−e^(−α/N))·(1+γξ) is affine
    in G: dg = (G_max−G_min)(1−e^(−α/N))/(1−e^(−α)) and gamma = 1−e^(−α)
    (mirrored for RESET), c2c_rel = γ.
    """
    from memspice.surrogate import LinearStep

    dev = LinearStep.from_exponential_levels(
        n_levels, nonlinearity, g_min_s=g_min_s, g_max_s=g_max_s, c2c_rel=cycle_noise
    )
    names = ("g_min_s", "g_max_s", "dg_up_s", "dg_down_s", "gamma_up", "gamma_down", "c2c_rel")
    return {name: float(getattr(dev, name)) for name in names}


def _bernoulli(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(p.shape) < p).astype(np.float64)


class BinaryStochastic(Rule):
    """Binary stochastic learning with the step-wise (accumulate, fire one pulse) update.

    ``learning_rate``: η of the accumulated step −(η/B)Σ δxᵀ (errors ternary,
    inputs binary). ``threshold``: θ in weight units (default: each tile's
    ``dw_min``). ``sample_inputs``: draw the network inputs as Bernoulli(x)
    (the paper's setting; inputs must then lie in [0, 1]).
    """

    name = BinaryStochasticConfig.name
    needs_tiles = True
    config_class = BinaryStochasticConfig

    def __init__(self, learning_rate: float, threshold: float | None = None, sample_inputs: bool = True):
        self.learning_rate = positive("learning_rate", learning_rate)
        self.threshold = None if threshold is None else positive("threshold", threshold)
        self.sample_inputs = bool(sample_inputs)
        self._acc: list | None = None
        self._n_pulses = 0
        self._n_steps = 0

    @classmethod
    def from_config(cls, config: BinaryStochasticConfig) -> "BinaryStochastic":
        return cls(config.learning_rate, threshold=config.threshold, sample_inputs=config.sample_inputs)

    # -- the binarised passes (Rule.train_pass) ------------------------------------

    def train_pass(self, net, x: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
        """Stochastic binary forward and backward pass: (Trace, deltas), as :meth:`Rule.train_pass`.

        ``trace.inputs[k]`` are the binary inputs of layer k, ``trace.outputs[k]``
        the sampled binary outputs of hidden layer k, ``trace.pre[k]`` their
        pre-activations y, ``trace.probs`` softmax(y) of the output layer (for
        the loss shown during training only). ``deltas`` are ternary.
        """
        if net.activation.name != ACTIVATION:
            raise ParameterError(
                f"rule {self.name!r} trains neurons z = logistic(4y); the network has activation "
                f"{net.activation.name!r}: set network.activation = {ACTIVATION!r}"
            )
        if self.sample_inputs:
            if np.any(x < 0.0) or np.any(x > 1.0):
                raise ParameterError(
                    f"rule {self.name!r} samples inputs as Bernoulli(x), so x must lie in [0, 1]; got "
                    f"[{float(x.min()):.4g}, {float(x.max()):.4g}] (or set sample_inputs = false)"
                )
            a = _bernoulli(x, rng)
        else:
            a = np.asarray(x, dtype=np.float64)
        inputs, outputs, pre, zs = [], [], [], []
        for layer in net.layers:
            inputs.append(a)
            y = layer.forward(a)
            z = sigmoid(4.0 * y)
            a = _bernoulli(z, rng)
            pre.append(y)
            zs.append(z)
            outputs.append(a)
        onehot = np.zeros_like(a)
        onehot[np.arange(labels.shape[0]), labels] = 1.0
        deltas = [a - onehot]  # ternary output error
        for k in range(len(net.layers) - 2, -1, -1):
            back = net.layers[k + 1].backward(deltas[0])
            derivative = _bernoulli(4.0 * zs[k] * (1.0 - zs[k]), rng)
            deltas.insert(0, np.sign(back) * derivative)
        trace = Trace(inputs=inputs, outputs=outputs[:-1], pre=pre[:-1], probs=softmax(pre[-1]))
        return trace, deltas

    # -- the step-wise update -------------------------------------------------------

    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        if self._acc is None:
            self._acc = [None] * len(net.layers)
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            xr, dr = update_operands(layer, x, d)
            dw = -(self.learning_rate / xr.shape[0]) * (dr.T @ xr)
            tile = layer_tile(layer)
            if tile is None:
                apply_float_update(layer, dw)
                continue
            if self._acc[k] is None:
                self._acc[k] = np.zeros_like(dw)
            acc = self._acc[k]
            acc += dw
            theta = self.threshold if self.threshold is not None else tile.dw_min
            fire = np.abs(acc) >= theta
            record_programmed(counters, k, fire, macs=xr.shape[0] * acc.size, accumulator_updates=acc.size)  # counters
            if np.any(fire):
                counts = np.where(fire, np.sign(acc), 0.0).astype(np.int64)
                acc[fire] = 0.0
                self._n_pulses += int(np.count_nonzero(counts))
                tile.apply_pulses(counts)
        self._n_steps += 1

    def state_dict(self) -> dict:
        acc = [] if self._acc is None else [np.zeros(0) if a is None else a.copy() for a in self._acc]
        return {"acc": acc, "n_pulses": self._n_pulses, "n_steps": self._n_steps}

    def load_state_dict(self, state: dict) -> None:
        acc = state["acc"]
        self._acc = [None if np.size(a) == 0 else np.array(a, dtype=np.float64) for a in acc] if len(acc) else None
        self._n_pulses = int(state["n_pulses"])
        self._n_steps = int(state["n_steps"])

    def stats(self) -> dict:
        return {"pulses": self._n_pulses}
