"""Neuron activations and the softmax + cross-entropy output, with derivatives.

Each hidden activation is a pair of vectorised functions: ``f(z)`` and its
derivative written in terms of the layer's output ``a = f(z)`` and ``z`` (so
back-propagation needs no second evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from memspice.errors import ParameterError


def sigmoid(z: np.ndarray) -> np.ndarray:
    # Written through tanh so large |z| neither overflows nor warns.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _sigmoid_grad(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    return a * (1.0 - a)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _relu_grad(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    return (z > 0.0).astype(z.dtype)


@dataclass(frozen=True)
class Activation:
    """A hidden-layer nonlinearity ``f`` and ``df/dz`` as a function of (a, z)."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]


def logistic4(z: np.ndarray) -> np.ndarray:
    """logistic(4z): slope 1 at 0; the neuron of binary stochastic learning (Li et al., arXiv 2304.12866)."""
    return sigmoid(4.0 * z)


def _logistic4_grad(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    return 4.0 * a * (1.0 - a)


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_grad),
    "relu": Activation("relu", relu, _relu_grad),
    "logistic4": Activation("logistic4", logistic4, _logistic4_grad),
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ParameterError(
            f"activation {name!r} is unknown; choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits (B, K); shifted by the row maximum for stability."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of integer ``labels`` (B,) under ``probs`` (B, K), in nats."""
    p = probs[np.arange(labels.shape[0]), labels]
    return float(-np.mean(np.log(np.maximum(p, np.finfo(probs.dtype).tiny))))


def softmax_cross_entropy_delta(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dL/dz of the per-sample loss at the logits: softmax(z) − onehot(label), shape (B, K).

    Not divided by the batch size: each rule decides how it averages over a
    mini-batch.
    """
    delta = probs.copy()
    delta[np.arange(labels.shape[0]), labels] -= 1.0
    return delta
