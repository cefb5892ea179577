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
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from memspice.errors import ParameterError
from memspice.learn.layers import AnalogDense, FloatDense, init_weights, program_weights
from memspice.learn.network import Network


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
    """

    def __init__(self, in_shape: Sequence[int], kernel: int, *, tile=None, w=None, b=None):
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

    @property
    def n_in(self) -> int:
        return int(np.prod(self.in_shape))

    @property
    def n_out(self) -> int:
        return self.filters * self.n_positions

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return (self.filters,) + self.out_hw

    def patches(self, x: np.ndarray) -> np.ndarray:
        """im2col: (B, C·H·W) -> (B·P, C·k·k), position-major within each image."""
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ParameterError(f"Conv2d: input of shape {x.shape}; expected (B, {self.n_in}) for images {self.in_shape}")
        return x[:, self._index].reshape(-1, self.n_patch)

    def _matrix(self, rows: np.ndarray) -> np.ndarray:
        if self.tile is not None:
            return self.tile.forward(np.concatenate([rows, np.ones((rows.shape[0], 1))], axis=1))
        return rows @ self.w.T + self.b

    def forward(self, x: np.ndarray) -> np.ndarray:
        batch = x.shape[0]
        y = self._matrix(self.patches(x))  # (B·P, F)
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
        else:
            back = rows @ self.w
        out = np.zeros((batch, self.n_in))
        back = back.reshape(batch, self.n_positions, self.n_patch)
        for p in range(self.n_positions):  # P scatter-adds of (B, C·k·k); patches overlap
            out[:, self._index[p]] += back[:, p, :]
        return out

    def update_operands(self, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows (B·P, C·k·k + 1) and errors (B·P, F)·P: see :mod:`memspice.learn.operands`."""
        rows = self.patches(x)
        rows = np.concatenate([rows, np.ones((rows.shape[0], 1))], axis=1)
        return rows, self._delta_rows(delta) * self.n_positions

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(W (F, C·k·k), b (F,))."""
        if self.tile is not None:
            wb = self.tile.get_weights()
            return wb[:, :-1].copy(), wb[:, -1].copy()
        return self.w.copy(), self.b.copy()


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
    """A CNN: one Conv2d of ``filters`` k x k filters, then dense layers of widths ``dense_sizes``.

    E.g. digits (1, 8, 8), 8 filters of 3x3 -> 8·6·6 = 288 features, then
    ``dense_sizes = [10]``; Fashion-MNIST (1, 28, 28), 8 filters of 5x5 -> 4608.
    Initial weights as :func:`~memspice.learn.layers.init_weights` (fan-in
    C·k·k for the filters); tiles are programmed with
    :func:`~memspice.learn.layers.program_weights`.
    """
    channels = int(image_shape[0])
    n_patch = channels * int(kernel) ** 2
    w = init_weights(filters, n_patch, activation, rng)
    if tile_factory is None:
        conv = Conv2d(image_shape, kernel, w=w)
    else:
        tile = tile_factory(filters, n_patch + 1)
        program_weights(tile, np.concatenate([w, np.zeros((filters, 1))], axis=1))
        conv = Conv2d(image_shape, kernel, tile=tile)
    layers = [conv]
    sizes = [conv.n_out] + [int(s) for s in dense_sizes]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = init_weights(n_out, n_in, activation, rng)
        if tile_factory is None:
            layers.append(FloatDense(w))
        else:
            tile = tile_factory(n_out, n_in + 1)
            program_weights(tile, np.concatenate([w, np.zeros((n_out, 1))], axis=1))
            layers.append(AnalogDense(tile))
    return Network(layers, activation)
