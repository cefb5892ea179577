"""A multilayer perceptron of fully connected layers, floating-point or analog.

The network only does forward and backward passes; how weights change is the
update rule's job (:mod:`memspice.learn.rules`). A training step is::

    trace = net.forward_train(x)             # inputs and activations per layer
    deltas = net.backward(trace, labels)     # δ at each layer's pre-activation
    rule.step(net, trace.inputs, deltas, rng, counters)   # pulses (or float SGD)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from memspice.errors import ParameterError
from memspice.learn.activations import get_activation, softmax, softmax_cross_entropy_delta
from memspice.learn.layers import AnalogDense, FloatDense, init_weights, program_weights


@dataclass(frozen=True)
class Trace:
    """What one forward pass leaves for the backward pass.

    ``inputs[k]``: (B, n_in_k), the input of layer k; ``outputs[k]``: the
    activation of hidden layer k (B, n_out_k); ``pre[k]``: its pre-activation;
    ``probs``: (B, n_classes) softmax output.
    """

    inputs: list
    outputs: list
    pre: list
    probs: np.ndarray


class Network:
    """Layers with a hidden activation between them and softmax at the output."""

    def __init__(self, layers: Sequence, activation: str = "sigmoid"):
        if not layers:
            raise ParameterError("a network needs at least one layer")
        for k in range(1, len(layers)):
            if layers[k].n_in != layers[k - 1].n_out:
                raise ParameterError(
                    f"layer {k} takes {layers[k].n_in} inputs but layer {k - 1} gives {layers[k - 1].n_out}"
                )
        self.layers = list(layers)
        self.activation = get_activation(activation)

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def kind(self) -> str:
        """"float" or "analog" (all layers are of one kind when built by build_network)."""
        kinds = {layer.kind for layer in self.layers}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    def forward_train(self, x: np.ndarray) -> Trace:
        inputs, outputs, pre = [], [], []
        a = x
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            inputs.append(a)
            z = layer.forward(a)
            if k == last:
                return Trace(inputs, outputs, pre, softmax(z))
            pre.append(z)
            a = self.activation.f(z)
            outputs.append(a)
        raise AssertionError("unreachable")

    def predict_proba(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Class probabilities (B, n_classes), evaluated in chunks of ``batch_size``."""
        chunks = [self.forward_train(x[s : s + batch_size]).probs for s in range(0, x.shape[0], batch_size)]
        return np.concatenate(chunks, axis=0)

    def backward(self, trace: Trace, labels: np.ndarray) -> list[np.ndarray]:
        """δ at each layer's pre-activation (per sample, not batch-averaged), output last.

        Softmax + cross-entropy: δ_L = p − onehot(y); hidden layers:
        δ_k = (δ_{k+1} W_{k+1}) ⊙ f'(z_k), with δ W read back through the layer
        (a transposed tile read for analog layers).
        """
        deltas = [softmax_cross_entropy_delta(trace.probs, labels)]
        for k in range(len(self.layers) - 2, -1, -1):
            back = self.layers[k + 1].backward(deltas[0])
            deltas.insert(0, back * self.activation.grad(trace.outputs[k], trace.pre[k]))
        return deltas

    def weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(W, b) of each layer, as float arrays."""
        return [layer.weights() for layer in self.layers]


def build_network(
    sizes: Sequence[int],
    rng: np.random.Generator,
    *,
    activation: str = "sigmoid",
    tile_factory: Callable[[int, int], object] | None = None,
    weight_scaling_omega: float | None = None,
) -> Network:
    """An MLP with layer widths ``sizes`` (inputs first, classes last).

    Initial weights are drawn from ``rng`` (see :func:`init_weights`); biases
    start at 0. With ``tile_factory`` (``(n_out, n_cols) -> AnalogTile``) each
    layer is an :class:`AnalogDense` whose tile is programmed to those
    weights (see :func:`~memspice.learn.layers.program_weights`); without it,
    a :class:`FloatDense`. The same ``rng`` state gives
    the same starting weights either way.

    ``weight_scaling_omega`` ω (analog layers only; aihwkit's weight scaling,
    Rasch et al. 2021): each layer gets the output gain s = max|W_init| /
    (ω·w_max), so its largest initial weight sits at ω·w_max on the tile and
    the device's levels are spent on the range the layer uses. None: s = 1.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ParameterError(f"network sizes {sizes} must list at least an input and an output width, all >= 1")
    get_activation(activation)  # fail early on an unknown name
    if weight_scaling_omega is not None and not 0.0 < weight_scaling_omega <= 1.0:
        raise ParameterError(f"weight_scaling_omega = {weight_scaling_omega}; it must lie in (0, 1]")
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = init_weights(n_out, n_in, activation, rng)
        if tile_factory is None:
            layers.append(FloatDense(w))
        else:
            tile = tile_factory(n_out, n_in + 1)
            wb = np.concatenate([w, np.zeros((n_out, 1))], axis=1)
            scale = 1.0
            if weight_scaling_omega is not None:
                scale = float(np.abs(wb).max()) / (weight_scaling_omega * tile.mapping.w_max)
            program_weights(tile, wb / scale)
            layers.append(AnalogDense(tile, out_scale=scale))
    return Network(layers, activation)
