"""Fit a surrogate pulse-update model to pulse-train data (one device, one or more trains).

The fit is an *output-error* fit: the model is run pulse by pulse from the
train's initial conductance (itself a fitted nuisance parameter, since the
initial read is noisy too) and compared with every read. This is the right
criterion when the reads carry measurement noise; the cycle-to-cycle write
noise then shows as correlated residuals, estimated afterwards by
``noise_estimates`` (method of moments on the one-step residuals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.families import family_setup, predict_pulse_trains
from memspice.calibrate.fitting import FitResult, ParameterSpec, error_figures, least_squares_fit
from memspice.errors import MemspiceError, ParameterError
from memspice.surrogate import PulseModel

__all__ = ["PulseFit", "fit_pulse_model", "split_cycles", "MAX_FREE_RUN", "evaluate_model", "Evaluation", "noise_estimates", "NoiseEstimate"]


@dataclass(frozen=True)
class PulseFit:
    """A fitted pulse-update model and everything needed to judge it."""

    model: PulseModel
    """The fitted surrogate model (a memspice.surrogate dataclass)."""
    family: str
    fit: FitResult
    """The least-squares result (includes the nuisance initial conductances 'g0[i]')."""
    data: tuple[PulseData, ...]
    up: tuple[np.ndarray, ...]
    """Per train, True where a pulse is a potentiation pulse."""
    potentiation_polarity: int
    """Voltage sign of the pulses that raise the conductance (+1 / -1)."""
    predictions: tuple[np.ndarray, ...]
    """Model conductance after each pulse of each train (S), aligned with data."""
    fixed: Mapping[str, object]

    @property
    def model_params(self) -> dict[str, tuple[float, float]]:
        """Fitted model fields -> (value, standard error); the nuisance g0 excluded."""
        return {n: (float(v), float(e)) for n, v, e in zip(self.fit.names, self.fit.values, self.fit.stderr) if not n.startswith("g0[")}

    @property
    def g_range_s(self) -> float:
        """Conductance range of the data (S), the scale the errors are quoted against."""
        g = np.concatenate([d.conductance_s for d in self.data])
        return float(g.max() - g.min())

    @property
    def rms_rel_range(self) -> float:
        return self.fit.rms_error / self.g_range_s


#: trains longer than this many pulses are fitted cycle by cycle (split_cycles)
MAX_FREE_RUN = 1000


def split_cycles(d: PulseData, polarity: int) -> tuple[PulseData, ...]:
    """``d`` cut into cycles at every switch from depression to potentiation pulses.

    Neighbouring cycles share the read at the cut (the last read of one is
    the initial read of the next); a train with one cycle is returned whole.
    """
    up = _up_mask(d, polarity)
    cuts = [0, *(int(k) for k in np.flatnonzero(~up[:-1] & up[1:]) + 1), up.size]
    if len(cuts) == 2:
        return (d,)
    return tuple(
        PulseData(d.conductance_s[a:b + 1], np.concatenate([[0.0], d.voltage_v[a + 1:b + 1]]),
                  np.concatenate([[0.0], d.width_s[a + 1:b + 1]]), device=d.device, source=d.source,
                  meta={**d.meta, "cycle": c})
        for c, (a, b) in enumerate(zip(cuts[:-1], cuts[1:]))
    )


def _up_mask(d: PulseData, polarity: int) -> np.ndarray:
    pol = d.polarity
    if np.any(pol == 0):
        k = int(np.flatnonzero(pol == 0)[0]) + 1
        raise ParameterError(f"{d.device}: pulse {k} has zero amplitude; every pulse after the initial read must have a polarity.")
    return pol == polarity


def _polarity(data: Sequence[PulseData], given: int | None) -> int:
    if given is not None:
        if given not in (1, -1):
            raise ParameterError(f"potentiation_polarity = {given!r}: give +1 or -1.")
        return given
    votes = [d.potentiation_polarity() for d in data]
    if len(set(votes)) > 1:
        raise ParameterError(
            f"the trains disagree on which polarity raises the conductance ({votes}); pass potentiation_polarity."
        )
    return votes[0]


def fit_pulse_model(
    data: PulseData | Sequence[PulseData],
    family: str,
    *,
    fixed: Mapping[str, object] | None = None,
    potentiation_polarity: int | None = None,
    n_nodes: int = 9,
    sigma_s: float | None = None,
) -> PulseFit:
    """Fit one device's trains with a pulse-update family (see memspice.calibrate.families).

    ``data``: one or more trains of the *same* device under the same pulse
    conditions (the surrogate's step does not depend on amplitude). ``fixed``
    holds model fields at given values. ``sigma_s``: known read noise (S);
    when given, the error bars use it instead of the residual scatter.
    """
    trains = (data,) if isinstance(data, PulseData) else tuple(data)
    if not trains:
        raise ParameterError("fit_pulse_model: no data given.")
    pol = _polarity(trains, potentiation_polarity)
    # a train of many cycles is fitted cycle by cycle (each from its own initial state): a free run over
    # thousands of pulses compounds every small model error, and cycles run side by side are fast
    trains = tuple(c for d in trains for c in (split_cycles(d, pol) if d.n_pulses > MAX_FREE_RUN else (d,)))
    ups = tuple(_up_mask(d, pol) for d in trains)
    setup = family_setup(family, trains, ups, fixed=fixed, n_nodes=n_nodes)
    r = float(np.ptp(np.concatenate([d.conductance_s for d in trains])))
    g0_specs = [
        ParameterSpec(f"g0[{i}]", float(d.conductance_s[0]), float(d.conductance_s[0]) - 0.5 * r,
                      float(d.conductance_s[0]) + 0.5 * r, scale=r, unit="S")
        for i, d in enumerate(trains)
    ]
    specs = list(setup.specs) + g0_specs
    y = np.concatenate([d.conductance_s for d in trains])

    def predict(p: Mapping[str, float]) -> np.ndarray:
        model = setup.build({s.name: p[s.name] for s in setup.specs})
        return np.concatenate(predict_pulse_trains(model, [p[f"g0[{i}]"] for i in range(len(ups))], ups))

    # each initial state g0[i] moves only its own train's reads: the Jacobian's g0 columns share one evaluation
    sparsity = np.ones((y.size, len(specs)), dtype=bool)
    starts = np.cumsum([0] + [d.conductance_s.size for d in trains])
    sparsity[:, len(setup.specs):] = False
    for i in range(len(trains)):
        sparsity[starts[i]:starts[i + 1], len(setup.specs) + i] = True

    # Stage 1 (equation error): predict each read from the previous *measured*
    # read. One vectorised model call per evaluation, so every start of the
    # family is cheap to try; its optimum is a start close to the answer.
    # Stage 2 (output error, below) then runs the model freely from g0 and is
    # the fit that is reported. Two stages avoid the local minima a free-run
    # fit of a many-parameter family (ExpStep) falls into from a poor start.
    g_prev = [d.conductance_s[:-1] for d in trains]
    y1 = np.concatenate([d.conductance_s[1:] for d in trains])

    def predict_one_step(p: Mapping[str, float]) -> np.ndarray:
        model = setup.build(p)
        out = []
        for g, u in zip(g_prev, ups):
            lo = np.full(g.size, model.g_min_s)
            rr = np.full(g.size, model.g_range_s)
            uu = np.clip((g - model.g_min_s) / model.g_range_s, 0.0, 1.0)
            step = model.mean_step_s(uu, u, lo, rr)
            out.append(model.g_min_s + np.clip(uu + step / rr, 0.0, 1.0) * model.g_range_s)
        return np.concatenate(out)

    stage1: list[tuple[float, dict[str, float]]] = []
    for start in setup.starts:
        start_specs = [replace(s, initial=start.get(s.name, s.initial)) for s in setup.specs]
        try:
            r1 = least_squares_fit(predict_one_step, y1, start_specs, tolerance=1e-6,
                                   max_evaluations=20 * (len(start_specs) + 1))
        except (ParameterError, MemspiceError):
            continue  # a start that is not a valid model; the others may be
        stage1.append((r1.rms_error, r1.params))
    stage1.sort(key=lambda item: item[0])
    # the free-run fit costs (parameters + 1) trajectories per Jacobian: start it
    # from the best equation-error solution (and the runner-up when the family
    # has many starts, i.e. a rugged cost), or from the first start if none worked
    n_candidates = 2 if len(setup.starts) > 3 else 1
    candidates = [p for _, p in stage1[:n_candidates]] or [dict(setup.starts[0])]

    best: FitResult | None = None
    for start in candidates:
        start_specs = [replace(s, initial=float(np.clip(start.get(s.name, s.initial), s.lower, s.upper))) for s in specs]
        try:
            res = least_squares_fit(predict, y, start_specs, sigma=sigma_s, absolute_sigma=sigma_s is not None,
                                    jac_sparsity=sparsity)
        except (ParameterError, MemspiceError):
            continue
        if best is None or res.rms_error < best.rms_error * (1 - 1e-9):
            best = res
    if best is None:
        raise ParameterError(f"no starting point of family {family!r} gives a valid model for these data.")
    values = best.params
    model = setup.build({s.name: values[s.name] for s in setup.specs})
    preds = tuple(predict_pulse_trains(model, [values[f"g0[{i}]"] for i in range(len(ups))], ups))
    return PulseFit(model=model, family=family, fit=best, data=trains, up=ups, potentiation_polarity=pol,
                    predictions=preds, fixed=dict(setup.fixed))


@dataclass(frozen=True)
class Evaluation:
    """How well a model reproduces trains it was not fitted to."""

    rms_error_s: float
    max_error_s: float
    r_squared: float
    g_range_s: float
    """Conductance range of the data (S)."""
    predictions: tuple[np.ndarray, ...]

    @property
    def rms_rel_range(self) -> float:
        """RMS error as a fraction of the data's conductance range."""
        return self.rms_error_s / self.g_range_s


def evaluate_model(model: PulseModel, data: PulseData | Sequence[PulseData], potentiation_polarity: int) -> Evaluation:
    """Run ``model`` on the pulses of ``data`` from each train's first read; error figures against the reads."""
    trains = (data,) if isinstance(data, PulseData) else tuple(data)
    preds = tuple(predict_pulse_trains(model, [float(d.conductance_s[0]) for d in trains],
                                       [_up_mask(d, potentiation_polarity) for d in trains]))
    y = np.concatenate([d.conductance_s for d in trains])
    yf = np.concatenate(preds)
    rms, mx, r2 = error_figures(y, yf)
    return Evaluation(rms_error_s=rms, max_error_s=mx, r_squared=r2, g_range_s=float(np.ptp(y)), predictions=preds)


@dataclass(frozen=True)
class NoiseEstimate:
    """Read and write noise separated from the one-step residuals (S, standard deviations)."""

    read_noise_s: float
    write_noise_s: float
    """Cycle-to-cycle write noise per pulse (additive), i.e. the surrogate's c2c_abs_s."""
    n_steps: int


def noise_estimates(fit: PulseFit) -> NoiseEstimate:
    """Method-of-moments split of read noise and per-pulse write noise.

    With reads G~_k = G_k + r_k and true steps G_{k+1} = G_k + mu(G_k) + w_k,
    the one-step residual e_k = G~_{k+1} - G~_k - mu(G~_k) is approximately
    w_k + r_{k+1} - (1 + mu'(G_k)) r_k, so (to first order in mu')

        Var e   = s_w^2 + 2 s_r^2,       Cov(e_k, e_{k+1}) = -s_r^2.

    Both moments are pooled over all trains; a negative variance estimate
    (sampling noise when one of them is small) is reported as 0.
    """
    e_all, lag_pairs = [], []
    for d, u in zip(fit.data, fit.up):
        g = d.conductance_s
        lo = np.full(u.size, fit.model.g_min_s)
        rng_s = np.full(u.size, fit.model.g_range_s)
        uu = np.clip((g[:-1] - fit.model.g_min_s) / fit.model.g_range_s, 0.0, 1.0)
        mu = fit.model.mean_step_s(uu, u, lo, rng_s)
        pred_next = fit.model.g_min_s + np.clip(uu + mu / rng_s, 0.0, 1.0) * rng_s
        e = g[1:] - pred_next
        e_all.append(e)
        lag_pairs.append((e[:-1], e[1:]))
    e = np.concatenate(e_all)
    m = float(e.mean())
    var = float(np.mean((e - m) ** 2))
    cov1 = float(np.mean(np.concatenate([(a - m) * (b - m) for a, b in lag_pairs])))
    s_r2 = max(-cov1, 0.0)
    s_w2 = max(var - 2.0 * s_r2, 0.0)
    return NoiseEstimate(read_noise_s=float(np.sqrt(s_r2)), write_noise_s=float(np.sqrt(s_w2)), n_steps=int(e.size))
