"""Stimuli, separate from the crossbar: reads, V/2 and V/3 writes, stochastic coincidence trains.

Every stimulus turns into a :class:`Drive` for a given crossbar: what each row,
column and gate line is connected to. A line is either driven by a voltage
waveform (through the crossbar's driver resistance), read (columns only: the
crossbar's readout) or left floating.

Pulse convention: ``width_s`` is the plateau at full amplitude; the linear
rise and fall edges come on top of it (a trapezoid of total length
rise + width + fall), starting after ``delay_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memspice.errors import ParameterError

#: marker in ``Drive.cols``: the column goes to the crossbar's readout
SENSE = "sense"


def _finite(name: str, value) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ParameterError(f"{name} = {value!r} must be finite")
    return value


def _duration(name: str, value, *, allow_zero: bool = False) -> float:
    value = _finite(name, value)
    if value < 0 or (value == 0 and not allow_zero):
        raise ParameterError(f"{name} = {value!r} s must be {'>= 0' if allow_zero else '> 0'}")
    return value


@dataclass(frozen=True)
class Waveform:
    """A voltage versus time: DC (``t_s`` empty) or piecewise linear through (t_s, v_v), constant after."""

    v_v: tuple[float, ...]  #: voltages (V); one value for DC
    t_s: tuple[float, ...] = ()  #: times (s), strictly increasing from 0; empty for DC

    def __post_init__(self):
        v = tuple(_finite("waveform voltage", x) for x in np.atleast_1d(self.v_v))
        t = tuple(_finite("waveform time", x) for x in np.atleast_1d(self.t_s)) if len(self.t_s) else ()
        object.__setattr__(self, "v_v", v)
        object.__setattr__(self, "t_s", t)
        if not t:
            if len(v) != 1:
                raise ParameterError(f"a DC waveform has one voltage, got {len(v)}; give t_s for a PWL waveform")
            return
        if len(t) != len(v):
            raise ParameterError(f"PWL waveform: {len(t)} times but {len(v)} voltages")
        if t[0] < 0 or np.any(np.diff(t) <= 0):
            raise ParameterError(f"PWL waveform times must start at >= 0 s and increase strictly, got {t[:6]}...")

    @classmethod
    def dc(cls, v_v: float) -> "Waveform":
        return cls(v_v=(float(v_v),))

    @classmethod
    def pulses(cls, level_v: float, starts_s, *, width_s: float, rise_s: float, fall_s: float) -> "Waveform":
        """Trapezoidal pulses from 0 V to ``level_v`` starting at each of ``starts_s``; no pulse -> DC 0."""
        level_v = _finite("level_v", level_v)
        width_s, rise_s, fall_s = (_duration(n, x) for n, x in (("width_s", width_s), ("rise_s", rise_s), ("fall_s", fall_s)))
        starts = sorted(float(s) for s in starts_s)
        if not starts or level_v == 0:
            return cls.dc(0.0)
        length = rise_s + width_s + fall_s
        if np.any(np.diff(starts) < length):
            raise ParameterError(f"pulses overlap: starts {starts} are closer than one pulse length {length:g} s")
        t, v = [0.0], [0.0]
        for s in starts:
            pts = [(s, 0.0), (s + rise_s, level_v), (s + rise_s + width_s, level_v), (s + length, 0.0)]
            for tp, vp in pts:
                if tp > t[-1]:
                    t.append(tp)
                    v.append(vp)
                elif tp == t[-1]:
                    v[-1] = vp  # back-to-back pulses share a corner
        return cls(v_v=tuple(v), t_s=tuple(t))

    @property
    def is_dc(self) -> bool:
        return not self.t_s

    @property
    def t_end_s(self) -> float:
        return self.t_s[-1] if self.t_s else 0.0

    def at(self, t_s) -> np.ndarray:
        """Voltage at times ``t_s`` (V)."""
        if self.is_dc:
            return np.full(np.shape(t_s), self.v_v[0])
        return np.interp(t_s, self.t_s, self.v_v)

    def spice(self) -> str:
        """Source value text: ``DC 0.2`` or ``PWL(0 0 1e-09 1 ...)``, 17 significant digits."""
        if self.is_dc:
            return f"DC {self.v_v[0]:.17g}"
        pairs = " ".join(f"{t:.17g} {v:.17g}" for t, v in zip(self.t_s, self.v_v))
        return f"PWL({pairs})"


@dataclass(frozen=True)
class Drive:
    """What every line of a crossbar is connected to, for one run.

    ``rows[i]``: a Waveform (driven) or None (floating). ``cols[j]``: a Waveform
    (driven), ``SENSE`` (the readout) or None (floating). ``gates_on[i]``: whether
    row i's access transistors are on (1T1R only). ``t_stop_s``: None for a DC
    operating point, else the end of the transient (s); ``max_step_s`` bounds
    the transient time step (<= 1/5 of the shortest pulse edge).
    """

    rows: tuple
    cols: tuple
    gates_on: tuple[bool, ...]
    t_stop_s: float | None = None
    max_step_s: float | None = None
    label: str = "drive"

    def __post_init__(self):
        from memspice.names import check_comment_text

        check_comment_text(self.label, "Drive.label")

    @property
    def is_transient(self) -> bool:
        return self.t_stop_s is not None


def _index_set(name: str, values, n: int, what: str) -> tuple[int, ...]:
    out = tuple(sorted({int(v) for v in values}))
    for v in out:
        if not 0 <= v < n:
            raise ParameterError(f"{name} contains {what} {v}, outside 0..{n - 1}")
    return out


@dataclass(frozen=True)
class PulseShape:
    """Timing of a pulsed read or of one write pulse (s)."""

    width_s: float = 10e-9
    rise_s: float = 1e-9
    fall_s: float = 1e-9
    delay_s: float = 1e-9
    tail_s: float = 1e-9  #: time simulated after the last pulse ends
    steps_per_edge: int = 50  #: the transient's largest time step is the shortest edge / this

    def __post_init__(self):
        for name in ("width_s", "rise_s", "fall_s"):
            _duration(name, getattr(self, name))
        if int(self.steps_per_edge) != self.steps_per_edge or self.steps_per_edge < 5:
            raise ParameterError(
                f"steps_per_edge = {self.steps_per_edge!r} must be an integer >= 5 (docs/algorithms.md, Numerical traps: steps <= edge/5)"
            )
        for name in ("delay_s", "tail_s"):
            _duration(name, getattr(self, name), allow_zero=True)

    @property
    def length_s(self) -> float:
        return self.rise_s + self.width_s + self.fall_s

    @property
    def max_step_s(self) -> float:
        # docs/algorithms.md (Numerical traps) asks for steps <= 1/5 of an edge. That is not enough for threshold devices:
        # a VTEAM cell crosses v_on inside one step of the edge and ngspice misses the edge's share
        # of the switching (measured: -2 % state change per -0.24 V, 2 ns pulse with 0.5 ns edges at
        # edge/5; -0.1 % at edge/50; the numpy integration and the analytic value agree at edge/500).
        return min(self.rise_s, self.fall_s, self.width_s) / self.steps_per_edge


@dataclass(frozen=True, eq=False)
class ReadStimulus:
    """Row voltages for a read: ``v_rows_v`` (rows,) or a batch (B, rows) (V).

    DC by default (an operating point); with ``pulse`` each row gets one
    trapezoidal pulse to its voltage (a transient). ``floating_rows`` are left
    undriven, ``floating_cols`` unread (no readout connected) -- the classic
    single-cell read with sneak paths. ``gate_rows_on`` (1T1R): rows whose
    access transistors are on; None = all.
    """

    v_rows_v: np.ndarray
    floating_rows: tuple[int, ...] = ()
    floating_cols: tuple[int, ...] = ()
    gate_rows_on: tuple[int, ...] | None = None
    pulse: PulseShape | None = None

    def __post_init__(self):
        v = np.array(self.v_rows_v, dtype=float)
        if v.ndim not in (1, 2) or v.shape[-1] == 0:
            raise ParameterError(f"v_rows_v must have shape (rows,) or (batch, rows), got {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ParameterError("v_rows_v contains non-finite voltages")
        v.setflags(write=False)
        object.__setattr__(self, "v_rows_v", v)
        object.__setattr__(self, "floating_rows", tuple(int(i) for i in self.floating_rows))
        object.__setattr__(self, "floating_cols", tuple(int(j) for j in self.floating_cols))
        if self.gate_rows_on is not None:
            object.__setattr__(self, "gate_rows_on", tuple(int(i) for i in self.gate_rows_on))

    @property
    def batch(self) -> np.ndarray:
        """(B, rows) row voltages."""
        return np.atleast_2d(self.v_rows_v)

    def check(self, rows: int, cols: int) -> None:
        if self.batch.shape[1] != rows:
            raise ParameterError(f"v_rows_v has {self.batch.shape[1]} row voltages, the crossbar has {rows} rows")
        _index_set("floating_rows", self.floating_rows, rows, "row")
        _index_set("floating_cols", self.floating_cols, cols, "column")
        if self.gate_rows_on is not None:
            _index_set("gate_rows_on", self.gate_rows_on, rows, "row")
        if len(set(self.floating_rows)) == rows:
            raise ParameterError("every row is floating: nothing drives the read")
        if len(set(self.floating_cols)) == cols:
            raise ParameterError("every column is floating: nothing reads the crossbar")

    def drive(self, rows: int, cols: int, k: int = 0) -> Drive:
        """The Drive of read vector ``k``."""
        self.check(rows, cols)
        v = self.batch[k]
        fr, fc = set(self.floating_rows), set(self.floating_cols)
        if self.pulse is None:
            row_w = tuple(None if i in fr else Waveform.dc(v[i]) for i in range(rows))
            t_stop = max_step = None
        else:
            p = self.pulse
            row_w = tuple(
                None if i in fr else Waveform.pulses(v[i], [p.delay_s], width_s=p.width_s, rise_s=p.rise_s, fall_s=p.fall_s)
                for i in range(rows)
            )
            t_stop, max_step = p.delay_s + p.length_s + p.tail_s, p.max_step_s
        on = set(range(rows)) if self.gate_rows_on is None else set(self.gate_rows_on)
        return Drive(
            rows=row_w,
            cols=tuple(None if j in fc else SENSE for j in range(cols)),
            gates_on=tuple(i in on for i in range(rows)),
            t_stop_s=t_stop, max_step_s=max_step, label="read",
        )


#: THE bias table of the half-select schemes: unselected rows and columns, as fractions of the
#: write voltage V: (row, column). A selected cell sees V, a half-selected one V/2 (V/3), an
#: unselected one 0 (-V/3), before IR drop. Write schemes, schedules and in-array calibration use it.
BIAS = {"v/2": (0.5, 0.5), "v/3": (1 / 3, 2 / 3)}
#: largest write amplitude taken as physical (V): memristive cells are programmed at a few volts and their
#: oxides break down near ten; past this a result would describe no device
MAX_WRITE_AMPLITUDE_V = 100.0

_TARGETS = ("cell", "row", "column")


@dataclass(frozen=True)
class WriteScheme:
    """One write pulse of amplitude ``amplitude_v`` on a selected cell, row or column.

    Selected rows go to V, selected columns to 0; unselected rows to f_r V and
    unselected columns to f_c V, with (f_r, f_c) = (1/2, 1/2) for ``"v/2"`` and
    (1/3, 2/3) for ``"v/3"``. So a selected cell sees V, a half-selected cell
    V/2 (V/3), and an unselected cell 0 (-V/3), before IR drop. Target
    ``"cell"``: ``index`` = (row, col); ``"row"``: index = row (every cell of
    the row selected, all columns at 0); ``"column"``: index = col (all rows at V).
    Every biased line ramps with the same edges, so the ratios hold during the
    edges too. A negative amplitude writes the opposite polarity. 1T1R: the
    gates of the selected rows are on, the others off.
    """

    amplitude_v: float
    index: int | tuple[int, int]
    target: str = "cell"
    scheme: str = "v/2"
    pulse: PulseShape = field(default_factory=PulseShape)

    def __post_init__(self):
        _finite("amplitude_v", self.amplitude_v)
        if abs(self.amplitude_v) > MAX_WRITE_AMPLITUDE_V:
            raise ParameterError(f"write amplitude_v = {self.amplitude_v!r} V is far outside any memristive device "
                                 f"(programmed at a few volts); give |amplitude| <= {MAX_WRITE_AMPLITUDE_V:g} V")
        if self.scheme not in BIAS:
            raise ParameterError(f"write scheme {self.scheme!r} is unknown; choose one of {', '.join(BIAS)}")
        if self.target not in _TARGETS:
            raise ParameterError(f"write target {self.target!r} is unknown; choose one of {', '.join(_TARGETS)}")

    def selected(self, rows: int, cols: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(selected rows, selected columns)."""
        if self.target == "cell":
            try:
                i, j = (int(x) for x in self.index)
            except (TypeError, ValueError):
                raise ParameterError(f"target 'cell' needs index=(row, col), got {self.index!r}") from None
            return _index_set("index row", [i], rows, "row"), _index_set("index col", [j], cols, "column")
        if not np.isscalar(self.index):
            raise ParameterError(f"target {self.target!r} needs one integer index, got {self.index!r}")
        if self.target == "row":
            return _index_set("index", [self.index], rows, "row"), tuple(range(cols))
        return tuple(range(rows)), _index_set("index", [self.index], cols, "column")

    def line_levels_v(self, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """Plateau voltage of every row (rows,) and column (cols,) (V)."""
        f_r, f_c = BIAS[self.scheme]
        sel_r, sel_c = self.selected(rows, cols)
        v_r = np.full(rows, f_r * self.amplitude_v)
        v_r[list(sel_r)] = self.amplitude_v
        v_c = np.full(cols, f_c * self.amplitude_v)
        v_c[list(sel_c)] = 0.0
        return v_r, v_c

    def drive(self, rows: int, cols: int) -> Drive:
        p = self.pulse
        v_r, v_c = self.line_levels_v(rows, cols)
        sel_r, _ = self.selected(rows, cols)
        wave = lambda lv: Waveform.pulses(lv, [p.delay_s], width_s=p.width_s, rise_s=p.rise_s, fall_s=p.fall_s)  # noqa: E731
        return Drive(
            rows=tuple(wave(x) for x in v_r),
            cols=tuple(wave(x) for x in v_c),
            gates_on=tuple(i in set(sel_r) for i in range(rows)),
            t_stop_s=p.delay_s + p.length_s + p.tail_s,
            max_step_s=p.max_step_s,
            label=f"{self.scheme} write {self.target} {self.index}",
        )


def check_draw(rng, bl) -> None:
    """ParameterError unless ``rng`` is a numpy Generator and ``bl`` an integer >= 1."""
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if int(bl) != bl or bl < 1:
        raise ParameterError(f"bl (bit-stream length) = {bl!r} must be an integer >= 1")


def bernoulli_trains(p_rows, q_cols, bl: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """THE Bernoulli draw of a coincidence update: (row_bits (BL, rows), col_bits (BL, cols)).

    Row i fires in each of ``bl`` slots with probability ``p_rows[i]``, column
    j with ``q_cols[j]`` (probabilities in [0, 1]). Draw order: all row bits
    from ``rng.random((bl, rows))``, then all column bits.
    """
    check_draw(rng, bl)
    p, q = np.asarray(p_rows, dtype=float), np.asarray(q_cols, dtype=float)
    bl = int(bl)
    return rng.random((bl, p.size)) < p, rng.random((bl, q.size)) < q


@dataclass(frozen=True, eq=False)
class CoincidenceTrain:
    """Stochastic pulse-coincidence update (Gokmen & Vlasov 2016, docs/algorithms.md, "Stochastic pulse coincidence").

    ``row_bits`` (BL, rows) and ``col_bits`` (BL, cols): which slot carries a
    pulse on which line. Row pulses go to +V/2, column pulses to -V/2, so only
    a cell whose row and column fire in the same slot sees the full
    ``amplitude_v``; a cell with one pulse sees V/2. Slot k starts at
    ``delay_s + k * slot_s``. Draw the bits with :meth:`draw`.
    """

    row_bits: np.ndarray
    col_bits: np.ndarray
    amplitude_v: float
    pulse: PulseShape = field(default_factory=PulseShape)
    slot_s: float | None = None  #: slot period (s); default: pulse length + its fall time as a gap

    def __post_init__(self):
        rb = np.array(self.row_bits, dtype=bool)
        cb = np.array(self.col_bits, dtype=bool)
        if rb.ndim != 2 or cb.ndim != 2 or rb.shape[0] != cb.shape[0] or rb.shape[0] == 0:
            raise ParameterError(
                f"row_bits (BL, rows) and col_bits (BL, cols) need the same BL >= 1, got {rb.shape} and {cb.shape}"
            )
        rb.setflags(write=False)
        cb.setflags(write=False)
        object.__setattr__(self, "row_bits", rb)
        object.__setattr__(self, "col_bits", cb)
        _finite("amplitude_v", self.amplitude_v)
        slot = self.pulse.length_s + self.pulse.fall_s if self.slot_s is None else _duration("slot_s", self.slot_s)
        if slot < self.pulse.length_s:
            raise ParameterError(f"slot_s = {slot!r} s is shorter than one pulse ({self.pulse.length_s:g} s)")
        object.__setattr__(self, "slot_s", slot)

    @classmethod
    def draw(cls, p_rows, q_cols, bl: int, rng: np.random.Generator, *, amplitude_v: float,
             pulse: PulseShape | None = None, slot_s: float | None = None) -> "CoincidenceTrain":
        """Bernoulli bit streams: row i fires in each of ``bl`` slots with probability p_rows[i], column j with q_cols[j]."""
        check_draw(rng, bl)
        p, q = np.asarray(p_rows, dtype=float), np.asarray(q_cols, dtype=float)
        for name, a in (("p_rows", p), ("q_cols", q)):
            if a.ndim != 1 or np.any(~np.isfinite(a)) or np.any(a < 0) or np.any(a > 1):
                raise ParameterError(f"{name} must be a 1-D array of probabilities in [0, 1], got {a}")
        row_bits, col_bits = bernoulli_trains(p, q, bl, rng)
        return cls(row_bits=row_bits, col_bits=col_bits, amplitude_v=amplitude_v, pulse=pulse or PulseShape(),
                   slot_s=slot_s)

    @property
    def bl(self) -> int:
        return self.row_bits.shape[0]

    def coincidences(self) -> np.ndarray:
        """(rows, cols) number of slots in which row and column fired together."""
        return self.row_bits.T.astype(int) @ self.col_bits.astype(int)

    def drive(self, rows: int, cols: int) -> Drive:
        if self.row_bits.shape[1] != rows or self.col_bits.shape[1] != cols:
            raise ParameterError(
                f"bit streams are for {self.row_bits.shape[1]} x {self.col_bits.shape[1]} lines, the crossbar is {rows} x {cols}"
            )
        p = self.pulse
        starts = p.delay_s + self.slot_s * np.arange(self.bl)
        kw = dict(width_s=p.width_s, rise_s=p.rise_s, fall_s=p.fall_s)
        return Drive(
            rows=tuple(Waveform.pulses(self.amplitude_v / 2, starts[self.row_bits[:, i]], **kw) for i in range(rows)),
            cols=tuple(Waveform.pulses(-self.amplitude_v / 2, starts[self.col_bits[:, j]], **kw) for j in range(cols)),
            gates_on=(True,) * rows,
            t_stop_s=float(starts[-1] + self.slot_s + p.tail_s),
            max_step_s=p.max_step_s,
            label=f"coincidence train BL={self.bl}",
        )
