"""Streaming batch eigenupdate, SBE (``[rule] name = "sbe"``; Hoskins et al., Front. Neurosci. 13:793, 2019;
docs/algorithms.md, "Streaming batch eigenupdate").

A crossbar updates its whole array in parallel only with an outer product
(rank 1). Plain mini-batch SGD on a crossbar therefore costs one
outer-product ("matrix") update per sample; SBE replaces the batch's gradient
G = (1/B) Σ_j δ_j x_jᵀ by its top singular triplet (s, Δ̂, X̂), found by one
streaming power-iteration step per sample, and applies one rank-1 update
ΔW = −η·s·Δ̂X̂ᵀ per batch. The vectors of one batch start the next (warm
start), so a slowly turning gradient is tracked across batches.

The rank-k option keeps k vector pairs (block power iteration; the blocks are
re-orthonormalised after every sample) and a k x k matrix S ≈ Δ̂ᵀGX̂, and
applies ΔW = −η·(Δ̂S)X̂ᵀ as k outer products per batch.

Counting: ``stats()`` reports ``matrix_updates`` (rank-1 updates this rule
applied, summed over layers) and ``sgd_matrix_updates`` (what per-sample SGD
would have applied on the same samples: one per sample and layer), and their
ratio; divide by the epochs of the run for per-epoch numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ConfigError, ParameterError
from memspice.learn.counters import record_outer, record_programmed, train_hook
from memspice.learn.operands import apply_float_update, layer_tile, update_operands
from memspice.learn.rules.base import Rule, inner_learning_rate
from memspice.learn.rules.pulse_trains import PulseTrainConfig
from memspice.learn.rules.stochastic_coincidence import StochasticCoincidence

PULSE_MODES = ("coincidence", "rounded", "float")
ESTIMATORS = ("streaming", "exact")


@dataclass(frozen=True)
class SBEConfig(PulseTrainConfig):
    """``[rule]`` of "sbe": ``learning_rate``, ``bl``, ``update_management``
    (:class:`~memspice.learn.rules.pulse_trains.PulseTrainConfig`) and the keys below."""

    name: ClassVar[str] = "sbe"

    rank: int = 1
    """k: outer products (rank-1 updates) applied per mini-batch. Default 1."""

    pulse_mode: str = "coincidence"
    """How a rank-1 update reaches a tile: "coincidence" (stochastic pulse trains, default) or "rounded"
    (counts stochastically rounded per cell); "float": no tile, the rank-k step applied exactly to
    floating-point weights (the setting of Hoskins et al.'s study; leave [tile] out)."""

    estimator: str = "streaming"
    """The rank-k factors of the batch gradient: "streaming" (SBE's one power step per sample, default) or
    "exact" (the top-k singular triplets of G by a full SVD: the bound SBE approaches)."""

    def __post_init__(self):
        super().__post_init__()
        self._check_at_least("rank", 1)
        if self.pulse_mode not in PULSE_MODES:
            raise ConfigError(f"rule.pulse_mode = {self.pulse_mode!r}: choose 'coincidence', 'rounded' or 'float'")
        if self.estimator not in ESTIMATORS:
            raise ConfigError(f"rule.estimator = {self.estimator!r}: choose 'streaming' or 'exact'")


def _unit_columns(m: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning ``m`` (n, k), column l on the side of m_l (Gram-Schmidt's result).

    Computed by a Householder QR with the signs chosen so that R has a
    positive diagonal: the unique orthonormal basis that Gram-Schmidt yields,
    at one LAPACK call instead of k² Python-level products. A column with
    nothing left after removing the ones before it (no signal yet) keeps its
    previous estimate, re-orthogonalised (:func:`_unit_columns_mgs`).
    """
    q, r = np.linalg.qr(m)
    diag = np.diagonal(r)
    if np.all(np.abs(diag) > 1e-12 * max(float(np.abs(r).max()), 1e-300)):
        return q * np.sign(diag)
    return _unit_columns_mgs(m, previous)


def _unit_columns_mgs(m: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """As :func:`_unit_columns`, by modified Gram-Schmidt, with the fallback for empty columns."""
    q = np.empty_like(m)
    for ell in range(m.shape[1]):
        v = m[:, ell].copy()
        for i in range(ell):
            v -= (q[:, i] @ v) * q[:, i]
        norm = float(np.sqrt(v @ v))
        if norm <= 1e-300:
            v = previous[:, ell].copy()
            for i in range(ell):
                v -= (q[:, i] @ v) * q[:, i]
            norm = float(np.sqrt(v @ v))
        q[:, ell] = v / norm
    return q


def streaming_eigenupdate(
    x: np.ndarray, delta: np.ndarray, x_hat: np.ndarray, d_hat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One batch of the streaming power step of Hoskins et al. 2019 (docs/algorithms.md, "Streaming batch eigenupdate").

    ``x`` (B, n_in), ``delta`` (B, n_out): the batch's rows; ``x_hat`` (n_in, k),
    ``d_hat`` (n_out, k): the warm-start estimates (orthonormal columns). For
    sample j (0-based), with weights w = 1/(j+1):

        a = δ_jᵀΔ̂,   X ← (1−w)·X + w·x_j aᵀ,   X̂ ← X (orthonormalised)
        b = x_jᵀX̂,   Δ ← (1−w)·Δ + w·δ_j bᵀ,   Δ̂ ← Δ (orthonormalised)
        S ← (1−w)·S + w·a bᵀ

    X and Δ start from zero each batch; X̂ and Δ̂ carry over (warm start).
    Ordering: docs/algorithms.md updates X and Δ from the same old estimates; here
    Δ uses the X̂ just updated (Gauss-Seidel order). Our reading, because with
    the simultaneous (Jacobi) order the pair often flips sign on the first
    samples of a batch, so that s mixes products of opposite sign: on digits
    (64-32-10) 18 % of the simultaneous-order estimates pointed against the
    batch gradient, 0.6 % with this order. Returns (S (k, k), X̂, Δ̂) with
    G = mean_j δ_j x_jᵀ ≈ Δ̂ S X̂ᵀ. For k = 1, S = s is the streaming estimate of
    the top singular value; for k > 1, S estimates Δ̂ᵀGX̂ (the block need not
    be rotated onto the singular vectors, so S is kept whole: its singular
    values estimate σ_1..σ_k and Δ̂SX̂ᵀ the best rank-k approximation).
    """
    n_rows = x.shape[0]
    if x_hat.shape[1] == 1:  # rank 1: the same recursion on plain vectors (4x faster)
        xv, dv = x_hat[:, 0].copy(), d_hat[:, 0].copy()
        big_x, big_d = np.zeros_like(xv), np.zeros_like(dv)
        s1 = 0.0
        for j in range(n_rows):
            keep, new = j / (j + 1.0), 1.0 / (j + 1.0)
            a = float(delta[j] @ dv)
            big_x = keep * big_x + (new * a) * x[j]
            norm = float(np.sqrt(big_x @ big_x))
            if norm > 0.0:
                xv = big_x / norm
            b = float(x[j] @ xv)
            big_d = keep * big_d + (new * b) * delta[j]
            norm = float(np.sqrt(big_d @ big_d))
            if norm > 0.0:
                dv = big_d / norm
            s1 = keep * s1 + new * a * b
        return np.array([[s1]]), xv[:, None], dv[:, None]
    k = x_hat.shape[1]
    big_x = np.zeros_like(x_hat)
    big_d = np.zeros_like(d_hat)
    s = np.zeros((k, k))
    for j in range(n_rows):
        keep, new = j / (j + 1.0), 1.0 / (j + 1.0)
        a = delta[j] @ d_hat
        big_x = keep * big_x + new * np.outer(x[j], a)
        x_hat = _unit_columns(big_x, x_hat)
        b = x[j] @ x_hat
        big_d = keep * big_d + new * np.outer(delta[j], b)
        d_hat = _unit_columns(big_d, d_hat)
        s = keep * s + new * np.outer(a, b)
    return s, x_hat, d_hat


def exact_eigenupdate(x: np.ndarray, delta: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top-``rank`` singular triplets of G = mean_j δ_j x_jᵀ by a full SVD (rule.estimator = "exact").

    Returns (S (k, k) diagonal, X̂ (n_in, k), Δ̂ (n_out, k)) in the form of
    :func:`streaming_eigenupdate`: Δ̂ S X̂ᵀ is the best rank-k approximation of G
    (Eckart-Young), the exact answer the streaming estimate approaches. k = min(rank, B, n_out, n_in):
    G of B rows has rank <= B, and an update along a zero singular value would be counted but change nothing.
    """
    g = (delta.T @ x) / x.shape[0]
    u, sigma, vt = np.linalg.svd(g, full_matrices=False)
    k = min(int(rank), sigma.size, x.shape[0])
    return np.diag(sigma[:k]), vt[:k].T.copy(), u[:, :k].copy()


def _on_tiles(pulse_mode: str) -> bool:
    """Whether SBE with ``pulse_mode`` programs tiles ("float" trains floating-point weights)."""
    return pulse_mode != "float"


def _random_orthonormal(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return q


class StreamingBatchEigenupdate(Rule):
    """SBE: one rank-``rank`` outer-product update per mini-batch (module docstring).

    ``pulse_mode`` says how the rank-1 update −η·s·Δ̂X̂ᵀ reaches a tile:

    * ``"coincidence"`` (default): one stochastic pulse-coincidence update
      (docs/algorithms.md, "Stochastic pulse coincidence") with row trains from X̂ and column trains from s·Δ̂,
      ``bl`` slots long — the crossbar's own parallel outer-product update.
      Its expectation is the rank-1 step; a cell takes at most ``bl`` pulses
      per batch, so ``bl`` must cover η·max|sΔ̂X̂ᵀ|/Δw_min (clipped
      probabilities are counted in ``stats()``).
    * ``"rounded"``: the count n = ΔW/Δw_min stochastically rounded to an
      integer per cell (an outer product programmed by a digital periphery;
      unbiased, no per-batch limit).
    * ``"float"``: no tiles; the rank-k step applied exactly to floating-point
      weights (the software setting of Hoskins et al.'s update-count study).

    ``estimator = "exact"`` takes the top-k singular triplets of the batch
    gradient from a full SVD (:func:`exact_eigenupdate`) instead of the
    streaming estimate: the same k outer products per batch, the bound SBE approaches.

    Float layers take the rank-k step exactly (useful to separate the
    approximation from the device). ``learning_rate`` is η of the mini-batch
    step −(η/B)Σ δxᵀ that the rank-k update approximates.
    """

    name = SBEConfig.name
    config_class = SBEConfig

    @classmethod
    def uses_tiles(cls, config: SBEConfig) -> bool:
        return _on_tiles(config.pulse_mode)

    @property
    def needs_tiles(self) -> bool:
        return _on_tiles(self.pulse_mode)

    def __init__(
        self,
        learning_rate: float,
        rank: int = 1,
        bl: int = 10,
        update_management: bool = True,
        pulse_mode: str = "coincidence",
        estimator: str = "streaming",
    ):
        if int(rank) != rank or rank < 1:
            raise ParameterError(f"rank = {rank}; the number of outer products per batch must be an integer >= 1")
        if pulse_mode not in PULSE_MODES:
            raise ParameterError(f"pulse_mode = {pulse_mode!r}; choose one of {', '.join(PULSE_MODES)}")
        self._sc = StochasticCoincidence(learning_rate, bl=bl, update_management=update_management)
        self.rank = int(rank)
        self.pulse_mode = pulse_mode
        if estimator not in ESTIMATORS:
            raise ParameterError(f"estimator = {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
        self.estimator = estimator
        self._x_hat: list[np.ndarray] | None = None
        self._d_hat: list[np.ndarray] | None = None
        self._matrix_updates = 0
        self._sgd_matrix_updates = 0
        self._n_pulses = 0

    @classmethod
    def from_config(cls, config: SBEConfig) -> "StreamingBatchEigenupdate":
        return cls(config.learning_rate, rank=config.rank, bl=config.bl,
                   update_management=config.update_management, pulse_mode=config.pulse_mode,
                   estimator=config.estimator)

    learning_rate = inner_learning_rate(
        "_sc", "η (shared with the pulse-coincidence update that applies the rank-k step)."
    )

    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        if self._x_hat is None:
            self._x_hat, self._d_hat = [None] * len(net.layers), [None] * len(net.layers)
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            xr, dr = update_operands(layer, x, d)
            if self._x_hat[k] is None:  # first batch: random unit vectors (drawn from the rule's stream)
                rank = min(self.rank, xr.shape[1], dr.shape[1])
                self._x_hat[k] = _random_orthonormal(xr.shape[1], rank, rng)
                self._d_hat[k] = _random_orthonormal(dr.shape[1], rank, rng)
            if self.estimator == "exact":
                s, x_hat, d_hat = exact_eigenupdate(xr, dr, self.rank)
                macs = xr.shape[0] * xr.shape[1] * dr.shape[1]  # forming G (the SVD's own work is not counted)
            else:
                s, x_hat, d_hat = streaming_eigenupdate(xr, dr, self._x_hat[k], self._d_hat[k])
                # the power step's MACs per sample: projections a, b and running means X, Δ (3·rank) and
                # norms (1) over n_cols + n_out
                macs = xr.shape[0] * (3 * s.shape[0] + 1) * (xr.shape[1] + dr.shape[1])
            self._x_hat[k], self._d_hat[k] = x_hat, d_hat
            self._sgd_matrix_updates += xr.shape[0]
            self._matrix_updates += s.shape[0]
            record_outer(counters, k, s.shape[0], macs=macs)  # operation counters: rank outer products
            tile = layer_tile(layer)
            if tile is None:
                apply_float_update(layer, -self.learning_rate * (d_hat @ s) @ x_hat.T)
                continue
            counts = self.rank1_counts(s, x_hat, d_hat, tile.dw_min, rng, on_trains=train_hook(counters, k, 0))
            if self.pulse_mode == "rounded":
                record_programmed(counters, k, counts)
            self._n_pulses += int(np.abs(counts).sum())
            tile.apply_pulses(counts)

    def rank1_counts(
        self, s: np.ndarray, x_hat: np.ndarray, d_hat: np.ndarray, dw_min: float, rng: np.random.Generator,
        on_trains=None,
    ) -> np.ndarray:
        """Signed pulse counts (n_out, n_cols) of the k outer products −η·(Δ̂S)_l X̂_lᵀ."""
        counts = np.zeros((d_hat.shape[0], x_hat.shape[0]), dtype=np.int64)
        columns = d_hat @ s
        for ell in range(s.shape[0]):
            if self.pulse_mode == "coincidence":
                counts += self._sc.coincidence_counts(
                    x_hat[None, :, ell], columns[None, :, ell], dw_min, rng, on_trains=on_trains
                )
            else:
                target = -self.learning_rate * np.outer(columns[:, ell], x_hat[:, ell]) / dw_min
                low = np.floor(target)
                counts += (low + (rng.random(target.shape) < target - low)).astype(np.int64)
        return counts

    def state_dict(self) -> dict:
        return {
            "x_hat": [a.copy() for a in self._x_hat] if self._x_hat is not None else [],
            "d_hat": [a.copy() for a in self._d_hat] if self._d_hat is not None else [],
            "matrix_updates": self._matrix_updates,
            "sgd_matrix_updates": self._sgd_matrix_updates,
            "n_pulses": self._n_pulses,
            "coincidence": self._sc.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        xs, ds = state["x_hat"], state["d_hat"]
        self._x_hat = [np.array(a, dtype=np.float64) for a in xs] if len(xs) else None
        self._d_hat = [np.array(a, dtype=np.float64) for a in ds] if len(ds) else None
        self._matrix_updates = int(state["matrix_updates"])
        self._sgd_matrix_updates = int(state["sgd_matrix_updates"])
        self._n_pulses = int(state["n_pulses"])
        self._sc.load_state_dict(state["coincidence"])

    def stats(self) -> dict:
        ratio = self._sgd_matrix_updates / self._matrix_updates if self._matrix_updates else 0.0
        out = {
            "matrix_updates": self._matrix_updates,
            "sgd_matrix_updates": self._sgd_matrix_updates,
            "update_reduction": ratio,
            "pulses": self._n_pulses,
        }
        if self.pulse_mode == "coincidence":
            out["clipped_probability_fraction"] = self._sc.stats()["clipped_probability_fraction"]
        return out
