"""Pulse responses of the stochastic devices (PCM, CBRAM) in ngspice, with the draws of the numpy run."""

from __future__ import annotations

import numpy as np

from memspice.devices.cbram import CbramModel
from memspice.devices.pcm import PcmModel
from memspice.devices.pulses import PulseResponse
from memspice.devices.spice_render import STATE_NODE
from memspice.devices.stochastic_params import require_rng
from memspice.cell.testbench import drive
from memspice.devices.waveforms import pulse_train, pwl_source
from memspice.errors import ParameterError
from memspice.spice import RunSettings, settings_or_default, simulate

__all__ = ["STOCHASTIC_MODELS", "stochastic_pulse_response", "pcm_pulse_response", "cbram_pulse_response"]

#: the device models whose pulse response draws from an ``rng`` (routed here by memspice.cell.pulse_response)
STOCHASTIC_MODELS = (PcmModel, CbramModel)


def stochastic_pulse_response(model, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None, gap_s=None,
                              x0=None, simulator="numpy", rng=None,
                              settings: RunSettings | None = None) -> PulseResponse:
    """``n_pulses`` pulses on one PCM or CBRAM device, in numpy (``simulator="numpy"``) or in ngspice.

    The arguments are those of :func:`memspice.cell.pulse_response` (``settings``: how ngspice runs, default
    :class:`~memspice.spice.RunSettings()`); the draws come from ``rng`` in the same order for both
    simulators, so a seeded numpy run and a seeded SPICE run see the same noise.
    """
    kwargs = dict(rise_s=rise_s, fall_s=fall_s, gap_s=gap_s, x0=x0, simulator=simulator, rng=rng,
                  settings=settings)
    if isinstance(model, PcmModel):
        return pcm_pulse_response(model, n_pulses, amplitude_v, width_s, **kwargs)
    if isinstance(model, CbramModel):
        return cbram_pulse_response(model, n_pulses, amplitude_v, width_s, **kwargs)
    raise ParameterError(f"stochastic_pulse_response takes a PcmModel or a CbramModel, got {type(model).__name__}")


def pcm_pulse_response(model: PcmModel, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None, gap_s=None,
                       x0=None, simulator="numpy", rng=None, settings: RunSettings | None = None) -> PulseResponse:
    """SET pulses on one PCM device; one standard-normal draw per pulse from ``rng``, used by both simulators."""
    settings = settings_or_default(settings, engine="ngspice")  # the deck is ngspice's
    train, g0, xi = model.pulse_draws(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s,
                                      x0=x0, rng=rng)
    if simulator == "numpy":
        x = model.pulse_states(train, g0, xi)
        return PulseResponse("pcm", g0, x, x.copy(), train, "numpy")
    if simulator != "ngspice":
        raise ParameterError(f"simulator must be 'numpy' or 'ngspice', got {simulator!r}")
    t, v = train.breakpoints()
    # xi steps to pulse k's draw during the rest before pulse k (v = 0, nothing moves then).
    t_xi = [0.0]
    v_xi = [float(xi[0])]
    for k in range(1, train.n_pulses):
        t_switch = k * train.period_s - 0.5 * train.gap_s if train.gap_s > 0 else k * train.period_s
        t_xi += [t_switch - 1e-3 * train.period_s, t_switch]
        v_xi += [float(xi[k - 1]), float(xi[k])]
    t_xi.append(train.duration_s)
    v_xi.append(float(xi[-1]))
    # the step is spread over the time the pulse is above v_set_min: flat top plus that part of the edges
    a = np.abs(train.amplitudes_v).max()
    frac = max(0.0, 1 - model.params["v_set_min_v"] / a) if a > 0 else 0.0
    effective_width = train.width_s + frac * (train.rise_s + train.fall_s)
    tmax = min(train.rise_s, train.fall_s) / 5
    deck = "\n".join([
        "memspice pcm pulse response",
        model.spice_pulse_subckt(effective_width).rstrip(),
        pwl_source("Vdrive", "p", "0", t, v),
        pwl_source("Vxi", "xi", "0", np.array(t_xi), np.array(v_xi)),
        f"Xdut p 0 xi {model.subckt_name}_pulse x0={g0!r}",
        ".options method=gear reltol=1e-5",
        f".tran {tmax!r} {float(t[-1])!r} 0 {tmax!r}",
        ".end", "",
    ])
    res = simulate(deck, settings)
    x = np.interp(train.sample_times_s, res.time, res.v(f"xdut.{STATE_NODE}"))
    return PulseResponse("pcm", g0, x, x.copy(), train, "ngspice")


def cbram_pulse_response(model: CbramModel, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None,
                         gap_s=None, x0=None, simulator="numpy", rng=None,
                         settings: RunSettings | None = None) -> PulseResponse:
    """State (0/1) after each pulse of one CBRAM device; in a simulator the instance carries one drawn
    SET and one drawn RESET threshold (from ``rng``), so it switches at most once per direction."""
    if simulator == "numpy":
        return model.pulse_response(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s,
                                    x0=x0, simulator="numpy", rng=rng)
    rng = require_rng(rng, "cbram pulse_response")
    train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
    x = model.x0_default if x0 is None else model.check_state(x0, "x0")
    t, v = train.breakpoints()
    e_set, e_reset = model.draw_thresholds(rng)
    trace = drive(model, t, v, x, simulator=simulator, max_step_s=min(train.rise_s, train.fall_s) / 5,
                  settings=settings,
                  instance=model.spice_instance("dut", "p", "0", x0=x, e_set=float(e_set), e_reset=float(e_reset)))
    xs = trace.state_at(train.sample_times_s)
    return PulseResponse("cbram", x, xs, model.conductance(xs), train, simulator, trace)
