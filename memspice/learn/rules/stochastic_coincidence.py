"""Stochastic pulse-coincidence update (``[rule] name = "stochastic-coincidence"``): the crossbar's own
parallel outer-product update, in expectation the mini-batch SGD step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ConfigError, ParameterError
from memspice.learn.counters import train_hook
from memspice.learn.rules.base import Rule, positive, tile_of
from memspice.learn.rules.pulse_trains import SAMPLERS, PulseTrainConfig, coincidences, mean_field_trains
from memspice.surrogate.array_tile import coincidence_update


@dataclass(frozen=True)
class StochasticCoincidenceConfig(PulseTrainConfig):
    """``[rule]`` of "stochastic-coincidence": ``learning_rate``, ``bl``, ``update_management``
    (:class:`~memspice.learn.rules.pulse_trains.PulseTrainConfig`)."""

    name: ClassVar[str] = "stochastic-coincidence"

    sampler: str = "geometric"
    """How the pulse trains are drawn, both with the same law: "geometric" (default, the fastest: a few
    draws per pulse) or "per_slot" (one uniform per sample, slot and line). With "per_slot" two runs with the
    same seed draw the same uniforms, so their trains differ only where a probability crosses its uniform:
    use it to compare write paths side by side (circuit in the loop, array-aware, wire-blind)."""

    def __post_init__(self):
        super().__post_init__()
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"rule.sampler = {self.sampler!r}: choose {' or '.join(repr(k) for k in SAMPLERS)}")


class StochasticCoincidence(Rule):
    """Stochastic pulse-coincidence update (Gokmen & Vlasov 2016; Babu et al. 2017, arXiv 1711.03640).

    For sample b, row i (input x_i) fires in each of the BL slots with
    probability p_i = min(C_x·|x_i|, 1) and column j (error δ_j) with
    q_j = min(C_δ·|δ_j|, 1); each coincidence moves the device one step, with
    sign −sign(x_i·δ_j). The expected change is BL·p_i·q_j·Δw_min, so with
    C_x·C_δ = C² = η_s/(BL·Δw_min) it equals −η_s·δ_j·x_i (docs/algorithms.md, "Stochastic pulse coincidence").

    Mini-batches: each sample gets its own trains with η_s = η/B, so the batch's
    expected change is the mini-batch SGD step; the signed coincidence counts of
    all samples are summed, n = −Σ_{b,t} (sign(δ)·col_bits)ᵀ (sign(x)·row_bits),
    computed as one (sparse) matrix product over the B·BL slots, and applied as one
    ``tile.apply_pulses(n)``. With ``batch_size = 1`` this is exactly the
    per-sample circuit update; for B > 1 pulses of opposite sign on one device
    within a batch cancel before they reach it (a reading a hardware designer
    gets with a per-device up/down counter).

    ``update_management`` (Gokmen & Vlasov 2017, "update management"): with
    m_x = max|x|, m_δ = max|δ| over the batch, C_x = C·sqrt(m_δ/m_x) and
    C_δ = C·sqrt(m_x/m_δ): the same product C², but the two probabilities
    balanced so that small errors are not drowned in Bernoulli noise. Without
    it C_x = C_δ = C, as written in docs/algorithms.md, "Stochastic pulse coincidence".

    ``sampler``: how the trains are drawn, both with the law above:
    ``"geometric"`` (default) by thinning with geometric skipping, a few
    draws per *pulse* (:func:`~memspice.learn.rules.pulse_trains.bernoulli_trains`); ``"per_slot"`` one float32
    uniform per (sample, slot, line), the random stream of earlier versions,
    3-4x slower for the whole update. The two give different streams, so a
    seeded run depends on the choice.

    The coincidence counts are formed from the pulse lists, one operation per
    coincident pulse pair (:func:`~memspice.learn.rules.pulse_trains.coincidences`), and applied to the pulsed
    cells only (``tile.apply_cell_pulses``); measured cost in
    benchmarks/train_throughput.py.

    Probabilities above 1 are clipped to 1 as the method prescribes; the
    fraction of clipped probabilities is counted and reported in ``stats()``.
    """

    name = StochasticCoincidenceConfig.name
    needs_tiles = True
    config_class = StochasticCoincidenceConfig

    def __init__(self, learning_rate: float, bl: int = 10, update_management: bool = True, sampler: str = "geometric"):
        self.learning_rate = positive("learning_rate", learning_rate)
        if sampler not in SAMPLERS:
            raise ParameterError(f"sampler = {sampler!r}; choose 'per_slot' or 'geometric'")
        self.sampler = sampler
        if int(bl) != bl or bl < 1:
            raise ParameterError(f"bl (pulse-train length) = {bl}; it must be a positive integer (10 is typical)")
        self.bl = int(bl)
        self.update_management = bool(update_management)
        self._n_probabilities = 0
        self._n_clipped = 0
        self._n_pulses = 0

    @classmethod
    def from_config(cls, config: StochasticCoincidenceConfig) -> "StochasticCoincidence":
        return cls(config.learning_rate, bl=config.bl, update_management=config.update_management,
                   sampler=config.sampler)

    def coincidence_counts(
        self, x: np.ndarray, delta: np.ndarray, dw_min: float, rng: np.random.Generator, on_trains=None
    ) -> np.ndarray:
        """Signed pulse counts (n_out, n_in) for one mini-batch; x (B, n_in), delta (B, n_out).

        ``on_trains(rows, cols, counts)``: optional callback given the pulse
        trains (:class:`~memspice.learn.rules.pulse_trains.PulseTrains`) and the non-zero counts (operation counters).
        """
        out = np.zeros((delta.shape[1], x.shape[1]), dtype=np.int64)
        cells, counts = self.cell_counts(x, delta, dw_min, rng, on_trains)
        out.reshape(-1)[cells] = counts
        return out

    def cell_counts(self, x, delta, dw_min, rng, on_trains=None) -> tuple[np.ndarray, np.ndarray]:
        """As ``coincidence_counts``, sparse: the pulsed cells (flat row-major indices, ascending) and their counts."""
        batch = x.shape[0]
        c2 = self.learning_rate / (batch * self.bl * dw_min)
        c_x = c_d = np.sqrt(c2)
        m_x = max(float(x.max()), -float(x.min())) if x.size else 0.0
        m_d = max(float(delta.max()), -float(delta.min())) if delta.size else 0.0
        self._n_probabilities += x.size + delta.size
        if not (np.isfinite(m_x) and np.isfinite(m_d)):
            raise ParameterError(
                "stochastic coincidence: the layer's inputs or errors are not finite (NaN or inf), so no pulse "
                "probability exists; training has diverged: lower the learning rate"
            )
        if m_x == 0.0 or m_d == 0.0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if self.update_management:
            c_x, c_d = np.sqrt(c2 * m_d / m_x), np.sqrt(c2 * m_x / m_d)
        for values, c, m in ((x, c_x, m_x), (delta, c_d, m_d)):
            if c * m > 1.0:  # probabilities clipped to 1 (counted; the largest is c·max|v|)
                self._n_clipped += int(np.count_nonzero(np.abs(values) > 1.0 / c))
        # Pulse trains: independent Bernoulli slots per (sample, line), probability
        # c·|v|; the "geometric" sampler draws them pulse by pulse
        # (bernoulli_trains, the same law at a few % of the draws), "per_slot"
        # one uniform per slot.
        draw = SAMPLERS[self.sampler]
        rows = draw(x, c_x, self.bl, rng, m_x)
        cols = draw(delta, c_d, self.bl, rng, m_d)
        # n = −Σ_slots colsᵀ rows: a few % of the slots fire, so the product is
        # formed pulse pair by pulse pair (one operation per coincidence)
        cells, counts = coincidences(rows, cols)
        counts = -counts  # minus: the update is −η δ xᵀ
        self._n_pulses += int(np.abs(counts).sum())
        if on_trains is not None:
            on_trains(rows, cols, counts)
        return cells, counts

    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            tile = tile_of(layer, self.name)
            xt, dt = layer.update_operands(x, d)
            hook = train_hook(counters, k, xt.shape[0])  # operation counters: one outer product per sample
            aw = getattr(tile.config, "array_write", None)
            if aw is None:
                cells, counts = self.cell_counts(xt, dt, tile.dw_min, rng, on_trains=hook)
                tile.apply_cell_pulses(cells, counts)  # only the pulsed cells are visited
                continue
            # array-aware tile: the same trains, played through the write circuit
            trains = []

            def keep(rows, cols, counts, hook=hook):
                trains.append((rows, cols))
                if hook is not None:
                    hook(rows, cols, counts)

            self.cell_counts(xt, dt, tile.dw_min, rng, on_trains=keep)
            if not trains:
                continue
            rows, cols = trains[0]
            if aw.refactor == "mean-field" and aw.engine == "nodal":  # any width: step factors from the line solver
                mean_field_trains(tile, rows, cols, xt.shape[0] * self.bl)
            else:  # slot by slot
                batch = xt.shape[0]
                row_bits = (rows.toarray() != 0).reshape(batch, self.bl, -1)
                col_bits = (cols.toarray() != 0).reshape(batch, self.bl, -1)
                coincidence_update(tile, xt, dt, row_bits, col_bits)

    def state_dict(self) -> dict:
        return {
            "n_probabilities": self._n_probabilities,
            "n_clipped": self._n_clipped,
            "n_pulses": self._n_pulses,
        }

    def load_state_dict(self, state: dict) -> None:
        self._n_probabilities = int(state["n_probabilities"])
        self._n_clipped = int(state["n_clipped"])
        self._n_pulses = int(state["n_pulses"])

    def stats(self) -> dict:
        frac = self._n_clipped / self._n_probabilities if self._n_probabilities else 0.0
        return {"pulses": self._n_pulses, "clipped_probability_fraction": frac}


