"""A convolution layer on one crossbar tile (im2col), and a small CNN builder.

A 2-D convolution with F filters of size C x k x k is a matrix product once
every k x k patch of the input is unrolled into a column (im2col; Chellapilla
et al. 2006): the tile holds the F x (C·k·k + 1) filter matrix (last column:
the bias, input 1) and each of the P = H_out·W_out output positions is one
read of it. This is how the CNN of the seed papers maps onto crossbars
(Gokmen et al., Front. Neurosci. 11:538, 2017): one tile, read P times per
image, updated with the sum of the P outer products.

Layout: images are flattened channel-major, (C, H, W) -> C·H·W, inputs and
outputs alike, so the layer fits in a :class:`~memspice.learn.network.Network`
between dense layers (the activation acts elementwise on the flattened
output). Stride 1, no padding ("valid").

Updates: the layer defines ``update_operands(x, delta)`` (see
:mod:`memspice.learn.operands`): rows = the B·P patches (with the bias input)
and the matching errors times P, so that every rule that averages over its
rows applies the conv gradient −(η/B) Σ_b Σ_p δ_bp patch_bpᵀ.

Several conv layers stack (the C'·H'·W' output of one is the image of the
next); :func:`build_cnn` makes conv layers followed by dense ones, as
``memspice train`` does for a ``[network] conv`` list
(:mod:`memspice.learn.config`).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from memspice.errors import ParameterError
from memspice.learn.layers import init_weights, program_weights
from memspice.learn.network import Network, build_network


def _patch_index(channels: int, height: int, width: int, kernel: int) -> np.ndarray:
    """Indices (P, C·k·k) into a flattened (C, H, W) image of every k x k patch, row-major positions."""
    h_out, w_out = height - kernel + 1, width - kernel + 1
    c, di, dj = np.meshgrid(np.arange(channels), np.arange(kernel), np.arange(kernel), indexing="ij")
    offsets = (c * height * width + di * width + dj).reshape(-1)  # (C·k·k,) in (c, di, dj) order
    i, j = np.meshgrid(np.arange(h_out), np.arange(w_out), indexing="ij")
    starts = (i * width + j).reshape(-1)  # (P,)
    return starts[:, None] + offsets[None, :]


class Conv2d:
    """Valid, stride-1 convolution of (C, H, W) images with F filters of k x k.

    ``tile``: an AnalogTile of shape (F, C·k·k + 1) (analog layer), or
    ``w`` (F, C·k·k) and ``b`` (F,) for the floating-point layer. Filter
    layout in a row: (c, di, dj), i.e. ``w.reshape(F, C, k, k)``.
    ``out_scale`` s (analog layer only): digital gain on the outputs and the
    back-propagated errors, as :class:`~memspice.learn.layers.AnalogDense`'s
    (the filters are s·W_tile; aihwkit's weight scaling). 1: no scaling.
    """

    def __init__(
        self, in_shape: Sequence[int], kernel: int, *, tile=None, w=None, b=None, out_scale: float = 1.0
    ):
        if len(in_shape) != 3 or min(in_shape) < 1:
            raise ParameterError(f"in_shape = {tuple(in_shape)}: give (channels, height, width), all >= 1")
        self.in_shape = tuple(int(s) for s in in_shape)
        channels, height, width = self.in_shape
        if int(kernel) != kernel or not 1 <= kernel <= min(height, width):
            raise ParameterError(f"kernel = {kernel!r}: must be an integer in [1, {min(height, width)}] for {self.in_shape}")
        self.kernel = int(kernel)
        self.n_patch = channels * self.kernel**2
        if (tile is None) == (w is None):
            raise ParameterError("Conv2d: give either tile (analog layer) or w (floating-point layer)")
        self.tile = tile
        out_scale = float(out_scale)
        if not (np.isfinite(out_scale) and out_scale > 0.0):
            raise ParameterError(f"Conv2d: out_scale = {out_scale}; the output gain must be a positive finite number")
        if tile is None and out_scale != 1.0:
            raise ParameterError("Conv2d: out_scale applies to an analog layer (tile) only; scale w and b instead")
        self.out_scale = out_scale
        if tile is not None:
            self.kind = "analog"
            n_f, n_cols = tile.get_weights().shape
            if n_cols != self.n_patch + 1:
                raise ParameterError(
                    f"Conv2d: the tile has {n_cols} columns; {self.n_patch} patch inputs + 1 bias need {self.n_patch + 1}"
                )
        else:
            self.kind = "float"
            self.w = np.array(w, dtype=np.float64)
            n_f = self.w.shape[0]
            if self.w.shape != (n_f, self.n_patch):
                raise ParameterError(f"Conv2d: w has shape {self.w.shape}; expected (filters, {self.n_patch})")
            self.b = np.zeros(n_f) if b is None else np.array(b, dtype=np.float64)
        self.filters = int(n_f)
        self.out_hw = (height - self.kernel + 1, width - self.kernel + 1)
        self.n_positions = self.out_hw[0] * self.out_hw[1]
        self._index = _patch_index(channels, height, width, self.kernel)
        # flat gather indices, without and with the bias input (column n_in of [x, 1]); np.take with a
        # flat index is ~18x faster than x[:, index] with the 2-D one (whose result is laid out transposed)
        self._flat = self._index.reshape(-1)
        bias = np.full((self.n_positions, 1), channels * height * width)
        self._flat_bias = np.concatenate([self._index, bias], axis=1).reshape(-1)

    @property
    def n_in(self) -> int:
        return int(np.prod(self.in_shape))

    @property
    def n_out(self) -> int:
        return self.filters * self.n_positions

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return (self.filters,) + self.out_hw

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ParameterError(f"Conv2d: input of shape {x.shape}; expected (B, {self.n_in}) for images {self.in_shape}")

    def patches(self, x: np.ndarray) -> np.ndarray:
        """im2col: (B, C·H·W) -> (B·P, C·k·k), position-major within each image."""
        self._check_input(x)
        return x.take(self._flat, axis=1).reshape(-1, self.n_patch)

    def tile_rows(self, x: np.ndarray) -> np.ndarray:
        """The patches with the bias input 1 appended: (B·P, C·k·k + 1), the rows the tile sees."""
        self._check_input(x)
        padded = np.concatenate([x, np.ones((x.shape[0], 1), dtype=x.dtype)], axis=1)
        return padded.take(self._flat_bias, axis=1).reshape(-1, self.n_patch + 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        batch = x.shape[0]
        if self.tile is not None:
            y = self.tile.forward(self.tile_rows(x))  # (B·P, F)
            if self.out_scale != 1.0:
                y = self.out_scale * y
        else:
            y = self.patches(x) @ self.w.T + self.b
        return y.reshape(batch, self.n_positions, self.filters).transpose(0, 2, 1).reshape(batch, self.n_out)

    def _delta_rows(self, delta: np.ndarray) -> np.ndarray:
        batch = delta.shape[0]
        return delta.reshape(batch, self.filters, self.n_positions).transpose(0, 2, 1).reshape(-1, self.filters)

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """δ W^T through the tile (transposed read per position), scattered back onto the image (col2im)."""
        batch = delta.shape[0]
        rows = self._delta_rows(delta)
        if self.tile is not None:
            back = self.tile.backward(rows)[:, : self.n_patch]
            if self.out_scale != 1.0:
                back = self.out_scale * back
        else:
            back = rows @ self.w
        # col2im: every patch entry adds onto its pixel (patches overlap), one bincount over the batch
        target = (np.arange(batch)[:, None] * self.n_in + self._flat[None, :]).reshape(-1)
        out = np.bincount(target, weights=back.reshape(-1), minlength=batch * self.n_in)
        return out.reshape(batch, self.n_in)

    def update_operands(self, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows (B·P, C·k·k + 1) and errors (B·P, F)·P/s: see :mod:`memspice.learn.operands`.

        The factor P makes the mean over the R = B·P rows the per-sample mean
        gradient; 1/s (the output gain) makes a step on W_tile a step of the
        layer's filters s·W_tile with the same η (as AnalogDense does).
        """
        return self.tile_rows(x), self._delta_rows(delta) * (self.n_positions / self.out_scale)

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(W (F, C·k·k), b (F,)); for an analog layer s · (tile weights)."""
        if self.tile is not None:
            wb = self.out_scale * self.tile.get_weights()
            return wb[:, :-1].copy(), wb[:, -1].copy()
        return self.w.copy(), self.b.copy()


def _scaled_tile(tile_factory, w: np.ndarray, omega: float | None):
    """(tile programmed to [w, 0], output gain s): s = max|w|/(ω·w_max) as in
    :func:`~memspice.learn.network.build_network` (ω None: s = 1)."""
    n_out, n_in = w.shape
    tile = tile_factory(n_out, n_in + 1)
    wb = np.concatenate([w, np.zeros((n_out, 1))], axis=1)
    scale = 1.0
    if omega is not None:
        scale = float(np.abs(wb).max()) / (omega * tile.mapping.w_max)
    program_weights(tile, wb / scale)
    return tile, scale


def build_cnn(
    image_shape: Sequence[int],
    conv_layers: Sequence[tuple[int, int]],
    dense_sizes: Sequence[int],
    rng: np.random.Generator,
    *,
    activation: str = "sigmoid",
    tile_factory: Callable[[int, int], object] | None = None,
    weight_scaling_omega: float | None = None,
) -> Network:
    """A CNN: valid stride-1 conv layers ``conv_layers`` = [(filters, kernel), ...], then dense layers.

    ``image_shape`` (C, H, W) of the input; each conv layer's output (F, H−k+1,
    W−k+1) is the next one's image; the last one's F·H'·W' outputs feed dense
    layers of widths ``dense_sizes`` (classes last). The hidden activation
    follows every layer but the last. Initial weights as
    :func:`~memspice.learn.layers.init_weights` (fan-in C·k·k for filters),
    drawn from ``rng`` layer by layer in order, so the floating-point network
    (no ``tile_factory``) and the analog one start from the same weights;
    ``tile_factory`` (``(n_out, n_cols) -> AnalogTile``) is called once per
    layer in the same order, and ``weight_scaling_omega`` gives each analog
    layer its output gain as :func:`~memspice.learn.network.build_network` does.
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ParameterError(f"image_shape = {tuple(image_shape)}: give (channels, height, width), all >= 1")
    if not conv_layers:
        raise ParameterError("build_cnn: give at least one (filters, kernel) conv layer (or use build_network)")
    if weight_scaling_omega is not None and not 0.0 < weight_scaling_omega <= 1.0:
        raise ParameterError(f"weight_scaling_omega = {weight_scaling_omega}; it must lie in (0, 1]")
    layers = []
    for k, (filters, kernel) in enumerate(conv_layers):
        if int(filters) != filters or filters < 1:
            raise ParameterError(f"conv layer {k}: filters = {filters!r}; it must be an integer >= 1")
        if int(kernel) != kernel or not 1 <= kernel <= min(shape[1:]):
            raise ParameterError(
                f"conv layer {k}: kernel = {kernel!r} does not fit its {shape[1]}x{shape[2]} input; "
                f"use an integer in [1, {min(shape[1:])}]"
            )
        w = init_weights(int(filters), shape[0] * int(kernel) ** 2, activation, rng)
        if tile_factory is None:
            conv = Conv2d(shape, kernel, w=w)
        else:
            tile, scale = _scaled_tile(tile_factory, w, weight_scaling_omega)
            conv = Conv2d(shape, kernel, tile=tile, out_scale=scale)
        layers.append(conv)
        shape = conv.out_shape
    # the dense tail: the same draws and programming as an MLP whose input is the last conv output
    tail = build_network(
        [layers[-1].n_out] + [int(s) for s in dense_sizes], rng, activation=activation,
        tile_factory=tile_factory, weight_scaling_omega=weight_scaling_omega,
    )
    return Network(layers + tail.layers, activation)


def build_conv_network(
    image_shape: Sequence[int],
    filters: int,
    kernel: int,
    dense_sizes: Sequence[int],
    rng: np.random.Generator,
    *,
    activation: str = "sigmoid",
    tile_factory: Callable[[int, int], object] | None = None,
) -> Network:
    """A CNN of one Conv2d of ``filters`` k x k filters, then dense layers of widths ``dense_sizes``.

    E.g. digits (1, 8, 8), 8 filters of 3x3 -> 8·6·6 = 288 features, then
    ``dense_sizes = [10]``; Fashion-MNIST (1, 28, 28), 8 filters of 5x5 -> 4608.
    The one-conv-layer case of :func:`build_cnn`.
    """
    return build_cnn(image_shape, [(filters, kernel)], dense_sizes, rng, activation=activation,
                     tile_factory=tile_factory)
