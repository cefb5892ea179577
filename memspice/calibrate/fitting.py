"""Generic bounded least-squares fit with parameter uncertainties and error figures.

``least_squares_fit(predict, y, specs)`` minimises sum(((y - predict(p)) / sigma)^2)
over the parameters named in ``specs`` (each with an initial value and
bounds) using scipy.optimize.least_squares (trust-region reflective, which
honours the bounds). Parameters are fitted in scaled coordinates
theta = p / scale so that a conductance of 1e-6 S and an exponent of 5 are
equally well conditioned.

Uncertainties: the covariance of the estimate is the usual linearised one,

    Cov(p) = s^2 (J^T J)^-1,   s^2 = sum(r^2) / (m - n)

(J the Jacobian of the weighted residuals at the optimum, m data points, n
parameters; e.g. Bates & Watts, *Nonlinear Regression Analysis*, 1988, eq.
2.27), computed through the singular value decomposition of J. A parameter
the data do not constrain (a singular value below 1e-9 of the largest
touches it) gets an infinite standard error instead of a meaningless number.
When ``sigma`` is given (known measurement noise) s^2 is taken as 1 only if
``absolute_sigma`` is True, as in scipy.optimize.curve_fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from memspice.errors import MemspiceError, ParameterError

__all__ = ["ParameterSpec", "FitResult", "least_squares_fit", "error_figures"]


@dataclass(frozen=True)
class ParameterSpec:
    """One fitted parameter: its name, starting value and bounds (in the parameter's own unit)."""

    name: str
    initial: float
    lower: float = -np.inf
    upper: float = np.inf
    scale: float | None = None
    """Typical magnitude used to scale the parameter inside the optimiser; None = |initial| (or 1)."""
    unit: str = ""
    """Unit shown in reports ("S", "1", ...)."""

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise ParameterError(f"fit parameter {self.name!r}: lower bound {self.lower!r} must be below upper {self.upper!r}.")
        if not (self.lower <= self.initial <= self.upper):
            raise ParameterError(
                f"fit parameter {self.name!r}: initial value {self.initial!r} is outside its bounds "
                f"[{self.lower!r}, {self.upper!r}]; give a start inside them."
            )

    @property
    def typical(self) -> float:
        if self.scale is not None:
            return float(self.scale)
        return float(abs(self.initial)) if self.initial != 0.0 else 1.0


@dataclass(frozen=True)
class FitResult:
    """Outcome of one least-squares fit. Arrays are in the parameters' own units."""

    names: tuple[str, ...]
    values: np.ndarray
    """Best-fit parameter values, shape (n,)."""
    stderr: np.ndarray
    """One standard error of each parameter (inf when the data do not constrain it), shape (n,)."""
    covariance: np.ndarray
    """Parameter covariance, shape (n, n)."""
    y: np.ndarray
    """The data fitted, shape (m,)."""
    y_fit: np.ndarray
    """The model at the best fit, shape (m,)."""
    rms_error: float
    """sqrt(mean((y - y_fit)^2)), in the unit of y."""
    max_error: float
    """max |y - y_fit|, in the unit of y."""
    r_squared: float
    """1 - SS_res / SS_tot."""
    dof: int
    """Degrees of freedom m - n."""
    success: bool
    message: str
    n_evaluations: int
    at_bound: tuple[str, ...]
    """Parameters that ended on one of their bounds (their error bars are not trustworthy)."""

    @property
    def residuals(self) -> np.ndarray:
        """y - y_fit."""
        return self.y - self.y_fit

    @property
    def params(self) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.names, self.values)}

    @property
    def errors(self) -> dict[str, float]:
        return {n: float(e) for n, e in zip(self.names, self.stderr)}

    def correlation(self) -> np.ndarray:
        d = np.sqrt(np.diag(self.covariance))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / np.outer(d, d)


