"""Write schedules: which voltage every row and column carries in each slot (V/2, V/3, stochastic coincidence).

A :class:`PulseSchedule` is the common form of every multi-pulse update that
validation, calibration, energy and co-simulation run on a crossbar. Slot k lasts ``slot_s``; in it every line ramps (trapezoid of the
schedule's :class:`~memspice.circuit.PulseShape`) to its level
``row_levels_v[k, i]`` / ``col_levels_v[k, j]`` and back to 0 V, all lines
together, so the ratios between lines hold during the edges too. Lines at
0 V in a slot carry no pulse. The nominal voltage cell (i, j) sees in slot k
(no IR drop) is ``row_levels_v[k, i] - col_levels_v[k, j]``.

Builders:

* :func:`write_schedule` -- V/2 or V/3 writes of chosen cells, one slot per
  selected row and pulse (row-parallel: every chosen cell of a row is written
  at once; the unselected lines sit at the scheme's bias);
* :func:`coincidence_schedule` -- one stochastic pulse-coincidence update
  (Gokmen & Vlasov 2016, docs/algorithms.md, "Stochastic pulse coincidence") from an input vector x and
  an error vector delta, turned into pulse trains (the Bernoulli draw is
  :func:`memspice.circuit.stimulus.bernoulli_trains`; the bias table
  :data:`memspice.circuit.stimulus.BIAS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memspice.circuit.stimulus import BIAS, Drive, PulseShape, Waveform, bernoulli_trains, check_draw
from memspice.errors import ParameterError

__all__ = ["CoincidenceDraw", "PulseSchedule", "coincidence_schedule", "draw_coincidence", "write_schedule"]


def _levels(name: str, a, n_lines: int | None = None) -> np.ndarray:
    a = np.array(a, dtype=float)
    if a.ndim != 2 or a.shape[0] < 1 or (n_lines is not None and a.shape[1] != n_lines):
        raise ParameterError(f"{name} must be a (slots, lines) array with at least one slot, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} contains non-finite voltages")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class PulseSchedule:
    """Line voltages slot by slot (a value; see the module docstring).

    ``selected_pulses`` (rows, cols): how many full-amplitude pulses each cell
    is *meant* to get (0 for cells that should not change): the programmed
    cells, on which IR-drop loss and energy per programmed cell are reported.
    ``max_step_s``: bound of the transient's time step (default: the shorter
    edge / 10; measured on VTEAM, 5 ns edges, 50 ns pulses: -0.45 % state
    change against a fine numpy integration at edge/10, -0.1 % at edge/50).
    """

    row_levels_v: np.ndarray  #: (K, rows) plateau voltage of every row in every slot (V)
    col_levels_v: np.ndarray  #: (K, cols) plateau voltage of every column in every slot (V)
    selected_pulses: np.ndarray  #: (rows, cols) intended full-amplitude pulses per cell
    pulse: PulseShape = field(default_factory=PulseShape)
    slot_s: float | None = None  #: slot period (s); default pulse length + one fall time as a gap
    max_step_s: float | None = None  #: transient time-step bound (s); default min(rise, fall) / 10
    label: str = "update"
    program_v: np.ndarray | None = None  #: (rows, cols) programming voltage of each programmed cell (V); None: its largest |level|

    def __post_init__(self):
        r = _levels("row_levels_v", self.row_levels_v)
        c = _levels("col_levels_v", self.col_levels_v)
        if r.shape[0] != c.shape[0]:
            raise ParameterError(f"row_levels_v has {r.shape[0]} slots, col_levels_v {c.shape[0]}; give both per slot")
        sel = np.array(self.selected_pulses)
        if sel.shape != (r.shape[1], c.shape[1]):
            raise ParameterError(f"selected_pulses has shape {sel.shape}, the schedule drives {r.shape[1]} x {c.shape[1]} lines")
        if not np.issubdtype(sel.dtype, np.integer):
            if not np.all(np.isfinite(sel)) or np.any(sel != np.rint(sel)):
                raise ParameterError("selected_pulses must hold integer pulse counts")
            sel = sel.astype(np.int64)
        if np.any(sel < 0):
            raise ParameterError("selected_pulses must be >= 0 (a count of pulses)")
        sel.setflags(write=False)
        if self.program_v is not None:
            pv = np.array(self.program_v, dtype=float)
            if pv.shape != sel.shape:
                raise ParameterError(f"program_v has shape {pv.shape}, expected {sel.shape}")
            pv.setflags(write=False)
            object.__setattr__(self, "program_v", pv)
        object.__setattr__(self, "row_levels_v", r)
        object.__setattr__(self, "col_levels_v", c)
        object.__setattr__(self, "selected_pulses", sel)
        if not isinstance(self.pulse, PulseShape):
            raise ParameterError(f"pulse must be a memspice.circuit.PulseShape, got {self.pulse!r}")
        slot = self.pulse.length_s + self.pulse.fall_s if self.slot_s is None else float(self.slot_s)
        if not np.isfinite(slot) or slot < self.pulse.length_s:
            raise ParameterError(f"slot_s = {slot!r} s is shorter than one pulse ({self.pulse.length_s:g} s)")
        object.__setattr__(self, "slot_s", slot)
        step = min(self.pulse.rise_s, self.pulse.fall_s) / 10 if self.max_step_s is None else float(self.max_step_s)
        if not np.isfinite(step) or step <= 0:
            raise ParameterError(f"max_step_s = {step!r} must be a positive time (s)")
        object.__setattr__(self, "max_step_s", step)

    # ------------------------------------------------------------------ shape
    @property
    def n_slots(self) -> int:
        return self.row_levels_v.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.row_levels_v.shape[1], self.col_levels_v.shape[1])

    @property
    def selected(self) -> np.ndarray:
        """(rows, cols) bool: the programmed cells."""
        return self.selected_pulses > 0

    def slot_starts_s(self) -> np.ndarray:
        """(K,) start of every slot's rising edge (s)."""
        return self.pulse.delay_s + self.slot_s * np.arange(self.n_slots)

    def plateau_mid_s(self) -> np.ndarray:
        """(K,) middle of every slot's plateau (s): where IR drop is read off."""
        p = self.pulse
        return self.slot_starts_s() + p.rise_s + p.width_s / 2

    @property
    def t_stop_s(self) -> float:
        return float(self.pulse.delay_s + self.slot_s * self.n_slots + self.pulse.tail_s)

    # ------------------------------------------------------------------ voltages
    def cell_levels_v(self) -> np.ndarray:
        """(K, rows, cols) nominal plateau voltage of every cell in every slot (V), before IR drop."""
        return self.row_levels_v[:, :, None] - self.col_levels_v[:, None, :]

    def disturbed(self) -> np.ndarray:
        """(rows, cols) bool: unselected cells that see a non-zero voltage in some slot (half-selected)."""
        return np.any(self.cell_levels_v() != 0, axis=0) & ~self.selected

    def full_amplitude_v(self) -> np.ndarray:
        """(rows, cols) the nominal voltage of largest magnitude each cell sees (V, signed)."""
        lv = self.cell_levels_v()
        k = np.argmax(np.abs(lv), axis=0)
        return np.take_along_axis(lv, k[None], axis=0)[0]

    def programming_v(self) -> np.ndarray:
        """(rows, cols) nominal voltage of the programming pulses of each programmed cell (V); NaN elsewhere."""
        pv = self.full_amplitude_v() if self.program_v is None else self.program_v
        return np.where(self.selected, pv, np.nan)

    def _line(self, levels: np.ndarray) -> Waveform:
        p = self.pulse
        starts = self.slot_starts_s()
        t, v = [0.0], [0.0]
        for s, lv in zip(starts, levels):
            if lv == 0:
                continue
            for tp, vp in ((s, 0.0), (s + p.rise_s, lv), (s + p.rise_s + p.width_s, lv), (s + p.length_s, 0.0)):
                if tp > t[-1]:
                    t.append(float(tp))
                    v.append(float(vp))
                else:  # a slot exactly one pulse long: back-to-back pulses share a corner
                    v[-1] = float(vp)
        if len(t) == 1:
            return Waveform.dc(0.0)
        return Waveform(v_v=tuple(v), t_s=tuple(t))

    def row_waveforms(self) -> tuple[Waveform, ...]:
        return tuple(self._line(self.row_levels_v[:, i]) for i in range(self.shape[0]))

    def col_waveforms(self) -> tuple[Waveform, ...]:
        return tuple(self._line(self.col_levels_v[:, j]) for j in range(self.shape[1]))

    def drive(self, rows: int | None = None, cols: int | None = None) -> Drive:
        """The transient :class:`~memspice.circuit.Drive` (every row and column driven; all gates on)."""
        if rows is not None and (rows, cols) != self.shape:
            raise ParameterError(f"the schedule is for a {self.shape[0]} x {self.shape[1]} array, not {rows} x {cols}")
        return Drive(
            rows=self.row_waveforms(), cols=self.col_waveforms(), gates_on=(True,) * self.shape[0],
            t_stop_s=self.t_stop_s, max_step_s=self.max_step_s, label=self.label,
        )


