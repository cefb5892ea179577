"""Every table memspice writes, loaded as a pandas DataFrame: ``memspice.results.load(path)``.

``load`` takes a file or a folder and recognises what wrote it:

==========================================  ===============================================
path                                        DataFrame
==========================================  ===============================================
a training run folder (``memspice train``)  one row per epoch: metrics.csv joined with
                                            timing.csv on ``epoch`` (``attrs``: summary.json)
``metrics.csv``, ``timing.csv``             one row per epoch
``counters.csv``                            one row per epoch and layer (operation counts)
``cosim.csv``                               one row per SPICE co-simulation checkpoint
``energy.csv`` (``memspice energy          one row per epoch, joules per part
estimate``)
``robustness.csv`` (``memspice evaluate``)  one row per perturbation, level and network
``*-cells.csv`` (``memspice                 one row per touched cell: ngspice and surrogate
validate-update``)                          ΔG, error, IR-drop loss
a sweep results table                       one row per point: bookkeeping columns, the
(``memspice sweep``)                        parameters, the metrics (lists and tables parsed
                                            from their JSON cells)
a fitted model file (``memspice calibrate   one row: the fitted family, device class, every
-o FILE.toml``)                             fitted field and the fit figures
==========================================  ===============================================

Column names carry their unit (memspice.frames: ``train_loss_nats``,
``test_accuracy_frac``, ``dg_spice_s``, ``energy_total_j``); the values are
the file's. ``df.attrs["source"]`` is the path read and ``df.attrs["kind"]``
what it was taken for. pandas is optional: without it every function here
raises memspice.errors.MissingDependency naming the install command.

:func:`load_run` gives all tables of one training run at once.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from memspice.config import read_toml
from memspice.errors import DataError
from memspice.frames import frame, require_pandas

__all__ = ["load", "load_run", "RunResults", "kind_of"]

_RUN_FILES = {"metrics.csv": "history", "timing.csv": "timing", "counters.csv": "counters", "cosim.csv": "cosim",
              "energy.csv": "energy", "robustness.csv": "robustness"}
_FITTED = "memspice.calibrate.fitted/1"


def _number(text: str):
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _csv_rows(path: Path, header_only: bool = False) -> tuple[list[str], list[dict]]:
    """(header, rows with numbers parsed) of a CSV; ``header_only``: the header line alone is read."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if header_only:
                return list(reader.fieldnames or []), []
            rows = [{k: _number(v) for k, v in r.items()} for r in reader]
            return list(reader.fieldnames or []), rows
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text CSV file; give a table memspice wrote (see memspice.results)") from None


def kind_of(path: str | Path) -> str:
    """What :func:`load` takes ``path`` for: "run", "sweep", "cells", "fitted-model" or a file name's stem."""
    path = Path(path)
    if path.is_dir():
        if (path / "metrics.csv").is_file():
            return "run"
        raise DataError(f"{path} is a folder without metrics.csv; give a training run folder (memspice train --out) "
                        f"or one of its files")
    if not path.is_file():
        raise DataError(f"{path} does not exist; give a results file or a training run folder")
    if path.suffix.lower() == ".toml":
        doc = read_toml(path, "model file", error=DataError)
        if doc.get("format") == _FITTED:
            return "fitted-model"
        raise DataError(f"{path}: not a fitted model file (format = {doc.get('format')!r}, expected {_FITTED!r})")
    if path.suffix.lower() != ".csv":
        raise DataError(f"{path}: memspice.results reads .csv tables, fitted model .toml files and run folders")
    if path.name in _RUN_FILES:
        return _RUN_FILES[path.name]
    header, _ = _csv_rows(path, header_only=True)
    if "key" in header and "status" in header:
        return "sweep"
    if path.name.endswith("-cells.csv") or {"row", "col", "dg_spice_s"} <= set(header):
        return "cells"
    return "table"


def _load_file(path: Path, kind: str):
    if kind == "sweep":
        from memspice.sweep.table import read_results

        return frame(read_results(path))
    if kind == "fitted-model":
        return frame([_fitted_row(path)])
    header, rows = _csv_rows(path)
    if not header:
        raise DataError(f"{path} is empty (no header line); it was not written by memspice or was cut short")
    return frame(rows, header)


def _fitted_row(path: Path) -> dict:
    doc = read_toml(path, "model file", error=DataError)
    tile, cal = doc.get("tile", {}), doc.get("calibration", {})
    row = {"device": tile.get("device"), "family": cal.get("family"), "source": cal.get("source")}
    for name, value in tile.get("device_params", {}).items():
        if not isinstance(value, list):  # tabulated models keep their tables as lists: not one cell's value
            row[name] = value
    for name, value in cal.items():
        if isinstance(value, (int, float, str)) and name not in row:
            row[name] = value
    return row


def load(path: str | Path):
    """The DataFrame of a memspice results file or training run folder (see the module docstring)."""
    path = Path(path)
    kind = kind_of(path)
    if kind == "run":
        pd = require_pandas()
        df = _load_file(path / "metrics.csv", "history")
        if (path / "timing.csv").is_file() and (path / "timing.csv").stat().st_size:
            df = pd.merge(df, _load_file(path / "timing.csv", "timing"), on="epoch", how="left")
        summary = path / "summary.json"
        if summary.is_file():
            df.attrs["summary"] = json.loads(summary.read_text(encoding="utf-8"))
    else:
        df = _load_file(path, kind)
    df.attrs.update(source=str(path), kind=kind)
    return df


@dataclass
class RunResults:
    """Every table of one training run (None where the run did not write it)."""

    path: Path
    history: object  #: per epoch: losses, accuracies, co-simulation and energy columns, timing
    counters: object = None  #: per epoch and layer: operation counts
    cosim: object = None  #: per SPICE checkpoint
    energy: object = None  #: per epoch (memspice energy estimate)
    robustness: object = None  #: per perturbation level (memspice evaluate)
    summary: dict = field(default_factory=dict)  #: summary.json
    config: dict = field(default_factory=dict)  #: the config that ran (from summary.json)


def load_run(path: str | Path) -> RunResults:
    """All tables of the training run folder ``path`` as DataFrames."""
    path = Path(path)
    if kind_of(path) != "run":
        raise DataError(f"{path} is not a training run folder (no metrics.csv)")
    history = load(path)
    extra = {}
    for name, kind in _RUN_FILES.items():
        f = path / name
        if kind in ("history", "timing") or not f.is_file() or not f.stat().st_size:
            continue
        extra[kind] = _load_file(f, kind)
    summary = history.attrs.get("summary", {})
    return RunResults(path=path, history=history, summary=summary, config=summary.get("config", {}), **extra)
