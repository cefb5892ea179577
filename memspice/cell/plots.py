"""Figures of one model: I-V hysteresis at three frequencies and the pulse response (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memspice.cell.hysteresis import loop_area, sine_drive
from memspice.cell.pulses import pulse_response

__all__ = ["plot_imported_model", "plot_model"]


def plot_model(model, path: str | Path, *, simulator: str = "numpy", rng: np.random.Generator | None = None,
               n_pulses: int = 100) -> dict:
    """Write a two-panel PNG to ``path``; returns the numbers plotted (loop areas, final states).

    Continuous models: pinched I-V loops at f, 4f, 16f (the model's
    characterisation drive) and the state/conductance after ``n_pulses``
    pulses, half potentiating, half depressing. Stochastic models: the pulse
    panel only (PCM: SET steps; CBRAM: switching probability against width).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_iv, ax_p) = plt.subplots(1, 2, figsize=(10, 4))
    summary: dict = {"model": model.name, "engine": simulator}  # JSON key of `models plot --json`
    c = getattr(getattr(model, "definition", None), "characterisation", None)
    if c is not None:
        areas = []
        for k in (1, 4, 16):
            f = c.sine_frequency_hz * k
            r = sine_drive(model, c.sine_amplitude_v, f, simulator=simulator)
            areas.append(loop_area(r))
            ax_iv.plot(r.v_v, r.i_a * 1e3, label=f"{f:.3g} Hz")
        ax_iv.set_xlabel("voltage (V)")
        ax_iv.set_ylabel("current (mA)")
        ax_iv.set_title(f"{model.name}: pinched hysteresis")
        ax_iv.legend()
        summary["loop_area_w"] = areas
        half = n_pulses // 2
        amps = np.r_[np.full(half, c.pulse_up_v), np.full(n_pulses - half, c.pulse_down_v)]
        pr = pulse_response(model, n_pulses, amps, c.pulse_width_s, simulator=simulator, rng=rng)
        ax_p.plot(pr.pulse_index, pr.g_s * 1e6, ".-")
        ax_p.set_ylabel(f"conductance at {model.v_read_v:g} V (uS)")
        ax_p.set_title(f"{half} x {c.pulse_up_v:g} V then {n_pulses - half} x {c.pulse_down_v:g} V, "
                       f"{c.pulse_width_s:.3g} s")
        summary["g_after_s"] = pr.g_s
    elif model.name == "pcm":
        rng = rng if rng is not None else np.random.default_rng(0)
        g = model.set_pulses(np.full(64, model.x_min), n_pulses, rng)
        ax_p.plot(np.arange(1, n_pulses + 1), g * 1e6, color="0.7", lw=0.5)
        ax_p.plot(np.arange(1, n_pulses + 1), g.mean(axis=1) * 1e6, "k", lw=2, label="mean of 64 devices")
        ax_p.set_ylabel("conductance (uS)")
        ax_p.set_title("PCM: SET pulses (Nandakumar 2018 statistics)")
        ax_p.legend()
        ax_iv.axis("off")
        summary["g_mean_after_s"] = g.mean(axis=1)
    else:  # cbram
        widths = np.logspace(-6, 0, 61)
        for v in (2.0, 2.4, 2.8):
            ax_p.semilogx(widths, model.switch_probability(v, widths), label=f"{v} V")
        ax_p.set_xlabel("pulse width (s)")
        ax_p.set_ylabel("P(switch)")
        ax_p.set_title("CBRAM: 1 - exp(-t / tau(V))")
        ax_p.legend()
        ax_iv.axis("off")
    if c is not None:
        ax_p.set_xlabel("pulse number")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    summary["path"] = str(path)
    return summary


def plot_imported_model(model, path: str | Path, *, n_states: int = 5) -> dict:
    """Two-panel PNG of an imported Verilog-A device (memspice.external.ExternalModel): its read table.

    Left: the current against voltage (within +-2 v_read) at ``n_states``
    states spread over the state range; right: the read conductance
    i(v_read, x)/v_read over the state. Every point is a VACASK operating point
    measured on import (no interpolation). Returns the numbers plotted. A
    device whose state is its read conductance has no table: ParameterError
    saying where its pulse response is plotted.
    """
    from memspice.errors import ParameterError

    table = model.table
    if table is None:
        raise ParameterError(f"{model.name}: the state is the read conductance (no state exposed), so there is no "
                             "read table to plot; re-import with --state NAME, or plot its pulse response with "
                             f"`memspice calibrate --from-spice {model.name} ... --report DIR`")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pick = np.unique(np.round(np.linspace(0, table.x.size - 1, n_states)).astype(int))
    k_read = int(np.argmin(np.abs(table.v_v - table.v_read_v)))
    g_read = table.i_a[k_read] / table.v_v[k_read]
    fig, (ax_iv, ax_g) = plt.subplots(1, 2, figsize=(10, 4))
    for m in pick:
        ax_iv.plot(table.v_v, table.i_a[:, m] * 1e6, ".-", label=f"{model.state_name} = {table.x[m]:.3g}")
    ax_iv.set_xlabel("voltage (V)")
    ax_iv.set_ylabel("current (uA)")
    ax_iv.set_title(f"{model.name}: read I-V (VACASK operating points)")
    ax_iv.legend()
    ax_g.plot(table.x, g_read * 1e6)
    ax_g.set_xlabel(f"state {model.state_name}")
    ax_g.set_ylabel(f"conductance at {table.v_read_v:g} V (uS)")
    ax_g.set_title("read conductance over the state")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return {"model": model.name, "engine": "vacask", "v_v": table.v_v, "x": table.x[pick], "i_a": table.i_a[:, pick],
            "x_table": table.x, "g_read_s": g_read, "path": str(path)}
