"""What a layer's weight update is made of: the (inputs, errors) rows whose outer products it sums.

Every rule of this package targets the mini-batch step
ΔW = −(η/B) Σ_b δ_b x_bᵀ on the layer's whole weight array (bias column
included). For a dense layer the rows are the B samples themselves. A layer
whose one tile is used several times per sample (a convolution: one use per
output position, see :mod:`memspice.learn.conv`) defines the hook

    layer.update_operands(x, delta) -> (rows_x, rows_delta)

returning R rows each, already scaled so that −(η/R) Σ_r δ_r x_rᵀ is that
layer's mini-batch step (the convolution multiplies its errors by the number
of positions P, since R = B·P). Rules that only need outer-product sums (SBE,
CBRAM-SC, binary stochastic, Tiki-Taka) call :func:`update_operands` and never
look at the layer's type.
"""

from __future__ import annotations

import numpy as np

from memspice.errors import ParameterError


def update_operands(layer, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows_x (R, n_cols), rows_delta (R, n_out)) of ``layer``'s update for one mini-batch.

    ``n_cols`` includes the bias column (input 1) for every kind of layer, so
    float layers and tiles are updated alike (:func:`apply_float_update`).
    """
    hook = getattr(layer, "update_operands", None)
    if hook is not None:
        return hook(x, delta)
    ones = np.ones((x.shape[0], 1), dtype=x.dtype)
    if hasattr(layer, "tile_inputs"):
        return layer.tile_inputs(x), delta
    return np.concatenate([x, ones], axis=1), delta


def apply_float_update(layer, dw: np.ndarray) -> None:
    """Add ``dw`` (n_out, n_in + 1; last column the bias) to a floating-point layer's W and b."""
    if layer.kind != "float":
        raise ParameterError(f"apply_float_update: expected a floating-point layer, got a {layer.kind} layer")
    layer.w += dw[:, :-1]
    layer.b += dw[:, -1]


def layer_tile(layer):
    """The layer's tile, or None for a floating-point layer."""
    return getattr(layer, "tile", None)
