"""The n-pulse update of a pulse model (``apply_pulse_counts``): closed form for affine families, or per pulse.

Two ways to apply |n| pulses of sign(n) to a device:

* ``"closed_form"`` for the *affine* families (ConstantStep, LinearStep,
  SoftBounds, PCMStatistical), whose mean step is affine in G and whose
  per-pulse noise standard deviation is affine in G. The n-pulse update is
  then a linear stochastic recursion whose mean and variance after n pulses
  have closed forms (geometric sums, see ``_affine_moments``); the result is
  drawn as one Gaussian with exactly those two moments and the hard bounds are
  applied once at the end. Exact for noise-free devices (the map is monotone,
  so clipping once equals clipping after every pulse); with noise the first two
  moments are exact away from the bounds and the shape is approximated by a
  Gaussian, and a path that touches a bound and comes back is not modelled.
  Cost: a fixed number of vectorised operations, independent of n.
* ``"per_pulse"``: every pulse drawn and clipped in turn, vectorised over the
  cells that still have pulses left (cost proportional to the total number of
  pulses, not to cells x max count). The reference, and the only way for the
  non-affine families (ExpStep, PowerStep, Tabulated).

``apply_pulse_counts`` here is the float64 reference of both; the tile runs the
closed form through ``memspice.surrogate.fast_update`` (same moments,
per-device constants precomputed, float32 increments, Box-Muller draws), and
tests hold the two against each other.
"""

from __future__ import annotations

import numpy as np

from memspice.errors import MemspiceError, ParameterError
from memspice.surrogate.pulse_base import DeviceDraws, PulseModel

__all__ = ["apply_pulse_counts"]


def apply_pulse_counts(
    model: PulseModel,
    g_s: np.ndarray,
    n: np.ndarray,
    draws: DeviceDraws,
    rng: np.random.Generator,
    engine: str = "auto",
) -> np.ndarray:
    """Conductances after |n| pulses of sign(n) on each device (1-D arrays of one length).

    ``draws`` holds the device-to-device parameters of exactly these devices.
    ``engine``: "auto" (closed form for affine models, else per pulse),
    "closed_form" or "per_pulse" (see the module docstring). Cells with n = 0
    must not be passed (the caller gathers the pulsed cells).
    """
    if engine == "auto":
        engine = "closed_form" if model.affine else "per_pulse"
    if engine not in ("closed_form", "per_pulse"):
        raise ParameterError(f"engine = {engine!r}: choose 'auto', 'closed_form' or 'per_pulse'.")
    if engine == "closed_form" and not model.affine:
        raise ParameterError(f"engine 'closed_form' needs an affine model; {type(model).__name__} is not.")
    up = n > 0
    if not model.bidirectional and not np.all(up):
        raise ParameterError(
            f"{type(model).__name__} cannot take depression pulses (no gradual RESET); "
            "use TileConfig(pair_scheme='unipolar')."
        )
    k = np.abs(n)
    lo = draws.lo_s
    rng_s = draws.range_s
    live = rng_s > 0.0
    rsafe = np.where(live, rng_s, 1.0)
    u0 = (g_s - lo) / rsafe
    f = np.where(up, draws.f_up, draws.f_down)
    if engine == "closed_form":
        u = _closed_form(model, u0, k, up, f, lo, rsafe, rng)
    else:
        u = _per_pulse(model, u0, k, up, f, lo, rsafe, rng)
    # the hard bounds of each device are physical limits (a conductance
    # cannot pass its own G_max); a stuck device does not move at all
    u = np.clip(u, 0.0, 1.0)
    return np.where(live, lo + u * rsafe, g_s)


def _closed_form(model, u0, k, up, f, lo, r, rng):
    a_s, b_s, c0_s, c1_s = model.affine_coeffs_s(up, lo, r)
    alpha = f * a_s / r
    beta = f * b_s / r
    s0 = (model.c2c_rel * f * a_s + c0_s) / r
    s1 = (model.c2c_rel * f * b_s + c1_s) / r
    sa = model.c2c_abs_s / r
    mean, var = _affine_moments(u0, k, alpha, beta, s0, s1, sa)
    if model.c2c_rel == 0.0 and model.c2c_abs_s == 0.0 and not np.any(c0_s) and not np.any(c1_s):
        return mean
    return mean + np.sqrt(np.maximum(var, 0.0)) * rng.standard_normal(mean.shape)


