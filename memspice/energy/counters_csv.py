"""Read a training run's counters.csv (one row per epoch and layer; written by the trainer's operation counting)."""

from __future__ import annotations

import csv
from pathlib import Path

from memspice.errors import DataError

__all__ = ["INT_COLUMNS", "read_counters_csv"]

#: columns of counters.csv holding integers (epoch, layer and shapes); every other column is a float count
INT_COLUMNS = ("epoch", "layer", "n_out", "n_cols", "devices_per_pulse")


def read_counters_csv(path) -> list[dict]:
    """Rows of counters.csv, numbers parsed (:data:`INT_COLUMNS` as int, the counts as float)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{str(path)!r} does not exist: train with operation counting on (memspice >= issue 14)")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    try:
        return [{k: (int(v) if k in INT_COLUMNS else float(v)) for k, v in r.items()} for r in rows]
    except (TypeError, ValueError) as exc:
        raise DataError(f"{str(path)!r} is not a counters.csv: {exc}") from None
