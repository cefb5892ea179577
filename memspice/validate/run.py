"""validate_update: one update on a crossbar, in ngspice and in the surrogate, compared cell by cell."""

from __future__ import annotations

import numpy as np

from memspice.circuit import Crossbar
from memspice.errors import ParameterError
from memspice.spice import RunSettings
from memspice.validate.circuit_run import run_schedule
from memspice.validate.predict import ArraySurrogate, CellSurrogate, array_surrogate, schedule_amplitudes
from memspice.validate.result import UpdateValidation
from memspice.circuit.schedule import PulseSchedule

__all__ = ["validate_update", "ir_drop_loss"]


def ir_drop_loss(schedule: PulseSchedule, v_selected_v: np.ndarray) -> np.ndarray:
    """(rows, cols) worst 1 - v_device/v_nominal of each programmed cell over its full-amplitude pulses (NaN elsewhere)."""
    lv = schedule.cell_levels_v()
    full = schedule.programming_v()
    loss = np.full(schedule.shape, np.nan)
    for i, j in np.argwhere(schedule.selected):
        k = np.flatnonzero(np.isclose(lv[:, i, j], full[i, j], rtol=1e-9, atol=0.0))
        if k.size:
            loss[i, j] = float(np.max(1.0 - v_selected_v[k, i, j] / full[i, j]))
    return loss


def validate_update(crossbar: Crossbar, schedule: PulseSchedule,
                    surrogate: ArraySurrogate | CellSurrogate | None = None, *,
                    settings: RunSettings | None = None) -> UpdateValidation:
    """Run ``schedule`` on ``crossbar`` in ngspice and predict it with ``surrogate``.

    ``surrogate``: an ArraySurrogate or a CellSurrogate (see
    memspice.validate.predict); None builds the array-aware one from the
    crossbar (its wires, contacts and drivers, and a pulse response over
    amplitude tabulated from its compact model). The wire-blind
    ``tabulated_surrogate`` applies the nominal voltage to every cell.
    """
    if not isinstance(crossbar, Crossbar):
        raise ParameterError(f"crossbar must be a memspice.circuit.Crossbar, got {type(crossbar).__name__}")
    if not isinstance(schedule, PulseSchedule):
        raise ParameterError(f"schedule must be a PulseSchedule, got {type(schedule).__name__}")
    model = crossbar.model
    if surrogate is None:
        surrogate = array_surrogate(crossbar, schedule)
    if not isinstance(surrogate, (ArraySurrogate, CellSurrogate)):
        raise ParameterError(f"surrogate must be an ArraySurrogate or a CellSurrogate, got {type(surrogate).__name__}")
    g0 = crossbar.conductances_s()
    v_sur = np.empty((schedule.n_slots, *crossbar.shape))
    g_sur = surrogate.predict_schedule(g0, schedule, v_out=v_sur)  # before SPICE: fails fast on a missing level
    settings = RunSettings() if settings is None else settings
    circ = run_schedule(crossbar, schedule, settings)
    g_spice = np.asarray(model.conductance(circ.states_after), dtype=float) * np.ones(crossbar.shape)
    meta = {
        "crossbar": crossbar.describe(),
        "schedule": {"label": schedule.label, "slots": schedule.n_slots, "slot_s": schedule.slot_s,
                     "width_s": schedule.pulse.width_s, "rise_s": schedule.pulse.rise_s, "fall_s": schedule.pulse.fall_s,
                     "max_step_s": schedule.max_step_s, "amplitudes_v": schedule_amplitudes(schedule)},
        "surrogate": surrogate.kind,
        "surrogate_levels": surrogate.describe(),
        "model": {"name": model.name, "params": dict(model.params), "v_read_v": model.v_read_v},
        "spice": {"backend": settings.backend, "time_points": circ.n_time_points},
    }
    return UpdateValidation(
        description=f"{crossbar.describe()}; {schedule.label}",
        g_before_s=g0, g_spice_s=g_spice, g_surrogate_s=g_sur, selected=schedule.selected.copy(),
        disturbed=schedule.disturbed(), ir_loss=ir_drop_loss(schedule, circ.v_selected_v), energy_j=circ.energy_j,
        ir_loss_surrogate=ir_drop_loss(schedule, v_sur),
        meta=meta,
    )
