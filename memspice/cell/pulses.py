"""Pulse response: N pulses on one device, state and conductance after each, in numpy or ngspice."""

from __future__ import annotations

import numpy as np

from memspice.cell.testbench import drive
from memspice.devices.pulses import PulseResponse
from memspice.devices.waveforms import pulse_train

__all__ = ["PulseResponse", "pulse_response"]


def pulse_response(model, n_pulses: int, amplitude_v, width_s: float, *, rise_s: float | None = None,
                   fall_s: float | None = None, gap_s: float | None = None, x0: float | None = None,
                   simulator: str = "numpy", rng: np.random.Generator | None = None,
                   backend: str = "subprocess", timeout_s: float = 300.0) -> PulseResponse:
    """Apply ``n_pulses`` pulses (``amplitude_v``: one value or one per pulse) to one device.

    Rise/fall default to ``width_s/10`` and the rest between pulses to
    ``width_s``; the ngspice time step is bounded to a fifth of the shorter
    edge. ``simulator``: ``"numpy"`` or ``"ngspice"``. Stochastic models
    (``pcm``, ``cbram``) take their draws from ``rng`` (required for them);
    continuous models ignore it.
    """
    if hasattr(model, "pulse_response"):  # stochastic pulse-level models implement their own
        return model.pulse_response(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s,
                                    x0=x0, engine=simulator, rng=rng, backend=backend, timeout_s=timeout_s)
    train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
    x0 = model.x0_default if x0 is None else model.check_state(x0, "x0")
    t, v = train.breakpoints()
    max_step = min(train.rise_s, train.fall_s) / 5
    trace = drive(model, t, v, x0, simulator=simulator, max_step_s=max_step, backend=backend, timeout_s=timeout_s)
    x = trace.state_at(train.sample_times_s)
    return PulseResponse(model.name, x0, x, model.conductance(x), train, simulator, trace)
