"""Fully connected layers: weights in floating point, or on a surrogate tile.

Both kinds compute the pre-activation ``z = W x + b`` and propagate an error
back as ``δ W``; they differ in where W lives:

* :class:`FloatDense` keeps W and b as float arrays (the baseline): float32,
  the dtype of the data (:data:`memspice.learn.datasets.FEATURE_DTYPE`), as
  :func:`init_weights` draws them, or float64 when given float64 weights;
* :class:`AnalogDense` keeps them as conductance pairs on an
  :class:`memspice.surrogate.AnalogTile`. The bias is one extra tile column
  driven by a constant input of 1 (the "bias row" of a crossbar), so the
  tile is ``n_out x (n_in + 1)`` and the update rules treat bias and weights
  alike. Forward and backward reads go through the tile (DAC/ADC, read noise,
  IR drop, as the tile is configured); weights change only by pulses.
"""

from __future__ import annotations

import numpy as np

from memspice.errors import ParameterError
from memspice.learn.datasets import FEATURE_DTYPE


def init_weights(n_out: int, n_in: int, activation: str, rng: np.random.Generator) -> np.ndarray:
    """Initial weights (n_out, n_in), uniform in ±limit.

    limit = sqrt(6 / (n_in + n_out)) for sigmoid (Glorot & Bengio 2010) and
    sqrt(6 / n_in) for ReLU (He et al. 2015); the same draw is used for the
    floating-point and the analog network so both start from the same point
    (drawn in float64, returned rounded to FEATURE_DTYPE, float32).
    """
    if activation == "relu":
        limit = np.sqrt(6.0 / n_in)
    else:
        limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_out, n_in)).astype(FEATURE_DTYPE)


def program_weights(tile, w: np.ndarray) -> None:
    """Program the tile to weights ``w`` (ideal write), choosing where each pair sits.

    Push-pull pairs (one pulse moves G+ and G− in opposite directions) are
    centred: G± = g_c ± W·g_scale/2 with g_c the middle of [g_min, g_max], so
    both devices start inside their range and every pulse moves W by the full
    ``tile.dw_min`` in either direction. (With the other device parked at
    g_min, as ``tile.set_weights`` does, a pulse away from W = 0 would find one
    device at its bound and move W by half a step, toward 0 by a whole one —
    a built-in weight decay.) Unipolar pairs (SET-only devices such as PCM)
    start with the idle device at g_min, as both devices can only grow.
    """
    w = np.asarray(w, dtype=np.float64)
    if tile.config.scheme != "push_pull":
        tile.set_weights(w)
        return
    m = tile.mapping
    if np.any(np.abs(w) > m.w_max):
        raise ParameterError(
            f"initial weights up to {float(np.abs(w).max()):g} exceed the tile's w_max = {m.w_max:g}; "
            "raise [tile.mapping] w_max or use smaller layers' initial weights"
        )
    g_c = 0.5 * (m.g_min_s + m.g_max_s)
    half = 0.5 * w * m.g_scale_s
    tile.set_conductances(g_c + half, g_c - half)


def _float_dtype(a) -> np.dtype:
    """float32 or float64 as ``a`` holds; FEATURE_DTYPE for anything else (integers, lists)."""
    dtype = np.asarray(a).dtype
    return dtype if dtype in (np.float32, np.float64) else FEATURE_DTYPE


class FloatDense:
    """z = x Wᵀ + b in the dtype of W (float32 or float64). ``w``: (n_out, n_in); ``b``: (n_out,)."""

    kind = "float"

    def __init__(self, w: np.ndarray, b: np.ndarray | None = None):
        self.w = np.array(w, dtype=_float_dtype(w))
        self.b = np.zeros(self.w.shape[0], dtype=self.w.dtype) if b is None else np.array(b, dtype=self.w.dtype)
        if self.b.shape != (self.w.shape[0],):
            raise ParameterError(f"bias has shape {self.b.shape}; expected ({self.w.shape[0]},) to match W")

    @property
    def n_in(self) -> int:
        return int(self.w.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.w.shape[0])

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.w.T + self.b

    def backward(self, delta: np.ndarray) -> np.ndarray:
        return delta @ self.w

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (W, b)."""
        return self.w.copy(), self.b.copy()

    def state_dict(self) -> dict:
        return {"w": self.w.copy(), "b": self.b.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.w = np.array(state["w"], dtype=_float_dtype(state["w"]))
        self.b = np.array(state["b"], dtype=self.w.dtype)


class AnalogDense:
    """z = s · tile.forward([x, 1]); the tile's last column is the bias.

    ``tile``: an AnalogTile of shape (n_out, n_in + 1). ``out_scale`` s is a
    digital gain on the layer's output (and on its back-propagated error), as
    the periphery applies it after the ADC: the layer's weights are
    s · W_tile, so small weights can use the tile's whole conductance range
    (aihwkit's "weight scaling omega", Rasch et al. 2021). s = 1: no scaling.
    Use :func:`memspice.learn.network.build_network` to make one from sizes.
    """

    kind = "analog"

    def __init__(self, tile, out_scale: float = 1.0):
        self.tile = tile
        w = tile.get_weights()
        if w.shape[1] < 2:
            raise ParameterError(f"an analog layer needs a tile with at least 2 columns (inputs + bias); got {w.shape}")
        out_scale = float(out_scale)
        if not (np.isfinite(out_scale) and out_scale > 0.0):
            raise ParameterError(f"out_scale = {out_scale}; the output gain must be a positive finite number")
        self.out_scale = out_scale
        self._n_out, self._n_in = int(w.shape[0]), int(w.shape[1]) - 1
        self._last_inputs = None  # (x, tile rows) of the last forward pass, reused by update_operands

    @property
    def n_in(self) -> int:
        return self._n_in

    @property
    def n_out(self) -> int:
        return self._n_out

    @staticmethod
    def tile_inputs(x: np.ndarray) -> np.ndarray:
        """Inputs as the tile sees them: x with a column of ones for the bias, (B, n_in + 1)."""
        return np.concatenate([x, np.ones((x.shape[0], 1), dtype=x.dtype)], axis=1)

    def update_operands(self, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tile inputs, tile errors) whose outer-product step −(η/B)Σ δ_t x_tᵀ on W_tile is SGD on s·W_tile.

        With z = s·W_tile·x, a step ΔW_tile = −(η/s)·δ xᵀ changes the layer's
        weights s·W_tile by −η δ xᵀ, the floating-point step; so the tile's
        errors are δ/s and every rule keeps the baseline's learning rate.
        """
        last = self._last_inputs
        xt = last[1] if last is not None and last[0] is x else self.tile_inputs(x)
        return xt, delta / self.out_scale

    def forward(self, x: np.ndarray) -> np.ndarray:
        xt = self.tile_inputs(x)
        self._last_inputs = (x, xt)  # the update of this mini-batch drives the same rows (update_operands)
        z = self.tile.forward(xt)
        return z if self.out_scale == 1.0 else self.out_scale * z

    def backward(self, delta: np.ndarray) -> np.ndarray:
        back = self.tile.backward(delta)[:, : self._n_in]
        return back if self.out_scale == 1.0 else self.out_scale * back

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) = s · (tile weights) as the conductances encode them now."""
        wb = self.out_scale * self.tile.get_weights()
        return wb[:, : self._n_in].copy(), wb[:, self._n_in].copy()
