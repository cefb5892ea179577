"""Update rules: each turns a mini-batch's (inputs, errors) into weight changes.

A rule is a small object with one job. The training loop calls only::

    rule.step(net, inputs, deltas, rng)   # once per mini-batch
    rule.state_dict() / rule.load_state_dict(d)   # checkpoints
    rule.stats()                           # counters for the run summary

and never asks which rule it has. ``inputs[k]`` is the input of layer k
(B, n_in_k), ``deltas[k]`` the error at its pre-activation (B, n_out_k), both
per sample; every rule targets the mini-batch SGD step
ΔW = −(η/B) Σ_b δ_b x_bᵀ, in expectation (stochastic coincidence) or to within
one device step (mixed precision).

Rules that program tiles (``needs_tiles = True``) act on layers with a
``tile`` and take their operands from ``layer.update_operands(x, δ)``: the
bias as the tile's last column (input 1) and the error divided by the
layer's output gain (see :class:`~memspice.learn.layers.AnalogDense`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from memspice.errors import ParameterError
from memspice.learn.counters import record_outer, record_programmed, train_hook


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0.0:
        raise ParameterError(f"{name} = {value}; it must be a positive finite number")
    return value


class FloatSGD:
    """Plain mini-batch SGD on float weights (the baseline): W ← W − (η/B) δᵀx, b ← b − (η/B) Σδ."""

    name = "sgd"
    needs_tiles = False

    def __init__(self, learning_rate: float):
        self.learning_rate = _positive("learning_rate", learning_rate)

    def step(self, net, inputs, deltas, rng: np.random.Generator) -> None:
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            if layer.kind != "float":
                raise ParameterError(f"rule 'sgd' updates floating-point layers; got a {layer.kind} layer")
            scale = self.learning_rate / x.shape[0]
            layer.w -= scale * (d.T @ x)
            layer.b -= scale * d.sum(axis=0)
            n_w = layer.w.shape[0] * (layer.w.shape[1] + 1)  # operation counters (memspice.learn.counters)
            record_outer(self, k, x.shape[0], macs=x.shape[0] * n_w, accumulator_updates=n_w)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def stats(self) -> dict:
        return {}


def _tile_of(layer, rule_name: str):
    tile = getattr(layer, "tile", None)
    if tile is None:
        raise ParameterError(
            f"rule {rule_name!r} programs crossbar tiles, but the network has a {layer.kind} layer; "
            "build the network with a tile factory (the trainer does this for every rule but 'sgd')"
        )
    return tile


def _per_slot_trains(prob: np.ndarray, bl: int, sign: np.ndarray, rng: np.random.Generator):
    """As ``_bernoulli_trains``, with one float32 uniform per (sample, slot, line) (the original
    random stream: probabilities resolved to 2**-24)."""
    batch, n = prob.shape
    u = rng.random((batch, bl, n), dtype=np.float32)
    fires = np.flatnonzero(u < prob[:, None, :].astype(np.float32))  # row-major: already in CSR order
    slot, line = np.divmod(fires, n)
    indptr = np.zeros(batch * bl + 1, dtype=np.int64)
    np.cumsum(np.bincount(slot, minlength=batch * bl), out=indptr[1:])
    return sp.csr_matrix((sign[slot // bl, line].astype(np.float64), line, indptr), shape=(batch * bl, n))


def _bernoulli_trains(prob: np.ndarray, bl: int, sign: np.ndarray, rng: np.random.Generator):
    """Sparse (B·BL, n) matrix of ±1 pulses: line i of sample b fires in each of
    the ``bl`` slots independently with probability ``prob[b, i]`` (clipped to
    [0, 1]), with the sign ``sign[b, i]``; row b·BL + t is slot t of sample b.

    Drawn by geometric skipping, the same law as one uniform per slot but
    with about one draw per *pulse* instead of one per slot: in a Bernoulli(p)
    train the slot of the first pulse and the gaps between pulses are
    independent geometric variables, G = floor(ln(1 − u)/ln(1 − p)),
    P(G = g) = (1 − p)^g p (inversion of one uniform u; Devroye 1986, §X.2).
    Lines with p = 0 draw nothing; p = 1 gives G = 0 (every slot fires).
    """
    batch, n = prob.shape
    flat = prob.reshape(-1)
    line = np.flatnonzero(flat > 0.0)
    pl = np.minimum(flat[line], 1.0)
    u = rng.random(line.size)
    # a line fires at all iff u < 1 - (1 - p)^bl <= bl·p: the logarithms are
    # needed only for the few lines below the cheap bound (the others have G >= bl)
    first = np.flatnonzero(u < bl * pl)
    line, u, pl = line[first], u[first], pl[first]
    with np.errstate(divide="ignore"):
        log_q = np.log1p(-pl)  # ln(1 - p) < 0; -inf for p = 1
    pos = np.floor(np.log1p(-u) / log_q)  # slot of the first pulse
    ev_line, ev_slot = [], []
    while True:
        alive = pos < bl
        line, pos, log_q = line[alive], pos[alive], log_q[alive]
        if line.size == 0:
            break
        ev_line.append(line)
        ev_slot.append(pos)
        pos = pos + 1.0 + np.floor(np.log1p(-rng.random(line.size)) / log_q)  # next pulse after a geometric gap
    if ev_line:
        line = np.concatenate(ev_line)
        slot = np.concatenate(ev_slot).astype(np.int64)
    else:
        line = np.zeros(0, dtype=np.int64)
        slot = np.zeros(0, dtype=np.int64)
    b, i = np.divmod(line, n)
    data = sign.reshape(-1)[line].astype(np.float64)
    return sp.csr_matrix((data, (b * bl + slot, i)), shape=(batch * bl, n))


_SAMPLERS = {"per_slot": _per_slot_trains, "geometric": _bernoulli_trains}


class StochasticCoincidence:
    """Stochastic pulse-coincidence update (Gokmen & Vlasov 2016; Babu et al. 2017, arXiv 1711.03640).

    For sample b, row i (input x_i) fires in each of the BL slots with
    probability p_i = min(C_x·|x_i|, 1) and column j (error δ_j) with
    q_j = min(C_δ·|δ_j|, 1); each coincidence moves the device one step, with
    sign −sign(x_i·δ_j). The expected change is BL·p_i·q_j·Δw_min, so with
    C_x·C_δ = C² = η_s/(BL·Δw_min) it equals −η_s·δ_j·x_i (ALGORITHMS.md §1).

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
    it C_x = C_δ = C, as written in ALGORITHMS.md §1.

    ``sampler``: how the trains are drawn, both with the law above:
    ``"per_slot"`` (default) one uniform per slot, the random stream of
    earlier versions; ``"geometric"`` one draw per pulse by geometric
    skipping, about 2x faster for the whole update (a different stream, so
    seeded runs change).

    Probabilities above 1 are clipped to 1 as the method prescribes; the
    fraction of clipped probabilities is counted and reported in ``stats()``.
    """

    name = "stochastic-coincidence"
    needs_tiles = True

    def __init__(self, learning_rate: float, bl: int = 10, update_management: bool = True, sampler: str = "per_slot"):
        self.learning_rate = _positive("learning_rate", learning_rate)
        if sampler not in _SAMPLERS:
            raise ParameterError(f"sampler = {sampler!r}; choose 'per_slot' or 'geometric'")
        self.sampler = sampler
        if int(bl) != bl or bl < 1:
            raise ParameterError(f"bl (pulse-train length) = {bl}; it must be a positive integer (10 is typical)")
        self.bl = int(bl)
        self.update_management = bool(update_management)
        self._n_probabilities = 0
        self._n_clipped = 0
        self._n_pulses = 0

    def coincidence_counts(
        self, x: np.ndarray, delta: np.ndarray, dw_min: float, rng: np.random.Generator, on_trains=None
    ) -> np.ndarray:
        """Signed pulse counts (n_out, n_in) for one mini-batch; x (B, n_in), delta (B, n_out).

        ``on_trains(rows, cols, counts)``: optional callback given the pulse trains (operation counters).
        """
        counts = self._sparse_counts(x, delta, dw_min, rng, on_trains)
        if counts is None:
            return np.zeros((delta.shape[1], x.shape[1]), dtype=np.int64)
        return counts.toarray()

    def _sparse_counts(self, x, delta, dw_min, rng, on_trains=None):
        """As ``coincidence_counts``, as a CSR matrix of int64 (None: no pulses possible)."""
        batch = x.shape[0]
        c2 = self.learning_rate / (batch * self.bl * dw_min)
        c_x = c_d = np.sqrt(c2)
        if self.update_management:
            m_x, m_d = float(np.abs(x).max()), float(np.abs(delta).max())
            if m_x == 0.0 or m_d == 0.0:
                return None
            c_x, c_d = np.sqrt(c2 * m_d / m_x), np.sqrt(c2 * m_x / m_d)
        p = c_x * np.abs(x)
        q = c_d * np.abs(delta)
        self._n_probabilities += p.size + q.size
        self._n_clipped += int(np.count_nonzero(p > 1.0)) + int(np.count_nonzero(q > 1.0))
        # Pulse trains: independent Bernoulli slots per (sample, line); the
        # "geometric" sampler draws them pulse by pulse (_bernoulli_trains, the
        # same law at ~1/10 of the draws), "per_slot" one uniform per slot.
        draw = _SAMPLERS[self.sampler]
        rows = draw(p, self.bl, np.sign(x), rng)
        cols = draw(q, self.bl, np.sign(delta), rng)
        # n = −Σ_slots cols_slotᵀ rows_slot. The trains are sparse (a few % of
        # slots fire), so a sparse product costs about one operation per
        # coincidence instead of n_out·B·BL·n_in for the dense one; counts are
        # exact integers either way (CSR @ CSR: a CSR result, row-major dense).
        counts = cols.T.tocsr() @ rows
        counts.data = -np.rint(counts.data).astype(np.int64)  # minus: the update is −η δ xᵀ
        self._n_pulses += int(np.abs(counts.data).sum())
        if on_trains is not None:
            on_trains(rows, cols, counts.toarray())
        return counts

    def step(self, net, inputs, deltas, rng: np.random.Generator) -> None:
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            tile = _tile_of(layer, self.name)
            xt, dt = layer.update_operands(x, d)
            hook = train_hook(self, k, xt.shape[0])  # operation counters: one outer product per sample
            counts = self._sparse_counts(xt, dt, tile.dw_min, rng, on_trains=hook)
            if counts is not None:
                tile.apply_pulses(counts)  # sparse: only the pulsed cells are visited

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


class MixedPrecision:
    """Mixed-precision training (Nandakumar et al. 2018, arXiv 1712.01192; ALGORITHMS.md §4).

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

    name = "mixed-precision"
    needs_tiles = True

    def __init__(
        self,
        learning_rate: float,
        refresh_every: int = 100,
        refresh_threshold: float = 0.45,
        epsilon: float | None = None,
    ):
        self.learning_rate = _positive("learning_rate", learning_rate)
        self.epsilon = None if epsilon is None else _positive("epsilon", epsilon)
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

    def step(self, net, inputs, deltas, rng: np.random.Generator) -> None:
        tiles = [_tile_of(layer, self.name) for layer in net.layers]
        if self._chi is None:
            self._chi = [np.zeros(t.get_weights().shape) for t in tiles]
        for k, (layer, tile, x, d) in enumerate(zip(net.layers, tiles, inputs, deltas)):
            xt, dt = layer.update_operands(x, d)
            chi = self._chi[k]
            chi -= (self.learning_rate / x.shape[0]) * (dt.T @ xt)
            eps = self.epsilon if self.epsilon is not None else default_epsilon(tile)
            n = np.trunc(chi / eps)  # sign(χ)·floor(|χ|/ε)
            record_programmed(self, k, n, macs=xt.shape[0] * chi.size, accumulator_updates=chi.size)
            if np.any(n):
                chi -= n * eps
                counts = n.astype(np.int64)
                self._n_pulses += int(np.abs(counts).sum())
                tile.apply_pulses(counts)
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


RULES = {cls.name: cls for cls in (FloatSGD, StochasticCoincidence, MixedPrecision)}
