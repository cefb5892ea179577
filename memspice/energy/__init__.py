"""Energy of crossbar training: a per-read / per-pulse table measured in ngspice, and run estimates.

Stage 8 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit, memspice.cell, memspice.surrogate
and memspice.calibrate (and the foundation modules), nothing later.

>>> from memspice.devices import get_model
>>> from memspice.circuit import Crossbar
>>> from memspice.energy import EnergySettings, measure_energy_table, save_table, EnergyModel
>>> xb = Crossbar.uniform(get_model("resistor", r_on_ohm=1e4, r_off_ohm=1e4), 4, 4, 1.0)
>>> table = measure_energy_table(xb, EnergySettings(v_read_v=0.2))        # doctest: +SKIP
>>> save_table(table, "energy.toml")                                    # doctest: +SKIP
>>> EnergyModel(table).estimate(per_layer_counts, shapes)               # doctest: +SKIP

The counts come from :mod:`memspice.learn.counters` (the trainer writes them
to ``counters.csv`` of every run); :func:`estimate_run` applies a model to a run.
Every training run prices its counts per epoch (metrics.csv) with its config's
``[energy] table``, or else with the table memspice ships
(:mod:`memspice.energy.default`: 8x8 VTEAM crossbar, measured in ngspice).
"""

from memspice.energy.config import energy_model_from_table
from memspice.energy.default import default_table_path, load_default_table
from memspice.energy.estimate import DigitalCosts, EnergyModel, energy_columns
from memspice.energy.measure import EnergySettings, describe_crossbar, measure_energy_table, transpose_crossbar
from memspice.energy.run import estimate_run
from memspice.energy.table import EnergyEntry, EnergyTable, load_table, save_table

__all__ = [
    "DigitalCosts", "EnergyEntry", "EnergyModel", "EnergySettings", "EnergyTable", "default_table_path",
    "describe_crossbar", "energy_columns", "energy_model_from_table", "estimate_run", "load_default_table",
    "load_table", "measure_energy_table", "save_table", "transpose_crossbar",
]
