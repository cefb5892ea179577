"""Pulse response: N pulses on one device, state and conductance after each, in numpy or ngspice."""

from __future__ import annotations

import numpy as np

from memspice.cell.stochastic_spice import STOCHASTIC_MODELS, stochastic_pulse_response
from memspice.cell.testbench import drive
from memspice.devices.pulses import PulseResponse
from memspice.devices.waveforms import pulse_train
from memspice.spice import RunSettings

__all__ = ["PulseResponse", "pulse_response"]


def pulse_response(model, n_pulses: int, amplitude_v, width_s: float, *, rise_s: float | None = None,
                   fall_s: float | None = None, gap_s: float | None = None, x0: float | None = None,
                   simulator: str = "numpy", rng: np.random.Generator | None = None,
                   settings: RunSettings | None = None) -> PulseResponse:
    """Apply ``n_pulses`` pulses (``amplitude_v``: one value or one per pulse) to one device.

    Rise/fall default to ``width_s/10`` and the rest between pulses to
    ``width_s``; the ngspice time step is bounded to a fifth of the shorter
    edge. ``simulator``: ``"numpy"`` or ``"ngspice"``; ``settings``: how
    ngspice runs (default :class:`~memspice.spice.RunSettings()`). Stochastic
    models (``pcm``, ``cbram``) take their draws from ``rng`` (required for
    them; the same draws in both simulators, see
    :func:`memspice.cell.stochastic_spice.stochastic_pulse_response`);
    continuous models ignore it.
    """
    if isinstance(model, STOCHASTIC_MODELS):  # pulse-level models with drawn steps or thresholds
        return stochastic_pulse_response(model, n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s,
                                         gap_s=gap_s, x0=x0, simulator=simulator, rng=rng, settings=settings)
    train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
    x0 = model.x0_default if x0 is None else model.check_state(x0, "x0")
    t, v = train.breakpoints()
    max_step = min(train.rise_s, train.fall_s) / 5
    trace = drive(model, t, v, x0, simulator=simulator, max_step_s=max_step, settings=settings)
    x = trace.state_at(train.sample_times_s)
    return PulseResponse(model.name, x0, x, model.conductance(x), train, simulator, trace)
