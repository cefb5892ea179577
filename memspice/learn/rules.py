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

from memspice.errors import ParameterError
from memspice.learn.counters import record_outer, record_programmed, train_hook
from memspice.learn.operands import apply_float_update, update_operands


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0.0:
        raise ParameterError(f"{name} = {value}; it must be a positive finite number")
    return value


def inner_learning_rate(inner: str, doc: str) -> property:
    """A ``learning_rate`` property kept by the rule's inner update ``inner`` (an attribute name).

    Rules that apply their steps through another rule object (SBE and
    Tiki-Taka through a :class:`StochasticCoincidence`) expose its η as their
    own, so a learning-rate schedule that sets ``rule.learning_rate`` reaches
    the update that uses it.
    """

    def get(self) -> float:
        return getattr(self, inner).learning_rate

    def set(self, eta: float) -> None:
        getattr(self, inner).learning_rate = _positive("learning_rate", eta)

    return property(get, set, doc=doc)


class FloatSGD:
    """Plain mini-batch SGD on float weights (the baseline): W ← W − (η/B) δᵀx, b ← b − (η/B) Σδ.

    A layer that uses its weights several times per sample (a convolution,
    :mod:`memspice.learn.conv`) gives its rows through ``update_operands``
    (:mod:`memspice.learn.operands`): W|b ← W|b − (η/R) Σ_r δ_r x_rᵀ over its R rows.
    """

    name = "sgd"
    needs_tiles = False

    def __init__(self, learning_rate: float):
        self.learning_rate = _positive("learning_rate", learning_rate)

    def step(self, net, inputs, deltas, rng: np.random.Generator) -> None:
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            if layer.kind != "float":
                raise ParameterError(f"rule 'sgd' updates floating-point layers; got a {layer.kind} layer")
            if hasattr(layer, "update_operands"):  # conv: R = B·P rows, the bias as the last column
                xr, dr = update_operands(layer, x, d)
                apply_float_update(layer, -(self.learning_rate / xr.shape[0]) * (dr.T @ xr))
                rows = xr.shape[0]
            else:
                scale = self.learning_rate / x.shape[0]
                layer.w -= scale * (d.T @ x)
                layer.b -= scale * d.sum(axis=0)
                rows = x.shape[0]
            n_w = layer.w.shape[0] * (layer.w.shape[1] + 1)  # operation counters (memspice.learn.counters)
            record_outer(self, k, rows, macs=rows * n_w, accumulator_updates=n_w)

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


class PulseTrains:
    """The pulse trains of one side of a crossbar (rows or columns) for a mini-batch, as a list of pulses.

    ``slot``: global slot b·BL + t of each pulse, ascending (int64); ``line``:
    the row or column that fires (int64); ``sign``: its polarity (±1.0).
    ``shape`` = (B·BL slots, lines), the shape of the equivalent dense train
    matrix (``toarray``). A few % of the slots fire, so the list is much
    shorter than the matrix.
    """

    __slots__ = ("slot", "line", "sign", "shape")

    def __init__(self, slot: np.ndarray, line: np.ndarray, sign: np.ndarray, shape: tuple[int, int]):
        self.slot, self.line, self.sign, self.shape = slot, line, sign, shape

    def per_slot(self) -> np.ndarray:
        """Number of lines firing in each slot, float64 (S,)."""
        return np.bincount(self.slot, minlength=self.shape[0]).astype(np.float64)

    def toarray(self) -> np.ndarray:
        """Dense (S, lines) matrix of ±1 pulses (0: no pulse)."""
        out = np.zeros(self.shape)
        out[self.slot, self.line] = self.sign
        return out


