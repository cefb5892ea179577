"""The read path of a tile: DAC, array (ideal or IR-drop), read noise, drift, ADC.

A read applies, in order: DAC quantisation of the inputs; the array product
with the *effective* conductances (programmed G after drift); conductance read
noise; additive output noise; ADC quantisation of the outputs. Inputs and
outputs are in weight units (y = W x); an input of 1 is a read voltage of
``v_read_v`` on the line, an output of 1 a current of g_scale * v_read_v.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from memspice.devices.pcm import PCM_DEFAULTS
from memspice.errors import ParameterError

__all__ = ["ReadConfig", "QuantisationRangeWarning", "PCMReadNandakumar2018", "quantise", "drift_factor"]


class QuantisationRangeWarning(UserWarning):
    """A DAC input or ADC output fell outside the converter's range and was saturated."""


@dataclass(frozen=True)
class ReadConfig:
    """How a tile is read. The defaults are an ideal read (exact y = W x)."""

    mode: str = "ideal"
    """"ideal" (matrix product) or "ir_drop" (the arrays with wire resistance, solved as ``ir_method`` says)."""
    dac_bits: int | None = None
    """Input DAC resolution b: inputs are rounded to 2^b levels over dac_range; None = no DAC."""
    dac_range: tuple[float, float] = (-1.0, 1.0)
    """(low, high) input range of the DAC (input units); the levels are low + k (high - low)/(2^b - 1)."""
    adc_bits: int | None = None
    """Output ADC resolution b: outputs are rounded to 2^b levels over adc_range; None = no ADC."""
    adc_range: tuple[float, float] = (-10.0, 10.0)
    """(low, high) output range of the ADC (weight x input units)."""
    out_of_range: str = "error"
    """What a DAC input or ADC output outside its range does: "error" (ParameterError) or
    "warn" (QuantisationRangeWarning, then the converter saturates at its range)."""
    out_noise_std: float = 0.0
    """Additive output noise: std of a Gaussian added to every output (weight x input units)."""
    g_noise_rel: float = 0.0
    """Conductance read noise, relative part: sigma_G = g_noise_rel G + g_noise_abs_s, drawn per read (1)."""
    g_noise_abs_s: float = 0.0
    """Conductance read noise, absolute part (S)."""
    drift_nu: float = 0.0
    """Drift exponent nu: G(t) = G(t0) ((t - t_prog)/t0)^(-nu) for t - t_prog > t0 (PCM; see PCMReadNandakumar2018)."""
    drift_nu_d2d: float = 0.0
    """Device-to-device std of nu (drawn once per device)."""
    drift_t0_s: float = 1.0
    """Reference time t0 after programming at which G equals the programmed value (s)."""
    wire_r_ohm: float = 1.0
    """Resistance of one wire segment between neighbouring cells (ohm), for mode "ir_drop"."""
    v_read_v: float = 0.2
    """Read voltage of an input of 1 (V), for mode "ir_drop" (the solve is linear, so it only scales currents)."""
    ir_method: str = "exact"
    """How mode "ir_drop" solves the wired arrays: "exact" (the sparse nodal solve, refactorised after every
    conductance change, each read a batched triangular solve) or "linearised" (a dense transfer matrix,
    exact at a reference state and linear in the conductance changes since, so a read is one matrix
    product; checked against the exact solve and refreshed to keep within ``ir_tol``; see
    memspice.surrogate.ir_fast)."""
    ir_tol: float = 0.005
    """Error bound of ir_method "linearised": RMS error of the outputs relative to their RMS, against the
    exact solve (0.005 = 0.5 %). A check that measures more than half of it refreshes the matrices."""
    ir_max_iter: int = 30
    """Iterations of the check's refinement on the reference factorisation (ir_method "linearised");
    if the exact probe solve has not converged in this many, the matrices are refreshed."""
    ir_refresh_every: int = 0
    """Refresh the linearised matrices after this many conductance changes regardless of the check
    (a fixed cadence K); 0 = only when the check asks for it."""

    def __post_init__(self) -> None:
        if self.mode not in ("ideal", "ir_drop"):
            raise ParameterError(f"ReadConfig.mode = {self.mode!r}: choose 'ideal' or 'ir_drop'.")
        for name in ("dac", "adc"):
            bits = getattr(self, f"{name}_bits")
            rng = getattr(self, f"{name}_range")
            if bits is not None and (int(bits) != bits or not 1 <= bits <= 32):
                raise ParameterError(f"ReadConfig.{name}_bits = {bits!r}: give an integer 1..32 or None.")
            if len(rng) != 2 or not (np.isfinite(rng[0]) and np.isfinite(rng[1]) and rng[1] > rng[0]):
                raise ParameterError(f"ReadConfig.{name}_range = {rng!r}: give (low, high) with low < high.")
        if self.out_of_range not in ("error", "warn"):
            raise ParameterError(f"ReadConfig.out_of_range = {self.out_of_range!r}: choose 'error' or 'warn'.")
        for name in ("out_noise_std", "g_noise_rel", "g_noise_abs_s", "drift_nu_d2d"):
            if not getattr(self, name) >= 0.0:
                raise ParameterError(f"ReadConfig.{name} = {getattr(self, name)!r}: must be >= 0.")
        if not self.drift_t0_s > 0.0:
            raise ParameterError(f"ReadConfig.drift_t0_s = {self.drift_t0_s!r}: must be > 0 s.")
        if not self.wire_r_ohm >= 0.0:
            raise ParameterError(f"ReadConfig.wire_r_ohm = {self.wire_r_ohm!r}: must be >= 0 ohm.")
        if not self.v_read_v > 0.0:
            raise ParameterError(f"ReadConfig.v_read_v = {self.v_read_v!r}: must be > 0 V.")
        if self.ir_method not in ("exact", "linearised"):
            raise ParameterError(f"ReadConfig.ir_method = {self.ir_method!r}: choose 'exact' or 'linearised'.")
        if not (isinstance(self.ir_tol, (int, float)) and 0.0 < self.ir_tol < 1.0):
            raise ParameterError(
                f"ReadConfig.ir_tol = {self.ir_tol!r}: give a relative RMS error bound in (0, 1), e.g. 0.005 for 0.5 %."
            )
        for name, low in (("ir_max_iter", 1), ("ir_refresh_every", 0)):
            value = getattr(self, name)
            integral = isinstance(value, (int, float, np.integer)) and not isinstance(value, bool) \
                and bool(np.isfinite(value)) and int(value) == value
            if not integral or value < low:
                raise ParameterError(f"ReadConfig.{name} = {value!r}: give an integer >= {low}.")

    @property
    def has_drift(self) -> bool:
        return self.drift_nu != 0.0 or self.drift_nu_d2d != 0.0

    @property
    def has_g_noise(self) -> bool:
        return self.g_noise_rel > 0.0 or self.g_noise_abs_s > 0.0


