"""Fit reports: Markdown with tables of parameters and error figures, and PNG plots.

``write_report(directory, ...)`` writes ``report.md`` and, per fit,
``<label>_fit.png`` (data vs model over pulse number) and
``<label>_residuals.png``; held-out trains get ``<label>_heldout.png``; a
comparison of two fits (e.g. single cell vs in-array) gets its own table with
the difference of each parameter in units of the combined standard error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.pulsefit import Evaluation, PulseFit, noise_estimates
from memspice.calibrate.replay import ReplayFigures, replay_figures
from memspice.calibrate.statistics import DeviceStatistics

__all__ = ["HeldOut", "ParameterComparison", "compare_fits", "write_report"]


@dataclass(frozen=True)
class HeldOut:
    """A train the model was not fitted to, and how well the model predicts it."""

    label: str
    data: PulseData
    evaluation: Evaluation


@dataclass(frozen=True)
class ParameterComparison:
    """One parameter of two fits: values, errors and their difference."""

    name: str
    value_a: float
    stderr_a: float
    value_b: float
    stderr_b: float

    @property
    def difference(self) -> float:
        return self.value_b - self.value_a

    @property
    def relative_difference(self) -> float:
        return self.difference / abs(self.value_a) if self.value_a != 0 else math.inf

    @property
    def z(self) -> float:
        """|difference| in units of the combined standard error."""
        se = math.hypot(self.stderr_a, self.stderr_b)
        return abs(self.difference) / se if se > 0 else math.inf


def compare_fits(a: PulseFit, b: PulseFit) -> tuple[ParameterComparison, ...]:
    """Parameter-by-parameter comparison of two fits of one family."""
    pa, pb = a.model_params, b.model_params
    return tuple(
        ParameterComparison(n, pa[n][0], pa[n][1], pb[n][0], pb[n][1]) for n in pa if n in pb
    )


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") or "fit"


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return str(v)
    return f"{v:.5g}"


def _plots(directory: Path, label: str, fit: PulseFit) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    slug = _slug(label)
    fig, ax = plt.subplots(figsize=(7, 4))
    offset = 0
    for i, (d, pred) in enumerate(zip(fit.data, fit.predictions)):
        k = np.arange(d.conductance_s.size) + offset
        ax.plot(k, d.conductance_s * 1e6, "o", ms=3, color="C0", label="data" if i == 0 else None)
        ax.plot(k, pred * 1e6, "-", color="C1", label=f"{fit.family} fit" if i == 0 else None)
        offset += d.conductance_s.size
    ax.set_xlabel("read index (pulse number, trains concatenated)")
    ax.set_ylabel("conductance (µS)")
    ax.set_title(f"{label}: data vs fit (RMS {fit.fit.rms_error * 1e6:.3g} µS, R² {fit.fit.r_squared:.4f})")
    ax.legend()
    fig.tight_layout()
    fit_png = f"{slug}_fit.png"
    fig.savefig(directory / fit_png, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3))
    res = fit.fit.residuals
    ax.plot(np.arange(res.size), res * 1e6, ".", color="C3")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xlabel("read index")
    ax.set_ylabel("data - fit (µS)")
    ax.set_title(f"{label}: residuals (max {fit.fit.max_error * 1e6:.3g} µS)")
    fig.tight_layout()
    res_png = f"{slug}_residuals.png"
    fig.savefig(directory / res_png, dpi=110)
    plt.close(fig)
    return fit_png, res_png


def _heldout_plot(directory: Path, label: str, h: HeldOut) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    k = np.arange(h.data.conductance_s.size)
    ax.plot(k, h.data.conductance_s * 1e6, "o", ms=3, label="held-out data")
    ax.plot(k, h.evaluation.predictions[0] * 1e6, "-", label="model prediction")
    ax.set_xlabel("pulse number")
    ax.set_ylabel("conductance (µS)")
    ax.set_title(f"{h.label}: RMS {100 * h.evaluation.rms_rel_range:.2f} % of range")
    ax.legend()
    fig.tight_layout()
    name = f"{_slug(label)}_{_slug(h.label)}_heldout.png"
    fig.savefig(directory / name, dpi=110)
    plt.close(fig)
    return name


def _fit_section(directory: Path, label: str, fit: PulseFit, plots: bool) -> list[str]:
    out = [f"## {label}", ""]
    srcs = sorted({d.source for d in fit.data if d.source})
    out.append(f"Family **{fit.family}** ({type(fit.model).__name__}), {len(fit.data)} train(s), "
               f"{sum(d.n_pulses for d in fit.data)} pulses, device `{fit.data[0].device}`"
               + (f", source: {'; '.join(srcs)}" if srcs else "") + ".")
    out.append(f"Potentiation polarity: {'+' if fit.potentiation_polarity > 0 else '-'} pulses raise the conductance.")
    out.append("")
    out += ["| figure | value |", "|---|---|",
            f"| RMS error | {_fmt(fit.fit.rms_error)} S ({100 * fit.rms_rel_range:.3g} % of range) |",
            f"| max error | {_fmt(fit.fit.max_error)} S |",
            f"| R² | {fit.fit.r_squared:.6f} |",
            f"| conductance range of the data | {_fmt(fit.g_range_s)} S |",
            f"| degrees of freedom | {fit.fit.dof} |",
            f"| optimiser | {'converged' if fit.fit.success else 'NOT converged'}: {fit.fit.message} ({fit.fit.n_evaluations} evaluations) |"]
    noise = noise_estimates(fit)
    out += [f"| read noise (one-step residuals; on noise-free simulated data this is model error) | {_fmt(noise.read_noise_s)} S |",
            f"| write noise per pulse (one-step residuals) | {_fmt(noise.write_noise_s)} S |"]
    rp = replay_figures(fit.model, fit)
    per = 100 * rp.per_cycle_rms_s / rp.g_range_s
    out += [f"| one-step error (each read from the previous measured read) | {100 * rp.rel(rp.one_step_rms_s):.3g} % of range |",
            f"| replay of the mean cycle ({rp.n_in_mean} of {rp.n_cycles} cycles averaged) | "
            f"{100 * rp.rel(rp.mean_cycle_rms_s):.3g} % of range |",
            f"| replay of each cycle from its first read (median, 95th percentile) | {np.median(per):.3g} %, "
            f"{np.percentile(per, 95):.3g} % of range |",
            f"| cycle-to-cycle spread of the data around the mean cycle | {100 * rp.rel(rp.cycle_spread_rms_s):.3g} % of range |", ""]
    out += ["| parameter | value | std. error | rel. error |", "|---|---|---|---|"]
    for n, (v, e) in fit.model_params.items():
        rel = f"{100 * e / abs(v):.2g} %" if v != 0 and math.isfinite(e) else "-"
        flag = " (at bound)" if n in fit.fit.at_bound else ""
        out.append(f"| {n} | {_fmt(v)}{flag} | {_fmt(e)} | {rel} |")
    if fit.fixed:
        fixed = ", ".join(f"{k} = {v if isinstance(v, str) else _fmt(v) if not isinstance(v, tuple) else '[table]'}" for k, v in fit.fixed.items())
        out += ["", f"Held fixed: {fixed}."]
    if any(not math.isfinite(e) for _, e in fit.model_params.values()):
        out += ["", "A parameter with an infinite error is not determined by these data (e.g. a bound the trains never reach)."]
    out.append("")
    if plots:
        fit_png, res_png = _plots(directory, label, fit)
        out += [f"![data vs fit]({fit_png})", "", f"![residuals]({res_png})", "",
                f"![measured and replayed cycles]({_cycles_plot(directory, label, rp)})", ""]
    return out


def _cycles_plot(directory: Path, label: str, rp: ReplayFigures) -> str:
    """Every cycle of the common pattern (thin), their mean and the model's free run over the mean cycle."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, c in enumerate(rp.cycles[:200]):
        ax.plot(c.conductance_s * 1e6, "-", color="0.75", lw=0.6, label="measured cycles" if i == 0 else None)
    ax.plot(rp.mean_cycle_s * 1e6, "k-", lw=1.6, label=f"mean of {rp.n_in_mean} cycles")
    ax.plot(rp.mean_replay_s * 1e6, "--", color="C3", lw=1.6, label="model, replayed from the mean's first read")
    ax.set_xlabel("pulse within the cycle")
    ax.set_ylabel("conductance (µS)")
    ax.set_title(f"{label}: mean-cycle replay RMS {100 * rp.rel(rp.mean_cycle_rms_s):.3g} % of range "
                 f"(cycle spread {100 * rp.rel(rp.cycle_spread_rms_s):.3g} %)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    name = f"{_slug(label)}_cycles.png"
    fig.savefig(directory / name, dpi=110)
    plt.close(fig)
    return name


def write_report(
    directory: str | Path,
    fits: Sequence[tuple[str, PulseFit]],
    *,
    title: str = "memspice calibration report",
    held_out: Sequence[tuple[str, HeldOut]] = (),
    comparison: tuple[str, str] | None = None,
    statistics: DeviceStatistics | None = None,
    notes: Sequence[str] = (),
    plots: bool = True,
) -> Path:
    """Write report.md (and PNGs) into ``directory``; returns the path of report.md.

    ``fits``: (label, fit) pairs. ``held_out``: (label of the fit, HeldOut).
    ``comparison``: two fit labels whose parameters are compared side by side.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", ""]
    lines += [n for note in notes for n in (note, "")]
    by_label = dict(fits)
    if comparison is not None:
        a, b = comparison
        rows = compare_fits(by_label[a], by_label[b])
        lines += [f"## Comparison: {a} vs {b}", "",
                  f"| parameter | {a} | {b} | difference | rel. difference | difference / SE |",
                  "|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r.name} | {_fmt(r.value_a)} ± {_fmt(r.stderr_a)} | {_fmt(r.value_b)} ± {_fmt(r.stderr_b)} | "
                         f"{_fmt(r.difference)} | {100 * r.relative_difference:.3g} % | {r.z:.3g} |")
        lines += ["", "A difference above ~3 standard errors is a real difference, not fitting noise.", ""]
    for label, fit in fits:
        lines += _fit_section(directory, label, fit, plots)
        mine = [h for lab, h in held_out if lab == label]
        if mine:
            lines += [f"### {label}: held-out trains", "", "| train | RMS error | % of range | max error | R² |", "|---|---|---|---|---|"]
            for h in mine:
                e = h.evaluation
                lines.append(f"| {h.label} | {_fmt(e.rms_error_s)} S | {100 * e.rms_rel_range:.3g} % | {_fmt(e.max_error_s)} S | {e.r_squared:.5f} |")
            lines.append("")
            if plots:
                for h in mine:
                    lines += [f"![{h.label}]({_heldout_plot(directory, label, h)})", ""]
    if statistics is not None:
        lines += ["## Device-to-device statistics", "",
                  f"{len(statistics.fits)} devices: {', '.join(statistics.devices)}.", "",
                  "| parameter | mean | std (observed) | std (devices, fit error removed) | RMS fit error |",
                  "|---|---|---|---|---|"]
        for s in statistics.spreads:
            lines.append(f"| {s.name} | {_fmt(s.mean)} | {_fmt(s.std_observed)} | {_fmt(s.std_device)} | {_fmt(s.mean_stderr)} |")
        lines += ["", "Surrogate device-to-device fields written to the model: "
                  + ", ".join(f"{k} = {_fmt(v)}" for k, v in statistics.d2d.items()) + ".", ""]
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
