"""An ``[energy]`` table (a training config, a CLI's options) -> :class:`~memspice.energy.EnergyModel`.

Keys (all optional but ``table``):

``table``                 path of an energy table (.toml from ``memspice energy measure``),
                          relative to ``base_dir`` (the config file's folder)
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


def energy_model_from_table(table: dict, base_dir: str | Path = ".") -> EnergyModel:
    """The :class:`EnergyModel` an ``[energy]`` table describes (ConfigError naming a bad key)."""
    check_table(table, KEYS, "energy")
    if "table" not in table:
        raise ConfigError("[energy] needs table = \"<energy table .toml>\" (make one with `memspice energy measure`)")
    path = Path(table["table"])
    path = path if path.is_absolute() else Path(base_dir) / path
    try:
        measured = load_table(path)
        digital = DigitalCosts(**{k: float(table[k]) for k in _DIGITAL_KEYS if k in table})
        return EnergyModel(measured, digital=digital, **{k: table[k] for k in _MODEL_KEYS if k in table})
    except (DataError, ParameterError, TypeError, ValueError) as exc:
        raise ConfigError(f"[energy]: {exc}") from None
