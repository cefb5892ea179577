"""Sine-driven I-V loops (pinched hysteresis) of one device and their enclosed area, in numpy or ngspice."""

from __future__ import annotations

import numpy as np

from memspice.cell.testbench import drive
from memspice.devices.pulses import DriveResult
from memspice.errors import ParameterError
from memspice.spice import RunSettings

__all__ = ["loop_area", "sine_drive"]


def sine_drive(model, amplitude_v: float, frequency_hz: float, *, x0: float | None = None, n_cycles: int = 1,
               points_per_cycle: int = 400, simulator: str = "numpy",
               settings: RunSettings | None = None) -> DriveResult:
    """v(t) = amplitude sin(2 pi f t) for ``n_cycles`` periods, as a PWL with ``points_per_cycle`` points.

    Both simulators get the same piecewise-linear waveform; ngspice's step is
    bounded to a fifth of one PWL segment; ``settings``: how ngspice runs
    (default :class:`~memspice.spice.RunSettings()`).
    """
    if not (frequency_hz > 0 and np.isfinite(frequency_hz)):
        raise ParameterError(f"frequency_hz must be positive, got {frequency_hz!r}")
    if n_cycles < 1 or points_per_cycle < 8:
        raise ParameterError("need n_cycles >= 1 and points_per_cycle >= 8")
    x0 = model.x0_default if x0 is None else x0
    n = int(n_cycles * points_per_cycle)
    t = np.arange(n + 1) / (points_per_cycle * frequency_hz)
    v = amplitude_v * np.sin(2 * np.pi * frequency_hz * t)
    v[-1] = 0.0
    return drive(model, t, v, x0, simulator=simulator, settings=settings)


def loop_area(result: DriveResult) -> float:
    """Enclosed area of the I-V loop (W = V*A): the sum over lobes of |closed integral of i dv|.

    The trace is split where v changes sign; each half-cycle starts and ends at
    (0 V, 0 A) on a pinched loop, so it is a closed lobe whose area is
    |sum i dv|. (The two lobes of a pinched loop are traversed in opposite
    senses, so the plain closed integral over a full period would cancel.)
    A resistor encloses no area; a memristive loop encloses an area that
    shrinks as the drive frequency rises.
    """
    v, i = np.asarray(result.v_v, float), np.asarray(result.i_a, float)
    piece = 0.5 * (i[1:] + i[:-1]) * np.diff(v)
    sign = np.sign(0.5 * (v[1:] + v[:-1]))
    area = 0.0
    for s in (-1.0, 1.0):
        # consecutive runs of one sign are separate lobes
        mask = sign == s
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            area += abs(float(np.sum(piece[a:b])))
    return area
