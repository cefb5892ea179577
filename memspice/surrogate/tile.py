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

Drift (PCM) is a device property taken from ``config.read`` (nu drawn per
device once); a pulse acts on the drifted conductance and restarts that
device's drift clock. ``get_weights`` returns the programmed state,
``effective_weights`` what a read sees after drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memspice.errors import DataError, ParameterError
from memspice.surrogate.fast_update import AffineUpdateEngine
from memspice.surrogate.mapping import WeightMapping
from memspice.surrogate.pulse_models import ConstantStep, DeviceDraws, PulseModel, apply_pulse_counts
from memspice.surrogate.read import ReadConfig, drift_factor, quantise

__all__ = ["TileConfig", "AnalogTile"]

_STATE_FORMAT = "memspice.surrogate.AnalogTile/1"


@dataclass(frozen=True)
class TileConfig:
    """Everything that defines a tile apart from its size and state."""

    device: PulseModel = field(default_factory=ConstantStep)
    """Pulse-update model of every device (both devices of a pair are drawn from it)."""
    mapping: WeightMapping | None = None
    """Weight <-> conductance map; None = the device's nominal [g_min_s, g_max_s] with w_max = 1."""
    read: ReadConfig = field(default_factory=ReadConfig)
    """Forward read (y = W x)."""
    backward_read: ReadConfig | None = None
    """Transposed read (d W); None = the same as ``read``."""
    pair_scheme: str = "auto"
    """"push_pull", "unipolar", or "auto" (unipolar for devices without gradual depression, else push_pull)."""
    update_engine: str = "auto"
    """"auto", "closed_form" or "per_pulse" (see memspice.surrogate.pulse_models)."""

    def __post_init__(self) -> None:
        if not isinstance(self.device, PulseModel):
            raise ParameterError(f"TileConfig.device = {self.device!r}: give a pulse-update model (e.g. ConstantStep()).")
        if self.pair_scheme not in ("auto", "push_pull", "unipolar"):
            raise ParameterError(
                f"TileConfig.pair_scheme = {self.pair_scheme!r}: choose 'auto', 'push_pull' or 'unipolar'."
            )
        if self.pair_scheme == "push_pull" and not self.device.bidirectional:
            raise ParameterError(
                f"TileConfig.pair_scheme = 'push_pull' needs depression pulses, which "
                f"{type(self.device).__name__} does not have; use 'unipolar'."
            )
        if self.update_engine not in ("auto", "closed_form", "per_pulse"):
            raise ParameterError(
                f"TileConfig.update_engine = {self.update_engine!r}: choose 'auto', 'closed_form' or 'per_pulse'."
            )
        if self.update_engine == "closed_form" and not self.device.affine:
            raise ParameterError(
                f"TileConfig.update_engine = 'closed_form' needs an affine model; "
                f"{type(self.device).__name__} is not (use 'per_pulse' or 'auto')."
            )

    @property
    def weight_mapping(self) -> WeightMapping:
        if self.mapping is not None:
            return self.mapping
        return WeightMapping(g_min_s=self.device.g_min_s, g_max_s=self.device.g_max_s, w_max=1.0)

    @property
    def scheme(self) -> str:
        if self.pair_scheme != "auto":
            return self.pair_scheme
        return "push_pull" if self.device.bidirectional else "unipolar"

    @property
    def bwd_read(self) -> ReadConfig:
        return self.read if self.backward_read is None else self.backward_read


