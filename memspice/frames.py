"""Tables as pandas DataFrames, with the unit of every column in its name.

pandas is an optional dependency (``pip install memspice[analysis]``); every
``to_dataframe()`` of memspice and :func:`memspice.results.load` go through
:func:`frame`, which raises :class:`memspice.errors.MissingDependency` with
the install command when pandas is missing.

Column names: memspice's files already end most names in their SI unit
(``_s`` seconds or siemens by context, ``_j`` joules, ``_v`` volts, ``_ohm``).
The columns whose file name carries no unit get one here, from
:data:`COLUMN_UNITS`: losses in nats (``train_loss_nats``), fractions
(accuracies, IR-drop loss, relative errors) as ``_frac``. Values are never
rescaled, so a DataFrame column and the file's column hold the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from memspice.errors import MissingDependency

__all__ = ["COLUMN_UNITS", "unit_name", "frame", "require_pandas"]

#: unit suffix for the columns whose name in the files has none
COLUMN_UNITS: dict[str, str] = {
    # metrics.csv (memspice.learn.metrics): mean cross-entropy in nats, accuracies as fractions of the set
    "train_loss": "nats", "validation_loss": "nats", "final_validation_loss": "nats",
    "train_accuracy": "frac", "validation_accuracy": "frac", "test_accuracy": "frac",
    "best_validation_accuracy": "frac",
    # co-simulation columns (memspice.validate.cosim): RMS errors relative to the circuit's value
    "cosim_output_rel_rms": "frac", "cosim_dg_rel_rms": "frac",
    "output_rel_rms": "frac", "dg_rel_rms": "frac", "dg_rel_rms_array": "frac", "dg_rel_rms_tile": "frac",
    "dg_rel_rms_inside": "frac", "output_max_abs": "frac",
    # circuit in the loop (memspice.learn.circuit_metrics), one column per layer: name_L<k> -> name_frac_L<k>
    "circuit_dg_rel_rms_array": "frac", "circuit_dg_rel_rms_wire_blind": "frac",
    # validate-update per-cell table (memspice.validate.result): fraction of the write voltage lost to wires
    "ir_loss": "frac",
    # calibration fits (memspice.calibrate.workflow.Calibration.summary): RMS error over the fitted G range
    "rms_rel_range": "frac",
    # robustness.csv (memspice.learn.robustness)
    "accuracy": "frac", "accuracy_std": "frac",
}


def unit_name(column: str) -> str:
    """``column`` with its unit suffix from :data:`COLUMN_UNITS` (unchanged when it has none there)."""
    unit = COLUMN_UNITS.get(column)
    if unit:
        return f"{column}_{unit}"
    base, _, layer = column.rpartition("_L")
    if layer.isdigit() and COLUMN_UNITS.get(base):  # a per-layer column keeps its layer last
        return f"{base}_{COLUMN_UNITS[base]}_L{layer}"
    return column


def require_pandas():
    """The pandas module, or MissingDependency saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise MissingDependency(
            "results as DataFrames need pandas, which is not installed: pip install 'memspice[analysis]' "
            "(or pip install pandas); the CSV and JSON files are complete without it"
        ) from None
    return pandas


def frame(rows: Iterable[Mapping], columns: Iterable[str] | None = None, *, attrs: Mapping | None = None):
    """A DataFrame of ``rows`` (dicts), columns in ``columns`` order, renamed by :func:`unit_name`."""
    pd = require_pandas()
    rows = list(rows)
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    df = pd.DataFrame.from_records([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    df = df.rename(columns={c: unit_name(c) for c in cols})
    if attrs:
        df.attrs.update(attrs)
    return df
