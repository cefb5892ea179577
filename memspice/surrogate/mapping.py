"""Mapping between weights and conductance pairs, W = (G+ - G-) / g_scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.errors import ParameterError


@dataclass(frozen=True)
class WeightMapping:
    """Linear map from a weight to a differential conductance pair.

    ``W = (G+ - G-) / g_scale`` with ``g_scale = (g_max_s - g_min_s) / w_max``:
    a weight of ``+w_max`` is G+ = g_max, G- = g_min, and ``-w_max`` the mirror.
    """

    g_min_s: float = 1.0e-6
    """Lowest programmed conductance of either device (S); the "off" device of a pair sits here."""
    g_max_s: float = 11.0e-6
    """Highest programmed conductance (S); |W| = w_max maps here."""
    w_max: float = 1.0
    """Largest representable |weight| (weight units)."""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.g_min_s) and self.g_min_s >= 0.0):
            raise ParameterError(f"WeightMapping.g_min_s = {self.g_min_s!r}: must be a finite conductance >= 0 S.")
        if not (np.isfinite(self.g_max_s) and self.g_max_s > self.g_min_s):
            raise ParameterError(
                f"WeightMapping.g_max_s = {self.g_max_s!r} must exceed g_min_s = {self.g_min_s!r} S; "
                "give the device's highest programmable conductance."
            )
        if not (np.isfinite(self.w_max) and self.w_max > 0.0):
            raise ParameterError(f"WeightMapping.w_max = {self.w_max!r}: must be a positive finite weight.")

    @property
    def g_scale_s(self) -> float:
        """Conductance per unit weight (S)."""
        return (self.g_max_s - self.g_min_s) / self.w_max

    @property
    def g_range_s(self) -> float:
        return self.g_max_s - self.g_min_s

    def weights_to_pair(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ideal programming: W >= 0 on G+, W < 0 on G-, the other device at g_min.

        Raises ParameterError when any |W| exceeds w_max (it is not clipped).
        """
        w = np.asarray(w, dtype=np.float64)
        if not np.all(np.isfinite(w)):
            raise ParameterError("weights contain NaN or inf; give finite weights.")
        # a few ulp of slack so that weights read back from a tile (rounding in
        # (G+ - G-)/g_scale) can be written again
        limit = self.w_max * (1.0 + 1e-12)
        bad = np.abs(w) > limit
        if np.any(bad):
            worst = float(w.flat[np.argmax(np.abs(w))])
            raise ParameterError(
                f"{int(bad.sum())} weight(s) exceed w_max = {self.w_max:g} (largest |W| = {abs(worst):g}); "
                "scale the weights or raise WeightMapping.w_max."
            )
        g_plus = self.g_min_s + np.maximum(w, 0.0) * self.g_scale_s
        g_minus = self.g_min_s + np.maximum(-w, 0.0) * self.g_scale_s
        return g_plus, g_minus

    def pair_to_weights(self, g_plus: np.ndarray, g_minus: np.ndarray) -> np.ndarray:
        return (np.asarray(g_plus) - np.asarray(g_minus)) / self.g_scale_s