def error_figures(y: np.ndarray, y_fit: np.ndarray) -> tuple[float, float, float]:
    """(RMS error, max |error|, R^2) of a fit."""
    y = np.asarray(y, dtype=np.float64).ravel()
    y_fit = np.asarray(y_fit, dtype=np.float64).ravel()
    r = y - y_fit
    rms = float(np.sqrt(np.mean(r * r)))
    mx = float(np.max(np.abs(r)))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(r * r)) / ss_tot if ss_tot > 0 else float("nan")
    return rms, mx, r2


def least_squares_fit(
    predict: Callable[[Mapping[str, float]], np.ndarray],
    y: np.ndarray,
    specs: Sequence[ParameterSpec],
    *,
    sigma: np.ndarray | float | None = None,
    absolute_sigma: bool = False,
    max_evaluations: int | None = None,
    loss: str = "linear",
    tolerance: float = 1e-7,
    jac_sparsity: np.ndarray | None = None,
) -> FitResult:
    """Fit ``predict(params) ~ y`` over the parameters in ``specs`` (bounded least squares).

    ``predict`` takes a dict name -> value and returns an array shaped like
    ``y``; it may raise ParameterError for a parameter combination its model
    rejects, which the fit treats as a large residual. ``sigma`` weights the
    residuals (per point or one number). ``tolerance`` is scipy's xtol, ftol
    and gtol; ``max_evaluations`` defaults to 30 (n + 1). ``jac_sparsity``
    (bool, shape (m, n)): which data points each parameter can move; columns
    that move disjoint points share one evaluation of ``predict`` in the
    finite-difference Jacobian (e.g. one initial state per train: all of them
    cost one evaluation). Raises MemspiceError when the model cannot be
    evaluated at the starting point.
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    names = tuple(s.name for s in specs)
    if len(set(names)) != len(names):
        raise ParameterError(f"fit parameters must have distinct names, got {names}.")
    n = len(specs)
    m = y.size
    if m <= n:
        raise ParameterError(f"{m} data points cannot determine {n} parameters ({', '.join(names)}); give more data.")
    scale = np.array([s.typical for s in specs])
    theta0 = np.array([s.initial for s in specs]) / scale
    lo = np.array([s.lower for s in specs]) / scale
    hi = np.array([s.upper for s in specs]) / scale
    w = np.ones(m) if sigma is None else 1.0 / np.broadcast_to(np.asarray(sigma, dtype=np.float64), (m,))

    def as_params(theta):
        return dict(zip(names, (theta * scale).tolist()))

    try:
        y0 = np.asarray(predict(as_params(theta0)), dtype=np.float64).ravel()
    except ParameterError as exc:
        raise MemspiceError(f"the fit's starting point {as_params(theta0)} is not a valid model: {exc}") from None
    if y0.shape != y.shape or not np.all(np.isfinite(y0)):
        raise MemspiceError(f"the model at the starting point gives {y0.shape} values (finite: {np.all(np.isfinite(y0))}) for {y.shape} data.")
    penalty = 10.0 * (np.max(np.abs(y - y0)) + np.std(y) + 1e-300)
    # residuals are handed to the optimiser in units of a typical weighted
    # residual at the start, so that its absolute gradient tolerance means the
    # same for data in siemens (1e-8) as for data of order 1
    c = float(np.sqrt(np.mean(((y - y0) * w) ** 2)))
    if not c > 0:
        c = float(np.std(y * w)) or 1.0

    def fun(theta):
        try:
            pred = np.asarray(predict(as_params(theta)), dtype=np.float64).ravel()
        except ParameterError:
            pred = y + penalty   # a rejected combination: far away, but a number
        if not np.all(np.isfinite(pred)):
            pred = np.where(np.isfinite(pred), pred, y + penalty)
        return (y - pred) * w / c

    if jac_sparsity is None:
        jac = "2-point"
    else:
        evaluate = fun
        last: dict = {}

        def fun(theta):  # one-entry cache: scipy evaluates f(x), then the Jacobian at the same x
            key = theta.tobytes()
            if last.get("key") != key:
                last.update(key=key, value=evaluate(theta))
            return last["value"]

        jac = _grouped_jacobian(fun, np.asarray(jac_sparsity, dtype=bool), lo, hi)
    res = least_squares(fun, theta0, jac=jac, bounds=(lo, hi), method="trf", loss=loss,
                        max_nfev=max_evaluations or 30 * (n + 1), x_scale="jac", xtol=tolerance, ftol=tolerance,
                        gtol=tolerance)
    theta = res.x
    p = theta * scale
    y_fit = np.asarray(predict(as_params(theta)), dtype=np.float64).ravel()
    rms, mx, r2 = error_figures(y, y_fit)
    r_w = (y - y_fit) * w
    dof = m - n
    s2 = 1.0 if (sigma is not None and absolute_sigma) else float(r_w @ r_w) / dof
    # res.jac is the Jacobian of the residuals divided by c
    cov_theta = _covariance(res.jac, s2 / (c * c))
    cov = cov_theta * np.outer(scale, scale)
    with np.errstate(invalid="ignore"):
        stderr = np.sqrt(np.diag(cov))
    span = hi - lo
    tol = 1e-6 * np.where(np.isfinite(span), span, np.maximum(np.abs(theta), 1.0))
    at_bound = tuple(nm for nm, t, a, b, tl in zip(names, theta, lo, hi, tol) if t - a <= tl or b - t <= tl)
    return FitResult(
        names=names,
        values=p,
        stderr=stderr,
        covariance=cov,
        y=y,
        y_fit=y_fit,
        rms_error=rms,
        max_error=mx,
        r_squared=r2,
        dof=dof,
        success=bool(res.success),
        message=str(res.message),
        n_evaluations=int(res.nfev),
        at_bound=at_bound,
    )


def _covariance(jac: np.ndarray, s2: float) -> np.ndarray:
    """s^2 (J^T J)^-1 through the SVD; directions the data do not see get infinite variance."""
    jac = np.asarray(jac, dtype=np.float64)
    _, sv, vt = np.linalg.svd(jac, full_matrices=False)
    n = vt.shape[1]
    if sv.size == 0 or sv[0] == 0.0:
        return np.full((n, n), np.inf)
    keep = sv > 1e-9 * sv[0]
    vk = vt[keep]
    cov = (vk.T / sv[keep] ** 2) @ vk * s2
    if not np.all(keep):
        # a parameter with weight in a null direction is not determined by the data
        null = vt[~keep]
        touched = np.any(np.abs(null) > 1e-6, axis=0)
        cov[touched, :] = np.inf
        cov[:, touched] = np.inf
    return cov


def _grouped_jacobian(fun, sparsity: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """A forward-difference Jacobian callable for scipy that perturbs structurally independent columns together.

    The step is scipy's 2-point one, sqrt(eps) max(1, |x|), taken backwards
    where a forward step would leave the bounds.
    """
    m, n = sparsity.shape
    groups: list[list[int]] = []
    covered: list[np.ndarray] = []
    for j in range(n):
        rows = sparsity[:, j]
        for g, cov in zip(groups, covered):
            if not np.any(cov & rows):
                g.append(j)
                cov |= rows
                break
        else:
            groups.append([j])
            covered.append(rows.copy())
    row_sets = [np.flatnonzero(sparsity[:, j]) for j in range(n)]
    eps = float(np.finfo(np.float64).eps) ** 0.5

    def jac(theta, *args, **kwargs):
        f0 = fun(theta)
        h = eps * np.maximum(1.0, np.abs(theta))
        h = np.where(theta + h > hi, -h, h)
        out = np.zeros((m, n))
        for g in groups:
            t = theta.copy()
            t[g] += h[g]
            f = fun(t)
            for j in g:
                r = row_sets[j]
                out[r, j] = (f[r] - f0[r]) / h[j]
        return out

    return jac
