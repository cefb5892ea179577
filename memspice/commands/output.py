"""Small output helpers shared by the subcommands and benchmarks: tables, JSON and CSV files."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from memspice.config import to_jsonable
from memspice.errors import ParameterError


def print_json(document) -> None:
    json.dump(to_jsonable(document), sys.stdout, indent=2)
    sys.stdout.write("\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence], float_format: str = "{:.6g}") -> str:
    """A plain-text table with right-aligned numeric columns."""
    cells = [[_cell(v, float_format) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) if cells else len(h) for k, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def write_csv_rows(path: str | Path, fieldnames: Sequence[str], rows: Iterable[dict], *, ignore_extra: bool = False) -> None:
    """Write dict ``rows`` to a CSV file with a header: ``fieldnames`` in order, a missing key as an empty cell.

    A key not in ``fieldnames`` is an error unless ``ignore_extra``.
    """
    with Path(path).open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(fieldnames), restval="", extrasaction="ignore" if ignore_extra else "raise")
        w.writeheader()
        w.writerows(rows)


def _cell(value, float_format: str) -> str:
    if isinstance(value, (float, np.floating)):
        return float_format.format(value)
    return str(value)


def parse_assignments(items: Sequence[str], option: str = "--param") -> dict[str, float]:
    """``["k_on_m_per_s=-0.01", ...]`` from a repeatable option -> ``{"k_on_m_per_s": -0.01}`` (SI numbers)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"{option} {item!r}: write NAME=VALUE, e.g. {option} k_on_m_per_s=-0.01")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ParameterError(f"{option} {item!r}: {value!r} is not a number") from None
    return out
