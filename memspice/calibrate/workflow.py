"""The two calibration jobs end to end: data (CSV or simulated) -> fitted model -> model file + report."""

from __future__ import annotations

import math

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.experiments import PulseTrainExperiment
from memspice.calibrate.modelfile import write_model_file
from memspice.calibrate.parallel import run_pulse_trains
from memspice.calibrate.pulsefit import PulseFit, evaluate_model, fit_pulse_model, noise_estimates
from memspice.calibrate.replay import replay_figures
from memspice.calibrate.report import HeldOut, write_report
from memspice.calibrate.runners import ModelRef
from memspice.calibrate.statistics import DeviceStatistics, device_statistics
from memspice.errors import ParameterError
from memspice.surrogate import PulseModel

__all__ = ["Calibration", "calibrate_pulse_data", "calibrate_compact_model", "save_calibration"]


@dataclass(frozen=True)
class Calibration:
    """A finished calibration: the model to use, the fits behind it and how it did on held-out data."""

    model: PulseModel
    """The model to use (with device-to-device fields when several devices were fitted)."""
    family: str
    fits: tuple[tuple[str, PulseFit], ...]
    potentiation_polarity: int
    statistics: DeviceStatistics | None = None
    held_out: tuple[tuple[str, HeldOut], ...] = ()
    provenance: Mapping[str, object] = field(default_factory=dict)

    def to_dataframe(self):
        """One row per fit (device or cycle set): fit errors, noise estimates and every fitted field (pandas)."""
        from memspice.frames import frame

        rows = []
        for label, fit in self.summary()["fits"].items():
            row = {"label": label, "family": self.family,
                   **{k: v for k, v in fit.items() if not isinstance(v, dict)}}
            row.update({k: v for k, v in fit["parameters"].items() if not isinstance(v, (list, tuple))})
            rows.append(row)
        return frame(rows)

    def summary(self) -> dict:
        """Plain numbers for --json output and the model file's [calibration] table."""
        first = self.fits[0][1]
        out: dict = {
            "family": self.family,
            "model_class": type(self.model).__name__,
            "potentiation_polarity": self.potentiation_polarity,
            **{k: v for k, v in self.provenance.items()},
            "fits": {},
        }
        for label, f in self.fits:
            noise = noise_estimates(f)
            out["fits"][label] = {
                "device": f.data[0].device,
                "rms_error_s": f.fit.rms_error,
                "max_error_s": f.fit.max_error,
                "rms_rel_range": f.rms_rel_range,
                "r_squared": f.fit.r_squared,
                "g_range_s": f.g_range_s,
                "converged": f.fit.success,
                # fields the data do not determine (infinite standard error, e.g. table nodes one direction
                # never visited): the model holds a value there, but not a measured one
                "undetermined": [n for n, (_, e) in f.model_params.items() if not math.isfinite(e)],
                "read_noise_s": noise.read_noise_s,
                "write_noise_s": noise.write_noise_s,
                "replay": replay_figures(f.model, f).summary(),
                "parameters": {n: v for n, (v, _) in f.model_params.items()},
                "stderr": {n: e for n, (_, e) in f.model_params.items()},
            }
        if len(self.fits) == 1:
            out["rms_error_s"] = first.fit.rms_error
            out["max_error_s"] = first.fit.max_error
            out["r_squared"] = first.fit.r_squared
            out["stderr"] = {n: e for n, (_, e) in first.model_params.items()}
        if self.statistics is not None:
            out["device_to_device"] = dict(self.statistics.d2d)
            out["devices"] = list(self.statistics.devices)
        if self.held_out:
            out["held_out"] = {
                f"{lab}: {h.label}": {"rms_error_s": h.evaluation.rms_error_s, "rms_rel_range": h.evaluation.rms_rel_range,
                                      "max_error_s": h.evaluation.max_error_s}
                for lab, h in self.held_out
            }
        return out


