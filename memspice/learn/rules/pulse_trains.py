"""Pulse trains of a crossbar update: Bernoulli line pulses per time slot, and their signed coincidences.

Shared by every rule that updates a tile with stochastic pulse coincidence
(stochastic coincidence itself, SBE's rank-1 steps, Tiki-Taka's two updates),
with the ``[rule]`` keys those rules share (:class:`PulseTrainConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.errors import ConfigError
from memspice.learn.rules.base import RuleConfig


@dataclass(frozen=True)
class PulseTrainConfig(RuleConfig):
    """The ``[rule]`` keys of the rules that update tiles with pulse trains (stochastic-coincidence, sbe,
    tiki-taka), after ``learning_rate``."""

    bl: int = 10
    """BL (slots): pulse-train length, the time slots per sample in which each row and column line may
    fire once. Default 10."""

    update_management: bool = True
    """Balance the row and column pulse probabilities, C_x = C·sqrt(max|δ|/max|x|) and
    C_δ = C·sqrt(max|x|/max|δ|) with the same product C² (Gokmen & Vlasov 2017, "update management").
    Default true."""

    def __post_init__(self):
        super().__post_init__()
        if self.bl < 1:
            raise ConfigError(f"rule.bl = {self.bl}: the pulse-train length must be >= 1 (10 is typical)")


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


def per_slot_trains(values: np.ndarray, scale: float, bl: int, rng: np.random.Generator, v_max=None) -> PulseTrains:
    """As ``bernoulli_trains``, with one float32 uniform per (sample, slot, line) (the random
    stream of versions before 0.2: probabilities resolved to 2**-24)."""
    batch, n = values.shape
    prob = scale * np.abs(values)
    u = rng.random((batch, bl, n), dtype=np.float32)
    fires = np.flatnonzero(u < prob[:, None, :].astype(np.float32))  # row-major: slots ascending
    slot, line = np.divmod(fires, n)
    return PulseTrains(slot, line, np.sign(values[slot // bl, line]), (batch * bl, n))


def bernoulli_subset(n: int, q: float, rng: np.random.Generator) -> np.ndarray:
    """Ascending indices of a random subset of range(n) holding each index independently with probability q.

    Geometric skipping (gaps between members are Geometric(q); Devroye 1986,
    §X.2): about n·q draws instead of n, from float32 uniforms (each gap's
    probabilities resolved to 2^-24). For q > 0.25 one uniform per index is cheaper.
    """
    if q <= 0.0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if q > 0.25:
        return np.flatnonzero(rng.random(n) < q)
    inv_log_1mq = np.float32(1.0 / np.log1p(-q))
    parts, start = [], 0
    while start < n:
        m = int((n - start) * q + 4.0 * np.sqrt((n - start) * q) + 16)  # enough gaps with high probability
        gaps = np.log1p(-rng.random(m, dtype=np.float32))
        gaps *= inv_log_1mq  # Geometric(q) - 1 = floor(log(1 - u) / log(1 - q))
        pos = np.floor(gaps).astype(np.int64)
        pos += 1
        pos[0] += start - 1
        np.cumsum(pos, out=pos)
        parts.append(pos[pos < n])
        start = int(pos[-1]) + 1
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def bernoulli_trains(
    values: np.ndarray, scale: float, bl: int, rng: np.random.Generator, v_max: float | None = None
) -> PulseTrains:
    """±1 pulse trains, B·BL slots: line i of sample b fires in each of the
    ``bl`` slots independently with probability p = min(scale·|values[b, i]|, 1),
    with the sign of ``values[b, i]``; slot b·BL + t is slot t of sample b.
    ``v_max``: max |values| if the caller knows it already.

    Drawn by thinning (Lewis & Shedler 1979, here on a Bernoulli field): with
    p_max = max p, candidate pulses are a Bernoulli(p_max) subset of all
    B·BL·n (slot, line) pairs, found by geometric skipping
    (:func:`bernoulli_subset`, about one draw per candidate), and each
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
    cand = bernoulli_subset(batch * bl * n, p_max, rng)  # flat (b·BL + t)·n + i: ascending slots
    slot, line = np.divmod(cand, n)
    v = flat[(slot // bl) * n + line]  # values[b, i]
    keep = rng.random(cand.size, dtype=np.float32) * np.float32(p_max) < scale * np.abs(v)
    return PulseTrains(slot[keep], line[keep], np.sign(v[keep]), (batch * bl, n))


_SPARSE_PRODUCT_PAIRS = 4096
"""Coincident pulse pairs from which SciPy's sparse product beats pairing the pulses in numpy (its
fixed cost is ~0.1 ms; both give the same counts)."""


def coincidences(rows: PulseTrains, cols: PulseTrains) -> tuple[np.ndarray, np.ndarray]:
    """Signed coincidence counts of two trains: cells (flat row-major index j·n_rows + i, ascending) and counts.

    A cell (column line j, row line i) counts +1 for every slot in which both
    fire with the same polarity and −1 with opposite ones (the product of the
    signs); cells whose pulses cancel are left out. This is the sparse
    product Σ_slots colsᵀ rows, one operation per coincidence: for every
    column pulse, the row pulses of its slot (a range of the slot-sorted row
    list); from :data:`_SPARSE_PRODUCT_PAIRS` pairs on, SciPy's sparse
    product of the two trains as (slots x lines) ±1 matrices (their pulses
    are slot-sorted, so the CSR arrays are the pulse lists themselves).
    """
    lo = np.searchsorted(rows.slot, cols.slot, "left")
    m = np.searchsorted(rows.slot, cols.slot, "right") - lo  # row pulses in each column pulse's slot
    total = int(m.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if total >= _SPARSE_PRODUCT_PAIRS:
        return _sparse_product(rows, cols)
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


def _sparse_product(rows: PulseTrains, cols: PulseTrains) -> tuple[np.ndarray, np.ndarray]:
    """:func:`coincidences` by SciPy's sparse matrix product colsᵀ rows."""
    import scipy.sparse as sp

    def csr(trains: PulseTrains):
        indptr = np.zeros(trains.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(trains.slot, minlength=trains.shape[0]), out=indptr[1:])
        return sp.csr_matrix((trains.sign, trains.line, indptr), shape=trains.shape)

    product = (csr(cols).T.tocsr() @ csr(rows)).tocsr()
    product.sum_duplicates()  # canonical: sorted column indices within each row
    product.eliminate_zeros()  # cells whose pulses cancel
    out_line = np.repeat(np.arange(product.shape[0], dtype=np.int64), np.diff(product.indptr))
    return out_line * rows.shape[1] + product.indices, np.rint(product.data).astype(np.int64)


SAMPLERS = {"per_slot": per_slot_trains, "geometric": bernoulli_trains}
"""How the trains are drawn, by the name StochasticCoincidence's ``sampler`` takes (both with the same law)."""


def gross_counts(rows: PulseTrains, cols: PulseTrains, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's coincidences that raise and that lower its weight, counted apart (flat cells as
    :func:`coincidences`, length ``n_cells``): the update is −η δ xᵀ, so opposite signs of the row and
    column pulse raise the weight. Their difference is the net count of :func:`coincidences`."""
    def part(tr: PulseTrains, positive: bool) -> PulseTrains:
        m = tr.sign > 0 if positive else tr.sign < 0
        return PulseTrains(tr.slot[m], tr.line[m], tr.sign[m], tr.shape)

    out = []
    for pairs in (((True, False), (False, True)), ((True, True), (False, False))):
        n = np.zeros(n_cells, dtype=np.int64)
        for rs, cs in pairs:
            c, k = coincidences(part(rows, rs), part(cols, cs))
            n[c] += np.abs(k)
        out.append(n)
    return out[0], out[1]


def mean_field_trains(tile, rows: PulseTrains, cols: PulseTrains, n_slots: int) -> None:
    """A mini-batch's pulse trains on an array-aware tile with ``refactor = "mean-field"``
    (memspice.surrogate.array_tile.mean_field_update): the coincidences raising and lowering apart, and
    the line firing counts."""
    from memspice.surrogate.array_tile import mean_field_update

    raising, lowering = gross_counts(rows, cols, tile.n_out * tile.n_in)
    mean_field_update(tile, raising, lowering, np.bincount(rows.line, minlength=rows.shape[1]),
                      np.bincount(cols.line, minlength=cols.shape[1]), n_slots)
