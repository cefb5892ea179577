"""The results table: one CSV, a row appended (and flushed to disk) as each point finishes.

The file is the sweep's journal: on a restart the keys already in it are the
finished points, so they are not run again. A process killed while writing
can leave a last line without its newline; that fragment is cut off before
appending. Columns are fixed when the file is created (bookkeeping, then the
parameters, then the task's metrics); a file with other columns belongs to
another sweep and is not touched.

Values: numbers are written with ``repr`` (round-trip exact), strings as
they are, lists and tables as JSON; :func:`read_results` turns them back.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from memspice.errors import ConfigError, DataError

__all__ = ["BOOK_COLUMNS", "ResultTable", "read_results", "export_parquet"]

#: bookkeeping columns, first in every results table
BOOK_COLUMNS = ("key", "point", "status", "error_type", "error", "elapsed_s", "worker", "run_id", "finished_at")
_TEXT_COLUMNS = {"key", "status", "error_type", "error", "worker", "run_id", "finished_at"}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    # one row per line, always: a torn row after a kill is then exactly the text after the last newline
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


def _value(text: str):
    if text == "":
        return None
    if text in ("nan", "inf", "-inf"):
        return float(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


class ResultTable:
    """Append-only CSV of sweep results at ``path`` with the given columns."""

    def __init__(self, path: str | Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        if len(set(self.columns)) != len(self.columns):
            raise ConfigError(f"results columns repeat a name: {self.columns}")

    def finished(self, *, include_failed: bool = True) -> dict[str, dict]:
        """key -> last row for every point already in the file (failed ones too unless ``include_failed`` is False).

        Repairs a torn last line left by a killed process. Raises ConfigError if
        the file has other columns (another sweep wrote it).
        """
        if not self.path.exists():
            return {}
        self._repair_tail()
        text = self.path.read_text(encoding="utf-8")
        if not text.strip():
            return {}
        reader = csv.reader(io.StringIO(text))
        header = tuple(next(reader))
        if header != self.columns:
            missing = [c for c in self.columns if c not in header]
            extra = [c for c in header if c not in self.columns]
            raise ConfigError(
                f"results file {str(self.path)!r} was written by a different sweep (columns missing: "
                f"{', '.join(missing) or '-'}; unexpected: {', '.join(extra) or '-'}); give the sweep another output "
                "file, or run with --no-resume to overwrite it"
            )
        done: dict[str, dict] = {}
        for k, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise DataError(f"{self.path}: line {k} has {len(row)} cells, the header {len(header)}; "
                                "the file was edited or damaged -- fix or remove that line")
            rec = dict(zip(header, row))
            if include_failed or rec["status"] == "ok":
                done[rec["key"]] = rec
            else:
                done.pop(rec["key"], None)
        return done

    def _repair_tail(self) -> None:
        """Cut a last line without a newline (a write interrupted by a kill)."""
        with self.path.open("rb+") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            # find the last newline; everything after it is a torn row
            block = min(size, 1 << 20)
            fh.seek(size - block)
            tail = fh.read(block)
            cut = tail.rfind(b"\n")
            fh.truncate(size - block + cut + 1 if cut >= 0 else 0)

    def create(self, *, overwrite: bool) -> None:
        """Write the header (a new file, or replace an existing one when ``overwrite``)."""
        if self.path.exists() and not overwrite and self.path.stat().st_size > 0:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerow(self.columns)
            fh.flush()
            os.fsync(fh.fileno())

    def append(self, record: Mapping) -> None:
        """One row, written in a single call and synced, so a kill leaves whole rows (or one torn line)."""
        unknown = set(record) - set(self.columns)
        if unknown:
            raise ConfigError(f"result has columns {sorted(unknown)} that the table {self.path} does not have")
        buf = io.StringIO()
        csv.writer(buf).writerow([_cell(record.get(c)) for c in self.columns])
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())


def read_results(path: str | Path) -> list[dict]:
    """Every row of a results CSV as a dict, numbers and JSON cells parsed back (the last row of a key wins)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"results file {str(path)!r} does not exist")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if rows and "key" not in rows[0]:
        raise DataError(f"{path} is not a memspice sweep results table (no 'key' column)")
    last: dict[str, dict] = {}
    for r in rows:
        last[r["key"]] = {k: (v if k in _TEXT_COLUMNS else _value(v)) for k, v in r.items()}
    return list(last.values())


def export_parquet(csv_path: str | Path, parquet_path: str | Path | None = None) -> Path:
    """A Parquet copy of the results table (needs pyarrow: pip install pyarrow)."""
    try:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("sweep.parquet = true needs pyarrow (pip install pyarrow); the CSV table is complete without it") from None
    csv_path = Path(csv_path)
    out = Path(parquet_path) if parquet_path is not None else csv_path.with_suffix(".parquet")
    pq.write_table(pacsv.read_csv(csv_path), out)
    return out


def columns_for(param_names: Iterable[str], metrics: Iterable[str]) -> tuple[str, ...]:
    """Bookkeeping, then parameters, then metrics (a metric named like a parameter would be ambiguous)."""
    params, mets = list(param_names), list(metrics)
    clash = set(params) & set(mets) | (set(params) | set(mets)) & set(BOOK_COLUMNS)
    if clash:
        raise ConfigError(f"parameter name(s) {sorted(clash)} clash with result columns; rename them")
    return (*BOOK_COLUMNS, *params, *mets)
