"""Mixed-precision training (``[rule] name = "mixed-precision"``): a digital accumulator per weight,
whole device steps to the tile, refresh of the differential pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ConfigError, ParameterError
from memspice.learn.counters import record_programmed
from memspice.learn.rules.base import Rule, RuleConfig, positive, tile_of


@dataclass(frozen=True)
class MixedPrecisionConfig(RuleConfig):
    """``[rule]`` of "mixed-precision": ``learning_rate`` and the keys below."""

    name: ClassVar[str] = "mixed-precision"

    refresh_every: int = 100
    """Mini-batches between refreshes of the differential pairs (0 = never). Default 100."""

    refresh_threshold: float = 0.45
    """Refresh a pair when G+ or G− is above this fraction (dimensionless, in (0, 1]) of the way from
    g_min to g_max. Default 0.45, below the statistical PCM's fixed point 10.6 µS."""

    epsilon: float | None = None
    """ε (weight units): the device step the accumulator assumes per pulse. Default: from the tile,
    :func:`default_epsilon`."""

    def __post_init__(self):
        super().__post_init__()
        if self.refresh_every < 0:
            raise ConfigError(f"rule.refresh_every = {self.refresh_every}: must be >= 0 (0 disables refresh)")
        if self.epsilon is not None and not self.epsilon > 0.0:
            raise ConfigError(f"rule.epsilon = {self.epsilon}: must be > 0 (weight units)")
        if not 0.0 < self.refresh_threshold <= 1.0:
            raise ConfigError(f"rule.refresh_threshold = {self.refresh_threshold}: must lie in (0, 1]")


class MixedPrecision(Rule):
    """Mixed-precision training (Nandakumar et al. 2018, arXiv 1712.01192; docs/algorithms.md, "Mixed precision").

    A float64 accumulator χ per device pair collects the SGD step
    −(η/B) Σ_b δ_b x_bᵀ. Then p = floor(|χ|/ε) pulses of sign(χ) go to the
    tile, with ε the device's mean step in weight units (``epsilon``, or
    :func:`default_epsilon` of the tile when not given), and p·ε·sign(χ) is subtracted from χ, so what the device could not take
    yet stays in the accumulator. Forward and backward passes read the tile's
    (noisy) conductances.

    Refresh (the paper's differential-pair refresh): every ``refresh_every``
    mini-batches, each pair whose G+ or G− exceeds ``refresh_threshold`` of the
    way from g_min to g_max is re-programmed to its current weight with the
    other device back at g_min (``tile.refresh``: an ideal re-programming), so
    SET-only devices such as PCM do not run into saturation.
    ``refresh_every = 0`` disables it. The default threshold 0.45 puts the
    refresh level below the statistical PCM's fixed point (the mean SET step
    0.892 µS − 0.084·G vanishes at G = 10.6 µS, 0.53 of [0.1, 20] µS), which
    the devices approach but never pass on average.
    """

    name = MixedPrecisionConfig.name
    needs_tiles = True
    config_class = MixedPrecisionConfig

    def __init__(
        self,
        learning_rate: float,
        refresh_every: int = 100,
        refresh_threshold: float = 0.45,
        epsilon: float | None = None,
    ):
        self.learning_rate = positive("learning_rate", learning_rate)
        self.epsilon = None if epsilon is None else positive("epsilon", epsilon)
        if int(refresh_every) != refresh_every or refresh_every < 0:
            raise ParameterError(f"refresh_every = {refresh_every}; it must be an integer >= 0 (0 disables refresh)")
        if not 0.0 < refresh_threshold <= 1.0:
            raise ParameterError(
                f"refresh_threshold = {refresh_threshold}; it is a fraction of the conductance range, in (0, 1]"
            )
        self.refresh_every = int(refresh_every)
        self.refresh_threshold = float(refresh_threshold)
        self._chi: list[np.ndarray] | None = None
        self._steps = 0
        self._n_pulses = 0
        self._n_refreshed = 0

    @classmethod
    def from_config(cls, config: MixedPrecisionConfig) -> "MixedPrecision":
        return cls(config.learning_rate, refresh_every=config.refresh_every,
                   refresh_threshold=config.refresh_threshold, epsilon=config.epsilon)

    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        tiles = [tile_of(layer, self.name) for layer in net.layers]
        if self._chi is None:
            self._chi = [np.zeros(t.get_weights().shape) for t in tiles]
        for k, (layer, tile, x, d) in enumerate(zip(net.layers, tiles, inputs, deltas)):
            xt, dt = layer.update_operands(x, d)
            chi = self._chi[k]
            # the gradient product in the operands' dtype (float32 in training), accumulated in float64
            chi -= (self.learning_rate / xt.shape[0]) * (dt.T @ xt)  # R rows: B, or B·P for a conv layer
            eps = self.epsilon if self.epsilon is not None else default_epsilon(tile)
            flat = chi.reshape(-1)
            # the cells with a whole step (a few of them; the margin keeps those whose quotient rounds up to 1)
            cells = np.flatnonzero(np.abs(flat) >= eps * (1.0 - 1e-12))
            n = np.trunc(flat[cells] / eps)  # sign(χ)·floor(|χ|/ε)
            if not np.all(n):
                cells, n = cells[n != 0], n[n != 0]
            record_programmed(counters, k, n, macs=xt.shape[0] * chi.size, accumulator_updates=chi.size)
            if cells.size:
                flat[cells] -= n * eps
                counts = n.astype(np.int64)
                self._n_pulses += int(np.abs(counts).sum())
                tile.apply_cell_pulses(cells, counts)
        self._steps += 1
        if self.refresh_every and self._steps % self.refresh_every == 0:
            for tile in tiles:
                self._n_refreshed += tile.refresh(self.refresh_threshold)

    def state_dict(self) -> dict:
        return {
            "chi": [c.copy() for c in self._chi] if self._chi is not None else [],
            "steps": self._steps,
            "n_pulses": self._n_pulses,
            "n_refreshed": self._n_refreshed,
        }

    def load_state_dict(self, state: dict) -> None:
        chi = state["chi"]
        self._chi = [np.array(c, dtype=np.float64) for c in chi] if len(chi) else None
        self._steps = int(state["steps"])
        self._n_pulses = int(state["n_pulses"])
        self._n_refreshed = int(state["n_refreshed"])

    def stats(self) -> dict:
        return {"pulses": self._n_pulses, "refreshed_pairs": self._n_refreshed}


def default_epsilon(tile) -> float:
    """The step ε (weight units) mixed precision assumes per pulse.

    Bidirectional devices (push-pull pairs): ``tile.dw_min``, the mean change
    at the centre of the range. Unipolar devices (PCM): the mean step of a
    device at g_min — after a refresh the pairs sit there and most pulses act
    near it. For the statistical PCM the centre step (0.05 µS at 10 µS) is
    18x smaller than the step from g_min (0.88 µS), and an ε that small would
    ask for 18x too many pulses.
    """
    if tile.config.scheme != "unipolar":
        return float(tile.dw_min)
    return abs(tile.config.device.nominal_step_s(0.0, True)) / tile.mapping.g_scale_s
