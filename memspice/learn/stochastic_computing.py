"""Stochastic computing with CBRAM bitstreams (Lammie et al., IEEE TCAS-II 2021, doi 10.1109/TCSII.2021.3065932): the rule-side encoding.

A number p in [0, 1] is a stream of L bits, each 1 with probability p. The
bits come from CBRAM cells: a write pulse of amplitude V and width t forms a
filament (sets the cell, bit = 1) with the Poisson switching probability
P(V, t) = 1 - exp(-t/tau(V)), tau(V) = tau0 exp(-V/V0), the law of the CBRAM
device (:class:`memspice.devices.cbram.PoissonSwitching`, constants from the
device's card), and the cell is reset after each bit. The encoder here picks
the amplitude (``encoding = "amplitude"``, width fixed) or the width
(``"width"``, amplitude fixed) that gives the wanted probability, rounded to
what the driver can produce (an amplitude DAC of ``amplitude_bits`` over
[v_min_v, v_max_v], or a width clock of ``width_step_s``) -- the rounding is
where the device-level encoding error comes from.

The product of two independent streams is their bitwise AND (one gate per
product), counted back by a counter: E[count/L] = p·q, Var = p·q(1 − p·q)/L.
Signs are handled outside the streams (an XOR of the sign bits). Signed
operands x in [−1, 1] are encoded as p = |x|·p_full, where p_full =
P(v_max_v) (or P at the longest width) is the most the driver can ask of a
cell; the decoder divides by p_full² (exactly 1 for the default cell, whose
p_full is 1 − 6.5e-7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.devices.cbram import CBRAM_DEFAULTS, PoissonSwitching
from memspice.errors import ParameterError

ENCODINGS = ("amplitude", "width")


@dataclass(frozen=True)
class CBRAMSwitching:
    """The CBRAM cell (its switching law) and the driver that encodes probabilities into pulses.

    Defaults: tau0 and V0 of the CBRAM device's card (the Ag/a-Si cell of Jo,
    Kim & Lu 2009, :data:`memspice.devices.cbram.CBRAM_DEFAULTS`); 1 µs
    pulses, amplitudes up to 4.5 V, which give set probabilities from 3.5e-5
    (2.5 V) over 0.022 (3.5 V) to 1 − 6.5e-7 (4.5 V).
    """

    tau0_s: float = CBRAM_DEFAULTS["tau0_s"]
    """τ0 (s): characteristic switching time extrapolated to V = 0."""
    v0_v: float = CBRAM_DEFAULTS["v0_v"]
    """V0 (V): voltage that shortens τ by a factor e."""
    encoding: str = "amplitude"
    """"amplitude" (width fixed at ``pulse_width_s``) or "width" (amplitude fixed at ``v_max_v``)."""
    pulse_width_s: float = 1.0e-6
    """Width t of each write pulse (s) with amplitude encoding; the longest width with width encoding."""
    v_min_v: float = 0.0
    """Lowest amplitude of the amplitude DAC (V)."""
    v_max_v: float = 4.5
    """Highest amplitude the driver gives (V); sets p_full with amplitude encoding."""
    amplitude_bits: int | None = None
    """Amplitude DAC resolution (bits over [v_min_v, v_max_v]); None = any amplitude."""
    width_step_s: float | None = None
    """Width encoding: pulse widths are multiples of this clock period (s); None = any width."""

    citation: ClassVar[str] = (
        "Lammie et al., IEEE TCAS-II (2021), doi 10.1109/TCSII.2021.3065932; switching law and τ0, V0: "
        "Jo, Kim & Lu, Nano Lett. 9(1):496 (2009)"
    )

    def __post_init__(self) -> None:
        for name in ("tau0_s", "v0_v", "pulse_width_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0.0):
                raise ParameterError(f"CBRAMSwitching.{name} = {value!r}: must be a positive finite number")
        if self.encoding not in ENCODINGS:
            raise ParameterError(f"CBRAMSwitching.encoding = {self.encoding!r}: choose one of {', '.join(ENCODINGS)}")
        if not (np.isfinite(self.v_max_v) and self.v_max_v > self.v_min_v):
            raise ParameterError(
                f"CBRAMSwitching.v_max_v = {self.v_max_v!r} must exceed v_min_v = {self.v_min_v!r} V"
            )
        if self.amplitude_bits is not None and (int(self.amplitude_bits) != self.amplitude_bits or self.amplitude_bits < 1):
            raise ParameterError(f"CBRAMSwitching.amplitude_bits = {self.amplitude_bits!r}: give an integer >= 1 or None")
        if self.width_step_s is not None and not (np.isfinite(self.width_step_s) and 0.0 < self.width_step_s <= self.pulse_width_s):
            raise ParameterError(
                f"CBRAMSwitching.width_step_s = {self.width_step_s!r}: give a clock period in (0, pulse_width_s] or None"
            )
        if self.p_full < 0.5:
            raise ParameterError(
                f"CBRAMSwitching: the strongest pulse ({self.v_max_v} V, {self.pulse_width_s} s) sets a cell with "
                f"probability {self.p_full:.3g} only; raise v_max_v or pulse_width_s so that it is near 1"
            )

    @property
    def law(self) -> PoissonSwitching:
        """The cell's switching law (the CBRAM device's, with this value's tau0 and V0)."""
        return PoissonSwitching(self.tau0_s, self.v0_v)

    def tau_s(self, v_v) -> np.ndarray:
        """Mean switching time τ(V) = τ0·exp(−V/V0) (s)."""
        return self.law.tau_s(v_v)

    def set_probability(self, v_v, width_s) -> np.ndarray:
        """P(V, t) = 1 − exp(−t/τ(V)): probability that one pulse sets a reset cell."""
        return self.law.switch_probability(v_v, width_s)

    @property
    def p_full(self) -> float:
        """Probability of the strongest pulse the driver gives (full scale of the encoding)."""
        return float(self.set_probability(self.v_max_v, self.pulse_width_s))

    def pulses_for(self, p) -> tuple[np.ndarray, np.ndarray]:
        """(amplitude V, width s) of the pulse the driver uses for target probabilities ``p`` in [0, p_full].

        Inverse of :meth:`set_probability`: τ = −t/ln(1 − p), then V = V0·ln(τ0/τ)
        (amplitude encoding) or t = −τ(V_max)·ln(1 − p) (width encoding), rounded
        to the driver's grid. p = 0 gives no pulse (width 0).
        """
        p = np.asarray(p, dtype=np.float64)
        if np.any(p < 0.0) or np.any(p > self.p_full * (1.0 + 1e-12)):
            raise ParameterError(
                f"pulses_for: probabilities must lie in [0, p_full = {self.p_full:.6g}]; got "
                f"[{float(p.min()):.6g}, {float(p.max()):.6g}] (scale operands by p_full first)"
            )
        on = p > 0.0
        neg_log = -np.log1p(-np.where(on, np.minimum(p, self.p_full), 0.5))  # −ln(1 − p) > 0
        if self.encoding == "amplitude":
            tau = self.pulse_width_s / neg_log
            v = self.law.voltage_for_tau_v(tau)
            if self.amplitude_bits is not None:
                lsb = (self.v_max_v - self.v_min_v) / (2**self.amplitude_bits - 1)
                v = self.v_min_v + np.rint((v - self.v_min_v) / lsb) * lsb
            v = np.clip(v, self.v_min_v, self.v_max_v)  # documented: the DAC's range; p <= p_full keeps v <= v_max
            width = np.where(on, self.pulse_width_s, 0.0)
            return np.where(on, v, 0.0), width
        width = self.tau_s(self.v_max_v) * neg_log
        if self.width_step_s is not None:
            width = np.rint(width / self.width_step_s) * self.width_step_s
        width = np.minimum(width, self.pulse_width_s)
        return np.full(p.shape, self.v_max_v), np.where(on, width, 0.0)

    def encoded_probability(self, p) -> np.ndarray:
        """The set probability the cell really has when the driver is asked for ``p`` (after rounding)."""
        v, width = self.pulses_for(p)
        return np.where(width > 0.0, self.set_probability(v, np.maximum(width, 1e-300)), 0.0)


