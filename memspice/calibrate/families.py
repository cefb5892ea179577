"""Which surrogate pulse-update families can be fitted, and how: fitted fields, starts, bounds.

The fitted models are the surrogate's own dataclasses (memspice.surrogate),
so a fitted model drops straight into a TileConfig. This module only knows,
per family, which of the dataclass's fields the pulse-train data determine,
where to start the search and which bounds keep the search physical.

Identifiability, per family (why some fields are held fixed):

* SoftBounds: the step vanishes at the bounds, so G_min, G_max, dg_up, dg_down
  are all seen in the curvature of the trains (Fusi & Abbott 2005).
* ExpStep: in z = a(2u - 1) + b the pair (a, b) is redundant with
  (gamma, A) -- A exp(gamma z) = [A e^(gamma (b - a))] e^(2 gamma a u) -- so
  a and b are held at the aihwkit values (-0.5, -0.5, i.e. z = -u) and
  dg, gamma, A of each direction are fitted.
* LinearStep: the step is affine in G, so with unsaturated data the bounds
  and gamma trade off; the bounds are fitted but their errors will show it.
* ConstantStep: the bounds are only seen where a train saturates.
* PCMStatistical: potentiation (SET) only; mean_offset_s and mean_slope.
* Tabulated: the step tables at ``n_nodes`` conductances between the lowest
  and highest read (piecewise linear between nodes, as the surrogate
  interpolates them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.fitting import ParameterSpec
from memspice.errors import ParameterError
from memspice.surrogate import (
    ConstantStep,
    ExpStep,
    LinearStep,
    PCMStatistical,
    PowerStep,
    PulseModel,
    SoftBounds,
    Tabulated,
)

__all__ = ["FAMILIES", "family_class", "family_name", "predict_pulse_train", "predict_pulse_trains", "FamilySetup",
           "family_setup"]


FAMILIES: dict[str, type[PulseModel]] = {
    "constant-step": ConstantStep,
    "linear-step": LinearStep,
    "soft-bounds": SoftBounds,
    "exp-step": ExpStep,
    "power-step": PowerStep,
    "pcm": PCMStatistical,
    "tabulated": Tabulated,
}


def family_class(family: str) -> type[PulseModel]:
    try:
        return FAMILIES[family]
    except KeyError:
        raise ParameterError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}.") from None


def family_name(model: PulseModel) -> str:
    for name, cls in FAMILIES.items():
        if isinstance(model, cls):
            return name
    raise ParameterError(f"{type(model).__name__} is not a fittable pulse-update family.")


def predict_pulse_train(model: PulseModel, g0_s: float, up: np.ndarray) -> np.ndarray:
    """Noise-free conductance of the nominal device after each pulse: shape (N + 1,), entry 0 = g0_s.

    One pulse at a time with the model's own mean step, each pulse stopping at
    the hard bounds -- the surrogate's per-pulse engine
    (``apply_pulse_counts(engine="per_pulse")``) without noise.
    """
    return predict_pulse_trains(model, [g0_s], [up])[0]


def predict_pulse_trains(model: PulseModel, g0_s, ups) -> list[np.ndarray]:
    """:func:`predict_pulse_train` of several trains at once (one numpy step per pulse index, all trains).

    ``g0_s``: the trains' initial conductances; ``ups``: their pulse
    directions (True = potentiation), of any lengths. Element for element the
    same arithmetic as one train at a time, so the results are identical.
    """
    ups = [np.asarray(u, dtype=bool) for u in ups]
    n = len(ups)
    lengths = np.array([u.size for u in ups])
    steps = int(lengths.max()) if n else 0
    up_mat = np.zeros((n, steps), dtype=bool)
    for i, u in enumerate(ups):
        up_mat[i, :u.size] = u
    lo = np.full(n, model.g_min_s)
    rng_s = np.full(n, model.g_range_s)
    g0 = np.asarray(g0_s, dtype=np.float64).reshape(n)
    out = np.empty((n, steps + 1))
    out[:, 0] = g0
    uu = np.clip((g0 - model.g_min_s) / model.g_range_s, 0.0, 1.0)
    for k in range(steps):
        step = model.mean_step_s(uu, up_mat[:, k], lo, rng_s)
        moved = np.clip(uu + step / rng_s, 0.0, 1.0)
        uu = moved if k < lengths.min() else np.where(k < lengths, moved, uu)
        out[:, k + 1] = model.g_min_s + uu * model.g_range_s
    return [out[i, :lengths[i] + 1] for i in range(n)]


@dataclass(frozen=True)
class FamilySetup:
    """How to fit one family to given data."""

    cls: type[PulseModel]
    specs: tuple[ParameterSpec, ...]
    """The fitted model fields (their names are dataclass field names, or table entries 'up[3]')."""
    starts: tuple[Mapping[str, float], ...]
    """Alternative starting points (the fit keeps the best)."""
    fixed: Mapping[str, object]
    """Fields held at these values."""

    def build(self, values: Mapping[str, float]) -> PulseModel:
        """The model with fitted values (table entries gathered into tuples)."""
        kw = dict(self.fixed)
        ups = {int(k[3:-1]): v for k, v in values.items() if k.startswith("up[")}
        downs = {int(k[5:-1]): v for k, v in values.items() if k.startswith("down[")}
        for k, v in values.items():
            if not (k.startswith("up[") or k.startswith("down[")):
                kw[k] = v
        if ups:
            kw["dg_up_table_s"] = tuple(ups[i] for i in range(len(ups)))
            kw["dg_down_table_s"] = tuple(downs[i] for i in range(len(downs)))
        return self.cls(**kw)


def _steps(data: Sequence[PulseData], up_masks: Sequence[np.ndarray]):
    g_all = np.concatenate([d.conductance_s for d in data])
    g_lo, g_hi = float(g_all.min()), float(g_all.max())
    dg_up = np.concatenate([np.diff(d.conductance_s)[m] for d, m in zip(data, up_masks)])
    dg_dn = np.concatenate([np.diff(d.conductance_s)[~m] for d, m in zip(data, up_masks)])
    return g_lo, g_hi, dg_up, dg_dn


def family_setup(
    family: str,
    data: Sequence[PulseData],
    up_masks: Sequence[np.ndarray],
    *,
    fixed: Mapping[str, object] | None = None,
    n_nodes: int = 9,
) -> FamilySetup:
    """Fitted fields, bounds and starting points of ``family`` for these data.

    ``fixed`` holds fields at given values (they are removed from the fit),
    e.g. ``{"g_min_s": 1e-6}`` when the lower bound is known from elsewhere.
    """
    cls = family_class(family)
    fixed = dict(fixed or {})
    field_names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(fixed) - field_names
    if unknown:
        raise ParameterError(f"fixed fields {sorted(unknown)} are not fields of {cls.__name__}; its fields are {sorted(field_names)}.")
    g_lo, g_hi, dg_up, dg_dn = _steps(data, up_masks)
    r = g_hi - g_lo
    if not r > 0:
        raise ParameterError("the data show no conductance change at all; nothing to fit.")
    has_up = dg_up.size > 0
    has_dn = dg_dn.size > 0
    if family == "pcm":
        if has_dn:
            raise ParameterError(
                "family 'pcm' (PCMStatistical) has potentiation (SET) pulses only; the data have "
                f"{dg_dn.size} depression pulses. Fit the SET trains alone, or choose another family."
            )
    elif not (has_up and has_dn):
        raise ParameterError(
            f"family {family!r} needs potentiation and depression pulses; the data have "
            f"{dg_up.size} up and {dg_dn.size} down pulses."
        )
    # typical first steps: the larger steps of each direction (the step is
    # largest far from the bound it moves to)
    s_up = float(np.percentile(np.abs(dg_up), 90)) if has_up else 0.0
    s_dn = float(np.percentile(np.abs(dg_dn), 90)) if has_dn else 0.0
    s_up = max(s_up, 1e-3 * r)
    s_dn = max(s_dn, 1e-3 * r)
    gmin = ParameterSpec("g_min_s", max(g_lo - 0.02 * r, 0.0), max(g_lo - 3.0 * r, 0.0), g_lo + 0.45 * r, scale=r, unit="S")
    gmax = ParameterSpec("g_max_s", g_hi + 0.02 * r, g_hi - 0.45 * r, g_hi + 20.0 * r, scale=r, unit="S")

    def dg(name, start):
        return ParameterSpec(name, start, 1e-6 * r, 3.0 * r, scale=r, unit="S")

    specs: list[ParameterSpec]
    starts: list[dict[str, float]] = [{}]
    if family == "constant-step":
        med_up = float(np.median(np.abs(dg_up)))
        med_dn = float(np.median(np.abs(dg_dn)))
        specs = [gmin, gmax, dg("dg_up_s", max(med_up, 1e-3 * r)), dg("dg_down_s", max(med_dn, 1e-3 * r))]
    elif family == "soft-bounds":
        specs = [gmin, gmax, dg("dg_up_s", s_up), dg("dg_down_s", s_dn)]
        # the bounds may lie well beyond the data when the trains do not saturate
        starts.append({"g_min_s": max(g_lo - 0.3 * r, 0.0), "g_max_s": g_hi + 0.3 * r, "dg_up_s": 1.3 * s_up, "dg_down_s": 1.3 * s_dn})
    elif family == "linear-step":
        specs = [gmin, gmax, dg("dg_up_s", s_up), dg("dg_down_s", s_dn),
                 ParameterSpec("gamma_up", 0.5, -1.0, 1.0, scale=1.0, unit="1"),
                 ParameterSpec("gamma_down", 0.5, -1.0, 1.0, scale=1.0, unit="1")]
        starts.append({"gamma_up": 0.9, "gamma_down": 0.9})
        starts.append({"gamma_up": 0.1, "gamma_down": 0.1})
    elif family == "power-step":
        specs = [gmin, gmax, dg("dg_up_s", s_up), dg("dg_down_s", s_dn),
                 ParameterSpec("gamma_up", 1.0, 0.05, 20.0, scale=1.0, unit="1"),
                 ParameterSpec("gamma_down", 1.0, 0.05, 20.0, scale=1.0, unit="1")]
        starts.append({"gamma_up": 3.0, "gamma_down": 3.0})
        starts.append({"gamma_up": 0.4, "gamma_down": 0.4})
    elif family == "exp-step":
        fixed.setdefault("a", -0.5)
        fixed.setdefault("b", -0.5)
        # with z = -u: up step dg_up (1 - A_up e^(-gamma_up u)) is largest at u = 0,
        # down step dg_down (1 - A_down e^(gamma_down u)) largest at u = 1
        specs = [gmin, gmax, dg("dg_up_s", s_up / 2.0), dg("dg_down_s", s_dn / 2.0),
                 ParameterSpec("gamma_up", 3.0, 0.01, 30.0, scale=1.0, unit="1"),
                 ParameterSpec("gamma_down", 3.0, 0.01, 30.0, scale=1.0, unit="1"),
                 ParameterSpec("A_up", -1.0, -50.0, 0.99, scale=1.0, unit="1"),
                 ParameterSpec("A_down", -0.1, -50.0, 0.99, scale=1.0, unit="1")]
        # a small grid of shapes (the equation-error stage makes each start cheap):
        # step growing or shrinking towards the bound, slowly or fast
        for g_rate in (1.0, 3.0, 6.0, 12.0):
            for a_up, a_dn in ((-1.0, -0.1), (-1.0, -1.0), (0.5, 0.5 * np.exp(-g_rate)), (-0.1, -0.01)):
                starts.append({"gamma_up": g_rate, "gamma_down": g_rate, "A_up": a_up, "A_down": a_dn,
                               "dg_up_s": s_up / max(1.0 - a_up, 0.5), "dg_down_s": s_dn / max(1.0 - a_dn * np.exp(g_rate), 0.5)})
    elif family == "pcm":
        # mean dG = offset + slope G: start from a straight line through the steps
        g_before = np.concatenate([d.conductance_s[:-1][m] for d, m in zip(data, up_masks)])
        slope, offset = np.polyfit(g_before, dg_up, 1) if g_before.size > 2 else (0.0, float(np.mean(dg_up)))
        slope = float(np.clip(slope, -0.9, 0.0))
        offset = float(max(offset, 1e-3 * r))
        specs = [ParameterSpec("mean_offset_s", offset, 0.0, 10.0 * r, scale=r, unit="S"),
                 ParameterSpec("mean_slope", slope, -0.999, 0.0, scale=0.1, unit="1")]
        fixed.setdefault("g_min_s", min(float(g_lo), PCMStatistical.g_min_s))
        fixed.setdefault("g_max_s", max(float(g_hi) * 1.5, float(g_hi) + r))
    elif family == "tabulated":
        if n_nodes < 2:
            raise ParameterError(f"n_nodes = {n_nodes}: a table needs at least 2 nodes.")
        lo = float(fixed.get("g_min_s", g_lo))
        hi = float(fixed.get("g_max_s", g_hi))
        fixed["g_min_s"], fixed["g_max_s"] = lo, hi
        if "g_table_s" in fixed:
            nodes = np.asarray(fixed["g_table_s"], dtype=float)
        else:
            # nodes at quantiles of the conductances the pulses start from, so
            # every interval holds about as many steps: a device whose step
            # changes fast where it spends few pulses (VTEAM's G = 1/R(x)) gets
            # its nodes where the data are
            g_from = np.concatenate([d.conductance_s[:-1] for d in data])
            inner = np.quantile(g_from[(g_from > lo) & (g_from < hi)], np.linspace(0, 1, n_nodes)[1:-1]) if n_nodes > 2 else []
            nodes = np.unique(np.r_[lo, inner, hi])
            if nodes.size < 2:
                raise ParameterError("the data span no conductance range; a table needs at least two distinct conductances.")
        fixed["g_table_s"] = tuple(float(v) for v in nodes)
        n_nodes = nodes.size
        fixed.setdefault("source", "fitted to pulse-train data")
        up0, dn0 = _binned_steps(data, up_masks, nodes)
        specs = [ParameterSpec(f"up[{i}]", float(v), 0.0, 3.0 * r, scale=r / n_nodes, unit="S") for i, v in enumerate(up0)]
        specs += [ParameterSpec(f"down[{i}]", float(v), -3.0 * r, 0.0, scale=r / n_nodes, unit="S") for i, v in enumerate(dn0)]
    else:  # pragma: no cover - FAMILIES and this chain are kept in step
        raise ParameterError(f"family {family!r} has no fit set-up.")
    specs = [s for s in specs if s.name not in fixed]
    starts = tuple(_clip_start(specs, s) for s in starts)
    return FamilySetup(cls=cls, specs=tuple(specs), starts=starts, fixed=fixed)


def _clip_start(specs: Sequence[ParameterSpec], start: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for s in specs:
        v = float(start.get(s.name, s.initial))
        out[s.name] = float(np.clip(v, s.lower, s.upper))
    return out


def _binned_steps(data, up_masks, nodes):
    """Mean measured step per direction at each node (linear-interpolation weights), as a start."""
    out = []
    for direction in (True, False):
        g_b = np.concatenate([d.conductance_s[:-1][m == direction] for d, m in zip(data, up_masks)])
        dg = np.concatenate([np.diff(d.conductance_s)[m == direction] for d, m in zip(data, up_masks)])
        n = nodes.size
        pos = np.clip(np.interp(g_b, nodes, np.arange(n)), 0, n - 1)
        i0 = np.minimum(np.floor(pos).astype(int), n - 2)
        w1 = pos - i0
        num = np.zeros(n)
        den = np.zeros(n)
        np.add.at(num, i0, (1 - w1) * dg)
        np.add.at(den, i0, 1 - w1)
        np.add.at(num, i0 + 1, w1 * dg)
        np.add.at(den, i0 + 1, w1)
        filled = den > 1e-9
        vals = np.interp(np.arange(n), np.flatnonzero(filled), num[filled] / den[filled]) if filled.any() else np.zeros(n)
        out.append(np.maximum(vals, 0.0) if direction else np.minimum(vals, 0.0))
    return out
