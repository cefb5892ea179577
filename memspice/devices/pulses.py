"""Pulse response: N pulses on one device, state and conductance after each, in numpy or ngspice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.devices.testbench import DriveResult, drive
from memspice.devices.waveforms import PulseTrain, pulse_train


@dataclass(frozen=True)
class PulseResponse:
    """Result of :func:`pulse_response`.

    ``x`` (N,): state after each pulse (read at the end of the pulse's rest
    time); ``g_s`` (N,): chord conductance at the model's read voltage for
    those states; ``x0``: the state before the first pulse; ``train``: the
    stimulus; ``trace``: the full waveform response (t, v, x, i); ``engine``.
    """

    model_name: str
    x0: float
    x: np.ndarray
    g_s: np.ndarray
    train: PulseTrain
    engine: str
    trace: DriveResult | None = None

    @property
    def pulse_index(self) -> np.ndarray:
        return np.arange(1, self.x.size + 1)


def pulse_response(model, n_pulses: int, amplitude_v, width_s: float, *, rise_s: float | None = None,
                   fall_s: float | None = None, gap_s: float | None = None, x0: float | None = None,
                   engine: str = "numpy", rng: np.random.Generator | None = None,
                   backend: str = "subprocess", timeout_s: float = 300.0) -> PulseResponse:
    """Apply ``n_pulses`` pulses (``amplitude_v``: one value or one per pulse) to one device.

    Rise/fall default to ``width_s/10`` and the rest between pulses to
    ``width_s``; the ngspice time step is bounded to a fifth of the shorter
    edge. Stochastic models (``pcm``, ``cbram``) take their draws from ``rng``
    (required for them); continuous models ignore it.
    """
    if hasattr(model, "pulse_response"):  # stochastic pulse-level models implement their own
        return model.pulse_response(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s,
                                    x0=x0, engine=engine, rng=rng, backend=backend, timeout_s=timeout_s)
    train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
    x0 = model.x0_default if x0 is None else model.check_state(x0, "x0")
    t, v = train.breakpoints()
    max_step = min(train.rise_s, train.fall_s) / 5
    trace = drive(model, t, v, x0, engine=engine, max_step_s=max_step, backend=backend, timeout_s=timeout_s)
    x = trace.state_at(train.sample_times_s)
    return PulseResponse(model.name, x0, x, model.conductance(x), train, engine, trace)
