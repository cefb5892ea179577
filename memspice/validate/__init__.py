"""Circuit-level validation of update pulses: the surrogate's prediction next to ngspice, cell by cell.

Stage 9 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit, memspice.cell, memspice.surrogate,
memspice.calibrate and memspice.energy (and the foundation modules), nothing later.

    import numpy as np
    from memspice.devices import get_model
    from memspice.circuit import Crossbar, PulseShape
    from memspice.validate import write_schedule, validate_update
    xb = Crossbar(get_model("vteam"), np.full((16, 16), 0.6), row_wire_ohm=1.0, col_wire_ohm=1.0)
    sched = write_schedule(xb.shape, [(3, 4), (3, 9), (7, 1)], -0.212, scheme="v/2",
                           pulse=PulseShape(width_s=50e-9, rise_s=5e-9, fall_s=5e-9))
    val = validate_update(xb, sched)          # the array-aware surrogate (wires solved per slot)
    val.figures()["dg_rel_rms_error"]; val.write_outputs("out/")

The schedules (updates as line voltages per slot: V/2 and V/3 writes,
stochastic coincidence updates) live in :mod:`memspice.circuit.schedule`.
Modules: ``predict`` (the surrogates: array-aware, and the
wire-blind pulse models per amplitude, tabulated or calibrated against ngspice), ``circuit_run`` (the
ngspice transient and source energies), ``result`` (per-cell comparison,
figures, JSON/CSV/PNG), ``run`` (validate_update), ``config`` (TOML).
"""

from memspice.validate.config import ValidateConfig, load_validate_config, run_job, validate_config_from_dict
from memspice.validate.circuit_run import CircuitUpdate, run_schedule, schedule_deck
from memspice.validate.predict import (
    ArraySurrogate,
    CellSurrogate,
    array_surrogate,
    PulseLevel,
    calibrated_surrogate,
    schedule_amplitudes,
    tabulate_level,
    tabulated_surrogate,
)
from memspice.validate.result import UpdateValidation
from memspice.validate.run import ir_drop_loss, validate_update
from memspice.circuit.schedule import PulseSchedule, coincidence_schedule, draw_coincidence, write_schedule  # re-exported: the validate API

__all__ = [
    "ArraySurrogate", "array_surrogate", "CellSurrogate", "CircuitUpdate", "PulseLevel", "PulseSchedule", "UpdateValidation",
    "calibrated_surrogate", "coincidence_schedule", "draw_coincidence", "ir_drop_loss", "run_schedule",
    "schedule_amplitudes", "schedule_deck", "tabulate_level", "tabulated_surrogate", "validate_update",
    "write_schedule", "ValidateConfig", "load_validate_config", "run_job", "validate_config_from_dict",
]