def _cells(cells, rows: int, cols: int) -> list[tuple[int, int]]:
    out = []
    for c in cells:
        try:
            i, j = (int(x) for x in c)
        except (TypeError, ValueError):
            raise ParameterError(f"cells must be (row, col) pairs, got {c!r}") from None
        if not (0 <= i < rows and 0 <= j < cols):
            raise ParameterError(f"cell ({i}, {j}) is outside the {rows} x {cols} array")
        out.append((i, j))
    if not out:
        raise ParameterError("no cells selected: give at least one (row, col)")
    if len(set(out)) != len(out):
        raise ParameterError(f"cells lists a cell twice: {out}")
    return out


def write_schedule(shape: tuple[int, int], cells, amplitude_v: float, *, scheme: str = "v/2",
                   pulse: PulseShape | None = None, n_pulses: int = 1, slot_s: float | None = None,
                   max_step_s: float | None = None) -> PulseSchedule:
    """V/2 or V/3 write of ``cells`` ((row, col) pairs) with ``n_pulses`` pulses of ``amplitude_v`` each.

    One slot per selected row and pulse: the row at V, its chosen columns at
    0, every other row at f_r V and every other column at f_c V
    ((f_r, f_c) = (1/2, 1/2) for V/2, (1/3, 2/3) for V/3; as
    memspice.circuit.WriteScheme). A chosen cell sees V; a half-selected cell
    V/2 (V/3); an unselected cell 0 (-V/3), before IR drop. The pulses of a
    cell come in consecutive slots of its row (pulse-major order: all rows'
    first pulses, then all second pulses).
    """
    rows, cols = (int(x) for x in shape)
    if scheme not in BIAS:
        raise ParameterError(f"write scheme {scheme!r} is unknown; choose one of {', '.join(BIAS)}")
    amplitude_v = float(amplitude_v)
    if not np.isfinite(amplitude_v) or amplitude_v == 0:
        raise ParameterError(f"amplitude_v = {amplitude_v!r}: give a non-zero finite voltage")
    if int(n_pulses) != n_pulses or n_pulses < 1:
        raise ParameterError(f"n_pulses = {n_pulses!r} must be an integer >= 1")
    chosen = _cells(cells, rows, cols)
    f_r, f_c = BIAS[scheme]
    by_row: dict[int, list[int]] = {}
    for i, j in chosen:
        by_row.setdefault(i, []).append(j)
    r_lv, c_lv = [], []
    for _ in range(int(n_pulses)):
        for i in sorted(by_row):
            vr = np.full(rows, f_r * amplitude_v)
            vr[i] = amplitude_v
            vc = np.full(cols, f_c * amplitude_v)
            vc[by_row[i]] = 0.0
            r_lv.append(vr)
            c_lv.append(vc)
    sel = np.zeros((rows, cols), dtype=np.int64)
    for i, j in chosen:
        sel[i, j] = int(n_pulses)
    return PulseSchedule(
        row_levels_v=np.array(r_lv), col_levels_v=np.array(c_lv), selected_pulses=sel, pulse=pulse or PulseShape(),
        slot_s=slot_s, max_step_s=max_step_s,
        label=f"{scheme.upper()} write of {len(chosen)} cell(s), {int(n_pulses)} x {amplitude_v:g} V",
    )