class AnalogTile:
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
            old["w"].reshape(-1)[cells] = (flat_g[0, cells] - flat_g[1, cells]) / g_scale
            self._cache["w"] = old["w"]
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

    # -- drift ------------------------------------------------------------------

    def _draw_nu(self, shape, rng) -> np.ndarray | None:
        rc = self.config.read
        if not rc.has_drift:
            return None
        nu = np.full(shape, rc.drift_nu)
        if rc.drift_nu_d2d > 0.0:
            nu = nu + rc.drift_nu_d2d * rng.standard_normal(shape)
        return nu

    def effective_conductances(self, read: ReadConfig | None = None) -> np.ndarray:
        """Conductances a read sees now, (2, n_out, n_in): the programmed ones after drift."""
        read = self.config.read if read is None else read
        if not self._drifting(read):
            return self._g
        return self._g * drift_factor(self.time_s - self._t_prog, self._nu, read.drift_t0_s)

    def _drifting(self, read: ReadConfig) -> bool:
        """Whether drift changes any conductance now, cached until the next state change.

        (t/t0)^(-nu) is exactly 1 until t0 has passed since a device was
        programmed (drift_factor), so while no device is older than t0 (all
        of training, where time does not advance) reads skip the per-device
        exp and share the ideal W, with bit-identical results.
        """
        if not read.has_drift or self._nu is None:
            return False
        key = ("drifting", read.drift_t0_s)
        if key not in self._cache:
            self._cache[key] = self.time_s - float(self._t_prog.min()) > read.drift_t0_s
        return self._cache[key]

    def effective_weights(self) -> np.ndarray:
        """W an ideal noiseless forward read sees now (after drift)."""
        g = self.effective_conductances()
        return self.mapping.pair_to_weights(g[0], g[1])

    # -- reads ------------------------------------------------------------------

    def _eff_g(self, read: ReadConfig) -> np.ndarray:
        """effective_conductances(read), cached until the next state change (drift costs an exp per device)."""
        if not self._drifting(read):
            return self._g
        key = ("geff", read.drift_t0_s)
        if key not in self._cache:
            self._cache[key] = self.effective_conductances(read)
        return self._cache[key]

    def _weights_for(self, read: ReadConfig, key: str) -> np.ndarray:
        # without drift (or before any device has drifted) the forward and backward
        # reads share one W (key "w"), which a sparse update patches in place (see _changed)
        if not self._drifting(read):
            key = "w"
        if key not in self._cache:
            g = self._eff_g(read)
            self._cache[key] = (g[0] - g[1]) / self.mapping.g_scale_s
        return self._cache[key]

    def _noise_var(self, read: ReadConfig) -> np.ndarray:
        """Per-pair conductance read-noise variance (sigma+^2 + sigma-^2)/g_scale^2, (n_out, n_in) float32.

        Depends only on the state, so it is computed once per state change, not
        per read; float32 is ample for a noise standard deviation (rel. 1e-7).
        """
        key = ("sig2", read.has_drift, read.drift_t0_s, read.g_noise_rel, read.g_noise_abs_s)
        if key not in self._cache:
            g = self._eff_g(read)
            sig2 = ((read.g_noise_rel * g + read.g_noise_abs_s) ** 2).sum(axis=0) / self.mapping.g_scale_s**2
            self._cache[key] = sig2.astype(np.float32)
        return self._cache[key]

    def _ir_reader(self, read: ReadConfig, transpose: bool):
        """Factorised nodal solvers of the current state (cached until the state changes)."""
        from memspice.surrogate.ir_drop import IRDropReader

        key = "ir_bwd" if transpose else "ir_fwd"
        if key not in self._cache:
            g = self._eff_g(read)
            self._cache[key] = IRDropReader.build(
                g[0], g[1], read.wire_r_ohm, read.v_read_v, self.mapping.g_scale_s, transpose
            )
        return self._cache[key]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = W x through the forward read path. x: (B, n_in) or (n_in,) -> (B, n_out) or (n_out,)."""
        return self._read(x, self.config.read, transpose=False)

    def backward(self, d: np.ndarray) -> np.ndarray:
        """Transposed read d W through the backward read path. d: (B, n_out) or (n_out,) -> (B, n_in)."""
        return self._read(d, self.config.bwd_read, transpose=True)

    def _read(self, x: np.ndarray, read: ReadConfig, transpose: bool) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        n_vec = self.n_out if transpose else self.n_in
        single = x.ndim == 1
        xb = x[None, :] if single else x
        if xb.ndim != 2 or xb.shape[1] != n_vec:
            what = "backward(d)" if transpose else "forward(x)"
            raise ParameterError(f"{what}: expected shape (B, {n_vec}) or ({n_vec},), got {x.shape}.")
        # one reduction instead of an isfinite pass; the full check only if the sum is not finite
        if not np.isfinite(xb.sum()) and not np.all(np.isfinite(xb)):
            raise ParameterError("read input contains NaN or inf.")
        if read.dac_bits is not None:
            xb = quantise(xb, read.dac_bits, read.dac_range, read.out_of_range, "DAC input")
        if read.mode == "ir_drop":
            y = self._ir_reader(read, transpose).read(xb)
        else:
            w = self._weights_for(read, "bwd" if transpose else "fwd")
            y = xb @ w if transpose else xb @ w.T
        if read.has_g_noise:
            # (with IR drop this adds the noise of an ideal read: a first-order
            # approximation, the wires only slightly rescale each device's share)
            # Independent conductance noise on every device at every read:
            # y_b += sum_i eps_bji x_bi is Gaussian with variance
            # sum_i (sigma+_ji^2 + sigma-_ji^2) x_bi^2 / g_scale^2, drawn
            # exactly per output with one extra matrix product.
            sig2 = self._noise_var(read)
            x2 = np.square(xb, dtype=np.float32)
            std = np.sqrt(x2 @ (sig2 if transpose else sig2.T))
            std *= self.rng.standard_normal(y.shape, dtype=np.float32)
            y = y + std
        if read.out_noise_std > 0.0:
            y = y + read.out_noise_std * self.rng.standard_normal(y.shape)
        if read.adc_bits is not None:
            y = quantise(y, read.adc_bits, read.adc_range, read.out_of_range, "ADC output")
        return y[0] if single else y

    # -- updates ----------------------------------------------------------------

    def apply_pulses(self, n: np.ndarray) -> None:
        """Apply signed pulse counts n (int array (n_out, n_in)): n > 0 raises W, n < 0 lowers it.

        The pulses go to the devices as the pair scheme says (module docstring);
        the device model adds its nonlinearity, bounds, device-to-device and
        cycle-to-cycle variation. Only cells with n != 0 are touched.

        ``n`` may also be a scipy sparse matrix (e.g. coincidence counts, where
        well under 1 % of the cells are pulsed): the pulsed cells are then taken
        from its stored entries instead of a scan of the whole tile, with the
        same result as the dense array.
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
        engine = self._engine()
        if engine is not None and self._nu is None:
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
                    engine.update_abs(g, kk, up_plus, plus, self.rng)
                    up_plus = np.subtract(np.float32(1.0), up_plus, out=up_plus)  # G- moves the other way
                    engine.update_abs(g, kk, up_plus, minus, self.rng)
                else:  # unipolar: potentiation only, G+ for n > 0 and G- for n < 0
                    engine.update_abs(g, np.maximum(kf, np.float32(0.0)), None, plus, self.rng)
                    engine.update_abs(g, np.maximum(-kf, np.float32(0.0)), None, minus, self.rng)
                self._changed()
                return
        cells = np.flatnonzero(flat)
        if cells.size == 0:
            return
        self._pulse_cells(cells, flat[cells].astype(np.int64))

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
        if self._engine() is not None and self._nu is None and cells.size > 0.25 * n_cells:
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
        engine = self._engine()
        if engine is not None:
            engine.update(g, dev_n, dev_idx, self.rng)
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

    def _engine(self) -> AffineUpdateEngine | None:
        """The precomputed closed-form engine, for affine models (None: per-pulse engine)."""
        if not self.config.device.affine or self.config.update_engine == "per_pulse":
            return None
        eng = self.__dict__.get("_affine_engine")
        if eng is None:
            eng = AffineUpdateEngine(self.config.device, self.draws)
            self._affine_engine = eng
        return eng

    def apply_coincidences(self, row_bits: np.ndarray, col_bits: np.ndarray, sign: np.ndarray | float = 1.0) -> np.ndarray:
        """Stochastic pulse-coincidence update (Gokmen & Vlasov 2016; ALGORITHMS.md §1).

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
        from memspice.surrogate.serialise import config_to_dict

        d = self.draws
        out: dict[str, Any] = {
            "format": _STATE_FORMAT,
            "n_out": self.n_out,
            "n_in": self.n_in,
            "config": config_to_dict(self.config),
            "g": self._g.copy(),
            "t_prog_s": self._t_prog.copy(),
            "time_s": self.time_s,
            "lo_s": d.lo_s.copy(),
            "hi_s": d.hi_s.copy(),
            "f_up": d.f_up.copy(),
            "f_down": d.f_down.copy(),
        }
        if self._nu is not None:
            out["nu"] = self._nu.copy()
        return out

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], rng: np.random.Generator) -> "AnalogTile":
        """Rebuild a tile from ``state_dict()``; ``rng`` drives its future draws (noise, pulses)."""
        from memspice.surrogate.serialise import config_from_dict

        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise DataError(
                f"not an AnalogTile checkpoint (format {state.get('format') if isinstance(state, dict) else None!r}, "
                f"expected {_STATE_FORMAT!r})."
            )
        try:
            config = config_from_dict(state["config"])
            n_out, n_in = int(state["n_out"]), int(state["n_in"])
            tile = cls.__new__(cls)
            tile.n_out, tile.n_in = n_out, n_in
            tile.config = config
            tile.mapping = config.weight_mapping
            tile.rng = rng
            shape = (2, n_out, n_in)
            arrays = {k: np.array(state[k], dtype=np.float64) for k in ("g", "t_prog_s", "lo_s", "hi_s", "f_up", "f_down")}
        except KeyError as exc:
            raise DataError(f"AnalogTile checkpoint misses the entry {exc}.") from None
        for k, a in arrays.items():
            if a.shape != shape:
                raise DataError(f"AnalogTile checkpoint entry {k!r} has shape {a.shape}, expected {shape}.")
        tile.draws = DeviceDraws(lo_s=arrays["lo_s"], hi_s=arrays["hi_s"], f_up=arrays["f_up"], f_down=arrays["f_down"])
        tile._g = arrays["g"]
        tile._t_prog = arrays["t_prog_s"]
        tile.time_s = float(state["time_s"])
        tile._nu = np.array(state["nu"], dtype=np.float64) if "nu" in state else None
        if config.read.has_drift and tile._nu is None:
            raise DataError("AnalogTile checkpoint has drift configured but no 'nu' entry.")
        tile._cache = {}
        return tile
