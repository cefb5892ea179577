"""numpy rendering of a model definition: vectorised i(v, x), dx/dt and an integrator.

The functions are made by ``sympy.lambdify`` from the same expressions the
ngspice and Verilog-A printers use, with the parameter values substituted.

Integrator (``integrate_states``): exponential Rosenbrock-Euler,

    x_{k+1} = x_k + h * phi1(h J) * f(v_mid, x_k),   phi1(z) = (e^z - 1)/z,
    J = d f / d x (symbolic derivative of the same expression),

with the voltage taken at the middle of each sub-step (the waveform is
piecewise linear between the given samples). Where the voltage ramps inside a
segment (pulse edges, sine samples) f is averaged over the sub-step with
Simpson's rule and the sub-step shortened until that average and the midpoint
value agree to 2 % of ``max_dx`` (a threshold crossed on an edge, where f has a
kink in v, is resolved this way). The method is exact for a
linear decay, so the stiff approach to a bound (window or guard ~ linear in
the distance to it, with rates up to 1e13 /s) neither oscillates nor crosses
the bound; accuracy elsewhere is kept by limiting every sub-step to move no
device's state by more than ``max_dx`` (a fraction of the state range). The
same step is used for every device of an array (vectorised), and grows again
(x2 per step) after a quiet stretch. A sub-step that would carry a state past
a bound (which the exact solution never does: the windows/guards vanish
there) is retried shorter, so the states stay inside [x_min, x_max] to 1e-9 of
the range without any clipping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from memspice.devices.expressions import NUMPY_FUNCTIONS, V, X
from memspice.errors import MemspiceError, ParameterError


@dataclass(frozen=True)
class NumpyFunctions:
    """Vectorised f(v, x) callables; each broadcasts its two arguments."""

    current: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dxdt: Callable[[np.ndarray, np.ndarray], np.ndarray]
    jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _vectorised(expr: sp.Expr) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    raw = sp.lambdify((V, X), expr, modules=[NUMPY_FUNCTIONS, "numpy"], cse=True)

    def fn(v, x):
        v = np.asarray(v, dtype=float)
        x = np.asarray(x, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            out = raw(v, x)
        shape = np.broadcast_shapes(v.shape, x.shape)
        return np.array(np.broadcast_to(out, shape), dtype=float)

    return fn


def compile_numpy(current: sp.Expr, dxdt: sp.Expr) -> NumpyFunctions:
    """lambdify the (parameter-substituted) current and state derivative, and dx/dt's x-derivative."""
    return NumpyFunctions(
        current=_vectorised(current),
        dxdt=_vectorised(dxdt),
        jacobian=_vectorised(sp.diff(dxdt, X)),
    )


def _phi1(z: np.ndarray) -> np.ndarray:
    """(e^z - 1)/z, with its limit 1 + z/2 near zero."""
    small = np.abs(z) < 1e-6
    safe = np.where(small, 1.0, z)
    with np.errstate(over="ignore"):
        return np.where(small, 1.0 + z / 2.0, np.expm1(safe) / safe)


def integrate_states(
    fns: NumpyFunctions,
    t_s,
    v_t,
    x0,
    *,
    x_range: float,
    max_dx: float = 2e-3,
    bounds: tuple[float, float] | None = None,
    model_name: str = "model",
) -> np.ndarray:
    """States along a piecewise-linear voltage waveform.

    ``t_s``: (T,) increasing times in s. ``v_t``: (T,) volts applied to every
    device, or (T, *x0.shape) one waveform per device. ``x0``: initial states
    (any shape, or a scalar). ``max_dx``: largest state change of any device in
    one internal sub-step, as a fraction of ``x_range`` (accuracy knob).
    ``bounds``: (x_min, x_max); a sub-step that would carry a state from inside
    to more than 1e-9 of the range outside them is retried shorter.
    Returns (T, *x0.shape); row 0 is x0.
    """
    t = np.asarray(t_s, dtype=float)
    x = np.array(x0, dtype=float)
    if t.ndim != 1 or t.size < 1:
        raise ParameterError(f"t_s must be a 1-D array of times, got shape {t.shape}")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise ParameterError("t_s must be strictly increasing; sort the samples or remove duplicate times")
    v = np.asarray(v_t, dtype=float)
    if v.shape == t.shape:
        v = v.reshape(t.shape + (1,) * x.ndim)
    elif v.shape != t.shape + x.shape:
        raise ParameterError(
            f"v_t must have shape {t.shape} (one waveform for all devices) or {t.shape + x.shape} "
            f"(one per device), got {v.shape}"
        )
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(x))):
        raise ParameterError("v_t and x0 must be finite (found NaN or inf)")
    step_limit = max_dx * x_range
    bound_tol = 1e-9 * x_range
    quadrature_tol = 0.02 * step_limit
    out = np.empty(t.shape + x.shape)
    out[0] = x
    h_try = None
    for k in range(t.size - 1):
        t0, t1 = t[k], t[k + 1]
        span = t1 - t0
        va, vb = v[k], v[k + 1]
        ramping = not np.array_equal(va, vb)
        tau = 0.0
        h = span if h_try is None else min(h_try, span)
        while tau < span:
            h = min(h, span - tau)
            v_mid = va + (vb - va) * ((tau + 0.5 * h) / span)
            f = fns.dxdt(v_mid, x)
            jac = fns.jacobian(v_mid, x)
            if ramping:
                # Voltage varies inside the step: average f over the step with Simpson's
                # rule (at the step's start state) and control the step by how far that
                # is from the midpoint value -- this resolves threshold crossings on a
                # pulse edge, where f has a kink in v.
                f_a = fns.dxdt(va + (vb - va) * (tau / span), x)
                f_b = fns.dxdt(va + (vb - va) * ((tau + h) / span), x)
                f_simpson = (f_a + 4.0 * f + f_b) / 6.0
                err = h * float(np.max(np.abs(f_simpson - f))) if f.size else 0.0
                if err > quadrature_tol and h > span * 1e-9:
                    h *= 0.25
                    continue
                f = f_simpson
            if not (np.all(np.isfinite(f)) and np.all(np.isfinite(jac))):
                bad = np.argwhere(~np.isfinite(f + jac))[0]
                raise MemspiceError(
                    f"{model_name}: dx/dt is not finite at t = {t0 + tau:.6g} s "
                    f"(v = {np.broadcast_to(v_mid, x.shape)[tuple(bad)]:.6g} V, x = {x[tuple(bad)]:.6g}); "
                    "the voltage is outside the range where the model's exponentials stay finite"
                )
            dx = h * _phi1(h * jac) * f
            biggest = float(np.max(np.abs(dx))) if dx.size else 0.0
            if biggest > step_limit and h > span * 1e-12:
                h *= max(0.1, 0.9 * step_limit / biggest)
                continue
            x_new = x + dx
            # The exact solution never crosses a bound (dx/dt vanishes there), but one
            # linearised step can land slightly beyond it; such a step is retried
            # shorter (step control, not clamping: no state is ever altered).
            if bounds is not None and h > span * 1e-12:
                inside = (x >= bounds[0] - bound_tol) & (x <= bounds[1] + bound_tol)
                crossed = inside & ((x_new < bounds[0] - bound_tol) | (x_new > bounds[1] + bound_tol))
                if np.any(crossed):
                    h *= 0.25
                    continue
            x = x_new
            tau += h
            h = 2.0 * h  # grow again after a step that was small enough
        h_try = h
        out[k + 1] = x
    return out
