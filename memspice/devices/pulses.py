"""A device's response as values: along a voltage waveform (DriveResult) and after each pulse (PulseResponse).

The test benches that produce them (numpy or a circuit simulator) are in
memspice.cell (``memspice.cell.drive``, ``memspice.cell.pulse_response``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.devices.waveforms import PulseTrain


@dataclass(frozen=True)
class DriveResult:
    """A device's response: ``t_s`` (T,), applied ``v_v`` (T,), state ``x`` (T,), current ``i_a`` (T,);
    ``simulator``: ``"numpy"`` or ``"ngspice"``."""

    t_s: np.ndarray
    v_v: np.ndarray
    x: np.ndarray
    i_a: np.ndarray
    simulator: str

    def state_at(self, times_s) -> np.ndarray:
        """State linearly interpolated at ``times_s``."""
        return np.interp(np.asarray(times_s, float), self.t_s, self.x)


@dataclass(frozen=True)
class PulseResponse:
    """Result of :func:`memspice.cell.pulse_response`.

    ``x`` (N,): state after each pulse (read at the end of the pulse's rest
    time); ``g_s`` (N,): chord conductance at the model's read voltage for
    those states; ``x0``: the state before the first pulse; ``train``: the
    stimulus; ``simulator``: ``"numpy"`` or ``"ngspice"``; ``trace``: the full
    waveform response (t, v, x, i).
    """

    model_name: str
    x0: float
    x: np.ndarray
    g_s: np.ndarray
    train: PulseTrain
    simulator: str
    trace: DriveResult | None = None

    @property
    def pulse_index(self) -> np.ndarray:
        return np.arange(1, self.x.size + 1)
