"""The energy table: per-read and per-pulse energies measured on one crossbar, with its description.

A table is a value: :class:`EnergyTable` = a description of the crossbar and
device model that produced it (so a number is never separated from its
circuit) and a tuple of :class:`EnergyEntry` rows. It is saved as TOML (the
source of truth, read back by :func:`load_table`) and, beside it, as CSV
(the same rows, for spreadsheets and plots).

Entry kinds:

``kind = "read"``  one read of duration ``width_s`` at ``level`` (fraction of
    the full-scale read voltage ``voltage_v``); ``direction`` forward (rows
    driven, columns sensed) or backward (the transposed read); ``encoding``
    analog (a DAC level), binary (full scale) or stochastic (one bit slot of
    a bit stream). ``per_line_j``: energy per driven line (row activation);
    ``per_cell_j``: the same per cell of that line.
``kind = "pulse"`` one programming pulse of amplitude ``voltage_v`` with
    ``scheme`` v/2 or v/3 on one selected cell. ``per_cell_j``: the selected
    cell; ``half_selected_j``: mean over the cells sharing its row or column;
    ``unselected_j``: mean over the rest (0 with V/2, V/3 puts −V/3 on them).
    ``total_j`` is the energy every source delivered (cells, wires, drivers).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from memspice.errors import DataError, ParameterError
from memspice.inputs import input_file

FORMAT = "memspice.energy.table/1"
KINDS = ("read", "pulse")
DIRECTIONS = ("forward", "backward", "")
ENCODINGS = ("analog", "binary", "stochastic", "")
SCHEMES = ("v/2", "v/3", "")


#: the energy fields of an entry (J)
ENERGY_FIELDS = ("total_j", "per_cell_j", "per_line_j", "half_selected_j", "unselected_j")


@dataclass(frozen=True)
class EnergyEntry:
    """One measured energy (J); see the module docstring for the meaning of each kind."""

    kind: str  #: "read" or "pulse"
    voltage_v: float  #: full-scale read voltage (reads) or pulse amplitude (pulses), V
    width_s: float  #: plateau of the read or write pulse (s)
    rise_s: float  #: rise time (s)
    fall_s: float  #: fall time (s)
    total_j: float  #: energy delivered by all line sources (J)
    per_cell_j: float  #: reads: per cell of one driven line; pulses: the selected cell (J)
    direction: str = ""  #: reads: "forward" or "backward"
    encoding: str = ""  #: reads: "analog", "binary" or "stochastic"
    level: float = 1.0  #: reads: fraction of the full-scale read voltage driven (0..1]
    per_line_j: float = 0.0  #: reads: energy per driven line (row activation), J
    scheme: str = ""  #: pulses: "v/2" or "v/3"
    half_selected_j: float = 0.0  #: pulses: mean energy of a half-selected cell (J)
    unselected_j: float = 0.0  #: pulses: mean energy of an unselected cell (J)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ParameterError(f"energy entry kind {self.kind!r}: choose one of {', '.join(KINDS)}")
        for name, allowed in (("direction", DIRECTIONS), ("encoding", ENCODINGS), ("scheme", SCHEMES)):
            if getattr(self, name) not in allowed:
                raise ParameterError(f"energy entry {name} = {getattr(self, name)!r}: choose one of {allowed}")
        if self.kind == "read" and (not self.direction or not self.encoding):
            raise ParameterError("a read entry needs a direction (forward|backward) and an encoding")
        if self.kind == "pulse" and not self.scheme:
            raise ParameterError("a pulse entry needs a scheme (v/2|v/3)")
        if not 0.0 < self.level <= 1.0:
            raise ParameterError(f"energy entry level = {self.level!r}: a fraction of full scale in (0, 1]")
        for name in ("voltage_v", "width_s", "rise_s", "fall_s", *ENERGY_FIELDS):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParameterError(f"energy entry {name} = {value!r}: give a finite number")
        for name in ("width_s", "rise_s", "fall_s"):
            if getattr(self, name) < 0:
                raise ParameterError(f"energy entry {name} = {getattr(self, name)!r}: a time cannot be negative")
        # a passive array takes energy from its sources: E >= 0 (a measured value may miss 0 by the
        # integration error, far below 1e-6 of the total)
        floor = -1e-6 * max(abs(float(self.total_j)), 1e-15)
        for name in ENERGY_FIELDS:
            if getattr(self, name) < floor:
                raise ParameterError(f"energy entry {name} = {getattr(self, name)!r} J is negative: a crossbar of "
                                     "passive devices only takes energy; re-measure the table (memspice energy measure)")

    @property
    def effective_width_s(self) -> float:
        """Plateau plus a third of each linear edge: ∫(v/V)² dt of the trapezoid (what an ohmic cell sees)."""
        return self.width_s + (self.rise_s + self.fall_s) / 3.0


@dataclass(frozen=True)
class EnergyTable:
    """Measured energies and the circuit that produced them.

    ``description``: nested dict of the crossbar (rows, cols, cell, wires,
    contact, driver, readout), the device model (name, citation, parameter
    values) and the cell states (mean state, mean read conductance), as
    written by :func:`memspice.energy.measure.describe_crossbar`.
    """

    description: dict
    entries: tuple[EnergyEntry, ...]

    def select(self, **where) -> list[EnergyEntry]:
        """Entries whose fields equal every ``where`` value (e.g. kind="pulse", scheme="v/2")."""
        return [e for e in self.entries if all(getattr(e, k) == v for k, v in where.items())]

    def one(self, **where) -> EnergyEntry:
        """The single entry matching ``where`` (DataError naming what the table has otherwise)."""
        found = self.select(**where)
        if len(found) != 1:
            have = sorted({(e.kind, e.direction, e.encoding, e.scheme, e.level, e.voltage_v) for e in self.entries})
            raise DataError(f"the energy table has {len(found)} entries with {where}; it has {have}")
        return found[0]


_COLUMNS = tuple(f.name for f in dataclasses.fields(EnergyEntry))


def save_table(table: EnergyTable, path: str | Path) -> tuple[Path, Path]:
    """Write ``path`` (.toml) and the same rows as ``path`` with suffix .csv; returns both paths."""
    path = Path(path)
    if path.suffix != ".toml":
        raise ParameterError(f"energy table file {str(path)!r}: give a .toml path (the .csv is written beside it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, "description": table.description,
           "entries": [dataclasses.asdict(e) for e in table.entries]}
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    csv_path = path.with_suffix(".csv")
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(_COLUMNS)
        for e in table.entries:
            w.writerow([repr(v) if isinstance(v, float) else v for v in dataclasses.astuple(e)])
    return path, csv_path


def load_table(path: str | Path) -> EnergyTable:
    """Read a table written by :func:`save_table`."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"energy table {str(path)!r} does not exist; make one with `memspice energy measure`")
    try:
        doc = tomllib.loads(input_file(path, "energy table").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"energy table {str(path)!r} is not valid TOML: {exc}") from None
    if doc.get("format") != FORMAT:
        raise DataError(f"{str(path)!r} is not a memspice energy table (format {doc.get('format')!r}, expected {FORMAT!r})")
    try:
        entries = tuple(EnergyEntry(**e) for e in doc.get("entries", []))
    except (TypeError, ParameterError) as exc:
        raise DataError(f"energy table {str(path)!r}: bad entry: {exc}") from None
    return EnergyTable(description=doc.get("description", {}), entries=entries)