@dataclass(frozen=True, eq=False)
class CoincidenceDraw:
    """The pulse trains of one stochastic update: bits and the probabilities they were drawn with."""

    row_bits: np.ndarray  #: (BL, rows) bool
    col_bits: np.ndarray  #: (BL, cols) bool
    p_rows: np.ndarray  #: (rows,) firing probability of every row
    q_cols: np.ndarray  #: (cols,) firing probability of every column
    n_clipped: int  #: probabilities above 1 (clipped to 1, as the method prescribes)


def draw_coincidence(x, delta, *, bl: int, c_x: float, c_d: float, rng: np.random.Generator) -> CoincidenceDraw:
    """Bernoulli trains: row i fires per slot with p_i = min(c_x |x_i|, 1), column j with q_j = min(c_d |delta_j|, 1)."""
    check_draw(rng, bl)
    x, d = np.asarray(x, dtype=float), np.asarray(delta, dtype=float)
    for name, a in (("x", x), ("delta", d)):
        if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
            raise ParameterError(f"{name} must be a finite 1-D vector, got shape {a.shape}")
    for name, c in (("c_x", c_x), ("c_d", c_d)):
        if not (np.isfinite(c) and c >= 0):
            raise ParameterError(f"{name} = {c!r} must be a finite number >= 0")
    p_raw, q_raw = c_x * np.abs(x), c_d * np.abs(d)
    n_clipped = int(np.count_nonzero(p_raw > 1) + np.count_nonzero(q_raw > 1))
    p, q = np.minimum(p_raw, 1.0), np.minimum(q_raw, 1.0)
    row_bits, col_bits = bernoulli_trains(p, q, bl, rng)
    return CoincidenceDraw(row_bits=row_bits, col_bits=col_bits, p_rows=p, q_cols=q, n_clipped=n_clipped)


