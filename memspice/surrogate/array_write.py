"""Array-aware writes: the voltage every cell really sees, and a pulse response over amplitude.

A write on a real crossbar does not put the nominal voltage on its cells.
Wire segments, drivers and contacts drop part of it, the more the more cells
conduct at once, and the half-selected cells see their own, also reduced,
voltage. Two pieces model that here:

* :class:`AmplitudeResponse` -- the conductance after one pulse as a function
  of the conductance before and of the *device* voltage on the plateau,
  tabulated from a compact model's numpy integrator on a grid of states and
  amplitudes (both polarities, 0 V included). Bilinear interpolation of the
  after-pulse conductance: every table entry lies inside the compact model's
  conductance range, so every interpolated value does too (the tile's range
  is the device's, nothing is clipped). The same table holds the device's
  chord conductance i(v, x)/v at each amplitude, for devices whose current is
  not linear in v.
* :class:`WriteArray` -- per-slot device voltages of a write schedule, solved
  with memspice.circuit's nodal solver on the element table the netlist
  writers print (every row and column driven, wires, drivers, contacts). A
  device enters with its chord conductance at the voltage it sees; for a
  non-linear I-V the chord is iterated to a fixed point (a few passes).

:func:`predict_schedule` walks a schedule slot by slot with both: solve the
array at the conductances before the slot, step every cell (programmed,
half-selected and unselected alike: disturb is predicted, not assumed zero)
with the response at its own voltage, then re-solve at the mid-pulse
conductances and repeat the step from the start (a predictor-corrector for
the cells that move a lot within one pulse). Because all lines of a schedule
ramp together, a linear array scales the whole trapezoid: the device sees
the nominal pulse shape with its own plateau value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from memspice.circuit.network import DRIVEN, Topology
from memspice.circuit.nodal import NodalSolver
from memspice.errors import ParameterError
from memspice.surrogate.tabulated import single_pulse_waveform

__all__ = ["AmplitudeResponse", "WriteArray", "amplitude_grid", "amplitude_response", "predict_schedule", "write_topology"]

#: relative slack on the table's conductance range and amplitude span (rounding of the inputs only)
_SLACK = 1e-9


@dataclass(frozen=True, eq=False)
class AmplitudeResponse:
    """G after one pulse over (G before, device plateau voltage); see the module docstring."""

    g_grid_s: np.ndarray  #: (n_g,) conductances at the tabulated states, strictly increasing (S); one entry: a fixed resistor
    v_grid_v: np.ndarray  #: (n_v,) device plateau voltages, strictly increasing, containing 0 (V)
    g_after_s: np.ndarray  #: (n_v, n_g) conductance after one pulse (S)
    chord_s: np.ndarray  #: (n_v, n_g) chord conductance i(v, x)/v at each amplitude (the read chord at 0 V) (S)
    width_s: float  #: pulse plateau (s)
    rise_s: float  #: rising edge (s)
    fall_s: float  #: falling edge (s)
    source: str = ""  #: what the table was made from

    @property
    def g_min_s(self) -> float:
        return float(self.g_grid_s[0])

    @property
    def g_max_s(self) -> float:
        return float(self.g_grid_s[-1])

    @property
    def v_span_v(self) -> tuple[float, float]:
        return float(self.v_grid_v[0]), float(self.v_grid_v[-1])

    def _weights(self, g_s, v_v):
        g = np.asarray(g_s, dtype=float)
        v = np.asarray(v_v, dtype=float)
        lo, hi = self.g_min_s, self.g_max_s
        tol = _SLACK * ((hi - lo) or hi)
        if np.any((g < lo - tol) | (g > hi + tol)) or not np.all(np.isfinite(g)):
            bad = g[~((g >= lo - tol) & (g <= hi + tol))].flat[0]
            raise ParameterError(
                f"a conductance of {bad:g} S lies outside the device's range [{lo:g}, {hi:g}] S of this "
                "amplitude response; tabulate it from the compact model the array holds"
            )
        v_lo, v_hi = self.v_span_v
        vtol = _SLACK * (v_hi - v_lo)
        if np.any((v < v_lo - vtol) | (v > v_hi + vtol)) or not np.all(np.isfinite(v)):
            bad = v[~((v >= v_lo - vtol) & (v <= v_hi + vtol))].flat[0]
            raise ParameterError(
                f"a device voltage of {bad:g} V is outside the amplitude response's span [{v_lo:g}, {v_hi:g}] V; "
                "build it with amplitude_response(model, pulse, v_max_v=...) covering the write's largest voltage"
            )
        vi = np.clip(np.searchsorted(self.v_grid_v, v, side="right") - 1, 0, self.v_grid_v.size - 2)
        v0, v1 = self.v_grid_v[vi], self.v_grid_v[vi + 1]
        if self.g_grid_s.size == 1:  # a fixed resistor: one column, read twice
            gi, a = np.zeros(g.shape, dtype=int) - 1, np.ones(g.shape)
        else:
            gi = np.clip(np.searchsorted(self.g_grid_s, g, side="right") - 1, 0, self.g_grid_s.size - 2)
            g0, g1 = self.g_grid_s[gi], self.g_grid_s[gi + 1]
            a = np.clip((g - g0) / (g1 - g0), 0.0, 1.0)  # rounding only: g was checked against the range above
        b = np.clip((v - v0) / (v1 - v0), 0.0, 1.0)
        return gi, vi, a, b

    @staticmethod
    def _bilinear(table, gi, vi, a, b):
        return ((1 - b) * ((1 - a) * table[vi, gi] + a * table[vi, gi + 1])
                + b * ((1 - a) * table[vi + 1, gi] + a * table[vi + 1, gi + 1]))

    def after(self, g_s, v_v) -> np.ndarray:
        """Conductance after one pulse of plateau ``v_v`` from ``g_s`` (broadcast shapes), inside the device's range."""
        g, v = np.broadcast_arrays(np.asarray(g_s, dtype=float), np.asarray(v_v, dtype=float))
        gi, vi, a, b = self._weights(g, v)
        return self._bilinear(self.g_after_s, gi, vi, a, b)

    def chord(self, g_s, v_v) -> np.ndarray:
        """Chord conductance i/v of a device of read conductance ``g_s`` at ``v_v`` (S)."""
        g, v = np.broadcast_arrays(np.asarray(g_s, dtype=float), np.asarray(v_v, dtype=float))
        gi, vi, a, b = self._weights(g, v)
        return self._bilinear(self.chord_s, gi, vi, a, b)

    def quiet_span_v(self) -> tuple[float, float]:
        """(v_lo, v_hi): device voltages inside which no tabulated pulse changes any conductance (0, 0 without a threshold).

        Between two grid amplitudes of zero change the interpolation is zero
        too, so a cell at such a voltage keeps its conductance exactly.
        """
        key = "_quiet"
        if key not in self.__dict__:
            still = np.all(self.g_after_s == self.g_grid_s[None, :], axis=1)
            i0 = int(np.flatnonzero(self.v_grid_v == 0)[0])
            hi = i0
            while hi + 1 < still.size and still[hi + 1]:
                hi += 1
            lo = i0
            while lo - 1 >= 0 and still[lo - 1]:
                lo -= 1
            object.__setattr__(self, key, (float(self.v_grid_v[lo]), float(self.v_grid_v[hi])))
        return self.__dict__[key]

    def step(self, g_s: np.ndarray, v_v: np.ndarray) -> np.ndarray:
        """:meth:`after`, evaluated only where the voltage leaves :meth:`quiet_span_v` (a new array)."""
        lo, hi = self.quiet_span_v()
        g = np.array(g_s, dtype=float)
        moving = (v_v < lo) | (v_v > hi)
        if moving.any():
            g[moving] = self.after(g[moving], v_v[moving])
        return g

    @property
    def linear_iv(self) -> bool:
        """True when the chord conductance equals the read conductance at every amplitude (to 1e-12)."""
        return bool(np.allclose(self.chord_s, self.g_grid_s[None, :], rtol=1e-12, atol=0.0))


