"""Calibration data as values, and their CSV files (measured or simulated).

Two kinds of data, each a frozen dataclass of SI arrays:

``PulseData``  one device's pulse response: the conductance read after each
               programming pulse.
``IVData``     one device's current along a voltage waveform.

CSV formats
-----------
Plain comma-separated text. Lines starting with ``#`` are comments (put the
provenance there: instrument, device, or -- for generated files -- the
generating parameters). The first non-comment line is the header; every
column name carries its unit in square brackets, and the unit is checked
(a prefixed unit such as ``[uS]`` or ``[ns]`` is converted to SI at load).

Pulse-response file (``read_pulse_csv``)::

    device,pulse,voltage [V],width [s],conductance [S]
    d0,0,0,0,2.0e-06          <- pulse 0: the initial read, no pulse applied
    d0,1,1.2,5e-08,2.3e-06    <- read after pulse 1 (amplitude 1.2 V, 50 ns)

    device       optional text id (default "device0"); one file may hold several
                 devices, each a contiguous block of rows
    train        optional text id: several trains (cycles, sessions) of one
                 device, each a contiguous block with its own pulse numbers
    pulse        pulse number, 0 for the initial read, then 1, 2, ... in order
    voltage      pulse amplitude (V), signed: the polarity selects the direction
    width        pulse width (s), >= 0
    conductance  conductance read after the pulse (S), > 0 (a resistance
                 column ``resistance [ohm]`` may be given instead)

I-V file (``read_iv_csv``)::

    device,time [s],voltage [V],current [A]

    time must increase strictly within a device.

Every problem raises :class:`memspice.errors.DataError` naming the file, the
line number (1-based, as an editor shows it) and the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memspice.errors import DataError, ParameterError

__all__ = [
    "PulseData",
    "IVData",
    "read_pulse_csv",
    "write_pulse_csv",
    "read_iv_csv",
    "write_iv_csv",
    "UNIT_SCALES",
]


# unit -> SI factor, per physical quantity. Only these spellings are accepted;
# anything else is a "wrong unit" error that lists them.
UNIT_SCALES: dict[str, dict[str, float]] = {
    "conductance": {"S": 1.0, "mS": 1e-3, "uS": 1e-6, "µS": 1e-6, "nS": 1e-9},
    "resistance": {"ohm": 1.0, "Ohm": 1.0, "Ω": 1.0, "kohm": 1e3, "kOhm": 1e3, "kΩ": 1e3, "Mohm": 1e6, "MOhm": 1e6, "MΩ": 1e6},
    "voltage": {"V": 1.0, "mV": 1e-3},
    "current": {"A": 1.0, "mA": 1e-3, "uA": 1e-6, "µA": 1e-6, "nA": 1e-9, "pA": 1e-12},
    "time": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "ps": 1e-12},
    "count": {"": 1.0, "1": 1.0, "-": 1.0},
}


# ---------------------------------------------------------------------------
# values


@dataclass(frozen=True)
class PulseData:
    """One device's pulse response: the read conductance after each pulse.

    All arrays have length N + 1: index 0 is the initial read (no pulse,
    voltage and width 0), index k the read after pulse k.
    """

    conductance_s: np.ndarray
    """Read conductance after each pulse (S), shape (N + 1,)."""
    voltage_v: np.ndarray
    """Pulse amplitude (V), signed, shape (N + 1,); entry 0 is 0."""
    width_s: np.ndarray
    """Pulse width (s), shape (N + 1,); entry 0 is 0."""
    device: str = "device0"
    """Device id (from the CSV's device column)."""
    source: str = ""
    """Where the data came from (file name, or a description of the simulation)."""
    meta: dict = field(default_factory=dict, compare=False)
    """Free-form provenance (experiment parameters, generating parameters); not used by the fit."""

    def __post_init__(self) -> None:
        g = np.asarray(self.conductance_s, dtype=np.float64)
        v = np.asarray(self.voltage_v, dtype=np.float64)
        w = np.asarray(self.width_s, dtype=np.float64)
        if not (g.ndim == v.ndim == w.ndim == 1 and g.size == v.size == w.size):
            raise ParameterError(
                f"PulseData({self.device!r}): conductance_s, voltage_v and width_s must be 1-D of one length, "
                f"got shapes {g.shape}, {v.shape}, {w.shape}."
            )
        if g.size < 2:
            raise ParameterError(f"PulseData({self.device!r}): need the initial read and at least one pulse, got {g.size} reads.")
        for name, arr in (("conductance_s", g), ("voltage_v", v), ("width_s", w)):
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"PulseData({self.device!r}).{name} contains NaN or inf at index {int(np.flatnonzero(~np.isfinite(arr))[0])}.")
        object.__setattr__(self, "conductance_s", g)
        object.__setattr__(self, "voltage_v", v)
        object.__setattr__(self, "width_s", w)

    @property
    def n_pulses(self) -> int:
        return self.conductance_s.size - 1

    @property
    def polarity(self) -> np.ndarray:
        """Sign of each pulse (shape (N,)), +1 / -1 (0 for a zero-amplitude pulse)."""
        return np.sign(self.voltage_v[1:]).astype(int)

    def potentiation_polarity(self) -> int:
        """The voltage sign that raises the conductance (+1 or -1), judged from the data.

        The polarity whose pulses give the larger mean conductance change is
        potentiation; a file with one polarity only is potentiation if its mean
        change is positive. Raises DataError when the data cannot tell.
        """
        dg = np.diff(self.conductance_s)
        pol = self.polarity
        means = {s: float(dg[pol == s].mean()) for s in (1, -1) if np.any(pol == s)}
        if not means:
            raise DataError(f"PulseData({self.device!r}): every pulse has zero amplitude; no direction to fit.")
        if len(means) == 2:
            if means[1] == means[-1]:
                raise DataError(f"PulseData({self.device!r}): both polarities change the conductance equally; cannot tell potentiation.")
            return 1 if means[1] > means[-1] else -1
        (sign, mean), = means.items()
        return sign if mean > 0 else -sign

    def directions(self, potentiation_polarity: int | None = None) -> np.ndarray:
        """Boolean array (N,): True where the pulse is a potentiation pulse."""
        p = self.potentiation_polarity() if potentiation_polarity is None else potentiation_polarity
        return self.polarity == p