@dataclass(frozen=True)
class PCMReadNandakumar2018(ReadConfig):
    """PCM read non-idealities of Nandakumar et al. (arXiv 1712.01192), from the PCM device's card
    (``memspice.devices.pcm``): read noise sigma = read_noise_slope G + read_noise_offset_s, drift nu."""

    g_noise_rel: float = PCM_DEFAULTS["read_noise_slope"]
    g_noise_abs_s: float = PCM_DEFAULTS["read_noise_offset_s"]
    drift_nu: float = PCM_DEFAULTS["drift_nu"]


def quantise(values: np.ndarray, bits: int, value_range: tuple[float, float], out_of_range: str, what: str) -> np.ndarray:
    """Round to the 2^bits uniform levels low + k (high - low)/(2^bits - 1), k = 0 .. 2^bits - 1.

    Values outside [low, high] raise ParameterError (out_of_range="error") or
    warn and saturate (out_of_range="warn"); they are never clipped silently.
    """
    low, high = float(value_range[0]), float(value_range[1])
    n_steps = 2**int(bits) - 1
    outside = (values < low) | (values > high)
    if np.any(outside):
        count = int(np.count_nonzero(outside))
        worst = float(values[outside].flat[np.argmax(np.abs(values[outside]))])
        msg = (
            f"{count} {what} value(s) outside the {bits}-bit converter range [{low:g}, {high:g}] "
            f"(e.g. {worst:g}); widen ReadConfig.{'dac' if what == 'DAC input' else 'adc'}_range or scale the signal"
        )
        if out_of_range == "error":
            raise ParameterError(msg + ".")
        warnings.warn(msg + "; saturated at the range.", QuantisationRangeWarning, stacklevel=4)
        values = np.clip(values, low, high)
    step = (high - low) / n_steps
    return low + np.rint((values - low) / step) * step


def drift_factor(elapsed_s: np.ndarray, nu: np.ndarray | float, t0_s: float) -> np.ndarray:
    """(t/t0)^(-nu) for elapsed time t >= t0 since programming, 1 before (power-law PCM drift)."""
    ratio = np.maximum(np.asarray(elapsed_s, dtype=np.float64) / t0_s, 1.0)
    return np.exp(-np.asarray(nu) * np.log(ratio))
