"""Tiki-Taka (``[rule] name = "tiki-taka"``; Gokmen & Haensch, Front. Neurosci. 14:103, 2020): training on
asymmetric devices.

On a device whose up and down steps differ with the state (soft bounds), every
pulse pulls the weight towards the device's symmetry point, where up and down
steps are equal; plain pulsed SGD therefore adds a pull towards that point in
proportion to the number of pulses, and gradient noise alone drives the
weights there. Tiki-Taka turns that pull into a feature with two tiles per
layer:

* a fast tile A receives the pulsed gradient updates
  (stochastic pulse coincidence, docs/algorithms.md, "Stochastic pulse coincidence": A ← A − η δxᵀ); its pull
  towards the symmetry point makes it a leaky integrator of the gradient;
* every ``transfer_every`` mini-batches, ``columns_per_transfer`` columns of A
  are read (A e_i, a forward read through A's read path) and added to the slow
  tile C, the network's weights, with a pulsed update
  C ← C + η_t·(A e_i − A₀ e_i) e_iᵀ, cycling through the columns.

Forward and backward passes read C only (the paper's W = γA + C with γ = 0,
the usual setting; γ > 0 needs a two-tile read and is not implemented).

A is zero-shifted (Gokmen & Haensch §2; Kim et al. 2019): when A is made, its
pairs are programmed to W = 0 and driven with ``symmetry_pulses`` alternating
up/down pulses, which brings every device to its own symmetry point; the
weights read then are A₀, the reference that transfers subtract (held
digitally here; in hardware a reference array programmed to A₀). A has the
same tile configuration (device, mapping, read path) as the layer's tile C,
and its own random stream, split off the rule's stream when it is made.

Operation counters (:mod:`memspice.learn.counters`, on the layer's row: A has
its shape): the pulse trains of both updates, each transfer's read A e_i
(one forward read driving one line), and the 2·``symmetry_pulses``
whole-array zero-shift pulses when A is made (in the first mini-batch).
Programming A to W = 0 is an ideal write, not counted, as the initial
weights of every tile are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import ParameterError
from memspice.learn.checkpoint import generator_from_state, generator_state
from memspice.learn.counters import record_array_pulses, record_reads, train_hook
from memspice.learn.layers import program_weights
from memspice.learn.operands import update_operands
from memspice.learn.rules.base import Rule, inner_learning_rate, positive, tile_of
from memspice.learn.rules.pulse_trains import PulseTrainConfig
from memspice.learn.rules.stochastic_coincidence import StochasticCoincidence


@dataclass(frozen=True)
class TikiTakaConfig(PulseTrainConfig):
    """``[rule]`` of "tiki-taka": ``learning_rate`` (η of the pulsed update of A), ``bl``,
    ``update_management`` (both updates' trains,
    :class:`~memspice.learn.rules.pulse_trains.PulseTrainConfig`) and the keys below."""

    name: ClassVar[str] = "tiki-taka"

    transfer_learning_rate: float = 0.1
    """η_t (dimensionless) of the transfer C <- C + η_t (A e_i − A₀ e_i) e_iᵀ. Default 0.1."""

    transfer_every: int = 1
    """Mini-batches between transfers from A to C. Default 1."""

    columns_per_transfer: int = 1
    """Columns of A moved to C per transfer, cycling through the columns. Default 1."""

    symmetry_pulses: int = 500
    """Up/down pulse pairs that bring each device of A to its symmetry point (zero shift). Default 500."""

    def __post_init__(self):
        super().__post_init__()
        for key in ("transfer_every", "columns_per_transfer"):
            self._check_at_least(key, 1)
        self._check_at_least("symmetry_pulses", 0)
        self._check_above_zero("transfer_learning_rate")


class TikiTaka(Rule):
    """Tiki-Taka with a fast tile A per layer (made by the rule) and the layer's tile as C.

    ``learning_rate``: η of the pulsed update of A. ``transfer_learning_rate``:
    η_t of the transfer to C. ``bl``/``update_management``: the pulse trains of
    both updates (as :class:`~memspice.learn.rules.stochastic_coincidence.StochasticCoincidence`).
    """

    name = TikiTakaConfig.name
    needs_tiles = True
    config_class = TikiTakaConfig

    def __init__(
        self,
        learning_rate: float,
        transfer_learning_rate: float = 0.1,
        transfer_every: int = 1,
        columns_per_transfer: int = 1,
        bl: int = 10,
        update_management: bool = True,
        symmetry_pulses: int = 500,
    ):
        for name, value, low in (
            ("transfer_every", transfer_every, 1),
            ("columns_per_transfer", columns_per_transfer, 1),
            ("symmetry_pulses", symmetry_pulses, 0),
        ):
            if int(value) != value or value < low:
                raise ParameterError(f"{name} = {value!r}; it must be an integer >= {low}")
        self._fast = StochasticCoincidence(learning_rate, bl=bl, update_management=update_management)
        self._transfer = StochasticCoincidence(transfer_learning_rate, bl=bl, update_management=update_management)
        self.transfer_learning_rate = positive("transfer_learning_rate", transfer_learning_rate)
        self.transfer_every = int(transfer_every)
        self.columns_per_transfer = int(columns_per_transfer)
        self.symmetry_pulses = int(symmetry_pulses)
        self._a: list | None = None  # fast tiles
        self._a_rngs: list = []
        self._a_ref: list = []  # zero-shift references A0 (weights at the symmetry point)
        self._next_col: list = []
        self._batches = 0
        self._n_fast_pulses = 0
        self._n_transfer_pulses = 0
        self._n_transfers = 0

    @classmethod
    def from_config(cls, config: TikiTakaConfig) -> "TikiTaka":
        return cls(
            config.learning_rate,
            transfer_learning_rate=config.transfer_learning_rate,
            transfer_every=config.transfer_every,
            columns_per_transfer=config.columns_per_transfer,
            bl=config.bl,
            update_management=config.update_management,
            symmetry_pulses=config.symmetry_pulses,
        )

    def _make_fast_tile(self, c_tile, rng: np.random.Generator):
        from memspice.surrogate import AnalogTile

        a_rng = rng.spawn(1)[0]
        a = AnalogTile(c_tile.n_out, c_tile.n_in, c_tile.config, a_rng)
        program_weights(a, np.zeros(c_tile.shape))
        a.apply_alternating_pulses(self.symmetry_pulses)  # alternate up/down: each device settles at its symmetry point
        return a, a_rng, a.get_weights()

    learning_rate = inner_learning_rate(
        "_fast", "η of the pulsed updates of A (a schedule changes this one; the transfer rate stays)."
    )

    def step(self, net, inputs, deltas, rng: np.random.Generator, counters=None) -> None:
        c_tiles = [tile_of(layer, self.name) for layer in net.layers]
        if self._a is None:
            self._a, self._a_rngs, self._a_ref, self._next_col = [], [], [], []
            for k, c in enumerate(c_tiles):
                a, a_rng, ref = self._make_fast_tile(c, rng)
                record_array_pulses(counters, k, 2 * self.symmetry_pulses)  # operation counters: zero-shift pulses
                self._a.append(a)
                self._a_rngs.append(a_rng)
                self._a_ref.append(ref)
                self._next_col.append(0)
        for k, (layer, x, d) in enumerate(zip(net.layers, inputs, deltas)):
            xr, dr = update_operands(layer, x, d)
            a = self._a[k]
            cells, counts = self._fast.cell_counts(xr, dr, a.dw_min, rng, on_trains=train_hook(counters, k, xr.shape[0]))
            self._n_fast_pulses += int(np.abs(counts).sum())
            a.apply_cell_pulses(cells, counts)  # only the pulsed cells are visited
        self._batches += 1
        if self._batches % self.transfer_every == 0:
            for k, c in enumerate(c_tiles):
                self._transfer_columns(k, c, rng, counters)

    def _transfer_columns(self, k: int, c_tile, rng: np.random.Generator, counters=None) -> None:
        a = self._a[k]
        n_cols = a.n_in
        for _ in range(self.columns_per_transfer):
            i = self._next_col[k]
            self._next_col[k] = (i + 1) % n_cols
            e = np.zeros((1, n_cols))
            e[0, i] = 1.0
            v = a.forward(e)[0] - self._a_ref[k][:, i]  # read column i of A, minus its zero-shift reference
            record_reads(counters, k, "forward", e)  # operation counters: the read of A (the layer's tile shape)
            # the pulsed update −η_t δ xᵀ with x = e_i and δ = −v adds η_t v to column i of C
            hook = train_hook(counters, k, 1)  # operation counters: one outer product (e_i, v) per column
            cells, counts = self._transfer.cell_counts(e, -v[None, :], c_tile.dw_min, rng, on_trains=hook)
            self._n_transfer_pulses += int(np.abs(counts).sum())
            c_tile.apply_cell_pulses(cells, counts)
            self._n_transfers += 1

    def fast_weights(self) -> list:
        """A − A₀ of every layer (weight units), the fast tiles' content relative to their symmetry point."""
        return [] if self._a is None else [a.get_weights() - ref for a, ref in zip(self._a, self._a_ref)]

    def state_dict(self) -> dict:
        if self._a is None:
            return {"tiles": [], "batches": self._batches, "counters": self._counters()}
        return {
            "tiles": [
                {"tile": a.state_dict(), "rng": generator_state(r), "ref": ref.copy(), "next_col": n}
                for a, r, ref, n in zip(self._a, self._a_rngs, self._a_ref, self._next_col)
            ],
            "batches": self._batches,
            "counters": self._counters(),
        }

    def _counters(self) -> dict:
        return {
            "fast_pulses": self._n_fast_pulses,
            "transfer_pulses": self._n_transfer_pulses,
            "transfers": self._n_transfers,
            "fast": self._fast.state_dict(),
            "transfer": self._transfer.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        from memspice.surrogate import AnalogTile

        self._batches = int(state["batches"])
        c = state["counters"]
        self._n_fast_pulses = int(c["fast_pulses"])
        self._n_transfer_pulses = int(c["transfer_pulses"])
        self._n_transfers = int(c["transfers"])
        self._fast.load_state_dict(c["fast"])
        self._transfer.load_state_dict(c["transfer"])
        if not state["tiles"]:
            self._a = None
            return
        self._a, self._a_rngs, self._a_ref, self._next_col = [], [], [], []
        for entry in state["tiles"]:
            r = generator_from_state(entry["rng"])
            self._a.append(AnalogTile.from_state_dict(entry["tile"], r))
            self._a_rngs.append(r)
            self._a_ref.append(np.array(entry["ref"], dtype=np.float64))
            self._next_col.append(int(entry["next_col"]))

    def stats(self) -> dict:
        return {
            "pulses": self._n_fast_pulses + self._n_transfer_pulses,
            "fast_pulses": self._n_fast_pulses,
            "transfer_pulses": self._n_transfer_pulses,
            "column_transfers": self._n_transfers,
        }
