"""Device-to-device statistics: fit each device, then summarise the spread as surrogate fields.

The surrogate draws each device's step factor as f = 1 + step_d2d_rel xi,
f_up = f (1 + d), f_down = f (1 - d) with d = up_down_d2d_rel xi', and its
bounds as G_min + g_min_d2d_s xi, G_max + g_max_d2d_s xi
(memspice.surrogate.pulse_models.PulseModel). Per device i, with r_up,i =
dg_up,i / mean(dg_up) and r_down,i likewise,

    f_i = (r_up,i + r_down,i) / 2,    d_i = (r_up,i - r_down,i) / (r_up,i + r_down,i),

and the d2d fields are the standard deviations of f, d, g_min, g_max across
devices. Each per-device estimate carries its own fitting error, which
inflates the observed spread; the reported spread subtracts the mean squared
standard error (var_true ~ var_observed - mean(SE^2), floored at 0), and the
uncorrected value is kept alongside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.pulsefit import PulseFit, fit_pulse_model
from memspice.errors import ParameterError
from memspice.surrogate import PulseModel

__all__ = ["DeviceStatistics", "fit_devices", "device_statistics"]


@dataclass(frozen=True)
class ParameterSpread:
    name: str
    mean: float
    std_observed: float
    """Standard deviation of the per-device estimates."""
    std_device: float
    """Spread attributed to the devices: sqrt(max(std_observed^2 - mean(SE^2), 0))."""
    mean_stderr: float
    """RMS of the per-device standard errors."""
    values: tuple[float, ...]


@dataclass(frozen=True)
class DeviceStatistics:
    """Per-device fits and their spread, and the nominal model with its d2d fields set."""

    fits: tuple[PulseFit, ...]
    spreads: tuple[ParameterSpread, ...]
    model: PulseModel
    """Nominal model: the mean of each fitted field, with step_d2d_rel, up_down_d2d_rel, g_min_d2d_s, g_max_d2d_s from the spread."""
    d2d: Mapping[str, float]
    """The d2d fields written into ``model``."""

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(f.data[0].device for f in self.fits)


def _spread(name: str, vals: np.ndarray, errs: np.ndarray) -> ParameterSpread:
    std_obs = float(np.std(vals, ddof=1)) if vals.size > 1 else 0.0
    finite = errs[np.isfinite(errs)]
    ms_err = float(np.mean(finite**2)) if finite.size else 0.0
    return ParameterSpread(name=name, mean=float(np.mean(vals)), std_observed=std_obs,
                           std_device=float(np.sqrt(max(std_obs**2 - ms_err, 0.0))),
                           mean_stderr=float(np.sqrt(ms_err)), values=tuple(float(v) for v in vals))


def _step_spreads(up, dn, up_e, dn_e, d2d: dict) -> list[ParameterSpread]:
    """Step factor and up/down imbalance per device (module docstring) from their up and down step sizes."""
    r_up, r_dn = up / up.mean(), dn / dn.mean()
    f_i = 0.5 * (r_up + r_dn)
    d_i = (r_up - r_dn) / (r_up + r_dn)
    # first-order error propagation of the per-device SEs into f and d
    e_r_up, e_r_dn = up_e / up.mean(), dn_e / dn.mean()
    f_err = 0.5 * np.sqrt(e_r_up**2 + e_r_dn**2)
    d_err = np.sqrt((2 * r_dn * e_r_up) ** 2 + (2 * r_up * e_r_dn) ** 2) / (r_up + r_dn) ** 2
    sf = _spread("step_factor", f_i, f_err)
    sd = _spread("up_down_imbalance", d_i, d_err)
    d2d["step_d2d_rel"] = sf.std_device
    d2d["up_down_d2d_rel"] = sd.std_device
    return [sf, sd]


def device_statistics(fits: Sequence[PulseFit]) -> DeviceStatistics:
    """Spread of the fitted parameters over devices (all fits of one family)."""
    fits = tuple(fits)
    if len(fits) < 2:
        raise ParameterError(f"device-to-device statistics need at least 2 devices, got {len(fits)}.")
    fams = {f.family for f in fits}
    if len(fams) != 1:
        raise ParameterError(f"device statistics need one family across devices, got {sorted(fams)}.")
    names = [n for n in fits[0].model_params]
    spreads = []
    means: dict[str, float] = {}
    for n in names:
        vals = np.array([f.model_params[n][0] for f in fits])
        errs = np.array([f.model_params[n][1] for f in fits])
        s = _spread(n, vals, errs)
        spreads.append(s)
        means[n] = s.mean
    d2d: dict[str, float] = {}
    if "dg_up_s" in means and "dg_down_s" in means:
        up = np.array([f.model_params["dg_up_s"][0] for f in fits])
        dn = np.array([f.model_params["dg_down_s"][0] for f in fits])
        up_e = np.array([f.model_params["dg_up_s"][1] for f in fits])
        dn_e = np.array([f.model_params["dg_down_s"][1] for f in fits])
        spreads += _step_spreads(up, dn, up_e, dn_e, d2d)
    elif any(n.startswith("up[") for n in names):  # tabulated: a device's step factor is its table's mean step
        up_k = [n for n in names if n.startswith("up[")]
        dn_k = [n for n in names if n.startswith("down[")]
        up = np.array([sum(abs(f.model_params[n][0]) for n in up_k) for f in fits])
        dn = np.array([sum(abs(f.model_params[n][0]) for n in dn_k) for f in fits])
        up_e = np.array([np.sqrt(sum(f.model_params[n][1] ** 2 for n in up_k)) for f in fits])
        dn_e = np.array([np.sqrt(sum(f.model_params[n][1] ** 2 for n in dn_k)) for f in fits])
        spreads += _step_spreads(up, dn, up_e, dn_e, d2d)
    for field_name, key in (("g_min_d2d_s", "g_min_s"), ("g_max_d2d_s", "g_max_s")):
        s = next((s for s in spreads if s.name == key), None)
        if s is None and key in fits[0].fixed:
            # bounds held on one grid for every device (tabulated): the spread of each device's lowest and
            # highest read instead, an estimate of the bounds' spread when the ramps reach the bounds
            ext = np.array([(np.min if key == "g_min_s" else np.max)(np.concatenate([d.conductance_s for d in f.data]))
                            for f in fits])
            s = _spread(f"{key} (data extremes)", ext, np.zeros(ext.size))
            spreads.append(s)
        if s is not None:
            d2d[field_name] = s.std_device
    tuples = {n: v for n, v in fits[0].fixed.items()}
    fields = {**tuples, **{n: means[n] for n in names if not (n.startswith("up[") or n.startswith("down["))}}
    base = fits[0].model
    nominal = replace(base, **{k: v for k, v in fields.items() if hasattr(base, k)})
    if any(n.startswith("up[") for n in names):
        nominal = replace(
            nominal,
            dg_up_table_s=tuple(means[f"up[{i}]"] for i in range(len(base.dg_up_table_s))),
            dg_down_table_s=tuple(means[f"down[{i}]"] for i in range(len(base.dg_down_table_s))),
        )
    nominal = replace(nominal, **d2d)
    return DeviceStatistics(fits=fits, spreads=tuple(spreads), model=nominal, d2d=d2d)


def fit_devices(
    data: Sequence[PulseData],
    family: str,
    *,
    fixed: Mapping[str, object] | None = None,
    potentiation_polarity: int | None = None,
    progress: bool = False,
) -> DeviceStatistics:
    """Fit every device (grouped by PulseData.device) and return their statistics."""
    by_dev: dict[str, list[PulseData]] = {}
    for d in data:
        by_dev.setdefault(d.device, []).append(d)
    items = list(by_dev.items())
    fixed = dict(fixed or {})
    if family == "tabulated":
        # one node grid for every device, so that the tables can be averaged
        g_all = np.concatenate([d.conductance_s for d in data])
        fixed.setdefault("g_min_s", float(g_all.min()))
        fixed.setdefault("g_max_s", float(g_all.max()))
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc="fitting devices", unit="device")
    fits = [fit_pulse_model(trains, family, fixed=fixed, potentiation_polarity=potentiation_polarity) for _, trains in items]
    return device_statistics(fits)
