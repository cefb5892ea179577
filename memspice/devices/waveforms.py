"""Stimulus waveforms for one device, as piecewise-linear (t, v) breakpoints and ngspice text.

The same breakpoints drive the numpy integrator (which interpolates linearly
between them) and the ngspice PWL source, so both engines see one waveform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.errors import ParameterError


@dataclass(frozen=True)
class PulseTrain:
    """N trapezoidal pulses, one after the other.

    Pulse k starts at ``k * period_s``: it rises in ``rise_s`` from 0 to
    ``amplitudes_v[k]``, stays there for ``width_s`` (the flat top), falls in
    ``fall_s`` back to 0 and rests at 0 V for ``gap_s`` before the next pulse.
    ``sample_times_s[k]`` is the end of pulse k's period (after its rest), where
    the state after the pulse is read.
    """

    amplitudes_v: np.ndarray
    width_s: float
    rise_s: float
    fall_s: float
    gap_s: float

    @property
    def n_pulses(self) -> int:
        return int(self.amplitudes_v.size)

    @property
    def period_s(self) -> float:
        return self.rise_s + self.width_s + self.fall_s + self.gap_s

    @property
    def duration_s(self) -> float:
        return self.n_pulses * self.period_s

    @property
    def sample_times_s(self) -> np.ndarray:
        return (np.arange(self.n_pulses) + 1) * self.period_s

    def breakpoints(self) -> tuple[np.ndarray, np.ndarray]:
        """(t_s, v_v) corners of the piecewise-linear waveform, starting at t = 0, v = 0."""
        starts = np.arange(self.n_pulses) * self.period_s
        corners = np.array([0.0, self.rise_s, self.rise_s + self.width_s, self.rise_s + self.width_s + self.fall_s])
        t = (starts[:, None] + corners[None, :]).ravel()
        v = np.stack([np.zeros(self.n_pulses), self.amplitudes_v, self.amplitudes_v, np.zeros(self.n_pulses)], axis=1).ravel()
        t = np.append(t, self.duration_s)
        v = np.append(v, 0.0)
        keep = np.concatenate([[True], np.diff(t) > 0])  # zero gap: drop the repeated corner
        return t[keep], v[keep]


def pulse_train(n_pulses: int, amplitude_v, width_s: float, *, rise_s: float | None = None,
                fall_s: float | None = None, gap_s: float | None = None) -> PulseTrain:
    """A :class:`PulseTrain`; ``amplitude_v`` is one value or one per pulse.

    Defaults: rise and fall ``width_s/10``, rest ``width_s``.
    """
    if int(n_pulses) != n_pulses or n_pulses < 1:
        raise ParameterError(f"n_pulses must be a positive integer, got {n_pulses!r}")
    n_pulses = int(n_pulses)
    amps = np.broadcast_to(np.asarray(amplitude_v, dtype=float), (n_pulses,)).copy() if np.ndim(amplitude_v) == 0 \
        else np.asarray(amplitude_v, dtype=float)
    if amps.shape != (n_pulses,):
        raise ParameterError(f"amplitude_v must be one value or {n_pulses} values (one per pulse), got shape {amps.shape}")
    if not np.all(np.isfinite(amps)):
        raise ParameterError("amplitude_v must be finite")
    width_s = _positive("width_s", width_s)
    rise_s = _positive("rise_s", width_s / 10 if rise_s is None else rise_s)
    fall_s = _positive("fall_s", width_s / 10 if fall_s is None else fall_s)
    gap_s = width_s if gap_s is None else float(gap_s)
    if not gap_s >= 0:
        raise ParameterError(f"gap_s must be >= 0 s, got {gap_s!r}")
    return PulseTrain(amps, width_s, rise_s, fall_s, gap_s)


def _positive(name: str, value) -> float:
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"{name} must be a positive time in seconds, got {value!r}")
    return value


def pwl_source(name: str, node_p: str, node_n: str, t_s: np.ndarray, v_v: np.ndarray, per_line: int = 4) -> str:
    """An ngspice PWL voltage source over the breakpoints, split on continuation lines."""
    pairs = [f"{float(t)!r} {float(v)!r}" for t, v in zip(np.asarray(t_s, float), np.asarray(v_v, float))]
    lines = [f"{name} {node_p} {node_n} PWL("]
    for k in range(0, len(pairs), per_line):
        lines.append("+ " + " ".join(pairs[k:k + per_line]))
    lines.append("+ )")
    return "\n".join(lines)
