"""The surrogate's prediction of an update: per-pulse conductance steps, per pulse amplitude.

The surrogate tile (memspice.surrogate) knows a device by a pulse-update
model: the mean conductance step of one pulse as a function of G. A real
array applies pulses of several amplitudes at once -- V on the selected
cells, V/2 (or V/3, -V/3) on the half-selected ones -- so the prediction of
a whole update needs one pulse model per amplitude. A :class:`PulseLevel`
binds a signed cell voltage to a model (and to which of the model's two
directions that voltage is); a :class:`CellSurrogate` is a set of levels.
The prediction walks the schedule slot by slot and applies to each cell the
mean step of the level it sees (nominal voltage, no IR drop -- the
surrogate's view of the array), each step stopping at the model's bounds:
the noise-free per-pulse engine of memspice.surrogate (as
memspice.calibrate.predict_pulse_train does for one device).

That is the wire-blind view. :class:`ArraySurrogate` is the array-aware
one (the default of validate-update): per slot, the device voltage of every
cell from a nodal solve of the crossbar's write circuit and a pulse response
over amplitude tabulated from the compact model
(memspice.surrogate.array_write).

Builders: :func:`array_surrogate` (array-aware), :func:`tabulated_surrogate`
(wire-blind, every level tabulated from the compact model with
:func:`memspice.surrogate.tabulate_compact_model`) and
:func:`calibrated_surrogate` (wire-blind, the programming levels fitted to
ngspice pulse trains with :func:`memspice.calibrate.calibrate_compact_model`,
the half-select levels tabulated).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from memspice.circuit import PulseShape
from memspice.circuit.network import Topology
from memspice.errors import ParameterError
from memspice.surrogate import PulseModel, tabulate_compact_model
from memspice.surrogate.array_write import WriteArray, amplitude_response, predict_schedule

__all__ = ["PulseLevel", "CellSurrogate", "ArraySurrogate", "array_surrogate", "tabulated_surrogate",
           "calibrated_surrogate", "tabulate_level", "schedule_span_v"]


@dataclass(frozen=True)
class PulseLevel:
    """One pulse amplitude and the pulse model of its step."""

    amplitude_v: float  #: signed plateau voltage on the cell (V)
    model: PulseModel | None  #: mean conductance step of one pulse over G; None: G never changes (a fixed resistor)
    up: bool  #: True: this amplitude is the model's potentiation pulse (dG >= 0), False: depression
    source: str = ""  #: where the model comes from (tabulated, calibrated against ngspice, ...)
    outside: PulseModel | None = None  #: the step for conductances outside ``model``'s range (None: an error)


@dataclass(frozen=True)
class CellSurrogate:
    """Pulse models per amplitude; ``tolerance_v`` matches a schedule's voltages to the levels."""

    levels: tuple[PulseLevel, ...]
    tolerance_v: float = 1e-6

    def __post_init__(self):
        object.__setattr__(self, "levels", tuple(self.levels))
        amps = [lv.amplitude_v for lv in self.levels]
        if len(set(np.round(amps, 9))) != len(amps):
            raise ParameterError(f"two pulse levels share an amplitude: {amps}")

    def level(self, amplitude_v: float) -> PulseLevel:
        for lv in self.levels:
            if abs(lv.amplitude_v - amplitude_v) <= self.tolerance_v:
                return lv
        raise ParameterError(
            f"the surrogate has no pulse model for a {amplitude_v:g} V pulse (it has "
            f"{', '.join(f'{lv.amplitude_v:g} V' for lv in self.levels) or 'none'}); "
            "build it with tabulated_surrogate(model, [...amplitudes...], pulse) including this one"
        )

    def predict(self, g_s: np.ndarray, cell_levels_v: np.ndarray) -> np.ndarray:
        """Conductances (S) after the slots: ``g_s`` (rows, cols) before, ``cell_levels_v`` (K, rows, cols).

        A 0 V entry is no pulse. Steps follow the order of the slots.
        """
        g = np.array(g_s, dtype=float)
        lv = np.asarray(cell_levels_v, dtype=float)
        if lv.ndim != 3 or lv.shape[1:] != g.shape:
            raise ParameterError(f"cell_levels_v must be (K, {g.shape[0]}, {g.shape[1]}), got {lv.shape}")
        for k in range(lv.shape[0]):
            for amp in np.unique(lv[k][lv[k] != 0]):
                level = self.level(float(amp))
                if level.model is None:
                    continue
                hit = lv[k] == amp
                g[hit] = _step_level(level, g[hit])
        return g

    kind = "wire-blind"

    def predict_schedule(self, g_s: np.ndarray, schedule, v_out: np.ndarray | None = None) -> np.ndarray:
        """:meth:`predict` of a schedule's nominal cell levels; ``v_out`` gets those nominal levels."""
        lv = schedule.cell_levels_v()
        if v_out is not None:
            v_out[...] = lv
        return self.predict(g_s, lv)

    def describe(self) -> list[dict]:
        return [{"amplitude_v": lv.amplitude_v, "model": type(lv.model).__name__ if lv.model is not None else "none", "direction": "up" if lv.up else "down",
                 "source": lv.source} for lv in self.levels]