def amplitude_grid(v_max_v: float, nominal_v=(), *, n_coarse: int = 61, n_fine: int = 121) -> np.ndarray:
    """Device voltages to tabulate (V): a coarse uniform grid over [-v_max, v_max], fine ones over [0, a].

    ``nominal_v``: the write's nominal cell voltages a (signed); wires only
    shrink what a cell sees, so most cells sit between 0 and a nominal level,
    where the fine grids put ``n_fine`` points each (a small-amplitude
    polarity such as VTEAM's 38 mV OFF pulse is resolved as finely as the
    large one). ``n_coarse`` is odd, so 0 V is on the grid.
    """
    v_max = float(abs(v_max_v))
    if not np.isfinite(v_max) or v_max <= 0:
        raise ParameterError(f"v_max_v = {v_max_v!r}: give the largest device voltage of the write (V, > 0)")
    if int(n_coarse) != n_coarse or n_coarse < 3 or n_coarse % 2 == 0:
        raise ParameterError(f"n_coarse = {n_coarse!r} must be an odd integer >= 3 (0 V sits in the middle)")
    if int(n_fine) != n_fine or n_fine < 2:
        raise ParameterError(f"n_fine = {n_fine!r} must be an integer >= 2")
    parts = [np.linspace(-v_max, v_max, int(n_coarse))]
    for a in nominal_v:
        a = float(a)
        if not np.isfinite(a) or abs(a) > v_max:
            raise ParameterError(f"nominal voltage {a!r} V lies outside [-{v_max:g}, {v_max:g}] V")
        if a != 0:
            parts.append(np.linspace(0.0, a, int(n_fine)))
    # merge points closer than 1e-9 of the span (the same level from two grids)
    v = np.unique(np.round(np.concatenate(parts) / (v_max * 1e-9)) * (v_max * 1e-9))
    v[np.argmin(np.abs(v))] = 0.0
    return v


