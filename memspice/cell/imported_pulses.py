"""Pulse trains on an imported Verilog-A device in VACASK: the protocol, the deck, the reads after each pulse.

The measurement is what a device lab does, run on the simulator: a train of
trapezoidal programming pulses, each followed by a small read. Between pulses
the device rests at 0 V; after each pulse the source ramps to ``v_read_v``,
holds it for ``read_s`` and ramps back, and the read conductance is
G = i / v_read in the middle of that plateau. So it works whether or not the
model exposes its state (the read conductance is always observable)::

    0 ─ read ─ rest ─ pulse 1 ─ rest ─ read ─ rest ─ pulse 2 ─ ...

:func:`measure_pulse_trains` runs several trains of one width in one VACASK
run, each cell on its own source. The grid of trains over amplitudes, widths
and starting states, and the surrogate made from it, are in
:mod:`memspice.calibrate.imported`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.errors import ParameterError
from memspice.external.importer import vacask_header
from memspice.external.model import ExternalModel, vacask_number
from memspice.spice import RunSettings, settings_or_default, simulate

__all__ = ["MeasuredTrain", "PulseProtocol", "measure_pulse_trains"]


@dataclass(frozen=True)
class PulseProtocol:
    """Timing of a measured pulse train (s); edges default to a tenth of the width.

    ``rest_s`` (default: the width) separates pulse and read; ``read_s``
    (default: the width) is the read plateau; ``steps_per_edge``: VACASK's
    largest time step is the shortest edge over this (at least 5, so
    an edge is resolved; threshold devices need more, see memspice.circuit.stimulus).
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
class MeasuredTrain:
    """Reads of one measured train: ``g_s`` (N + 1,) read conductance before the first and after each pulse;
    ``x`` the state at the same reads (None when the model exposes none)."""

    amplitudes_v: np.ndarray
    g_s: np.ndarray
    x: np.ndarray | None
    width_s: float

    def pulse_data(self, device: str = "device0", source: str = ""):
        """The train as calibration data (``memspice.calibrate.PulseData``)."""


def measure_pulse_trains(model: ExternalModel, trains, protocol: PulseProtocol, *, x0=None,
                     settings: RunSettings | None = None) -> list[MeasuredTrain]:
    """Run several pulse trains of one width in one VACASK run, each on its own cell and source.

    ``trains``: a list of amplitude sequences (V, signed; any lengths).
    ``x0``: one initial state per train (needs a settable state), or None for
    the model's own initial state. ``settings``: the time limit of the run
    (default :class:`~memspice.spice.RunSettings()`); the deck is VACASK's.
    """
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
        wave = ", ".join(f"{vacask_number(a)}, {vacask_number(b)}" for a, b in zip(t, v))
        lines.append(f'src{k} (a{k} 0) vsource dc=0 type="pwl" wave=[{wave}]')
        lines.append(model.vacask_instance(f"d{k}", f"a{k}", "0", None if x0 is None else x0[k]))
        saves.append(f"i(src{k})")
        if model.state.kind != "conductance":
            saves.append(model.vacask_state_save(f"d{k}"))
    step = vacask_number(protocol.max_step_s)
    lines += ["control"]
    lines += ["  save " + " ".join(saves[k:k + 16]) for k in range(0, len(saves), 16)]
    lines += [f"  analysis tran1 tran step={step} stop={vacask_number(t_stop)} maxstep={step}", "endc"]
    res = simulate("\n".join(lines) + "\n", settings_or_default(settings, engine="vacask"))
    out = []
    for k, amps in enumerate(trains):
        # the source's current is ngspice's sign (into its + terminal): the device current is -i
        g = -np.interp(reads[k], res.time, res.vectors[f"i(src{k})"]) / vr
        x = None
        if model.state.kind != "conductance":
            x = np.interp(reads[k], res.time, res.vectors[f"v(d{k}.{model.state.name})"])
        out.append(MeasuredTrain(amps, g, x, protocol.width_s))
    return out