def _step_level(level: PulseLevel, g_s: np.ndarray) -> np.ndarray:
    """One pulse of ``level``: its model inside its range, ``level.outside`` (if any) beyond it."""
    if level.outside is None:
        return step_once(level.model, g_s, level.up)
    m = level.model
    tol = 1e-9 * m.g_range_s
    inside = (g_s >= m.g_min_s - tol) & (g_s <= m.g_max_s + tol)
    out = np.empty_like(g_s)
    out[inside] = step_once(m, g_s[inside], level.up)
    out[~inside] = step_once(level.outside, g_s[~inside], level.up)
    return out


def step_once(model: PulseModel, g_s: np.ndarray, up: bool) -> np.ndarray:
    """Mean conductance after one pulse of the nominal device (S), stopping at [g_min_s, g_max_s]."""
    lo, r = model.g_min_s, model.g_range_s
    u = (np.asarray(g_s, dtype=float) - lo) / r
    out = (u < -1e-9) | (u > 1 + 1e-9)
    if np.any(out):
        bad = float(np.asarray(g_s)[out].flat[0])
        raise ParameterError(
            f"a conductance of {bad:g} S lies outside the pulse model's range [{lo:g}, {model.g_max_s:g}] S; "
            "the surrogate cannot predict it (tabulate the model over the device's whole range)"
        )
    u = np.clip(u, 0.0, 1.0)  # rounding only (|excess| < 1e-9 of the range, checked above)
    n = u.size
    step = model.mean_step_s(u, np.full(n, bool(up)), np.full(n, lo), np.full(n, r))
    return lo + np.clip(u + step / r, 0.0, 1.0) * r


def tabulate_level(model, amplitude_v: float, pulse: PulseShape, *, n_points: int = 201) -> PulseLevel:
    """A level for ``amplitude_v`` tabulated from the compact model (its numpy integrator, one pulse).

    memspice.surrogate.tabulate_compact_model tabulates a pair (up, down);
    the pair here is (amplitude, -amplitude) in the order that makes "up"
    raise the conductance, and the half that belongs to ``amplitude_v`` is kept.
    """
    a = float(amplitude_v)
    g_ends = np.asarray(model.conductance(np.array([model.x_min, model.x_max])), dtype=float)
    if g_ends[0] == g_ends[1]:  # the conductance does not depend on the state: nothing to tabulate
        return PulseLevel(a, None, True, source=f"{model.name}: conductance independent of the state, no change")
    kw = dict(rise_s=pulse.rise_s, fall_s=pulse.fall_s, n_points=n_points)
    try:
        tab = tabulate_compact_model(model, a, -a, pulse.width_s, **kw)
        up = True
    except ParameterError:
        tab = tabulate_compact_model(model, -a, a, pulse.width_s, **kw)
        up = False
    return PulseLevel(a, tab, up, source=f"tabulated from {model.name} (numpy, one {a:g} V pulse)")


def tabulated_surrogate(model, amplitudes_v: Iterable[float], pulse: PulseShape, *, n_points: int = 201) -> CellSurrogate:
    """Levels for every amplitude in ``amplitudes_v`` (0 ignored), each tabulated from ``model``."""
    amps = sorted({round(float(a), 12) for a in amplitudes_v if a != 0})
    return CellSurrogate(tuple(tabulate_level(model, a, pulse, n_points=n_points) for a in amps))


def schedule_amplitudes(schedule) -> list[float]:
    """The distinct non-zero nominal cell voltages of a schedule (V)."""
    lv = schedule.cell_levels_v()
    return sorted({round(float(a), 12) for a in np.unique(lv[lv != 0])})