def amplitude_response(model, pulse, v_max_v: float, *, nominal_v=(), n_states: int = 201, n_coarse: int = 61,
                       n_fine: int = 121, v_read_v: float | None = None) -> AmplitudeResponse:
    """Tabulate ``model`` (a memspice.devices CompactModel) for pulses of ``pulse``'s shape up to ``|v_max_v|``.

    The amplitude grid is :func:`amplitude_grid` (``nominal_v``: the write's
    nominal cell voltages, refined towards 0); the state grid is uniform over
    [x_min, x_max] with ``n_states`` points. Every (state, amplitude) pair is
    one device of one vectorised integration of the trapezoid (the model's
    own integrator, which never leaves the state bounds).
    """
    v = amplitude_grid(v_max_v, nominal_v, n_coarse=n_coarse, n_fine=n_fine)
    v_max = float(abs(v_max_v))
    if int(n_states) != n_states or n_states < 3:
        raise ParameterError(f"n_states = {n_states!r} must be an integer >= 3")
    x = np.linspace(model.x_min, model.x_max, int(n_states))
    g = np.asarray(model.conductance(x, v_read_v), dtype=float) * np.ones_like(x)
    order = np.argsort(g)
    if g.max() > g.min() and np.any(np.diff(g[order]) <= 0):
        raise ParameterError(
            f"the conductance of {model.name} is not strictly monotone in its state; "
            "an amplitude response over conductance cannot represent it"
        )
    x, g = x[order], g[order]
    if g[0] == g[-1]:  # the conductance does not depend on the state (a fixed resistor): one column
        x, g = x[:1], g[:1]
    t, shape = single_pulse_waveform(1.0, pulse.width_s, pulse.rise_s, pulse.fall_s)
    x0 = np.broadcast_to(x, (v.size, x.size)).copy()
    xs = model.integrate(t, shape[:, None, None] * np.broadcast_to(v[:, None], x0.shape)[None], x0)
    x1 = np.clip(xs[-1], model.x_min, model.x_max)  # the integrator stays inside the bounds to 1e-9 of the range
    g_after = np.asarray(model.conductance(x1, v_read_v), dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        chord = np.asarray(model.current(v[:, None], x[None, :]), dtype=float) / v[:, None]
    chord[v == 0] = g  # at 0 V the read chord stands in (no current flows)
    return AmplitudeResponse(
        g_grid_s=g, v_grid_v=v, g_after_s=g_after, chord_s=chord * np.ones_like(g_after),
        width_s=float(pulse.width_s), rise_s=float(pulse.rise_s), fall_s=float(pulse.fall_s),
        source=f"{model.name}: {n_states} states x {v.size} amplitudes in [-{v_max:g}, {v_max:g}] V, "
               f"width {pulse.width_s:g} s, edges {pulse.rise_s:g}/{pulse.fall_s:g} s (numpy integration)",
    )


def write_topology(crossbar_or_topology) -> Topology:
    """The crossbar's topology during a write: every row and every column held by its driver."""
    topo = crossbar_or_topology if isinstance(crossbar_or_topology, Topology) else Topology.of(crossbar_or_topology)
    if topo.cell != "1R":
        raise ParameterError(
            f"array-aware writes are solved for 1R crossbars (this one is {topo.cell}: its access transistors "
            "are non-linear); run the write in SPICE"
        )
    return replace(topo, row_driven=(True,) * topo.rows, col_modes=(DRIVEN,) * topo.cols)


@dataclass(frozen=True, eq=False)
class WriteArray:
    """Device plateau voltages of writes on one crossbar topology (see the module docstring)."""

    topology: Topology  #: wires, contacts, drivers; every line driven (write_topology)
    response: AmplitudeResponse
    chord_tol_v: float = 1e-6  #: fixed-point tolerance of the chord iteration (V)
    max_chord_passes: int = 20

    def __post_init__(self):
        object.__setattr__(self, "topology", write_topology(self.topology))

    def transfer(self, g_s) -> np.ndarray:
        """(rows·cols, rows + cols) device plateau voltage per volt on each line (rows first), at ``g_s``.

        Superposition of the linear write circuit: the voltages of any slot are
        ``transfer @ concat(row_v, col_v)``. For devices with a linear I-V only.
        """
        if not self.response.linear_iv:
            raise ParameterError("a transfer matrix needs a linear device I-V; this device's chord conductance "
                                 "depends on the voltage (solve each slot with device_voltages)")
        t = self.topology
        eye = np.eye(t.rows + t.cols)
        v = NodalSolver(t, np.asarray(g_s, dtype=float)).solve(eye[:, :t.rows], eye[:, t.rows:]).v_cells_v
        return v.reshape(t.rows + t.cols, -1).T

    def device_voltages(self, g_s, row_v, col_v) -> np.ndarray:
        """(B, rows, cols) device plateau voltages for line levels ``row_v`` (B, rows), ``col_v`` (B, cols).

        ``g_s`` (rows, cols): read conductances during the slots (one
        factorisation for all B slots when the I-V is linear).
        """
        g = np.asarray(g_s, dtype=float)
        rv = np.atleast_2d(np.asarray(row_v, dtype=float))
        cv = np.atleast_2d(np.asarray(col_v, dtype=float))
        nominal = rv[:, :, None] - cv[:, None, :]
        if self.response.linear_iv:
            return NodalSolver(self.topology, g).solve(rv, cv).v_cells_v
        out = np.empty_like(nominal)
        for b in range(rv.shape[0]):  # chords differ per slot: one solve each
            v = nominal[b]
            for _ in range(int(self.max_chord_passes)):
                chord = self.response.chord(g, v)
                v_new = NodalSolver(self.topology, chord).solve(rv[b], cv[b]).v_cells_v[0]
                done = float(np.max(np.abs(v_new - v))) <= self.chord_tol_v
                v = v_new
                if done:
                    break
            out[b] = v
        return out


def predict_schedule(array: WriteArray, g_s, row_levels_v, col_levels_v, *, corrector: bool = True,
                     v_out: np.ndarray | None = None) -> np.ndarray:
    """Conductances after the slots (rows, cols): ``g_s`` before, line levels (K, rows) and (K, cols).

    Idle slots (every line at 0 V) change nothing and are skipped.
    ``v_out`` (K, rows, cols), optional: filled with each slot's device
    plateau voltages (the corrected ones), e.g. for the IR-drop loss.
    """
    g = np.array(g_s, dtype=float)
    rl = np.asarray(row_levels_v, dtype=float)
    cl = np.asarray(col_levels_v, dtype=float)
    if rl.ndim != 2 or cl.ndim != 2 or rl.shape[0] != cl.shape[0] or (rl.shape[1], cl.shape[1]) != g.shape:
        raise ParameterError(f"line levels {rl.shape} and {cl.shape} do not fit a {g.shape} array")
    resp = array.response
    for k in range(rl.shape[0]):
        if not (rl[k].any() or cl[k].any()):
            if v_out is not None:
                v_out[k] = 0.0
            continue
        v = array.device_voltages(g, rl[k], cl[k])[0]
        g_new = resp.step(g, v)
        if corrector:
            v = array.device_voltages(0.5 * (g + g_new), rl[k], cl[k])[0]
            g_new = resp.step(g, v)
        if v_out is not None:
            v_out[k] = v
        g = g_new
    return g
