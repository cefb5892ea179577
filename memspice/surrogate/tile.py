"""AnalogTile: a crossbar of conductance pairs with reads and pulsed updates, in numpy.

Weights are W = (G+ - G-) / g_scale (WeightMapping). Everything is
vectorised over cells and batches; all randomness comes from the Generator
given to the tile.

Pair schemes (how a signed pulse count n reaches the two devices):

* ``"push_pull"`` (default for bidirectional devices): n > 0 gives n
  potentiation pulses to G+ and n depression pulses to G-; n < 0 the mirror.
  Both devices move W the same way; a device at its bound simply stops.
* ``"unipolar"`` (default for devices without gradual depression, PCM): n > 0
  gives n potentiation pulses to G+, n < 0 gives |n| potentiation pulses to
  G-; both devices only grow, so ``refresh()`` must re-program pairs that fill
  up (Nandakumar et al.; Burr et al. 2015).

Drift (PCM): a pulse acts on the drifted conductance and restarts that
device's drift clock (reads and drift: ``memspice.surrogate.tile_reads``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memspice.errors import ParameterError
from memspice.surrogate.fast_update import ClosedFormUpdater, alternating_pulses
from memspice.surrogate.pulse_base import DeviceDraws
from memspice.surrogate.pulse_counts import apply_pulse_counts
from memspice.surrogate.read import drift_factor
from memspice.surrogate.serialise import tile_from_state_dict, tile_state_dict
from memspice.surrogate.tile_config import TileConfig
from memspice.surrogate.tile_reads import TileReadPath

__all__ = ["TileConfig", "AnalogTile"]

class AnalogTile(TileReadPath):
    """A tile of n_out x n_in weights stored as conductance pairs.

    ``g_plus``/``g_minus`` (S, shape (n_out, n_in)) are the programmed state
    (before drift). Reads return y = W x with the configured read path.
    """

    def __init__(self, n_out: int, n_in: int, config: TileConfig | None = None, rng: np.random.Generator | None = None):
        if int(n_out) != n_out or int(n_in) != n_in or n_out < 1 or n_in < 1:
            raise ParameterError(f"AnalogTile(n_out={n_out!r}, n_in={n_in!r}): sizes must be positive integers.")
        if not isinstance(rng, np.random.Generator):
            raise ParameterError(
                "AnalogTile needs a numpy.random.Generator (rng=np.random.default_rng(seed)); "
                f"got {type(rng).__name__}."
            )
        self.n_out, self.n_in = int(n_out), int(n_in)
        self.config = TileConfig() if config is None else config
        self.mapping = self.config.weight_mapping
        self.rng = rng
        shape = (2, self.n_out, self.n_in)  # [0] = G+ devices, [1] = G- devices
        self.draws: DeviceDraws = self.config.device.draw_devices(shape, rng)
        self._nu = self._draw_nu(shape, rng)
        self._g = np.full(shape, self.mapping.g_min_s)
        self.time_s = 0.0
        """Tile clock (s) for drift; advance it with advance_time()."""
        self._t_prog = np.zeros(shape)
        self._cache: dict[str, Any] = {}

    # -- state ---------------------------------------------------------------

    @property
    def g_plus(self) -> np.ndarray:
        return self._g[0]

    @property
    def g_minus(self) -> np.ndarray:
        return self._g[1]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_out, self.n_in)

    @property
    def stuck_devices(self) -> int:
        """Devices that cannot move (a drawn upper bound below the lower one, or a step factor of 0)."""
        d = self.draws
        return int(np.count_nonzero((d.range_s <= 0.0) | ((d.f_up <= 0.0) & (d.f_down <= 0.0))))

    def _changed(self, cells: np.ndarray | None = None) -> None:
        """Drop what was derived from the state; ``cells`` (flat cell indices): only those changed.

        After a sparse update the shared ideal weight matrix "w" (and the
        read-noise variances of reads that see no drift) are patched at the
        changed cells with the same expression as a full recompute (so the
        values are bit-identical); everything else is rebuilt on demand.
        """
        if cells is None:
            self._cache.clear()
            return
        # A pulse leaves the time alone and restarts its devices' drift clocks, so
        # a tile that was not drifting still is not, and the read-noise variances
        # of undrifted reads are patched like W (same expression, same values).
        old, self._cache = self._cache, {}
        flat_g = self._g.reshape(2, -1)
        g_scale = self.mapping.g_scale_s
        if "w" in old:
            w_cells = (flat_g[0, cells] - flat_g[1, cells]) / g_scale
            old["w"].reshape(-1)[cells] = w_cells
            self._cache["w"] = old["w"]
            if "w32" in old:  # its float32 copy (float32 reads), the same rounding as a recompute
                old["w32"].reshape(-1)[cells] = w_cells
                self._cache["w32"] = old["w32"]
        tuples = [key for key in old if isinstance(key, tuple)]
        undrifted = {key[1] for key in tuples if key[0] == "drifting" and not old[key]}  # their t0
        self._cache.update((("drifting", t0_s), False) for t0_s in undrifted)
        for key in tuples:
            if key[0] == "sig2" and (not key[1] or key[2] in undrifted):  # ("sig2", has_drift, t0, rel, abs)
                rel, abs_s = key[3], key[4]
                old[key].reshape(-1)[cells] = ((rel * flat_g[:, cells] + abs_s) ** 2).sum(axis=0) / g_scale**2
                self._cache[key] = old[key]

    def get_weights(self) -> np.ndarray:
        """W = (G+ - G-) / g_scale of the programmed state (no drift, no noise), shape (n_out, n_in)."""
        return self.mapping.pair_to_weights(self._g[0], self._g[1])

    def set_weights(self, w: np.ndarray) -> None:
        """Program W exactly (ideal write): W >= 0 on G+, W < 0 on G-, the other device at g_min.

        |W| > w_max raises ParameterError. Programming resets the drift clock of every device.
        """
        w = np.asarray(w, dtype=np.float64)
        if w.shape != self.shape:
            raise ParameterError(f"set_weights: W has shape {w.shape}, the tile is {self.shape}.")
        gp, gm = self.mapping.weights_to_pair(w)
        self._g[0] = gp
        self._g[1] = gm
        self._t_prog[:] = self.time_s
        self._changed()

    def set_conductances(self, g_plus: np.ndarray, g_minus: np.ndarray) -> None:
        """Program both devices of every pair exactly (S, shape (n_out, n_in) each, >= 0)."""
        for name, g in (("g_plus", g_plus), ("g_minus", g_minus)):
            g = np.asarray(g)
            if g.shape != self.shape or not np.all(np.isfinite(g)) or np.any(g < 0):
                raise ParameterError(f"set_conductances: {name} must be finite, >= 0 S and of shape {self.shape}.")
        self._g[0] = g_plus
        self._g[1] = g_minus
        self._t_prog[:] = self.time_s
        self._changed()

    def advance_time(self, dt_s: float) -> None:
        """Let dt_s seconds pass (drift acts on reads)."""
        if not dt_s >= 0.0:
            raise ParameterError(f"advance_time(dt_s={dt_s!r}): time only moves forward; give dt_s >= 0.")
        self.time_s += float(dt_s)
        if self.config.read.has_drift or self.config.bwd_read.has_drift:
            self._changed()

    # -- updates ----------------------------------------------------------------

    def apply_pulses(self, n: np.ndarray) -> None:
        """Apply signed pulse counts n (int array (n_out, n_in)): n > 0 raises W, n < 0 lowers it.

        The pulses go to the devices as the pair scheme says (module docstring);
        the device model adds its nonlinearity, bounds, device-to-device and
        cycle-to-cycle variation. Only cells with n != 0 are touched.

        ``n`` may also be a scipy sparse matrix (e.g. coincidence counts, well
        under 1 % of the cells pulsed): the pulsed cells are then its stored
        entries, with the same result as the dense array.
        """
        if hasattr(n, "tocoo") and not isinstance(n, np.ndarray):
            self._apply_sparse(n)
            return
        n = np.asarray(n)
        if n.shape != self.shape:
            raise ParameterError(f"apply_pulses: n has shape {n.shape}, the tile is {self.shape}.")
        if not np.issubdtype(n.dtype, np.integer):
            if not (np.all(np.isfinite(n)) and np.all(n == np.rint(n))):
                raise ParameterError("apply_pulses: pulse counts must be integers (got non-integer values).")
            n = n.astype(np.int64)
        flat = n.reshape(-1)
        n_cells = self.n_out * self.n_in
        updater = self._closed_form_updater()
        if updater is not None and self._nu is None:
            nnz = int(np.count_nonzero(flat))
            if nnz == 0:
                return
            if nnz > 0.25 * n_cells:
                # dense: every device in one vectorised pass (zeros are no-ops)
                kf = flat.astype(np.float32)
                g = self._g.reshape(-1)
                plus, minus = slice(0, n_cells), slice(n_cells, 2 * n_cells)
                if self.config.scheme == "push_pull":
                    kk = np.abs(kf)
                    up_plus = (kf > 0).astype(np.float32)
                    updater.update_abs(g, kk, up_plus, plus, self.rng)
                    up_plus = np.subtract(np.float32(1.0), up_plus, out=up_plus)  # G- moves the other way
                    updater.update_abs(g, kk, up_plus, minus, self.rng)
                else:  # unipolar: potentiation only, G+ for n > 0 and G- for n < 0
                    updater.update_abs(g, np.maximum(kf, np.float32(0.0)), None, plus, self.rng)
                    updater.update_abs(g, np.maximum(-kf, np.float32(0.0)), None, minus, self.rng)
                self._changed()
                return
        cells = np.flatnonzero(flat)
        if cells.size == 0:
            return
        self._pulse_cells(cells, flat[cells].astype(np.int64))

    def apply_alternating_pulses(self, n_pairs: int) -> None:
        """``n_pairs`` times one +1 then one -1 pulse on every cell (what brings soft-bounds devices to
        their symmetry points, Tiki-Taka's zero shift): the same as
        ``for _ in range(n_pairs): apply_pulses(ones); apply_pulses(-ones)``.

        Affine models: in one pass, the pairs' closed-form moments
        (:func:`memspice.surrogate.fast_update.alternating_pulses`); other models: pulse by pulse.
        """
        if int(n_pairs) != n_pairs or n_pairs < 0:
            raise ParameterError(f"apply_alternating_pulses(n_pairs={n_pairs!r}): give an integer >= 0.")
        n_pairs = int(n_pairs)
        if n_pairs == 0:
            return
        if self._closed_form_updater() is None:
            up = np.ones(self.shape, dtype=np.int64)
            for _ in range(n_pairs):
                self.apply_pulses(up)
                self.apply_pulses(-up)
            return
        g = self._g.reshape(-1)
        if self._nu is not None:  # a pulse acts on the drifted state and restarts the drift clock
            t_prog = self._t_prog.reshape(-1)
            g *= drift_factor(self.time_s - t_prog, self._nu.reshape(-1), self.config.read.drift_t0_s)
            t_prog[:] = self.time_s
        n_cells = self.n_out * self.n_in
        first = np.ones(2 * n_cells, dtype=np.int8)  # push_pull: G+ up then down, G- down then up
        if self.config.scheme == "push_pull":
            first[n_cells:] = -1
            second = -first
        else:  # unipolar: +1 potentiates G+, -1 potentiates G-
            second = np.zeros_like(first)
            first[n_cells:], second[n_cells:] = 0, 1
        g[:] = alternating_pulses(self.config.device, self.draws, g, first, second, n_pairs, self.rng)
        self._changed()

    def _apply_sparse(self, n) -> None:
        """Sparse-matrix counts: their stored entries, as :meth:`apply_cell_pulses`."""
        if n.shape != self.shape:
            raise ParameterError(f"apply_pulses: n has shape {n.shape}, the tile is {self.shape}.")
        csr = n.tocsr()
        if not csr.has_canonical_format:  # canonical: row-major sorted, as np.flatnonzero of the dense array
            csr = csr.copy()
            csr.sum_duplicates()
        if not np.issubdtype(csr.data.dtype, np.integer):
            if not (np.all(np.isfinite(csr.data)) and np.all(csr.data == np.rint(csr.data))):
                raise ParameterError("apply_pulses: pulse counts must be integers (got non-integer values).")
        row = np.repeat(np.arange(self.n_out, dtype=np.int64), np.diff(csr.indptr))
        nz = np.flatnonzero(csr.data)
        self.apply_cell_pulses((row * self.n_in + csr.indices)[nz], csr.data[nz].astype(np.int64))

    def apply_cell_pulses(self, cells: np.ndarray, counts: np.ndarray) -> None:
        """Apply signed pulse counts to the listed cells only: ``cells`` flat row-major indices
        (i·n_in + j, ascending, each once), ``counts`` their non-zero integer counts.

        The same result as ``apply_pulses`` of the dense matrix with these
        entries (the devices are visited in the same order), without a pass
        over the whole tile: the form sparse updates (pulse coincidences) come in.
        """
        cells = np.asarray(cells, dtype=np.int64)
        counts = np.asarray(counts, dtype=np.int64)
        n_cells = self.n_out * self.n_in
        if cells.shape != counts.shape or cells.ndim != 1:
            raise ParameterError(f"apply_cell_pulses: cells {cells.shape} and counts {counts.shape} must be equal 1-D arrays.")
        if not np.all(counts):
            cells, counts = cells[counts != 0], counts[counts != 0]
        if cells.size == 0:
            return
        if cells[0] < 0 or cells[-1] >= n_cells or np.any(np.diff(cells) <= 0):
            raise ParameterError(
                f"apply_cell_pulses: cells must be ascending distinct indices in [0, {n_cells}) (row-major cells of the tile)."
            )
        if self._closed_form_updater() is not None and self._nu is None and cells.size > 0.25 * n_cells:
            dense = np.zeros(n_cells, dtype=np.int64)  # dense enough for the one-pass update
            dense[cells] = counts
            self.apply_pulses(dense.reshape(self.shape))
            return
        self._pulse_cells(cells, counts)

    def _pulse_cells(self, cells: np.ndarray, counts: np.ndarray) -> None:
        """Signed counts of the listed cells to their devices, as the pair scheme says."""
        n_cells = self.n_out * self.n_in
        if self.config.scheme == "push_pull":
            dev_idx = np.concatenate([cells, cells + n_cells])
            dev_n = np.concatenate([counts, -counts])
        else:  # unipolar: potentiation on G+ (n > 0) or G- (n < 0)
            dev_idx = np.where(counts > 0, cells, cells + n_cells)
            dev_n = np.abs(counts)
        self._pulse_devices(dev_idx, dev_n, cells)

    def _pulse_devices(self, dev_idx: np.ndarray, dev_n: np.ndarray, cells: np.ndarray | None = None) -> None:
        g = self._g.reshape(-1)
        if self._nu is not None:
            # a pulse acts on the drifted state and restarts the device's drift clock
            t_prog = self._t_prog.reshape(-1)
            elapsed = self.time_s - t_prog[dev_idx]
            g[dev_idx] = g[dev_idx] * drift_factor(elapsed, self._nu.reshape(-1)[dev_idx], self.config.read.drift_t0_s)
            t_prog[dev_idx] = self.time_s
        updater = self._closed_form_updater()
        if updater is not None:
            updater.update(g, dev_n, dev_idx, self.rng)
        else:
            d = self.draws
            sub = DeviceDraws(
                lo_s=d.lo_s.reshape(-1)[dev_idx],
                hi_s=d.hi_s.reshape(-1)[dev_idx],
                f_up=d.f_up.reshape(-1)[dev_idx],
                f_down=d.f_down.reshape(-1)[dev_idx],
            )
            g[dev_idx] = apply_pulse_counts(self.config.device, g[dev_idx], dev_n, sub, self.rng, self.config.update_engine)
        self._changed(cells)

    def _closed_form_updater(self) -> ClosedFormUpdater | None:
        """The precomputed closed-form updater, for affine models (None: pulse-by-pulse update)."""
        if not self.config.device.affine or self.config.update_engine == "per_pulse":
            return None
        updater = self.__dict__.get("_updater")
        if updater is None:
            updater = ClosedFormUpdater(self.config.device, self.draws)
            self._updater = updater
        return updater

    def apply_coincidences(self, row_bits: np.ndarray, col_bits: np.ndarray, sign: np.ndarray | float = 1.0) -> np.ndarray:
        """Stochastic pulse-coincidence update (Gokmen & Vlasov 2016; docs/algorithms.md, "Stochastic pulse coincidence").

        row_bits: (BL, n_in) pulse trains on the inputs, col_bits: (BL, n_out) on
        the outputs (bool or 0/1). Each cell gets one pulse per slot where its
        row and column both fire; ``sign`` (broadcastable to (n_out, n_in),
        values -1/0/+1, e.g. np.outer(sign(delta), sign(x)) negated for
        descent) sets the direction. Returns the signed counts it applied.
        """
        rb = np.asarray(row_bits)
        cb = np.asarray(col_bits)
        if rb.ndim != 2 or cb.ndim != 2 or rb.shape[1] != self.n_in or cb.shape[1] != self.n_out or rb.shape[0] != cb.shape[0]:
            raise ParameterError(
                f"apply_coincidences: need row_bits (BL, {self.n_in}) and col_bits (BL, {self.n_out}) "
                f"with the same BL; got {rb.shape} and {cb.shape}."
            )
        # counts fit float32 exactly (BL < 2^24); BLAS is far faster than integer matmul
        counts = cb.T.astype(np.float32) @ rb.astype(np.float32)
        s = np.asarray(sign)
        if not np.all(np.isin(s, (-1, 0, 1))):
            raise ParameterError("apply_coincidences: sign must hold only -1, 0 or +1.")
        n = (np.rint(counts).astype(np.int64) * s.astype(np.int64)).astype(np.int64)
        n = np.broadcast_to(n, self.shape)
        self.apply_pulses(np.ascontiguousarray(n))
        return n

    # -- step sizes ---------------------------------------------------------------

    @property
    def dw_min(self) -> float:
        """Mean |weight change| of one pulse at the centre of the range (weight units), nominal device.

        Both devices at the centre of their range (u = 0.5). push_pull: one
        pulse moves G+ and G- (|dG_up| + |dG_down|) / g_scale; unipolar: one
        potentiation step dG_up / g_scale. For the change at the current state
        of every cell use ``mean_weight_step``.
        """
        dev = self.config.device
        up = abs(dev.nominal_step_s(0.5, True))
        if self.config.scheme == "unipolar":
            return up / self.mapping.g_scale_s
        down = abs(dev.nominal_step_s(0.5, False))
        return (up + down) / self.mapping.g_scale_s

    def mean_weight_step(self, direction: int = 1) -> np.ndarray:
        """Expected dW of one pulse of sign ``direction`` (+1/-1) on every cell at its current state.

        Mean step of each device with its own step factor and bounds (before
        the hard-bound clip; noise has zero mean). Shape (n_out, n_in).
        """
        if direction not in (1, -1):
            raise ParameterError(f"mean_weight_step(direction={direction!r}): give +1 or -1.")
        dev, d = self.config.device, self.draws
        r = np.where(d.range_s > 0, d.range_s, 1.0)
        u = (self._g - d.lo_s) / r
        live = d.range_s > 0

        def step(k, up_flag):
            upa = np.full(self.shape, up_flag)
            f = d.f_up[k] if up_flag else d.f_down[k]
            return np.where(live[k], f * dev.mean_step_s(u[k], upa, d.lo_s[k], r[k]), 0.0)

        if self.config.scheme == "unipolar":
            ds = step(0, True) if direction > 0 else -step(1, True)
        elif direction > 0:
            ds = step(0, True) - step(1, False)
        else:
            ds = step(0, False) - step(1, True)
        return ds / self.mapping.g_scale_s

    def refresh(self, threshold: float = 0.9) -> int:
        """Re-program pairs whose larger device is above ``threshold`` of its range (unipolar scheme).

        Reads W, and writes it back ideally (the larger device down to g_min).
        Weights beyond w_max (devices whose drawn bound exceeds the mapping)
        cannot be written back exactly and raise ParameterError. Returns the
        number of refreshed pairs.
        """
        if not 0.0 < threshold <= 1.0:
            raise ParameterError(f"refresh(threshold={threshold!r}): give a fraction in (0, 1].")
        m = self.mapping
        level = m.g_min_s + threshold * m.g_range_s
        hit = np.maximum(self._g[0], self._g[1]) >= level
        if not np.any(hit):
            return 0
        w = self.get_weights()
        gp, gm = m.weights_to_pair(w[hit])
        self._g[0][hit] = gp
        self._g[1][hit] = gm
        self._t_prog[0][hit] = self.time_s
        self._t_prog[1][hit] = self.time_s
        self._changed()
        return int(np.count_nonzero(hit))

    # -- checkpoints ---------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Plain dict of numpy arrays and the config (as a dict) for an exact round trip."""
        return tile_state_dict(self)

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], rng: np.random.Generator) -> "AnalogTile":
        """Rebuild a tile from ``state_dict()``; ``rng`` drives its future draws (noise, pulses)."""
        return tile_from_state_dict(cls, state, rng)