def _per_slot_trains(values: np.ndarray, scale: float, bl: int, rng: np.random.Generator, v_max=None) -> PulseTrains:
    """As ``_bernoulli_trains``, with one float32 uniform per (sample, slot, line) (the random
    stream of versions before 0.2: probabilities resolved to 2**-24)."""
    batch, n = values.shape
    prob = scale * np.abs(values)
    u = rng.random((batch, bl, n), dtype=np.float32)
    fires = np.flatnonzero(u < prob[:, None, :].astype(np.float32))  # row-major: slots ascending
    slot, line = np.divmod(fires, n)
    return PulseTrains(slot, line, np.sign(values[slot // bl, line]), (batch * bl, n))


def _bernoulli_subset(n: int, q: float, rng: np.random.Generator) -> np.ndarray:
    """Ascending indices of a random subset of range(n) holding each index independently with probability q.

    Geometric skipping (gaps between members are Geometric(q); Devroye 1986,
    §X.2): about n·q draws instead of n. For q > 0.25 one uniform per index is cheaper.
    """
    if q <= 0.0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if q > 0.25:
        return np.flatnonzero(rng.random(n) < q)
    log_1mq = np.log1p(-q)
    parts, start = [], 0
    while start < n:
        m = int((n - start) * q + 4.0 * np.sqrt((n - start) * q) + 16)  # enough gaps with high probability
        pos = start - 1 + np.cumsum(1 + np.floor(np.log1p(-rng.random(m)) / log_1mq)).astype(np.int64)
        parts.append(pos[pos < n])
        start = int(pos[-1]) + 1
    return np.concatenate(parts)


def _bernoulli_trains(
    values: np.ndarray, scale: float, bl: int, rng: np.random.Generator, v_max: float | None = None
) -> PulseTrains:
    """±1 pulse trains, B·BL slots: line i of sample b fires in each of the
    ``bl`` slots independently with probability p = min(scale·|values[b, i]|, 1),
    with the sign of ``values[b, i]``; slot b·BL + t is slot t of sample b.
    ``v_max``: max |values| if the caller knows it already.

    Drawn by thinning (Lewis & Shedler 1979, here on a Bernoulli field): with
    p_max = max p, candidate pulses are a Bernoulli(p_max) subset of all
    B·BL·n (slot, line) pairs, found by geometric skipping
    (:func:`_bernoulli_subset`, about one draw per candidate), and each
    candidate is kept with probability p/p_max. Every (slot, line) pair then
    fires independently with probability p_max·(p/p_max) = p, the law of one
    uniform per slot, at B·BL·n·p_max draws instead of B·BL·n (a few % when
    the probabilities are small, as they are in training) and without a
    pass over the whole probability array.
    """
    batch, n = values.shape
    flat = values.reshape(-1)
    if v_max is None:
        v_max = max(float(flat.max()), -float(flat.min())) if flat.size else 0.0
    p_max = min(scale * v_max, 1.0)
    cand = _bernoulli_subset(batch * bl * n, p_max, rng)  # flat (b·BL + t)·n + i: ascending slots
    slot, line = np.divmod(cand, n)
    v = flat[(slot // bl) * n + line]  # values[b, i]
    keep = rng.random(cand.size) * p_max < scale * np.abs(v)
    return PulseTrains(slot[keep], line[keep], np.sign(v[keep]), (batch * bl, n))


def coincidences(rows: PulseTrains, cols: PulseTrains) -> tuple[np.ndarray, np.ndarray]:
    """Signed coincidence counts of two trains: cells (flat row-major index j·n_rows + i, ascending) and counts.

    A cell (column line j, row line i) counts +1 for every slot in which both
    fire with the same polarity and −1 with opposite ones (the product of the
    signs); cells whose pulses cancel are left out. This is the sparse
    product Σ_slots colsᵀ rows, computed pulse pair by pulse pair: for every
    column pulse, the row pulses of its slot (a range of the slot-sorted row
    list), so the work is one operation per coincidence.
    """
    lo = np.searchsorted(rows.slot, cols.slot, "left")
    m = np.searchsorted(rows.slot, cols.slot, "right") - lo  # row pulses in each column pulse's slot
    total = int(m.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    col_ev = np.repeat(np.arange(m.size), m)
    row_ev = np.arange(total) + np.repeat(lo - (np.cumsum(m) - m), m)
    cell = cols.line[col_ev] * rows.shape[1] + rows.line[row_ev]
    sign = (rows.sign[row_ev] * cols.sign[col_ev]).astype(np.int64)
    order = np.argsort(cell)
    cell, sign = cell[order], sign[order]
    first = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))  # each cell's first pair
    counts = np.add.reduceat(sign, first)
    keep = counts != 0
    return cell[first][keep], counts[keep]


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
    ``"geometric"`` (default) by thinning with geometric skipping, a few
    draws per *pulse* (:func:`_bernoulli_trains`); ``"per_slot"`` one float32
    uniform per (sample, slot, line), the random stream of earlier versions,
    3-4x slower for the whole update. The two give different streams, so a
    seeded run depends on the choice.

    The coincidence counts are formed from the pulse lists, one operation per
    coincident pulse pair (:func:`coincidences`), and applied to the pulsed
    cells only (``tile.apply_cell_pulses``); measured cost in
    benchmarks/train_throughput.py.

    Probabilities above 1 are clipped to 1 as the method prescribes; the
    fraction of clipped probabilities is counted and reported in ``stats()``.
    """

    name = "stochastic-coincidence"
    needs_tiles = True

    def __init__(self, learning_rate: float, bl: int = 10, update_management: bool = True, sampler: str = "geometric"):
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

        ``on_trains(rows, cols, counts)``: optional callback given the pulse
        trains (:class:`PulseTrains`) and the non-zero counts (operation counters).
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
        # (_bernoulli_trains, the same law at a few % of the draws), "per_slot"
        # one uniform per slot.
        draw = _SAMPLERS[self.sampler]
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

    def step(self, net, inputs, deltas, rng: np.random.Generator) -> None:
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            tile = _tile_of(layer, self.name)
            xt, dt = layer.update_operands(x, d)
            hook = train_hook(self, k, xt.shape[0])  # operation counters: one outer product per sample
            cells, counts = self.cell_counts(xt, dt, tile.dw_min, rng, on_trains=hook)
            tile.apply_cell_pulses(cells, counts)  # only the pulsed cells are visited

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
            chi -= (self.learning_rate / xt.shape[0]) * (dt.T @ xt)  # R rows: B, or B·P for a conv layer
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
