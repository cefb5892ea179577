"""The read path of an AnalogTile: drift of the programmed conductances, y = W x and d W with noise and converters.

A mixin of :class:`~memspice.surrogate.tile.AnalogTile` (it uses the tile's
state ``_g``, ``_t_prog``, ``_nu``, ``time_s``, ``mapping``, ``config``, ``rng``
and its derived-value cache ``_cache``, which ``AnalogTile._changed`` keeps).

Drift (PCM) is a device property taken from ``config.read`` (nu drawn per
device once). ``get_weights`` returns the programmed state,
``effective_weights`` what a read sees after drift.
"""

from __future__ import annotations

import numpy as np

from memspice.errors import ParameterError
from memspice.surrogate.read import ReadConfig, drift_factor, quantise

__all__ = ["TileReadPath"]


class TileReadPath:
    """Drift and reads of a tile (see the module docstring)."""

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

    def _weights_for(self, read: ReadConfig, key: str, dtype=np.float64) -> np.ndarray:
        # without drift (or before any device has drifted) the forward and backward
        # reads share one W (key "w"), which a sparse update patches in place (see _changed);
        # float32 reads use W rounded to float32 (key + "32"), patched alike
        if not self._drifting(read):
            key = "w"
        if key not in self._cache:
            g = self._eff_g(read)
            self._cache[key] = (g[0] - g[1]) / self.mapping.g_scale_s
        if dtype == np.float64:
            return self._cache[key]
        if key + "32" not in self._cache:
            self._cache[key + "32"] = self._cache[key].astype(np.float32)
        return self._cache[key + "32"]

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

    def _ir_linearised(self, read: ReadConfig, transpose: bool, x: np.ndarray):
        """The linearised IR-drop reader of this direction, brought up to the current state.

        It lives outside ``_cache`` (which every update clears) because it is
        updated, not rebuilt, after a change; a marker in ``_cache`` says it is
        in step with the state.
        """
        from memspice.surrogate.ir_fast import LinearisedIRReader

        readers = self.__dict__.setdefault("_ir_linearised_readers", {})
        settings = (read.wire_r_ohm, read.ir_tol, read.ir_max_iter, read.ir_refresh_every, self.mapping.g_scale_s)
        full_key = (settings, read.has_drift, read.drift_t0_s)
        if readers.get(transpose, (None,))[0] != full_key:
            readers[transpose] = (full_key, LinearisedIRReader(*settings, transpose=transpose))
            self._cache.pop(("ir_lin_synced", transpose), None)
        reader = readers[transpose][1]
        key = ("ir_lin_synced", transpose)
        if key not in self._cache:
            g = self._eff_g(read)
            reader.sync(x, g[0], g[1])
            self._cache[key] = True
        return reader

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = W x through the forward read path. x: (B, n_in) or (n_in,) -> (B, n_out) or (n_out,)."""
        return self._read(x, self.config.read, transpose=False)

    def backward(self, d: np.ndarray) -> np.ndarray:
        """Transposed read d W through the backward read path. d: (B, n_out) or (n_out,) -> (B, n_in)."""
        return self._read(d, self.config.bwd_read, transpose=True)

    def _read(self, x: np.ndarray, read: ReadConfig, transpose: bool) -> np.ndarray:
        # float32 inputs (the training data and activations) are read in float32, W rounded to
        # float32 (2^-24 of a weight, far below a device step); anything else in float64
        x = np.asarray(x)
        x = x if x.dtype == np.float32 else np.asarray(x, dtype=np.float64)
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
        if read.mode == "ir_drop" and read.ir_method == "linearised":
            xb = xb.astype(np.float64, copy=False)  # the nodal solvers work in float64
            y = self._ir_linearised(read, transpose, xb).read(xb)
        elif read.mode == "ir_drop":
            xb = xb.astype(np.float64, copy=False)
            y = self._ir_reader(read, transpose).read(xb)
        else:
            w = self._weights_for(read, "bwd" if transpose else "fwd", xb.dtype)
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
            y = y + read.out_noise_std * self.rng.standard_normal(y.shape, dtype=y.dtype)
        if read.adc_bits is not None:
            y = quantise(y, read.adc_bits, read.adc_range, read.out_of_range, "ADC output")
        return y[0] if single else y
