"""One device under a voltage waveform, in numpy or in ngspice: the test bench the other cell helpers share.

``drive(model, t_s, v_v, x0, simulator=...)`` returns the device's state and
current along the waveform (a :class:`memspice.devices.pulses.DriveResult`).
The ngspice simulator gets a deck (the model's subcircuit, a PWL source,
``.tran`` with the step bounded by ``max_step_s``, Gear integration and
reltol 1e-4 so the state is integrated as accurately as the numpy side) run by
:func:`memspice.spice.simulate`.
"""

from __future__ import annotations

import numpy as np

from memspice.devices.pulses import DriveResult
from memspice.devices.waveforms import pwl_source
from memspice.errors import ParameterError
from memspice.spice import RunSettings, settings_or_default, simulate

__all__ = ["SIMULATORS", "DriveResult", "drive", "drive_deck"]

#: Where one device is simulated: the model's own numpy integrator, or its subcircuit in ngspice.
SIMULATORS = ("numpy", "ngspice")


def drive_deck(model, t_s, v_v, x0: float, max_step_s: float, title: str = "memspice device drive",
               instance: str | None = None) -> str:
    """The ngspice deck for one device (instance ``Xdut p 0``) driven by a PWL waveform."""
    t_s = np.asarray(t_s, float)
    return "\n".join([
        title,
        model.spice_subckt().rstrip(),
        pwl_source("Vdrive", "p", "0", t_s, np.asarray(v_v, float)),
        instance or model.spice_instance("dut", "p", "0", x0=x0),
        ".options method=gear reltol=1e-4",
        f".tran {float(max_step_s)!r} {float(t_s[-1])!r} 0 {float(max_step_s)!r}",
        ".end",
        "",
    ])


def drive(model, t_s, v_v, x0: float, *, simulator: str = "numpy", max_step_s: float | None = None,
          points_per_segment: int = 1, settings: RunSettings | None = None,
          instance: str | None = None) -> DriveResult:
    """State and current of one device of ``model`` along the piecewise-linear (t_s, v_v) waveform.

    ``max_step_s`` bounds the ngspice time step (default: a fifth of the
    shortest segment between breakpoints, i.e. of the shortest pulse edge).
    The numpy simulator reports the state at the waveform's breakpoints, each
    segment split into ``points_per_segment`` (the integrator itself steps
    adaptively inside a segment, so this only sets the output resolution);
    ngspice returns its own time points. ``settings``: how ngspice runs
    (backend, time limit; default :class:`~memspice.spice.RunSettings()`; the
    deck is ngspice's whatever ``settings.engine`` says). ``instance``: the
    device's instance line in the ngspice deck (default: the model's own, at ``x0``).
    """
    t_s = np.asarray(t_s, float)
    v_v = np.asarray(v_v, float)
    x0 = model.check_state(x0, "x0")
    settings = settings_or_default(settings, engine="ngspice")  # the deck is ngspice's
    if simulator not in SIMULATORS:
        raise ParameterError(f"simulator must be one of {', '.join(SIMULATORS)}, got {simulator!r}")
    if max_step_s is None:
        max_step_s = float(np.min(np.diff(t_s))) / 5
    if simulator == "numpy":
        t_fine = _refine(t_s, int(points_per_segment))
        v_fine = np.interp(t_fine, t_s, v_v)
        x = model.integrate(t_fine, v_fine, np.asarray(x0))
        return DriveResult(t_fine, v_fine, x, model.current(v_fine, x), "numpy")
    deck = drive_deck(model, t_s, v_v, x0, max_step_s, instance=instance)
    res = simulate(deck, settings)
    x = res.v(f"xdut.{model.spice_state_node}")
    return DriveResult(res.time, res.v("p"), x, -res.i("vdrive"), "ngspice")


def _refine(t: np.ndarray, per_segment: int) -> np.ndarray:
    frac = np.arange(per_segment) / per_segment
    fine = (t[:-1, None] + np.diff(t)[:, None] * frac[None, :]).ravel()
    return np.append(fine, t[-1])
