"""Tabulated pulse-update model: dG per pulse as a table over G, from any compact model.

``tabulate_compact_model`` integrates one programming pulse of a
``memspice.devices`` compact model from many starting states at once (the
model's own numpy integrator, vectorised over devices), and records the
conductance before and after. The resulting ``Tabulated`` model interpolates
dG(G) linearly and applies it pulse by pulse, so a device such as VTEAM under
given pulses gets a surrogate without hand-fitting. This is exact for a
deterministic one-state-variable device whose conductance is monotone in its
state (the state after a pulse is a function of the state before), up to the
interpolation error of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from memspice.errors import ParameterError
from memspice.surrogate.pulse_base import PulseModel

__all__ = ["Tabulated", "tabulate_compact_model", "single_pulse_waveform"]


@dataclass(frozen=True)
class Tabulated(PulseModel):
    """Mean step of one pulse interpolated from a table over conductance.

        dG_up(G)   = interp(G_nom, g_table_s, dg_up_table_s)
        dG_down(G) = interp(G_nom, g_table_s, dg_down_table_s)

    where G_nom = g_min_s + u (g_max_s - g_min_s) maps a device with its own
    drawn bounds onto the nominal table, and the step is scaled by the
    device's range relative to the nominal one.
    """

    g_table_s: tuple[float, ...] = (1.0e-6, 11.0e-6)
    """Conductance grid of the table (S), increasing, spanning [g_min_s, g_max_s]."""
    dg_up_table_s: tuple[float, ...] = (10.0e-9, 0.0)
    """Mean conductance change of one potentiation pulse at each grid point (S, >= 0)."""
    dg_down_table_s: tuple[float, ...] = (0.0, -10.0e-9)
    """Mean conductance change of one depression pulse at each grid point (S, <= 0)."""
    source: str = ""
    """What the table was made from (model name, pulse amplitudes and width)."""

    citation: ClassVar[str] = "tabulated from a memspice.devices compact model"

    def __post_init__(self) -> None:
        super().__post_init__()
        g = np.asarray(self.g_table_s, dtype=float)
        up = np.asarray(self.dg_up_table_s, dtype=float)
        dn = np.asarray(self.dg_down_table_s, dtype=float)
        if g.ndim != 1 or g.size < 2 or up.shape != g.shape or dn.shape != g.shape:
            raise ParameterError(
                f"Tabulated: g_table_s, dg_up_table_s, dg_down_table_s must be 1-D of one length >= 2 "
                f"(got {g.shape}, {up.shape}, {dn.shape})."
            )
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(up)) and np.all(np.isfinite(dn))):
            raise ParameterError("Tabulated: table entries must be finite.")
        if np.any(np.diff(g) <= 0):
            raise ParameterError("Tabulated.g_table_s must be strictly increasing.")
        if np.any(up < 0) or np.any(dn > 0):
            raise ParameterError(
                "Tabulated: dg_up_table_s must be >= 0 and dg_down_table_s <= 0 "
                "(swap the pulse polarities if the device moves the other way)."
            )

    def mean_step_s(self, u, up, lo_s, range_s):
        g_nom = self.g_min_s + np.asarray(u) * self.g_range_s
        scale = np.asarray(range_s) / self.g_range_s
        s_up = np.interp(g_nom, self.g_table_s, self.dg_up_table_s)
        s_dn = np.interp(g_nom, self.g_table_s, self.dg_down_table_s)
        return np.where(up, s_up, s_dn) * scale


def single_pulse_waveform(amplitude_v: float, width_s: float, rise_s: float, fall_s: float, points_per_edge: int = 10, points_flat: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """A trapezoidal pulse (t_s, v) from 0 V: rise, flat top of ``width_s``, fall.

    The time grid has ``points_per_edge`` steps on each edge and
    ``points_flat`` on the top (bounded steps, so the integrator resolves the
    threshold crossings on the edges).
    """
    if not (width_s > 0 and rise_s > 0 and fall_s > 0):
        raise ParameterError(
            f"pulse needs width_s, rise_s, fall_s > 0 (got {width_s!r}, {rise_s!r}, {fall_s!r})."
        )
    t_rise = np.linspace(0.0, rise_s, points_per_edge + 1)
    t_flat = rise_s + np.linspace(0.0, width_s, points_flat + 1)[1:]
    t_fall = rise_s + width_s + np.linspace(0.0, fall_s, points_per_edge + 1)[1:]
    t = np.concatenate([t_rise, t_flat, t_fall])
    v = np.concatenate(
        [amplitude_v * t_rise / rise_s, np.full(t_flat.shape, amplitude_v), amplitude_v * (1.0 - (t_fall - rise_s - width_s) / fall_s)]
    )
    return t, v


def tabulate_compact_model(
    model: Any,
    amplitude_up_v: float,
    amplitude_down_v: float,
    width_s: float,
    *,
    rise_s: float | None = None,
    fall_s: float | None = None,
    n_points: int = 201,
    v_read_v: float | None = None,
    points_per_edge: int = 10,
    points_flat: int = 200,
    **pulse_model_fields: Any,
) -> Tabulated:
    """Build a Tabulated model from a compact model by integrating one pulse from ``n_points`` states.

    ``model`` is a memspice.devices CompactModel (needs x_min, x_max,
    integrate(t_s, v_t, x0) and conductance(x, v_read)). ``amplitude_up_v`` is
    the pulse that raises the conductance (its sign depends on the device's
    polarity convention: negative for VTEAM, whose positive pulses switch it
    off); ``amplitude_down_v`` the one that lowers it. Edges default to
    width/10. The table spans the conductances of the state bounds; the
    device-to-device and cycle-to-cycle fields of PulseModel can be given as
    keywords (they default to none, like the deterministic compact model).
    """
    for name in ("x_min", "x_max", "integrate", "conductance"):
        if not hasattr(model, name):
            raise ParameterError(f"tabulate_compact_model: {model!r} has no '{name}'; give a memspice.devices CompactModel.")
    if not n_points >= 3:
        raise ParameterError(f"tabulate_compact_model(n_points={n_points!r}): need at least 3 points.")
    rise = width_s / 10.0 if rise_s is None else rise_s
    fall = width_s / 10.0 if fall_s is None else fall_s
    x0 = np.linspace(model.x_min, model.x_max, n_points)
    g_of = (lambda x: np.asarray(model.conductance(x))) if v_read_v is None else (lambda x: np.asarray(model.conductance(x, v_read_v)))
    g0 = g_of(x0)
    steps = {}
    for label, amp in (("up", amplitude_up_v), ("down", amplitude_down_v)):
        t, v = single_pulse_waveform(amp, width_s, rise, fall, points_per_edge, points_flat)
        xs = np.asarray(model.integrate(t, v, x0))
        x1 = xs[-1]
        steps[label] = g_of(np.clip(x1, model.x_min, model.x_max)) - g0
    order = np.argsort(g0)
    g_sorted = g0[order]
    if np.any(np.diff(g_sorted) <= 0):
        raise ParameterError(
            f"tabulate_compact_model: the conductance of {getattr(model, 'name', model)!r} is not strictly "
            "monotone in its state; a one-dimensional table cannot represent it."
        )
    up = steps["up"][order]
    dn = steps["down"][order]
    tol = 1e-9 * (g_sorted[-1] - g_sorted[0])
    if np.mean(up) < -tol or np.mean(dn) > tol:
        raise ParameterError(
            f"tabulate_compact_model: the 'up' pulse ({amplitude_up_v:g} V) lowers the conductance of "
            f"{getattr(model, 'name', model)!r} on average (or 'down' raises it); swap the amplitudes."
        )
    # rounding of the integrator at the bounds may give a few 1e-20 S of the
    # wrong sign; anything larger is a real non-monotone step and is refused
    bad_up = up < -tol
    bad_dn = dn > tol
    if np.any(bad_up) or np.any(bad_dn):
        raise ParameterError(
            f"tabulate_compact_model: the pulses move {getattr(model, 'name', model)!r} both ways depending on "
            f"the state ({int(bad_up.sum())} up / {int(bad_dn.sum())} down points of the wrong sign)."
        )
    up = np.maximum(up, 0.0)
    dn = np.minimum(dn, 0.0)
    src = (
        f"{getattr(model, 'name', type(model).__name__)}: up {amplitude_up_v:g} V, down {amplitude_down_v:g} V, "
        f"width {width_s:g} s, edges {rise:g}/{fall:g} s"
    )
    fields = dict(g_min_s=float(g_sorted[0]), g_max_s=float(g_sorted[-1]))
    fields.update(pulse_model_fields)
    return Tabulated(
        g_table_s=tuple(float(v) for v in g_sorted),
        dg_up_table_s=tuple(float(v) for v in up),
        dg_down_table_s=tuple(float(v) for v in dn),
        source=src,
        **fields,
    )
