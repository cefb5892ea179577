"""Calibration experiments as values, and the waveforms they apply to one cell.

``PulseTrainExperiment``   N potentiation then N depression pulses (optionally
                           repeated), each followed by a small read pulse; the
                           result is the read conductance after every pulse (a PulseData).
``IVSweepExperiment``      a triangular or sine voltage sweep; the result is the
                           current along it (an IVData).
``PulseSweepExperiment``   a grid of pulse amplitudes x widths; for each,
                           ``n_pulses`` identical pulses from the same initial
                           state (each grid point is an independent
                           PulseTrainExperiment, so they run in parallel).

(They are experiments, not stimuli: the device-level pulse train is
``memspice.devices.waveforms.PulseTrain`` and a crossbar line's waveform is
``memspice.circuit.Waveform``; the corners a PulseTrainExperiment applies are a
:class:`PulseTrainWaveform`.)

A waveform is piecewise linear, given by its corner points; ngspice gets it as
a PWL source (every corner is a breakpoint of its time step control) and the
numpy engine integrates the same corners. Reads are sampled in the middle of
each read plateau, where the voltage is flat and below the model's switching
threshold, so the state is not disturbed and the exact sample instant does
not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.cell.single_cell import pwl_text
from memspice.errors import ParameterError

__all__ = ["PulseTrainExperiment", "IVSweepExperiment", "PulseSweepExperiment", "PulseTrainWaveform", "pulse_train_waveform",
           "iv_waveform"]


@dataclass(frozen=True)
class PulseTrainExperiment:
    """N potentiation then N depression pulses, each followed by a read.

    Amplitudes are the signed voltages on the cell (p minus n): which sign
    potentiates depends on the device (VTEAM's ON direction is negative).
    """

    amplitude_up_v: float
    """Signed amplitude of the first block of pulses (V)."""
    width_s: float
    """Flat-top width of each programming pulse (s)."""
    n_up: int = 20
    """Pulses in the first block."""
    n_down: int | None = None
    """Pulses in the second block (None: same as n_up; 0: no second block)."""
    amplitude_down_v: float | None = None
    """Signed amplitude of the second block (V); None: -amplitude_up_v."""
    cycles: int = 1
    """How many times the up/down block pair is repeated."""
    rise_s: float | None = None
    """Edge time of programming pulses (s); None: width/10."""
    read_v: float | None = None
    """Read voltage (V); None: the device model's v_read_v."""
    read_width_s: float | None = None
    """Flat-top width of each read (s); None: equal to width_s."""
    gap_s: float | None = None
    """Rest at 0 V between a pulse and its read, and after the read (s); None: width/5."""
    x0: float | None = None
    """Initial state of the device (model units); None: the model's default."""

    def __post_init__(self) -> None:
        for name in ("width_s",):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ParameterError(f"PulseTrainExperiment.{name} = {v!r}: must be a positive time in s.")
        for name in ("rise_s", "read_width_s", "gap_s"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v > 0):
                raise ParameterError(f"PulseTrainExperiment.{name} = {v!r}: must be a positive time in s "
                                     "(or None for the default).")
        if not np.isfinite(self.amplitude_up_v) or self.amplitude_up_v == 0:
            raise ParameterError(f"PulseTrainExperiment.amplitude_up_v = {self.amplitude_up_v!r}: give a non-zero voltage.")
        if self.amplitude_down_v is not None and (not np.isfinite(self.amplitude_down_v) or self.amplitude_down_v == 0):
            raise ParameterError(f"PulseTrainExperiment.amplitude_down_v = {self.amplitude_down_v!r}: give a non-zero voltage.")
        if int(self.n_up) != self.n_up or self.n_up < 1:
            raise ParameterError(f"PulseTrainExperiment.n_up = {self.n_up!r}: need at least 1 pulse.")
        if self.n_down is not None and (int(self.n_down) != self.n_down or self.n_down < 0):
            raise ParameterError(f"PulseTrainExperiment.n_down = {self.n_down!r}: must be an integer >= 0.")
        if int(self.cycles) != self.cycles or self.cycles < 1:
            raise ParameterError(f"PulseTrainExperiment.cycles = {self.cycles!r}: must be an integer >= 1.")

    @property
    def amplitude_down(self) -> float:
        return -self.amplitude_up_v if self.amplitude_down_v is None else self.amplitude_down_v

    @property
    def n_second(self) -> int:
        return self.n_up if self.n_down is None else int(self.n_down)

    @property
    def rise(self) -> float:
        return self.width_s / 10.0 if self.rise_s is None else self.rise_s

    @property
    def read_width(self) -> float:
        return self.width_s if self.read_width_s is None else self.read_width_s

    @property
    def gap(self) -> float:
        return self.width_s / 5.0 if self.gap_s is None else self.gap_s

    def amplitudes(self) -> np.ndarray:
        """Signed amplitude of every pulse, in order (V), shape (N,)."""
        block = [self.amplitude_up_v] * int(self.n_up) + [self.amplitude_down] * self.n_second
        return np.array(block * int(self.cycles), dtype=float)

    def describe(self) -> str:
        return (f"pulse train: {self.n_up} x {self.amplitude_up_v:g} V then {self.n_second} x {self.amplitude_down:g} V, "
                f"{self.cycles} cycle(s), width {self.width_s:g} s, edges {self.rise:g} s")


@dataclass(frozen=True)
class PulseTrainWaveform:
    """A piecewise-linear voltage waveform and the times at which the cell is read."""

    t_s: np.ndarray
    """Corner times (s), strictly increasing."""
    v_v: np.ndarray
    """Voltage at each corner (V)."""
    read_times_s: np.ndarray
    """Middle of each read plateau (s); the first is the initial read."""
    read_v: float
    amplitudes_v: np.ndarray
    """Signed amplitude of every programming pulse (V)."""
    rise_s: float
    """Shortest edge (s): the time step of a simulation must resolve it."""

    def pwl(self) -> str:
        """ngspice PWL source text: 'PWL(t0 v0 t1 v1 ...)'."""
        return pwl_text(self.t_s, self.v_v)


def pulse_train_waveform(exp: PulseTrainExperiment, read_v: float) -> PulseTrainWaveform:
    """The corners of ``exp``: initial read, then (pulse, gap, read, gap) per pulse."""
    if read_v == 0 or not np.isfinite(read_v):
        raise ParameterError(f"read voltage {read_v!r}: must be a non-zero finite voltage.")
    rise = exp.rise
    # read edges: as fast as the programming edges, but never longer than the plateau
    r_edge = min(rise, exp.read_width / 4.0)
    t: list[float] = [0.0]
    v: list[float] = [0.0]
    reads: list[float] = []

    def seg(dt: float, level: float) -> None:
        t.append(t[-1] + dt)
        v.append(level)

    def read() -> None:
        seg(r_edge, read_v)
        reads.append(t[-1] + exp.read_width / 2.0)
        seg(exp.read_width, read_v)
        seg(r_edge, 0.0)
        seg(exp.gap, 0.0)

    seg(exp.gap, 0.0)
    read()
    amps = exp.amplitudes()
    for a in amps:
        seg(rise, a)
        seg(exp.width_s, a)
        seg(rise, 0.0)
        seg(exp.gap, 0.0)
        read()
    return PulseTrainWaveform(t_s=np.array(t), v_v=np.array(v), read_times_s=np.array(reads), read_v=float(read_v),
                    amplitudes_v=amps, rise_s=float(min(rise, r_edge)))


@dataclass(frozen=True)
class IVSweepExperiment:
    """A voltage sweep 0 -> +amplitude -> -amplitude -> 0, repeated ``cycles`` times."""

    amplitude_v: float
    """Peak voltage (V)."""
    frequency_hz: float
    """Sweep frequency (Hz): one cycle lasts 1/frequency."""
    shape: str = "triangular"
    """"triangular" or "sine"."""
    cycles: int = 1
    points_per_cycle: int = 400
    """Samples per cycle (the result's resolution; simulators step finer where they must)."""
    x0: float | None = None
    """Initial state (model units); None: the model's default."""

    def __post_init__(self) -> None:
        if self.shape not in ("triangular", "sine"):
            raise ParameterError(f"IVSweepExperiment.shape = {self.shape!r}: choose 'triangular' or 'sine'.")
        if not (np.isfinite(self.amplitude_v) and self.amplitude_v > 0):
            raise ParameterError(f"IVSweepExperiment.amplitude_v = {self.amplitude_v!r}: must be a positive voltage.")
        if not (np.isfinite(self.frequency_hz) and self.frequency_hz > 0):
            raise ParameterError(f"IVSweepExperiment.frequency_hz = {self.frequency_hz!r}: must be positive.")
        if int(self.cycles) != self.cycles or self.cycles < 1:
            raise ParameterError(f"IVSweepExperiment.cycles = {self.cycles!r}: must be an integer >= 1.")
        if self.points_per_cycle < 8 or self.points_per_cycle % 4:
            raise ParameterError(f"IVSweepExperiment.points_per_cycle = {self.points_per_cycle!r}: must be a multiple of 4, >= 8.")


def iv_waveform(exp: IVSweepExperiment) -> tuple[np.ndarray, np.ndarray]:
    """(t_s, v_v) samples of the sweep; for "triangular" these are exactly its corners plus the grid."""
    n = exp.points_per_cycle * exp.cycles
    t = np.linspace(0.0, exp.cycles / exp.frequency_hz, n + 1)
    phase = (t * exp.frequency_hz) % 1.0
    if exp.shape == "sine":
        v = exp.amplitude_v * np.sin(2 * np.pi * phase)
    else:
        # 0 -> A at 1/4, -> -A at 3/4, -> 0 at 1
        v = exp.amplitude_v * np.where(phase < 0.25, 4 * phase, np.where(phase < 0.75, 2 - 4 * phase, 4 * phase - 4))
    v[-1] = 0.0
    return t, v


@dataclass(frozen=True)
class PulseSweepExperiment:
    """Pulse amplitude x width grid: ``n_pulses`` identical pulses per grid point, from one initial state."""

    amplitudes_v: tuple[float, ...]
    widths_s: tuple[float, ...]
    n_pulses: int = 10
    x0: float | None = None
    read_v: float | None = None

    def __post_init__(self) -> None:
        if not self.amplitudes_v or not self.widths_s:
            raise ParameterError("PulseSweepExperiment needs at least one amplitude and one width.")
        if self.n_pulses < 1:
            raise ParameterError(f"PulseSweepExperiment.n_pulses = {self.n_pulses!r}: need at least 1.")

    def trains(self) -> list[PulseTrainExperiment]:
        """One PulseTrainExperiment (up block only) per (amplitude, width), amplitude-major order."""
        return [
            PulseTrainExperiment(amplitude_up_v=a, width_s=w, n_up=self.n_pulses, n_down=0, x0=self.x0,
                                 read_v=self.read_v)
            for a in self.amplitudes_v
            for w in self.widths_s
        ]