def calibrated_surrogate(model, schedule, amplitude_up_v: float, amplitude_down_v: float, *, n_pulses: int = 30,
                         x0: float | None = None, where=None, n_nodes: int = 9, workers: int | None = 1,
                         progress: bool = False):
    """A surrogate whose programming levels are fitted to ngspice pulse trains of the compact model.

    ``amplitude_up_v`` raises the conductance, ``amplitude_down_v`` lowers it
    (signed cell voltages). One pulse train of ``n_pulses`` up then
    ``n_pulses`` down pulses with the schedule's pulse shape (edges = the
    rise time; the fall time must equal it) is run on one cell in ngspice
    (``where``, default memspice.calibrate.SpiceCell()) and the "tabulated"
    family is fitted (memspice.calibrate.calibrate_compact_model). Every other
    amplitude of ``schedule`` (the half-select levels) is tabulated from the
    compact model. Returns (CellSurrogate, Calibration).
    """
    from memspice.calibrate import PulseTrainExperiment, calibrate_compact_model

    p = schedule.pulse
    if not np.isclose(p.rise_s, p.fall_s, rtol=1e-9):
        raise ParameterError(
            f"calibration pulse trains have equal edges; the schedule's rise {p.rise_s:g} s and fall {p.fall_s:g} s differ"
        )
    train = PulseTrainExperiment(amplitude_up_v=float(amplitude_up_v), width_s=p.width_s, n_up=int(n_pulses),
                                 amplitude_down_v=float(amplitude_down_v), rise_s=p.rise_s, x0=x0)
    cal = calibrate_compact_model(model, train, "tabulated", where=where, n_nodes=n_nodes, workers=workers,
                                  progress=progress)
    src = f"calibrated: {cal.provenance.get('source', 'ngspice')}, tabulated family, {n_nodes} nodes"
    levels = [PulseLevel(float(a), cal.model, up, src + "; outside its window: tabulated from the compact model",
                         outside=tabulate_level(model, a, p).model)
              for a, up in ((float(amplitude_up_v), True), (float(amplitude_down_v), False))]
    for a in schedule_amplitudes(schedule):
        if not any(abs(a - lv.amplitude_v) <= 1e-6 for lv in levels):
            levels.append(tabulate_level(model, a, p))
    return CellSurrogate(tuple(levels)), cal


@dataclass(frozen=True, eq=False)
class ArraySurrogate:
    """The array-aware surrogate: a crossbar's write circuit (nodal) and an amplitude response."""

    array: WriteArray
    corrector: bool = True  #: re-solve at the mid-pulse conductances (memspice.surrogate.array_write.predict_schedule)
    kind = "array-aware"

    def predict_schedule(self, g_s: np.ndarray, schedule, v_out: np.ndarray | None = None) -> np.ndarray:
        """Conductances after ``schedule``; ``v_out`` (K, rows, cols) gets the device plateau voltages."""
        return predict_schedule(self.array, g_s, schedule.row_levels_v, schedule.col_levels_v,
                                corrector=self.corrector, v_out=v_out)

    def describe(self) -> list[dict]:
        t = self.array.topology
        return [{"kind": self.kind, "response": self.array.response.source,
                 "wires_ohm": [t.row_wire_ohm, t.col_wire_ohm], "contact_ohm": t.contact_ohm,
                 "driver_ohm": t.driver_ohm, "corrector": self.corrector}]


def schedule_span_v(schedule) -> float:
    """Largest difference between two line levels of one slot (V): no device of the array sees more."""
    lv = np.concatenate([schedule.row_levels_v, schedule.col_levels_v], axis=1)
    return float(np.max(lv.max(axis=1) - lv.min(axis=1)))


def array_surrogate(crossbar, schedule, *, n_states: int = 201, n_coarse: int = 61, n_fine: int = 121,
                    corrector: bool = True) -> ArraySurrogate:
    """The array-aware surrogate of ``crossbar`` (its wires, contacts, drivers) for ``schedule``'s pulses.

    The amplitude response spans the schedule's largest line-to-line voltage
    (a bound on any device voltage of a resistive array), refined between 0
    and each of the schedule's nominal cell voltages
    (memspice.surrogate.array_write.amplitude_grid).
    """
    span = schedule_span_v(schedule)
    if span <= 0:
        raise ParameterError("the schedule applies no voltage (every line at 0 V in every slot)")
    resp = amplitude_response(crossbar.model, schedule.pulse, span * (1 + 1e-6), nominal_v=schedule_amplitudes(schedule),
                              n_states=n_states, n_coarse=n_coarse, n_fine=n_fine)
    return ArraySurrogate(WriteArray(Topology.of(crossbar), resp), corrector=corrector)

