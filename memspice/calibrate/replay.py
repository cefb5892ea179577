"""How a fitted model replays the data it was fitted to: one-step, mean-cycle and per-cycle errors.

A fit's own RMS error (memspice.calibrate.pulsefit) is an output error with a
fitted initial state per train. Researchers judge a device model by more
than that, and the three figures here answer different questions:

``one_step_rms_s``     each read predicted from the previous *measured* read
                       with one mean step of the model: how good the step
                       law ΔG(G) is locally. Small even for a model that
                       drifts away over a long train.
``mean_cycle_rms_s``   the usual closed-loop check: the cycles of the data
                       (potentiation ramp then depression ramp) averaged
                       read by read into a mean cycle, and the model run
                       freely over that cycle's pulses from its first read.
                       A model whose step law is slightly off accumulates
                       the error along the ramp and shows it here.
``per_cycle_rms_s``    the same free run for every cycle from its own first
                       read (the spread says how different cycles are).
``cycle_spread_rms_s`` the data's own cycle-to-cycle spread: RMS deviation
                       of each cycle from the mean cycle (different start
                       states, read and write noise, drift between cycles).
                       When it is far above the per-cycle replay error, the
                       cycles differ mostly by where they start, which a
                       replay from each cycle's first read accounts for.

All are in siemens; the ``*_rel`` properties divide by the conductance range
of the data. The mean cycle is taken over the cycles with the most common
pulse pattern (cycles of other lengths are left out of it and counted).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.families import predict_pulse_trains
from memspice.calibrate.pulsefit import PulseFit, split_cycles
from memspice.surrogate import PulseModel

__all__ = ["ReplayFigures", "replay_figures", "one_step_predictions"]


@dataclass(frozen=True)
class ReplayFigures:
    """The replay errors of one fitted model on its data (module docstring)."""

    one_step_rms_s: float
    mean_cycle_rms_s: float
    per_cycle_rms_s: np.ndarray
    """One free-run RMS error per cycle (S)."""
    cycle_spread_rms_s: float
    n_cycles: int
    n_in_mean: int
    """Cycles with the common pulse pattern, averaged into the mean cycle."""
    g_range_s: float
    mean_cycle_s: np.ndarray
    """The mean cycle's reads (S)."""
    mean_replay_s: np.ndarray
    """The model's free run over the mean cycle (S)."""
    cycles: tuple[PulseData, ...]

    def rel(self, value_s: float) -> float:
        return float(value_s) / self.g_range_s

    def summary(self) -> dict:
        """Plain numbers (fractions of the data's conductance range) for the JSON and the model file."""
        per = self.per_cycle_rms_s / self.g_range_s
        return {
            "one_step_rms_rel_range": self.rel(self.one_step_rms_s),
            "mean_cycle_replay_rms_rel_range": self.rel(self.mean_cycle_rms_s),
            "per_cycle_replay_rms_rel_range_median": float(np.median(per)),
            "per_cycle_replay_rms_rel_range_p95": float(np.percentile(per, 95)),
            "cycle_to_cycle_spread_rel_range": self.rel(self.cycle_spread_rms_s),
            "cycles": self.n_cycles,
            "cycles_in_mean": self.n_in_mean,
        }


def one_step_predictions(model: PulseModel, g_prev_s: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The read after each pulse predicted from the measured read before it (one mean step, hard bounds)."""
    g = np.asarray(g_prev_s, dtype=np.float64)
    lo, rr = np.full(g.size, model.g_min_s), np.full(g.size, model.g_range_s)
    u = np.clip((g - model.g_min_s) / model.g_range_s, 0.0, 1.0)
    step = model.mean_step_s(u, np.asarray(up, dtype=bool), lo, rr)
    return model.g_min_s + np.clip(u + step / rr, 0.0, 1.0) * model.g_range_s


def replay_figures(model: PulseModel, fit: PulseFit) -> ReplayFigures:
    """The replay errors of ``model`` (usually ``fit.model``) on the trains of ``fit``."""
    pol = fit.potentiation_polarity
    cycles = tuple(c for d in fit.data for c in split_cycles(d, pol))
    ups = [c.directions(pol) for c in cycles]
    err = np.concatenate([c.conductance_s[1:] - one_step_predictions(model, c.conductance_s[:-1], u)
                          for c, u in zip(cycles, ups)])
    one_step = float(np.sqrt(np.mean(err ** 2)))
    runs = predict_pulse_trains(model, [c.conductance_s[0] for c in cycles], ups)
    per_cycle = np.array([np.sqrt(np.mean((c.conductance_s - r) ** 2)) for c, r in zip(cycles, runs)])
    patterns = Counter(u.tobytes() for u in ups)
    common = patterns.most_common(1)[0][0]
    members = [c for c, u in zip(cycles, ups) if u.tobytes() == common]
    stack = np.stack([c.conductance_s for c in members])
    mean_cycle = stack.mean(axis=0)
    up_common = next(u for u in ups if u.tobytes() == common)
    mean_replay = predict_pulse_trains(model, [mean_cycle[0]], [up_common])[0]
    g_all = np.concatenate([d.conductance_s for d in fit.data])
    return ReplayFigures(
        one_step_rms_s=one_step,
        mean_cycle_rms_s=float(np.sqrt(np.mean((mean_cycle - mean_replay) ** 2))),
        per_cycle_rms_s=per_cycle,
        cycle_spread_rms_s=float(np.sqrt(np.mean((stack - mean_cycle) ** 2))),
        n_cycles=len(cycles),
        n_in_mean=len(members),
        g_range_s=float(np.ptp(g_all)),
        mean_cycle_s=mean_cycle,
        mean_replay_s=mean_replay,
        cycles=tuple(members),
    )
