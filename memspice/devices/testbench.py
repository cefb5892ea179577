"""One device under a voltage waveform, in numpy or in ngspice: the shared engine of the helpers.

``drive(model, t_s, v_v, x0, engine=...)`` returns the device's state and
current along the waveform. The ngspice engine writes a deck (the model's
subcircuit, a PWL source, ``.tran`` with the step bounded by ``max_step_s``,
Gear integration and reltol 1e-4 so the state is integrated as accurately as
the numpy side) and runs it with :func:`memspice.spice.simulate`.

(memspice.spice is a later stage of the data flow than devices; it is imported
inside the ngspice branch only, so ``import memspice.devices`` never loads it.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.devices.waveforms import pwl_source
from memspice.errors import ParameterError

ENGINES = ("numpy", "ngspice")


@dataclass(frozen=True)
class DriveResult:
    """A device's response: ``t_s`` (T,), applied ``v_v`` (T,), state ``x`` (T,), current ``i_a`` (T,)."""

    t_s: np.ndarray
    v_v: np.ndarray
    x: np.ndarray
    i_a: np.ndarray
    engine: str

    def state_at(self, times_s) -> np.ndarray:
        """State linearly interpolated at ``times_s``."""
        return np.interp(np.asarray(times_s, float), self.t_s, self.x)


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


def drive(model, t_s, v_v, x0: float, *, engine: str = "numpy", max_step_s: float | None = None,
          points_per_segment: int = 1, backend: str = "subprocess", timeout_s: float = 120.0,
          instance: str | None = None) -> DriveResult:
    """State and current of one device of ``model`` along the piecewise-linear (t_s, v_v) waveform.

    ``max_step_s`` bounds the ngspice time step (default: a fifth of the
    shortest segment between breakpoints, i.e. of the shortest pulse edge).
    The numpy engine reports the state at the waveform's breakpoints, each
    segment split into ``points_per_segment`` (the integrator itself steps
    adaptively inside a segment, so this only sets the output resolution); the
    ngspice engine returns ngspice's own time points.
    """
    t_s = np.asarray(t_s, float)
    v_v = np.asarray(v_v, float)
    x0 = model.check_state(x0, "x0")
    if engine not in ENGINES:
        raise ParameterError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if max_step_s is None:
        max_step_s = float(np.min(np.diff(t_s))) / 5
    if engine == "numpy":
        t_fine = _refine(t_s, int(points_per_segment))
        v_fine = np.interp(t_fine, t_s, v_v)
        x = model.integrate(t_fine, v_fine, np.asarray(x0))
        return DriveResult(t_fine, v_fine, x, model.current(v_fine, x), "numpy")
    from memspice.spice import simulate  # later stage; see the module docstring

    deck = drive_deck(model, t_s, v_v, x0, max_step_s, instance=instance)
    res = simulate(deck, backend=backend, timeout_s=timeout_s)
    x = res.v(f"xdut.{model.spice_state_node}")
    return DriveResult(res.time, res.v("p"), x, -res.i("vdrive"), "ngspice")


def _refine(t: np.ndarray, per_segment: int) -> np.ndarray:
    frac = np.arange(per_segment) / per_segment
    fine = (t[:-1, None] + np.diff(t)[:, None] * frac[None, :]).ravel()
    return np.append(fine, t[-1])