def _affine_moments(u0, k, alpha, beta, s0, s1, sa):
    """Mean and variance of u_k for u_{j+1} = u_j + alpha + beta u_j + (s0 + s1 u_j) xi_j + sa xi'_j.

    With r = 1 + beta and rho = r^2 + s1^2 (xi, xi' independent standard normals):
        m_k = r^k u0 + alpha sum_{j<k} r^j
        V_k = sum_{j<k} rho^(k-1-j) [(s0 + s1 m_j)^2 + sa^2]
    and, writing s0 + s1 m_j = A + B r^j about the fixed point u* = -alpha/beta,
        V_k = (A^2 + sa^2) S(rho, k) + 2 A B H(rho, r, k) + B^2 H(rho, r^2, k)
    with S the geometric sum and H(p, q, k) = sum_j p^(k-1-j) q^j = q^(k-1) S(p/q, k).
    Sums are evaluated through log1p/expm1 so that rho -> r (tiny noise) and
    r -> 1 (tiny slope) stay accurate.
    """
    k = k.astype(np.float64)
    if np.any((beta == 0.0) & (s1 != 0.0)):
        raise MemspiceError("affine update with zero slope and state-dependent noise is not supported")
    if np.any(beta <= -1.0):
        raise ParameterError("a pulse step overshoots the device's whole range (slope <= -1 per pulse)")
    r = 1.0 + beta
    mean = np.exp(k * np.log1p(beta)) * u0 + alpha * _geom(beta, k)
    nz = beta != 0.0
    ustar = np.where(nz, -alpha / np.where(nz, beta, 1.0), 0.0)
    A = s0 + s1 * ustar
    B = np.where(nz, s1 * (u0 - ustar), 0.0)
    e_rho = 2.0 * beta + beta * beta + s1 * s1           # rho - 1
    log_r = np.log1p(beta)
    var = (A * A + sa * sa) * _geom(e_rho, k)
    var += 2.0 * A * B * np.exp((k - 1.0) * log_r) * _geom(beta + s1 * s1 / r, k)
    var += B * B * np.exp(2.0 * (k - 1.0) * log_r) * _geom(s1 * s1 / (r * r), k)
    return mean, var


def _geom(e, k):
    """sum_{j=0}^{k-1} (1 + e)^j, accurate for e -> 0."""
    e = np.asarray(e, dtype=np.float64)
    small = np.abs(e) < 1e-300
    esafe = np.where(small, 1.0, e)
    t = np.log1p(esafe)
    return np.where(small, k, np.expm1(k * t) / esafe)


def _per_pulse(model, u0, k, up, f, lo, r, rng):
    u = np.array(u0, dtype=np.float64, copy=True)
    idx = np.flatnonzero(k > 0)
    remaining = k.copy()
    noisy_model = model.c2c_rel > 0.0 or model.c2c_abs_s > 0.0
    while idx.size:
        ui, upi, li, ri = u[idx], up[idx], lo[idx], r[idx]
        step = f[idx] * model.mean_step_s(ui, upi, li, ri)
        extra = model.extra_noise_std_s(ui, upi, li, ri)
        if noisy_model or np.any(extra):
            # same noise structure as the closed form: the relative part and the
            # state-dependent part add in amplitude (one source each pulse), the
            # additive write noise is independent of them
            std_corr = model.c2c_rel * np.abs(step) + extra
            std = np.sqrt(std_corr * std_corr + model.c2c_abs_s**2)
            step = step + std * rng.standard_normal(idx.size)
        # each pulse stops at the device's bounds
        u[idx] = np.clip(ui + step / ri, 0.0, 1.0)
        remaining[idx] -= 1
        idx = idx[remaining[idx] > 0]
    return u
