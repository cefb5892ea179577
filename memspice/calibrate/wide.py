"""Measured cycles in the wide layout labs use: one column per cycle, one row per pulse.

Layout (plain CSV, ``#`` lines are comments for the provenance)::

    cycle 1 [uS],cycle 2 [uS],cycle 3 [uS]    <- one column per train, its unit in brackets
    2.01,1.98,2.03                            <- the read after pulse 1 of each train
    2.37,2.30,2.41                            <- ... after pulse 2
    ...
    9.80,,9.75                                <- a shorter train: empty cells at its end

Units: a conductance unit ([S], [mS], [uS], [µS], [nS]) or a resistance
unit ([ohm], [kohm], [Mohm], ...), per column. The direction of each pulse
comes from one of:

* **two files**, one of potentiation (set) ramps and one of depression
  (reset) ramps: the k-th column of each (matched by header name) is cycle
  k; its train is the set ramp, then the reset ramp (:func:`read_set_reset`);
* **one file with a ``direction`` column**: ``set`` / ``reset`` per row
  (also ``up``/``down``, ``pot``/``dep``, ``+``/``-``), each column then
  holding whole cycles (:func:`read_wide_cycles`).

A header ``NAME/CYCLE`` (``d3/c12``) puts its column under device NAME, so
one file can hold several devices; otherwise every column belongs to the
device named by the caller (by default the file name's stem). Files of
several devices are read one after another and their trains listed
together: every train of one device is fitted as that device.

The first read of a train is its initial read (the state before the first
pulse is not measured, so that pulse is not counted). Voltages and widths
are not in the file; the caller gives the set and reset amplitudes (signed)
and the pulse width. Every problem is a DataError naming the file, the line
and the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memspice.calibrate.data import UNIT_SCALES, PulseData, _comment_block, _parse_header_cell, csv_lines
from memspice.errors import DataError, ParameterError

__all__ = ["csv_layout", "read_measured", "read_set_reset", "read_wide_cycles", "write_wide_csv", "write_set_reset", "DIRECTION_WORDS"]

#: words of a direction column and the direction they mean (True: raises G)
DIRECTION_WORDS = {"set": True, "up": True, "pot": True, "potentiation": True, "+": True,
                   "reset": False, "down": False, "dep": False, "depression": False, "-": False}


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    rows = csv_lines(Path(path), "wide CSV")
    if len(rows) < 2:
        raise DataError(f"{path}: need a header line and at least one row of reads, e.g.\n    cycle 1 [uS],cycle 2 [uS]")
    return rows


def _columns(path: Path, direction_column: bool):
    """(directions or None, [(header, device or None, cycle, values, data-row index of each value)]) of a file."""
    rows = _lines(path)
    header_line, header = rows[0]
    parsed = [_parse_header_cell(c) for c in header]
    names = [p[0] for p in parsed]
    d_index = names.index("direction") if "direction" in names else None
    if direction_column and d_index is None:
        raise DataError(f"{path}, line {header_line}: no 'direction' column; add one (set/reset per row) or give the "
                        f"set and reset ramps as two files")
    if not direction_column and d_index is not None:
        raise DataError(f"{path}, line {header_line}: has a 'direction' column; read it as one file of whole cycles "
                        f"(--from-csv), not as a set or reset file")
    data = rows[1:]
    for n, cells in data:
        if len(cells) != len(header):
            raise DataError(f"{path}, line {n}: {len(cells)} cells but the header has {len(header)} columns; pad "
                            f"shorter cycles with empty cells")
    directions = None
    if d_index is not None:
        directions = []
        for n, cells in data:
            word = cells[d_index].strip().lower()
            if word not in DIRECTION_WORDS:
                raise DataError(f"{path}, line {n}, column {d_index + 1} 'direction': {cells[d_index]!r}; write set or "
                                f"reset (or up/down, pot/dep, +/-)")
            directions.append(DIRECTION_WORDS[word])
    out = []
    for j, (cell, (name, unit)) in enumerate(zip(header, parsed)):
        if j == d_index:
            continue
        label = cell.strip()
        if unit is None or unit == "<unclosed>":
            raise DataError(f"{path}, line {header_line}, column {j + 1} {label!r}: no unit; write it in brackets, "
                            f"e.g. '{label} [uS]' (conductance) or '{label} [kohm]' (resistance)")
        if unit in UNIT_SCALES["conductance"]:
            scale, resistance = UNIT_SCALES["conductance"][unit], False
        elif unit in UNIT_SCALES["resistance"]:
            scale, resistance = UNIT_SCALES["resistance"][unit], True
        else:
            units = ", ".join(f"[{u}]" for u in (*UNIT_SCALES["conductance"], *UNIT_SCALES["resistance"]))
            raise DataError(f"{path}, line {header_line}, column {j + 1} {label!r}: unit [{unit}] is neither a "
                            f"conductance nor a resistance unit; use one of {units}")
        raw = label.partition("[")[0].strip()
        device, _, cycle = raw.rpartition("/") if "/" in raw else (None, "", raw)
        values, index, ended = [], [], None
        for r, (n, cells) in enumerate(data):
            text = cells[j].strip()
            if text == "":
                ended = ended or n
                continue
            if ended is not None:
                raise DataError(f"{path}, line {ended}, column {j + 1} {label!r}: empty cell inside the cycle (reads "
                                f"follow on line {n}); only the end of a shorter cycle may be empty")
            try:
                v = float(text)
            except ValueError:
                raise DataError(f"{path}, line {n}, column {j + 1} {label!r}: {text!r} is not a number") from None
            if not math.isfinite(v) or v <= 0:
                raise DataError(f"{path}, line {n}, column {j + 1} {label!r}: {text!r}; a read must be a finite "
                                f"number > 0 (remove the row's value or give the measured one)")
            values.append(1.0 / (v * scale) if resistance else v * scale)
            index.append(r)
        if len(values) < 2:
            raise DataError(f"{path}, column {j + 1} {label!r}: {len(values)} read(s); a cycle needs at least two")
        out.append((label, device or None, cycle, np.array(values), index))
    if not out:
        raise DataError(f"{path}: no cycle columns besides 'direction'")
    return directions, out


def csv_layout(path) -> str:
    """"long" (device,pulse,voltage,width,conductance rows) or "wide" (one column per cycle and a direction column)."""
    path = Path(path)
    _, header = _lines(path)[0]
    names = [_parse_header_cell(c)[0] for c in header]
    if "pulse" in names:
        return "long"
    if "direction" in names:
        return "wide"
    raise DataError(
        f"{path}: the header ({', '.join(repr(c.strip()) for c in header[:6])}{', ...' if len(header) > 6 else ''}) "
        f"has neither a 'pulse' column (long layout: device,pulse,voltage [V],width [s],conductance [S]) nor a "
        f"'direction' column (wide layout: one column per cycle, set/reset per row); for separate set and reset "
        f"files of one column per cycle use --set-csv FILE --reset-csv FILE"
    )


def read_measured(files=(), set_files=(), reset_files=(), *, set_voltage_v=None, reset_voltage_v=None, width_s=None,
                  device: str | None = None) -> list[PulseData]:
    """Every train of every file: long or wide ``files`` (layout from the header) and set/reset file pairs."""
    from memspice.calibrate.data import read_pulse_csv

    if len(set_files) != len(reset_files):
        raise ParameterError(f"{len(set_files)} set file(s) and {len(reset_files)} reset file(s): give them in pairs "
                             f"(--set-csv A.csv --reset-csv A_reset.csv), the k-th set file with the k-th reset file")
    trains: list[PulseData] = []
    for f in files:
        if csv_layout(f) == "long":
            trains += read_pulse_csv(f)
        else:
            trains += read_wide_cycles(f, set_voltage_v=set_voltage_v, reset_voltage_v=reset_voltage_v,
                                       width_s=width_s, device=device)
    for s, r in zip(set_files, reset_files):
        trains += read_set_reset(s, r, set_voltage_v=set_voltage_v, reset_voltage_v=reset_voltage_v, width_s=width_s,
                                 device=device)
    if not trains:
        raise ParameterError("no measured data given; name CSV files with --from-csv or --set-csv/--reset-csv")
    return trains


def _train(g, ups, set_v: float, reset_v: float, width_s: float, device: str, source: str, cycle: str) -> PulseData:
    volts = np.r_[0.0, np.where(ups, set_v, reset_v)]
    return PulseData(conductance_s=np.asarray(g), voltage_v=volts, width_s=np.r_[0.0, np.full(len(ups), width_s)],
                     device=device, source=source, meta={"train": cycle})


def _check_pulses(set_v, reset_v, width_s):
    missing = [flag for flag, v in (("--set-voltage", set_v), ("--reset-voltage", reset_v), ("--pulse-width", width_s))
               if v is None or not isinstance(v, (int, float)) or not math.isfinite(v)]
    if missing:
        raise ParameterError(f"the wide layout (one column per cycle) holds no pulse amplitudes or widths; give "
                             f"{', '.join(missing)} (set_voltage_v, reset_voltage_v, width_s in Python)")
    if set_v == 0 or reset_v == 0 or np.sign(set_v) == np.sign(reset_v):
        raise ParameterError(f"set voltage {set_v:g} V and reset voltage {reset_v:g} V: give two non-zero amplitudes of "
                             f"opposite sign (the sign is the polarity)")
    if width_s <= 0:
        raise ParameterError(f"pulse width {width_s:g} s: must be > 0")


def read_set_reset(set_path, reset_path, *, set_voltage_v: float | None = None, reset_voltage_v: float | None = None,
                   width_s: float | None = None,
                   device: str | None = None) -> list[PulseData]:
    """One train per cycle from a file of set ramps and a file of reset ramps (module docstring).

    Cycles are matched by header name; a cycle in one file only is a train of
    that direction alone. ``device``: the name of columns without a
    ``NAME/`` prefix (default: the set file's stem).
    """
    _check_pulses(set_voltage_v, reset_voltage_v, width_s)
    set_path, reset_path = Path(set_path), Path(reset_path)
    name = device or set_path.stem
    _, sets = _columns(set_path, False)
    _, resets = _columns(reset_path, False)
    keyed_reset = {(c[1] or name, c[2]): c for c in resets}
    out, used = [], set()
    for label, dev, cycle, g_set, _ in sets:
        key = (dev or name, cycle)
        if key in keyed_reset:
            used.add(key)
            g_reset = keyed_reset[key][3]
            g = np.r_[g_set, g_reset]
            ups = np.r_[np.ones(g_set.size - 1, bool), np.zeros(g_reset.size, bool)]
        else:
            g, ups = g_set, np.ones(g_set.size - 1, bool)
        out.append(_train(g, ups, set_voltage_v, reset_voltage_v, width_s, key[0], f"{set_path} + {reset_path}", cycle))
    for label, dev, cycle, g_reset, _ in resets:
        if (dev or name, cycle) not in used:
            out.append(_train(g_reset, np.zeros(g_reset.size - 1, bool), set_voltage_v, reset_voltage_v, width_s,
                              dev or name, str(reset_path), cycle))
    return out


def read_wide_cycles(path, *, set_voltage_v: float | None = None, reset_voltage_v: float | None = None,
                     width_s: float | None = None,
                     device: str | None = None) -> list[PulseData]:
    """One train per column from a wide file with a ``direction`` column (module docstring)."""
    _check_pulses(set_voltage_v, reset_voltage_v, width_s)
    path = Path(path)
    directions, cols = _columns(path, True)
    out = []
    for label, dev, cycle, g, index in cols:
        ups = np.array([directions[r] for r in index[1:]])  # the direction of the pulse before each read
        out.append(_train(g, ups, set_voltage_v, reset_voltage_v, width_s, dev or device or path.stem, str(path), cycle))
    return out


def write_wide_csv(path, columns, *, unit: str = "uS", comments: Sequence[str] = ()) -> Path:
    """Write ``columns`` (header -> reads in S) as one column each, in ``unit``; shorter ones padded with empty cells."""
    path = Path(path)
    scale = UNIT_SCALES["conductance"][unit]
    cols = {str(k): np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    n = max(v.size for v in cols.values())
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_comment_block(comments))
        w = csv.writer(fh)
        w.writerow([f"{k} [{unit}]" for k in cols])
        for i in range(n):
            w.writerow([repr(float(v[i] / scale)) if i < v.size else "" for v in cols.values()])
    return path


def write_set_reset(set_path, reset_path, trains, *, polarity: int | None = None, unit: str = "uS",
                    comments: Sequence[str] = ()) -> tuple[Path, Path]:
    """Write trains of cycles (one or a list, one per device) as a set file and a reset file: per cycle, the
    reads after its set pulses and after its reset pulses, headed DEVICE/cycle K (what :func:`read_set_reset`
    reads)."""
    from memspice.calibrate.pulsefit import split_cycles

    trains = [trains] if isinstance(trains, PulseData) else list(trains)
    sets, resets = {}, {}
    for train in trains:
        pol = train.potentiation_polarity() if polarity is None else polarity
        for k, c in enumerate(split_cycles(train, pol), start=1):
            up = c.directions(pol)
            sets[f"{train.device}/cycle {k}"] = c.conductance_s[1:][up]
            resets[f"{train.device}/cycle {k}"] = c.conductance_s[1:][~up]
    return (write_wide_csv(set_path, sets, unit=unit, comments=comments),
            write_wide_csv(reset_path, resets, unit=unit, comments=comments))