def bitstreams(values: np.ndarray, length: int, switching: CBRAMSwitching, rng: np.random.Generator) -> np.ndarray:
    """Bitstreams (length, *values.shape) of bool for magnitudes ``values`` in [0, 1].

    Bit t of stream i is the outcome of one write pulse on a reset CBRAM cell
    with the pulse :meth:`CBRAMSwitching.pulses_for` picks for
    p = values_i·p_full. Whether a Poisson process with rate 1/τ fires within t
    is a Bernoulli draw with P(V, t), drawn here as one uniform per bit.
    """
    length = _check_length(length)
    values = np.asarray(values, dtype=np.float64)
    if np.any(values < 0.0) or np.any(values > 1.0):
        raise ParameterError(
            f"bitstreams: values must lie in [0, 1] (magnitudes; signs are separate); got "
            f"[{float(values.min()):.6g}, {float(values.max()):.6g}]"
        )
    p = switching.encoded_probability(values * switching.p_full)
    # float32 uniforms resolve probabilities to 2**-24 (6e-8), far finer than any
    # stream of practical length can show, at half the cost of float64.
    return rng.random((length,) + values.shape, dtype=np.float32) < p


def sc_multiply(
    x: np.ndarray, y: np.ndarray, length: int, switching: CBRAMSwitching, rng: np.random.Generator
) -> np.ndarray:
    """Stochastic products of signed operands x, y in [−1, 1] (same shape), elementwise.

    count(AND of the two streams)/L/p_full², with the sign sign(x)·sign(y)
    applied outside the streams. Unbiased when the driver has no rounding
    (amplitude_bits and width_step_s None); variance q(1 − q)/(L·p_full⁴) with
    q = |x·y|·p_full².
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ParameterError(f"sc_multiply: x has shape {x.shape}, y {y.shape}; give operands of one shape")
    for name, v in (("x", x), ("y", y)):
        if np.any(np.abs(v) > 1.0):
            raise ParameterError(f"sc_multiply: {name} must lie in [−1, 1]; largest |{name}| = {float(np.abs(v).max()):.6g}")
    a = bitstreams(np.abs(x), length, switching, rng)
    b = bitstreams(np.abs(y), length, switching, rng)
    count = np.count_nonzero(a & b, axis=0)
    return np.sign(x) * np.sign(y) * count / (length * switching.p_full**2)


def sc_outer_sum(
    x: np.ndarray, delta: np.ndarray, length: int, switching: CBRAMSwitching, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Stochastic estimate of Σ_b δ_b x_bᵀ (n_out, n_in) from rows x (B, n_in), delta (B, n_out).

    Each sample's vectors are scaled to [−1, 1] by their largest magnitude
    (m_x, m_δ: a digital shift), every element gets one CBRAM stream, and the
    product of element pair (j, i) is the AND count of their streams (one
    counter per weight), times sign and m_x·m_δ/(L·p_full²). The AND counts of
    all pairs are one matrix product of the 0/1 streams. Returns the estimate
    and the number of stream bits drawn (= CBRAM write pulses).
    """
    length = _check_length(length)
    batch = x.shape[0]
    m_x = np.abs(x).max(axis=1)
    m_d = np.abs(delta).max(axis=1)
    live = (m_x > 0.0) & (m_d > 0.0)
    if not np.any(live):
        return np.zeros((delta.shape[1], x.shape[1])), 0
    x, delta, m_x, m_d = x[live], delta[live], m_x[live], m_d[live]
    rows = bitstreams(np.abs(x) / m_x[:, None], length, switching, rng)  # (L, B, n_in)
    cols = bitstreams(np.abs(delta) / m_d[:, None], length, switching, rng)  # (L, B, n_out)
    # float32 in BLAS: the rows hold 0/±1 exactly, the columns 0/±m_x·m_δ to a
    # relative 6e-8, far below the stream noise (>= 1/sqrt(B·L) relative); 25x
    # faster than float64 here.
    signed_rows = np.where(rows, np.sign(x)[None].astype(np.float32), np.float32(0.0))
    scale = (m_x * m_d)[None, :, None]
    signed_cols = np.where(cols, (np.sign(delta)[None] * scale).astype(np.float32), np.float32(0.0))
    n_rows = length * x.shape[0]
    est = (signed_cols.reshape(n_rows, -1).T @ signed_rows.reshape(n_rows, -1)).astype(np.float64)
    n_bits = int(length * batch * (x.shape[1] + delta.shape[1]))
    return est / (length * switching.p_full**2), n_bits


def _check_length(length) -> int:
    if int(length) != length or length < 1:
        raise ParameterError(f"stream length = {length!r}; it must be a positive integer (e.g. 64)")
    return int(length)