def coincidence_schedule(x, delta, *, amplitude_up_v: float, amplitude_down_v: float, bl: int = 10,
                         c_x: float = 1.0, c_d: float = 1.0, rng: np.random.Generator | None = None, pulse: PulseShape | None = None,
                         slot_s: float | None = None, max_step_s: float | None = None,
                         column_polarity=None, keep_idle_slots: bool = False,
                         draw: CoincidenceDraw | None = None) -> tuple[PulseSchedule, np.ndarray]:
    """One stochastic pulse-coincidence update of a rows x cols array (rows = inputs x, cols = errors delta).

    The target is dW = -eta delta x^T (cell (i, j) holds the weight from
    input i to output j): a cell whose row and column fire in the same slot
    takes one step of direction -sign(x_i delta_j) (docs/algorithms.md, "Stochastic pulse coincidence").
    A crossbar can only apply one polarity per slot, so the update runs in
    four phases of ``bl`` slots, one per sign pair (sign x, sign delta); in a
    phase of direction d the firing rows go to A/2 and the firing columns to
    -A/2, with A = ``amplitude_up_v`` (the signed cell voltage that raises
    the conductance; negative for VTEAM) when d > 0 and
    ``amplitude_down_v`` otherwise. A coinciding cell sees A, a cell with
    only its row or only its column firing A/2, the rest 0.

    ``column_polarity`` (cols,) of +1/-1 (default all +1): -1 marks a column
    whose devices must move the other way (the G- column of a differential
    pair); such columns fire in their own phases, so 8 phases when both
    polarities are present.
    ``keep_idle_slots``: keep slots in which no line fires (they change
    nothing; dropped by default to save simulation time).

    ``draw``: pulse trains drawn beforehand (:func:`draw_coincidence`), e.g.
    with the bits of a differential pair's two columns repeated, so both
    devices of a pair get the same pulses; then ``bl``, ``c_x``, ``c_d`` and
    ``rng`` are not used.

    Returns (schedule, signed coincidence counts (rows, cols): + raises G).
    """
    if draw is None:
        draw = draw_coincidence(x, delta, bl=bl, c_x=c_x, c_d=c_d, rng=rng)
    bl = draw.row_bits.shape[0]
    x, d = np.asarray(x, dtype=float), np.asarray(delta, dtype=float)
    rows, cols = x.size, d.size
    if draw.row_bits.shape[1] != rows or draw.col_bits.shape[1] != cols:
        raise ParameterError(f"the pulse trains are for {draw.row_bits.shape[1]} rows x {draw.col_bits.shape[1]} columns, "
                             f"x and delta for {rows} x {cols}")
    pol = np.ones(cols) if column_polarity is None else np.asarray(column_polarity, dtype=float)
    if pol.shape != (cols,) or not np.all(np.isin(pol, (-1.0, 1.0))):
        raise ParameterError(f"column_polarity must be (cols,) = ({cols},) of +1/-1, got {pol!r}")
    for name, a in (("amplitude_up_v", amplitude_up_v), ("amplitude_down_v", amplitude_down_v)):
        if not np.isfinite(a) or a == 0:
            raise ParameterError(f"{name} = {a!r}: give a non-zero finite voltage")
    sx, sd = np.sign(x), np.sign(d)
    r_lv, c_lv = [], []
    counts = np.zeros((rows, cols), dtype=np.int64)
    program = np.full((rows, cols), np.nan)
    for pc in (1.0, -1.0):
        for a in (1.0, -1.0):
            for b in (1.0, -1.0):
                direction = -a * b * pc  # device direction of the columns of polarity pc
                amp = amplitude_up_v if direction > 0 else amplitude_down_v
                row_on = sx == a
                col_on = (sd == b) & (pol == pc)
                if not row_on.any() or not col_on.any():
                    continue
                for k in range(draw.row_bits.shape[0]):
                    fr = draw.row_bits[k] & row_on
                    fc = draw.col_bits[k] & col_on
                    if not keep_idle_slots and not (fr.any() or fc.any()):
                        continue
                    r_lv.append(np.where(fr, amp / 2, 0.0))
                    c_lv.append(np.where(fc, -amp / 2, 0.0))
                    hit = np.outer(fr, fc)
                    counts += hit.astype(np.int64) * int(direction)
                    program[hit] = amp
    if not r_lv:  # nothing fires at all: one idle slot keeps the schedule well formed
        r_lv, c_lv = [np.zeros(rows)], [np.zeros(cols)]
    sched = PulseSchedule(
        row_levels_v=np.array(r_lv), col_levels_v=np.array(c_lv), selected_pulses=np.abs(counts),
        pulse=pulse or PulseShape(), slot_s=slot_s, max_step_s=max_step_s,
        label=f"stochastic coincidence update, BL={int(bl)}, {len(r_lv)} slot(s)", program_v=program,
    )
    return sched, counts
