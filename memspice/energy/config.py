"""An ``[energy]`` table (a training config, a CLI's options) -> :class:`~memspice.energy.EnergyModel`.

Keys (all optional):

``table``                 path of an energy table (.toml from ``memspice energy measure``),
                          relative to ``base_dir`` (the config file's folder); default:
                          the shipped table of :mod:`memspice.energy.default`
``forward_encoding``      "analog" (default), "binary" or "stochastic"
``backward_encoding``     the same for the transposed read (default "analog")
``bl``                    bit-stream length of the stochastic encoding (default 10)
``write_scheme``          "v/2" (default) or "v/3", for cell-by-cell programming
``write_voltage_v``       which pulse amplitude of the table to use (default: its only one)
``adc_conversion_j``, ``mac_j``, ``accumulator_update_j``   :class:`~memspice.energy.DigitalCosts`
"""

from __future__ import annotations

from pathlib import Path

from memspice.config import check_table
from memspice.energy.estimate import DigitalCosts, EnergyModel
from memspice.energy.table import load_table
from memspice.errors import ConfigError, DataError, ParameterError

_MODEL_KEYS = ("forward_encoding", "backward_encoding", "bl", "write_scheme", "write_voltage_v")
_DIGITAL_KEYS = ("adc_conversion_j", "mac_j", "accumulator_update_j")
KEYS = ("table", *_MODEL_KEYS, *_DIGITAL_KEYS)


def _table_path(table: dict, base_dir: str | Path) -> Path | None:
    """The ``table`` file of an ``[energy]`` table, resolved against ``base_dir``; None: the default."""
    if "table" not in table:
        return None
    if not isinstance(table["table"], str) or not table["table"]:
        raise ConfigError(f"[energy] table = {table['table']!r}: give the path of an energy table .toml "
                          "(make one with `memspice energy measure`), or leave it out for the default table")
    path = Path(table["table"])
    return path if path.is_absolute() else Path(base_dir) / path


def energy_model_from_table(table: dict, base_dir: str | Path = ".") -> EnergyModel:
    """The :class:`EnergyModel` an ``[energy]`` table describes (ConfigError naming a bad key).

    Without ``table`` the model prices the counts with the shipped default
    table (:mod:`memspice.energy.default`); an empty dict gives the default
    model (default table, analog reads, V/2, :class:`DigitalCosts` defaults).
    """
    check_table(table, KEYS, "energy")
    path = _table_path(table, base_dir)
    try:
        if path is None:
            from memspice.energy.default import load_default_table

            measured = load_default_table()
        else:
            measured = load_table(path)
        digital = DigitalCosts(**{k: float(table[k]) for k in _DIGITAL_KEYS if k in table})
        return EnergyModel(measured, digital=digital, **{k: table[k] for k in _MODEL_KEYS if k in table})
    except (DataError, ParameterError, TypeError, ValueError) as exc:
        raise ConfigError(f"[energy]: {exc}") from None


def energy_table_label(table: dict, base_dir: str | Path = ".") -> str:
    """Which table an ``[energy]`` table's numbers come from: its path, or ``default: ...`` (operations.json)."""
    path = _table_path(table, base_dir)
    if path is None:
        from memspice.energy.default import default_label

        return default_label()
    return str(path)
