"""Pulse responses of an external Verilog-A device measured in VACASK, and the surrogate made from them.

The measurement is what a device lab does, run on the simulator: a train of
trapezoidal programming pulses, each followed by a small read. Between pulses
the device rests at 0 V; after each pulse the source ramps to ``v_read_v``,
holds it for ``read_s`` and ramps back, and the read conductance is
G = i / v_read in the middle of that plateau. So it works whether or not the
model exposes its state (the read conductance is always observable)::

    0 ─ read ─ rest ─ pulse 1 ─ rest ─ read ─ rest ─ pulse 2 ─ ...

:func:`measure_pulse_response` runs one train per (amplitude, width, starting
state) -- all trains of one width in one VACASK run, each cell on its own
source -- and returns a :class:`PulseResponseGrid`. From it:

* :meth:`PulseResponseGrid.tabulated` builds the surrogate's ``Tabulated``
  pulse model for one (up amplitude, down amplitude, width): every measured
  pulse is a sample (G before, G after - G before); for a deterministic device
  with one state variable and a conductance monotone in it, the step is a
  function of G, and the table holds every sample as a node, so nothing is
  fitted or smoothed;
* :meth:`PulseResponseGrid.pulse_data` gives the trains as calibration data
  (``memspice.calibrate.PulseData``), and :meth:`PulseResponseGrid.fit` applies
  the calibration issue's fitting (any family of ``memspice.calibrate.FAMILIES``).

Starting states: with a settable state (an init parameter), the trains start
from ``n_starts`` states spread over the state range; otherwise every train
starts from the model's own initial state, preceded by 0 ... n_pulses
conditioning pulses of the strongest amplitude of the opposite polarity, so
the trains still begin at several conductances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.devices.external import ExternalModel, _num, vacask_header
from memspice.errors import ParameterError

__all__ = ["PulseProtocol", "PulseResponseGrid", "TrainResult", "measure_pulse_response", "run_pulse_trains"]


@dataclass(frozen=True)
class PulseProtocol:
    """Timing of a measured pulse train (s); edges default to a tenth of the width.

    ``rest_s`` (default: the width) separates pulse and read; ``read_s``
    (default: the width) is the read plateau; ``steps_per_edge``: VACASK's
    largest time step is the shortest edge over this (ALGORITHMS.md asks for
    at least 5; threshold devices need more, see memspice.circuit.stimulus).
    """

    width_s: float
    rise_s: float | None = None
    fall_s: float | None = None
    rest_s: float | None = None
    read_s: float | None = None
    steps_per_edge: int = 10

    def __post_init__(self):
        if not (np.isfinite(self.width_s) and self.width_s > 0):
            raise ParameterError(f"pulse width_s = {self.width_s!r} must be a positive time (s)")
        for name in ("rise_s", "fall_s", "rest_s", "read_s"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, self.width_s / 10 if name in ("rise_s", "fall_s") else self.width_s)
            elif not (np.isfinite(value) and value > 0):
                raise ParameterError(f"{name} = {value!r} must be a positive time (s)")
        if int(self.steps_per_edge) != self.steps_per_edge or self.steps_per_edge < 5:
            raise ParameterError(f"steps_per_edge = {self.steps_per_edge!r} must be an integer >= 5")

    @property
    def edge_s(self) -> float:
        return min(self.rise_s, self.fall_s)

    @property
    def max_step_s(self) -> float:
        return self.edge_s / self.steps_per_edge

    def waveform(self, amplitudes_v, v_read_v: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t_s, v_v) breakpoints of the train and the (N + 1,) read times (middle of each read plateau)."""
        e = self.edge_s
        t, v, reads = [0.0], [0.0], []

        def seg(dt, level):
            t.append(t[-1] + dt)
            v.append(level)

        def read():
            seg(e, v_read_v)
            reads.append(t[-1] + self.read_s / 2)
            seg(self.read_s, v_read_v)
            seg(e, 0.0)

        read()
        for a in np.asarray(amplitudes_v, dtype=float):
            seg(self.rest_s, 0.0)
            seg(self.rise_s, a)
            seg(self.width_s, a)
            seg(self.fall_s, 0.0)
            seg(self.rest_s, 0.0)
            read()
        return np.array(t), np.array(v), np.array(reads)


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Reads of one measured train: ``g_s`` (N + 1,) read conductance before the first and after each pulse;
    ``x`` the state at the same reads (None when the model exposes none)."""

    amplitudes_v: np.ndarray
    g_s: np.ndarray
    x: np.ndarray | None
    width_s: float

    def pulse_data(self, device: str = "device0", source: str = ""):
        """The train as calibration data (``memspice.calibrate.PulseData``)."""
        from memspice.calibrate.data import PulseData

        n = self.amplitudes_v.size
        return PulseData(conductance_s=self.g_s, voltage_v=np.concatenate([[0.0], self.amplitudes_v]),
                         width_s=np.concatenate([[0.0], np.full(n, self.width_s)]), device=device, source=source)


def run_pulse_trains(model: ExternalModel, trains, protocol: PulseProtocol, *, x0=None,
                     timeout_s: float = 300.0) -> list[TrainResult]:
    """Run several pulse trains of one width in one VACASK run, each on its own cell and source.

    ``trains``: a list of amplitude sequences (V, signed; any lengths).
    ``x0``: one initial state per train (needs a settable state), or None for
    the model's own initial state.
    """
    from memspice.spice.vacask import Vacask  # later stage: imported on use

    trains = [np.atleast_1d(np.asarray(a, dtype=float)) for a in trains]
    if not trains or any(a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)) for a in trains):
        raise ParameterError("trains must be a non-empty list of 1-D arrays of finite pulse amplitudes (V)")
    if x0 is not None:
        x0 = list(np.broadcast_to(np.asarray(x0, dtype=float), (len(trains),)))
    vr = model.v_read_v
    lines = vacask_header(model, f"memspice pulse trains of {model.module}, width {protocol.width_s:g} s")
    saves, reads, t_stop = [], [], 0.0
    for k, amps in enumerate(trains):
        t, v, r = protocol.waveform(amps, vr)
        reads.append(r)
        t_stop = max(t_stop, t[-1])
        wave = ", ".join(f"{_num(a)}, {_num(b)}" for a, b in zip(t, v))
        lines.append(f'src{k} (a{k} 0) vsource dc=0 type="pwl" wave=[{wave}]')
        lines.append(model.vacask_instance(f"d{k}", f"a{k}", "0", None if x0 is None else x0[k]))
        saves.append(f"i(src{k})")
        if model.state.kind != "conductance":
            saves.append(model.vacask_state_save(f"d{k}"))
    step = _num(protocol.max_step_s)
    lines += ["control"]
    lines += ["  save " + " ".join(saves[k:k + 16]) for k in range(0, len(saves), 16)]
    lines += [f"  analysis tran1 tran step={step} stop={_num(t_stop)} maxstep={step}", "endc"]
    res = Vacask().run("\n".join(lines) + "\n", timeout_s=timeout_s)
    out = []
    for k, amps in enumerate(trains):
        # the source's current is ngspice's sign (into its + terminal): the device current is -i
        g = -np.interp(reads[k], res.time, res.vectors[f"i(src{k})"]) / vr
        x = None
        if model.state.kind != "conductance":
            x = np.interp(reads[k], res.time, res.vectors[f"v(d{k}.{model.state.name})"])
        out.append(TrainResult(amps, g, x, protocol.width_s))
    return out


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
        from memspice.calibrate.data import PulseData

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
        from memspice.surrogate import Tabulated

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
        from memspice.calibrate import fit_pulse_model

        data = self.pulse_data(amplitude_up_v, width_s) + self.pulse_data(amplitude_down_v, width_s)
        pol = 1 if amplitude_up_v > 0 else -1
        return fit_pulse_model(data, family, potentiation_polarity=pol, **kwargs)


def measure_pulse_response(model: ExternalModel, amplitudes_v, widths_s, *, n_pulses: int = 20,
                           n_starts: int = 5, starts=None, protocol: dict | None = None,
                           timeout_s: float = 300.0, change_tolerance: float = 1e-4) -> PulseResponseGrid:
    """Pulse trains of ``n_pulses`` for every amplitude x width x start, in VACASK.

    ``starts``: initial states (settable state; default ``n_starts`` states
    evenly over the state range) or, for a device whose state cannot be set,
    numbers of conditioning pulses (default ``n_starts`` counts from 0 to
    ``n_pulses``). ``protocol``: further :class:`PulseProtocol` fields
    (rise_s, fall_s, rest_s, read_s, steps_per_edge).

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
        results = run_pulse_trains(model, trains, proto, x0=x0 if kind == "state" else None, timeout_s=timeout_s)
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
