"""CBRAM stochastic-computing update (``[rule] name = "cbram-sc"``; Lammie et al., IEEE TCAS-II 2021;
docs/algorithms.md, "CBRAM stochastic computing").

The gradient products δ_j·x_i of the parameter update are computed with
stochastic computing: every operand becomes a CBRAM bitstream
(:mod:`memspice.learn.stochastic_computing`), each product is the AND of two
streams counted back, signs are combined separately. The resulting update
ΔW = −(η/B)·Σ_b (δ_b x_bᵀ)_SC is then written to the crossbar as in mixed
precision (Nandakumar et al.; docs/algorithms.md, "Mixed precision"): a digital accumulator χ per
weight collects ΔW, and p = trunc(χ/ε) device pulses of sign(χ) go to the
tile, with ε the device's mean step in weight units. That is our reading of
how an SC-computed update reaches analog weights (Lammie et al. compute the
update with SC gates; how it is programmed is not part of their method); the
accumulator keeps what the device cannot take yet, so the SC noise is the
error under test, not the device's step size. Float layers take ΔW directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ParameterError
from memspice.learn.counters import record_programmed
from memspice.learn.operands import apply_float_update, layer_tile, update_operands
from memspice.learn.rules.base import Rule, RuleConfig, positive
from memspice.learn.rules.mixed_precision import default_epsilon
from memspice.learn.stochastic_computing import CBRAMSwitching, sc_outer_sum


@dataclass(frozen=True)
class CBRAMStochasticComputingConfig(RuleConfig):
    """``[rule]`` of "cbram-sc": ``learning_rate`` and the keys below."""

    name: ClassVar[str] = "cbram-sc"

    stream_length: int = 64
    """L (bits): length of each operand's stochastic bit stream (CBRAM write pulses per stream). Default 64."""

    amplitude_bits: int | None = None
    """Resolution (bits) of the DAC that sets the CBRAM pulse amplitude. Default: unquantised."""

    def __post_init__(self):
        super().__post_init__()
        self._check_at_least("stream_length", 1)
        self._check_at_least("amplitude_bits", 1)


class CBRAMStochasticComputing(Rule):
    """SC gradient from CBRAM bitstreams of ``stream_length`` bits, accumulated and pulsed onto tiles.

    ``switching``: the CBRAM cell and driver (default :class:`CBRAMSwitching`).
    ``stats()`` counts ``stream_bits`` (CBRAM write pulses of the encoders,
    B·L·(n_in + n_out) per layer and batch) and device ``pulses``.
    """

    name = CBRAMStochasticComputingConfig.name
    needs_tiles = True
    config_class = CBRAMStochasticComputingConfig

    def __init__(self, learning_rate: float, stream_length: int = 64, switching: CBRAMSwitching | None = None):
        self.learning_rate = positive("learning_rate", learning_rate)
        if int(stream_length) != stream_length or stream_length < 1:
            raise ParameterError(f"stream_length = {stream_length!r}; it must be a positive integer (e.g. 64)")
        self.stream_length = int(stream_length)
        self.switching = CBRAMSwitching() if switching is None else switching
        if not isinstance(self.switching, CBRAMSwitching):
            raise ParameterError(f"switching = {switching!r}: give a CBRAMSwitching value")
        self._chi: list | None = None
        self._n_bits = 0
        self._n_pulses = 0

    @classmethod
    def from_config(cls, config: CBRAMStochasticComputingConfig) -> "CBRAMStochasticComputing":
        return cls(config.learning_rate, stream_length=config.stream_length,
                   switching=CBRAMSwitching(amplitude_bits=config.amplitude_bits))

    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        if self._chi is None:
            self._chi = [None] * len(net.layers)
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            xr, dr = update_operands(layer, x, d)
            est, n_bits = sc_outer_sum(xr, dr, self.stream_length, self.switching, rng)
            self._n_bits += n_bits
            dw = -(self.learning_rate / xr.shape[0]) * est
            tile = layer_tile(layer)
            if tile is None:
                apply_float_update(layer, dw)
                continue
            if self._chi[k] is None:
                self._chi[k] = np.zeros_like(dw)
            chi = self._chi[k]
            chi += dw
            eps = default_epsilon(tile)
            n = np.trunc(chi / eps)  # sign(χ)·floor(|χ|/ε)
            record_programmed(counters, k, n, accumulator_updates=chi.size)  # operation counters (SC gates: no MACs)
            if np.any(n):
                chi -= n * eps
                counts = n.astype(np.int64)
                self._n_pulses += int(np.abs(counts).sum())
                tile.apply_pulses(counts)

    def state_dict(self) -> dict:
        chi = [] if self._chi is None else [np.zeros(0) if c is None else c.copy() for c in self._chi]
        return {"chi": chi, "n_bits": self._n_bits, "n_pulses": self._n_pulses}

    def load_state_dict(self, state: dict) -> None:
        chi = state["chi"]
        self._chi = [None if np.size(c) == 0 else np.array(c, dtype=np.float64) for c in chi] if len(chi) else None
        self._n_bits = int(state["n_bits"])
        self._n_pulses = int(state["n_pulses"])

    def stats(self) -> dict:
        return {"pulses": self._n_pulses, "stream_bits": self._n_bits}