@dataclass(frozen=True)
class IVData:
    """One device's current along a voltage waveform."""

    time_s: np.ndarray
    """Sample times (s), strictly increasing, shape (T,)."""
    voltage_v: np.ndarray
    """Applied voltage (V), shape (T,)."""
    current_a: np.ndarray
    """Device current (A), shape (T,)."""
    device: str = "device0"
    source: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.time_s, dtype=np.float64)
        v = np.asarray(self.voltage_v, dtype=np.float64)
        i = np.asarray(self.current_a, dtype=np.float64)
        if not (t.ndim == v.ndim == i.ndim == 1 and t.size == v.size == i.size):
            raise ParameterError(f"IVData({self.device!r}): time_s, voltage_v, current_a must be 1-D of one length.")
        if t.size < 2 or not np.all(np.diff(t) > 0):
            raise ParameterError(f"IVData({self.device!r}): time_s must hold at least two strictly increasing samples.")
        object.__setattr__(self, "time_s", t)
        object.__setattr__(self, "voltage_v", v)
        object.__setattr__(self, "current_a", i)


# ---------------------------------------------------------------------------
# CSV reading


@dataclass(frozen=True)
class _Column:
    key: str
    quantity: str
    required: bool = True
    alternatives: tuple[tuple[str, str], ...] = ()   # (key, quantity) accepted instead


_PULSE_COLUMNS = (
    _Column("device", "text", required=False),
    _Column("train", "text", required=False),
    _Column("pulse", "count"),
    _Column("voltage", "voltage"),
    _Column("width", "time"),
    _Column("conductance", "conductance", alternatives=(("resistance", "resistance"),)),
)
_IV_COLUMNS = (
    _Column("device", "text", required=False),
    _Column("time", "time"),
    _Column("voltage", "voltage"),
    _Column("current", "current"),
)


def _parse_header_cell(cell: str) -> tuple[str, str | None]:
    """'conductance [uS]' -> ('conductance', 'uS'); 'pulse' -> ('pulse', None)."""
    text = cell.strip()
    if "[" in text:
        name, _, rest = text.partition("[")
        if not rest.endswith("]"):
            return text.lower(), "<unclosed>"
        return name.strip().lower(), rest[:-1].strip()
    if "(" in text and text.endswith(")"):
        name, _, rest = text.partition("(")
        return name.strip().lower(), rest[:-1].strip()
    return text.lower(), None


