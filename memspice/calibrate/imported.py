"""Pulse responses of an imported Verilog-A device measured in VACASK, and the surrogate and fits made from them.

:func:`measure_pulse_response` runs one train per (amplitude, width, starting
state) -- the trains of one width in one VACASK run
(:func:`memspice.cell.imported_pulses.measure_pulse_trains`) -- and returns
a :class:`PulseResponseGrid`. From it:

* :meth:`PulseResponseGrid.tabulated` builds the surrogate's ``Tabulated``
  pulse model for one (up amplitude, down amplitude, width): every measured
  pulse is a sample (G before, G after - G before); for a deterministic device
  with one state variable and a conductance monotone in it, the step is a
  function of G, and the table holds every sample as a node, so nothing is
  fitted or smoothed;
* :meth:`PulseResponseGrid.pulse_data` gives the trains as calibration data
  (``memspice.calibrate.PulseData``), and :meth:`PulseResponseGrid.fit` applies
  the calibration fitting (any family of ``memspice.calibrate.FAMILIES``);
  :func:`measured_pulse_data` does the same for one measured train.

Starting states: with a settable state (an init parameter), the trains start
from ``n_starts`` states spread over the state range; otherwise every train
starts from the model's own initial state, preceded by 0 ... n_pulses
conditioning pulses of the strongest amplitude of the opposite polarity, so
the trains still begin at several conductances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.pulsefit import fit_pulse_model
from memspice.cell.imported_pulses import MeasuredTrain, PulseProtocol, measure_pulse_trains
from memspice.errors import ParameterError
from memspice.external.model import ExternalModel
from memspice.spice import RunSettings
from memspice.surrogate import Tabulated

__all__ = ["PulseResponseGrid", "measure_pulse_response", "measured_pulse_data"]


def measured_pulse_data(train: MeasuredTrain, device: str = "device0", source: str = "") -> PulseData:
    """One measured train as calibration data (a ``PulseData``)."""
    n = train.amplitudes_v.size
    return PulseData(conductance_s=train.g_s, voltage_v=np.concatenate([[0.0], train.amplitudes_v]),
                     width_s=np.concatenate([[0.0], np.full(n, train.width_s)]), device=device, source=source)


@dataclass(frozen=True, eq=False)
class PulseResponseGrid:
    """Measured pulse responses: ``g_s[a, w, s, k]`` read conductance after pulse k (k = 0: before the first)
    of the train at amplitude ``amplitudes_v[a]``, width ``widths_s[w]``, start ``s``.

    ``starts``: the initial states (settable state) or the numbers of
    conditioning pulses before each train (state not settable). ``x`` holds the
    states at the same reads when the model exposes its state.
    """

    model_name: str
    amplitudes_v: np.ndarray
    widths_s: np.ndarray
    starts: np.ndarray
    g_s: np.ndarray
    x: np.ndarray | None
    v_read_v: float
    start_kind: str  #: "state" or "conditioning pulses"

    def _index(self, amplitude_v: float, width_s: float) -> tuple[int, int]:
        a = np.flatnonzero(np.isclose(self.amplitudes_v, amplitude_v, rtol=1e-9, atol=1e-12))
        w = np.flatnonzero(np.isclose(self.widths_s, width_s, rtol=1e-9, atol=0))
        if a.size == 0 or w.size == 0:
            raise ParameterError(
                f"{self.model_name}: no measurement at amplitude {amplitude_v:g} V, width {width_s:g} s; measured "
                f"amplitudes {', '.join(f'{x:g}' for x in self.amplitudes_v)} V, widths "
                f"{', '.join(f'{x:g}' for x in self.widths_s)} s")
        return int(a[0]), int(w[0])

    def trains(self, amplitude_v: float, width_s: float) -> np.ndarray:
        """(starts, N + 1) conductances of the trains at one amplitude and width."""
        a, w = self._index(amplitude_v, width_s)
        return self.g_s[a, w]

    def mean_change_s(self) -> np.ndarray:
        """(amplitudes, widths) mean conductance change per pulse (S), over all starts."""
        return np.mean(np.diff(self.g_s, axis=-1), axis=(-2, -1))

    def potentiation_polarity(self, width_s: float | None = None) -> int:
        """+1 when positive pulses raise the conductance, -1 when negative ones do."""
        dg = self.mean_change_s()
        if width_s is not None:
            dg = dg[:, [self._index(self.amplitudes_v[0], width_s)[1]]]
        score = float(np.sum(np.sign(self.amplitudes_v)[:, None] * dg))
        return 1 if score >= 0 else -1

    def pulse_data(self, amplitude_v: float, width_s: float) -> tuple:
        """The trains at one amplitude and width as ``memspice.calibrate.PulseData`` (one per start)."""
        g = self.trains(amplitude_v, width_s)
        n = g.shape[1] - 1
        return tuple(
            PulseData(conductance_s=g[s], voltage_v=np.concatenate([[0.0], np.full(n, amplitude_v)]),
                      width_s=np.concatenate([[0.0], np.full(n, width_s)]), device=f"{self.model_name}-start{s}",
                      source=f"VACASK, {self.model_name}, start {self.start_kind} {self.starts[s]:g}")
            for s in range(g.shape[0])
        )

    def tabulated(self, amplitude_up_v: float, amplitude_down_v: float, width_s: float, **pulse_model_fields):
        """The surrogate's ``Tabulated`` pulse model from the measured steps (every sample a table node).

        ``amplitude_up_v`` must raise the conductance and ``amplitude_down_v``
        lower it (ParameterError otherwise, naming the measured change).
        Device-to-device and cycle-to-cycle fields of ``PulseModel`` may be
        given as keywords (none by default, like the deterministic model).
        """
        samples = {}
        for label, amp in (("up", amplitude_up_v), ("down", amplitude_down_v)):
            g = self.trains(amp, width_s)
            samples[label] = (g[:, :-1].ravel(), np.diff(g, axis=1).ravel())
        g_all = np.concatenate([self.trains(a, width_s).ravel() for a in (amplitude_up_v, amplitude_down_v)])
        lo, hi = float(g_all.min()), float(g_all.max())
        span = hi - lo
        if span <= 0:
            raise ParameterError(f"{self.model_name}: the conductance never changes at {amplitude_up_v:g} V / "
                                 f"{amplitude_down_v:g} V, width {width_s:g} s")
        # The integrator's tolerance leaves ~1e-4 of the range of noise on a step that should be 0
        # (a saturated device); larger steps of the wrong sign mean the pulse moves the device both ways.
        tol = 2e-3 * span
        for label, (_, dg) in samples.items():
            wrong = dg < -tol if label == "up" else dg > tol
            if np.mean(dg) * (1 if label == "up" else -1) <= 0 or np.any(wrong):
                amp = amplitude_up_v if label == "up" else amplitude_down_v
                raise ParameterError(
                    f"{self.model_name}: the {label} pulse ({amp:g} V, {width_s:g} s) does not move the conductance "
                    f"{'up' if label == 'up' else 'down'} everywhere (mean change {np.mean(dg):.3g} S, "
                    f"{int(np.sum(wrong))} step(s) of the wrong sign); swap the amplitudes or pick others")
        nodes = np.unique(np.concatenate([samples["up"][0], samples["down"][0], [lo, hi]]))
        tables = {}
        for label, (gb, dg) in samples.items():
            order = np.argsort(gb, kind="stable")
            gb_u, inv = np.unique(gb[order], return_inverse=True)
            dg_u = np.bincount(inv, weights=dg[order]) / np.bincount(inv)  # one value per repeated G
            tables[label] = np.interp(nodes, gb_u, dg_u)
        up = np.maximum(tables["up"], 0.0)
        dn = np.minimum(tables["down"], 0.0)
        fields = dict(g_min_s=lo, g_max_s=hi)
        fields.update(pulse_model_fields)
        return Tabulated(g_table_s=tuple(map(float, nodes)), dg_up_table_s=tuple(map(float, up)),
                         dg_down_table_s=tuple(map(float, dn)),
                         source=(f"{self.model_name} measured in VACASK: up {amplitude_up_v:g} V, down "
                                 f"{amplitude_down_v:g} V, width {width_s:g} s, read at {self.v_read_v:g} V"),
                         **fields)

    def fit(self, family: str, amplitude_up_v: float, amplitude_down_v: float, width_s: float, **kwargs):
        """``memspice.calibrate.fit_pulse_model`` on the trains of the two amplitudes (a ``PulseFit``)."""
        data = self.pulse_data(amplitude_up_v, width_s) + self.pulse_data(amplitude_down_v, width_s)
        pol = 1 if amplitude_up_v > 0 else -1
        return fit_pulse_model(data, family, potentiation_polarity=pol, **kwargs)


def measure_pulse_response(model: ExternalModel, amplitudes_v, widths_s, *, n_pulses: int = 20,
                           n_starts: int = 5, starts=None, protocol: dict | None = None,
                           settings: RunSettings | None = None, change_tolerance: float = 1e-4) -> PulseResponseGrid:
    """Pulse trains of ``n_pulses`` for every amplitude x width x start, in VACASK.

    ``starts``: initial states (settable state; default ``n_starts`` states
    evenly over the state range) or, for a device whose state cannot be set,
    numbers of conditioning pulses (default ``n_starts`` counts from 0 to
    ``n_pulses``). ``protocol``: further :class:`PulseProtocol` fields
    (rise_s, fall_s, rest_s, read_s, steps_per_edge). ``settings``: the time
    limit of each VACASK run (default :class:`~memspice.spice.RunSettings()`).

    A model whose read conductance changes by less than ``change_tolerance``
    (relative) under every pulse tried raises ParameterError naming the
    amplitudes and widths.
    """
    amps = np.atleast_1d(np.asarray(amplitudes_v, dtype=float))
    widths = np.atleast_1d(np.asarray(widths_s, dtype=float))
    if amps.ndim != 1 or amps.size == 0 or np.any(~np.isfinite(amps)) or np.any(amps == 0):
        raise ParameterError(f"amplitudes_v must be non-zero finite voltages, got {amplitudes_v!r}")
    if widths.ndim != 1 or widths.size == 0 or np.any(~(widths > 0)):
        raise ParameterError(f"widths_s must be positive times, got {widths_s!r}")
    if int(n_pulses) != n_pulses or n_pulses < 1:
        raise ParameterError(f"n_pulses = {n_pulses!r} must be an integer >= 1")
    n_pulses = int(n_pulses)
    if model.settable:
        kind = "state"
        start_values = (np.linspace(model.x_min, model.x_max, int(n_starts)) if starts is None
                        else np.atleast_1d(np.asarray(starts, dtype=float)))
        for s in start_values:
            model.check_state(s, "start state")
    else:
        kind = "conditioning pulses"
        start_values = (np.unique(np.round(np.linspace(0, n_pulses, int(n_starts)))) if starts is None
                        else np.atleast_1d(np.asarray(starts, dtype=float)))
        if np.any(start_values < 0) or np.any(start_values != np.round(start_values)):
            raise ParameterError(f"starts = {starts!r}: numbers of conditioning pulses must be integers >= 0")
    g = np.empty((amps.size, widths.size, start_values.size, n_pulses + 1))
    x = np.empty_like(g) if model.state.kind != "conductance" else None
    for w, width in enumerate(widths):
        proto = PulseProtocol(float(width), **(protocol or {}))
        trains, x0, where = [], [], []
        for a, amp in enumerate(amps):
            opposite = amps[np.sign(amps) != np.sign(amp)]
            pre_amp = opposite[np.argmax(np.abs(opposite))] if opposite.size else None
            for s, start in enumerate(start_values):
                pre = np.full(int(start), pre_amp) if kind != "state" and pre_amp is not None else np.empty(0)
                trains.append(np.concatenate([pre, np.full(n_pulses, amp)]))
                x0.append(start if kind == "state" else np.nan)
                where.append((a, s, pre.size))
        results = measure_pulse_trains(model, trains, proto, x0=x0 if kind == "state" else None, settings=settings)
        for (a, s, n_pre), r in zip(where, results):
            g[a, w, s] = r.g_s[n_pre:]
            if x is not None:
                x[a, w, s] = r.x[n_pre:]
    scale = float(np.max(np.abs(g)))
    biggest = float(np.max(np.abs(np.diff(g, axis=-1))))
    if not biggest > change_tolerance * scale:
        raise ParameterError(
            f"{model.module}: the pulse response never changes: pulses of {', '.join(f'{a:g}' for a in amps)} V "
            f"and widths {', '.join(f'{w:g}' for w in widths)} s move the read conductance by at most "
            f"{biggest:.3g} S ({biggest / scale if scale else 0:.2g} of it); try larger amplitudes or longer pulses, "
            "or check the model's state equation")
    return PulseResponseGrid(model.name, amps, widths, start_values, g, x, model.v_read_v, kind)