def calibrate_pulse_data(
    data: Sequence[PulseData],
    family: str,
    *,
    fixed: Mapping[str, object] | None = None,
    potentiation_polarity: int | None = None,
    held_out: Sequence[PulseData] = (),
    n_nodes: int = 9,
    progress: bool = False,
    provenance: Mapping[str, object] | None = None,
) -> Calibration:
    """Fit each device of ``data`` (grouped by device id); with several devices, add their statistics.

    ``held_out``: trains of the first device (or a single device) not used in
    the fit, on which the model is evaluated.
    """
    data = list(data)
    if not data:
        raise ParameterError("calibrate_pulse_data: no data.")
    by_dev: dict[str, list[PulseData]] = {}
    for d in data:
        by_dev.setdefault(d.device, []).append(d)
    if potentiation_polarity is None:
        votes = {d.potentiation_polarity() for d in data}
        if len(votes) != 1:
            raise ParameterError(f"the devices disagree on which polarity potentiates ({sorted(votes)}); pass potentiation_polarity.")
        potentiation_polarity = votes.pop()
    fixed = dict(fixed or {})
    if family == "tabulated" and len(by_dev) > 1:
        g_all = np.concatenate([d.conductance_s for d in data])
        fixed.setdefault("g_min_s", float(g_all.min()))
        fixed.setdefault("g_max_s", float(g_all.max()))
    items = list(by_dev.items())
    if progress and len(items) > 1:
        from tqdm import tqdm

        items = tqdm(items, desc="fitting devices", unit="device")
    fits = tuple((dev, fit_pulse_model(trains, family, fixed=fixed, potentiation_polarity=potentiation_polarity, n_nodes=n_nodes))
                 for dev, trains in items)
    stats = device_statistics([f for _, f in fits]) if len(fits) > 1 else None
    model = stats.model if stats is not None else fits[0][1].model
    held = tuple(
        (fits[0][0], HeldOut(label=h.source or f"held-out {i}", data=h, evaluation=evaluate_model(model, h, potentiation_polarity)))
        for i, h in enumerate(held_out)
    )
    return Calibration(model=model, family=family, fits=fits, potentiation_polarity=potentiation_polarity,
                       statistics=stats, held_out=held, provenance=dict(provenance or {}))


def calibrate_compact_model(
    model,
    train: PulseTrainExperiment,
    family: str,
    *,
    where=None,
    held_out: Sequence[PulseTrainExperiment] = (),
    fixed: Mapping[str, object] | None = None,
    n_nodes: int = 9,
    workers: int | None = None,
    progress: bool = True,
) -> Calibration:
    """Simulate ``train`` (and the held-out trains, in parallel) on a compact model, fit, evaluate.

    ``model``: a memspice.devices model name, ModelRef or CompactModel;
    ``where``: NumpyCell(), SpiceCell() (default) or SpiceArrayCell(...).
    """
    from memspice.calibrate.runners import SpiceCell

    where = SpiceCell() if where is None else where
    ref = ModelRef.of(model)
    runs = run_pulse_trains(ref, [train, *held_out], where, workers=workers, progress=progress,
                            description=f"{ref.name}: {getattr(where, 'label', 'runs')}")
    fit_data, held_data = runs[0], runs[1:]
    labelled = [
        PulseData(h.conductance_s, h.voltage_v, h.width_s, device=h.device, source=f"held-out: {e.describe()}", meta=h.meta)
        for h, e in zip(held_data, held_out)
    ]
    prov = {"source": f"{ref.name} in {getattr(where, 'label', where)}", "compact_model": ref.name,
            "compact_model_params": dict(ref.params), "experiment": train.describe(),
            "amplitude_up_v": train.amplitude_up_v, "amplitude_down_v": train.amplitude_down, "width_s": train.width_s}
    return calibrate_pulse_data([fit_data], family, fixed=fixed, held_out=labelled, n_nodes=n_nodes, provenance=prov)


def save_calibration(cal: Calibration, model_path: str | Path, report_dir: str | Path | None = None,
                     *, plots: bool = True, comparison: tuple[str, str] | None = None,
                     extra_fits: Sequence[tuple[str, PulseFit]] = (), notes: Sequence[str] = ()) -> dict[str, Path]:
    """Write the model file (and the report, when ``report_dir`` is given). Returns the written paths."""
    header = (f"memspice fitted pulse-update model ({cal.family}, {type(cal.model).__name__}).\n"
              "[tile] is the [tile] table of a training config; [calibration] is provenance and fit quality.")
    out = {"model": write_model_file(model_path, cal.model, cal.summary(), header=header)}
    if report_dir is not None:
        out["report"] = write_report(
            report_dir, [*cal.fits, *extra_fits], held_out=cal.held_out, statistics=cal.statistics,
            comparison=comparison, plots=plots,
            notes=[f"Model file: `{Path(model_path).name}`.", *notes],
        )
    return out