def csv_lines(path: Path, kind: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every line of a CSV file that is neither blank nor a ``#`` comment."""
    if not path.is_file():
        raise DataError(f"{kind} file {path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc}); save the CSV as UTF-8.") from None
    return [(n, next(csv.reader([line]))) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


def _read_table(path: Path, columns: Sequence[_Column], kind: str, example: str):
    """Parse a CSV with a unit-checked header. Returns (col key -> list of (line, value)), scales."""
    path = Path(path)
    lines = csv_lines(path, kind)
    if not lines:
        raise DataError(f"{path}: no header line and no data; expected a header such as\n    {example}")
    header_line, header = lines[0]
    parsed = [_parse_header_cell(c) for c in header]
    names = [p[0] for p in parsed]
    index: dict[str, tuple[int, str, float]] = {}   # key -> (column index, quantity, scale)
    for col in columns:
        options = ((col.key, col.quantity),) + col.alternatives
        found = [(k, q) for k, q in options if k in names]
        if not found:
            if col.required:
                alt = "".join(f" (or '{k} [...]')" for k, _ in col.alternatives)
                raise DataError(
                    f"{path}, line {header_line}: missing column '{col.key}'{alt}; the header has "
                    f"{', '.join(repr(h.strip()) for h in header)}. Expected a header such as\n    {example}"
                )
            continue
        key, quantity = found[0]
        j = names.index(key)
        if names.count(key) > 1:
            raise DataError(f"{path}, line {header_line}: column '{key}' appears {names.count(key)} times; keep one.")
        unit = parsed[j][1]
        if quantity == "text":
            scale = 1.0
        else:
            allowed = UNIT_SCALES[quantity]
            u = "" if unit is None else unit
            if u not in allowed:
                if unit is None:
                    problem = "has no unit"
                else:
                    problem = f"has unit [{unit}]"
                shown = ", ".join(f"[{a}]" for a in allowed if a) or "none"
                raise DataError(
                    f"{path}, line {header_line}, column {j + 1} '{header[j].strip()}': {problem}, "
                    f"which is not a {quantity} unit; use one of {shown}."
                )
            scale = allowed[u]
        index[col.key] = (j, quantity, scale)
        if key != col.key:
            index["_alt_" + col.key] = (j, key, scale)  # remember which alternative was used
    rows: list[tuple[int, list[str]]] = []
    for lineno, cells in lines[1:]:
        if len(cells) != len(header):
            raise DataError(
                f"{path}, line {lineno}: {len(cells)} cells but the header has {len(header)} columns; "
                "every row needs one value per column."
            )
        rows.append((lineno, cells))
    if not rows:
        raise DataError(f"{path}: the header (line {header_line}) is followed by no data rows.")
    values: dict[str, list] = {}
    for key, (j, quantity, scale) in index.items():
        if key.startswith("_alt_"):
            continue
        col_name = header[j].strip()
        out = []
        for lineno, cells in rows:
            raw = cells[j].strip()
            if quantity == "text":
                if not raw:
                    raise DataError(f"{path}, line {lineno}, column {j + 1} '{col_name}': empty device id.")
                out.append(raw)
                continue
            if raw == "":
                raise DataError(f"{path}, line {lineno}, column {j + 1} '{col_name}': empty cell; give a number.")
            try:
                val = float(raw)
            except ValueError:
                raise DataError(
                    f"{path}, line {lineno}, column {j + 1} '{col_name}': {raw!r} is not a number."
                ) from None
            if math.isnan(val):
                raise DataError(
                    f"{path}, line {lineno}, column {j + 1} '{col_name}': NaN; remove the row or give the measured value."
                )
            if math.isinf(val):
                raise DataError(f"{path}, line {lineno}, column {j + 1} '{col_name}': {raw!r} is infinite.")
            out.append((lineno, val * scale))
        values[key] = out
    alt = {k[5:]: v[1] for k, v in index.items() if k.startswith("_alt_")}
    cols = {key: (index[key][0] + 1, header[index[key][0]].strip()) for key in index if not key.startswith("_alt_")}
    return values, alt, cols, len(rows)


def _group_devices(values: dict, n_rows: int, path: Path) -> list[tuple[str, list[int]]]:
    """Row indices per device, in file order; a device must be one contiguous block."""
    ids = values.get("device") or ["device0"] * n_rows
    if "train" in values:  # one block per (device, train); the train id goes into the block's name
        ids = [f"{d}\x00{tr}" for d, tr in zip(ids, values["train"])]
    groups: list[tuple[str, list[int]]] = []
    seen: set[str] = set()
    for r, dev in enumerate(ids):
        if groups and groups[-1][0] == dev:
            groups[-1][1].append(r)
            continue
        if dev in seen:
            lineno = values["pulse" if "pulse" in values else "time"][r][0]
            what = "device {!r}, train {!r}".format(*dev.split("\x00")) if "\x00" in dev else f"device {dev!r}"
            raise DataError(f"{path}, line {lineno}, column 'device': {what} appears again after other rows; "
                            "keep its rows together.")
        seen.add(dev)
        groups.append((dev, [r]))
    return groups


def read_pulse_csv(path: str | Path) -> list[PulseData]:
    """Read a pulse-response CSV (format in the module docstring): one PulseData per device."""
    path = Path(path)
    example = "device,pulse,voltage [V],width [s],conductance [S]"
    values, alt, cols, n_rows = _read_table(path, _PULSE_COLUMNS, "pulse-response", example)
    out = []
    for block, rows in _group_devices(values, n_rows, path):
        dev, _, train = block.partition("\x00")
        lines = [values["pulse"][r][0] for r in rows]
        pulse = np.array([values["pulse"][r][1] for r in rows])
        volt = np.array([values["voltage"][r][1] for r in rows])
        width = np.array([values["width"][r][1] for r in rows])
        g = np.array([values["conductance"][r][1] for r in rows])
        col_p, name_p = cols["pulse"]
        col_g, name_g = cols["conductance"]
        col_w, name_w = cols["width"]
        for k, (ln, p) in enumerate(zip(lines, pulse)):
            if p != k:
                raise DataError(
                    f"{path}, line {ln}, column {col_p} '{name_p}': pulse number {p:g} for device {dev!r}"
                    f"{f' train {train!r}' if train else ''}, "
                    f"expected {k} (numbers start at 0, the initial read, and go up by 1)."
                )
        for ln, gv in zip(lines, g):
            if not gv > 0.0:
                what = "resistance" if alt.get("conductance") == "resistance" else "conductance"
                raise DataError(f"{path}, line {ln}, column {col_g} '{name_g}': {what} {gv:g} must be > 0.")
        for ln, wv in zip(lines, width):
            if wv < 0.0:
                raise DataError(f"{path}, line {ln}, column {col_w} '{name_w}': width {wv:g} s must be >= 0.")
        if len(rows) < 2:
            raise DataError(f"{path}, line {lines[0]}: device {dev!r} has only the initial read; give at least one pulse.")
        if alt.get("conductance") == "resistance":
            g = 1.0 / g
        out.append(PulseData(conductance_s=g, voltage_v=volt, width_s=width, device=dev, source=str(path),
                             meta={"train": train} if train else {}))
    return out


def read_iv_csv(path: str | Path) -> list[IVData]:
    """Read an I-V CSV (format in the module docstring): one IVData per device."""
    path = Path(path)
    example = "device,time [s],voltage [V],current [A]"
    values, _alt, cols, n_rows = _read_table(path, _IV_COLUMNS, "I-V", example)
    out = []
    col_t, name_t = cols["time"]
    for dev, rows in _group_devices(values, n_rows, path):
        t = np.array([values["time"][r][1] for r in rows])
        lines = [values["time"][r][0] for r in rows]
        bad = np.flatnonzero(np.diff(t) <= 0)
        if bad.size:
            k = int(bad[0]) + 1
            raise DataError(
                f"{path}, line {lines[k]}, column {col_t} '{name_t}': time {t[k]:g} s does not increase "
                f"(previous row {t[k - 1]:g} s) for device {dev!r}."
            )
        if len(rows) < 2:
            raise DataError(f"{path}, line {lines[0]}: device {dev!r} has a single sample; give a waveform.")
        v = np.array([values["voltage"][r][1] for r in rows])
        i = np.array([values["current"][r][1] for r in rows])
        out.append(IVData(time_s=t, voltage_v=v, current_a=i, device=dev, source=str(path)))
    return out


# ---------------------------------------------------------------------------
# CSV writing


def _comment_block(comments: Sequence[str]) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for c in comments for line in c.splitlines() or [""])


def write_pulse_csv(path: str | Path, data: Sequence[PulseData], comments: Sequence[str] = ()) -> Path:
    """Write pulse responses in the format ``read_pulse_csv`` reads (SI units, full precision)."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_comment_block(comments))
        trains = any("train" in d.meta for d in data)  # several trains of a device: a train column
        fh.write("device," + ("train," if trains else "") + "pulse,voltage [V],width [s],conductance [S]\n")
        for i, d in enumerate(data):
            lead = f"{d.device}," + (f"{d.meta.get('train', i)}," if trains else "")
            for k in range(d.conductance_s.size):
                fh.write(f"{lead}{k},{float(d.voltage_v[k])!r},{float(d.width_s[k])!r},{float(d.conductance_s[k])!r}\n")
    return path


def write_iv_csv(path: str | Path, data: Sequence[IVData], comments: Sequence[str] = ()) -> Path:
    """Write I-V data in the format ``read_iv_csv`` reads."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_comment_block(comments))
        fh.write("device,time [s],voltage [V],current [A]\n")
        for d in data:
            for k in range(d.time_s.size):
                fh.write(f"{d.device},{float(d.time_s[k])!r},{float(d.voltage_v[k])!r},{float(d.current_a[k])!r}\n")
    return path
