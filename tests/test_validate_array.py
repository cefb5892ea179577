"""The array-aware surrogate (memspice.surrogate.array_write) against hand results and against ngspice.

The wire-blind surrogate puts the nominal voltage on every cell, so with
realistic wires it is wrong by 2-60x (issue measurements: 160 % RMS at 16x16,
0.5 ohm; 584 % at 1 ohm). The array-aware one solves the write circuit per
slot; ngspice, running the same crossbar deck as a transient, is the
independent reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.circuit import Crossbar, PulseShape
from memspice.circuit.network import Topology
from memspice.devices import get_model
from memspice.errors import ConfigError, ParameterError
from memspice.surrogate.array_write import WriteArray, amplitude_response
from memspice.validate import run_job, validate_config_from_dict

PULSE = PulseShape(width_s=50e-9, rise_s=5e-9, fall_s=5e-9)


def _job(**over):
    """A validate-update job as the CLI builds it: defaults of memspice/validate/defaults.py, 16x16, 6 cells."""
    doc = {"crossbar": {"wire_ohm": over.pop("wire_ohm")}, "update": {}, "surrogate": {}}
    for key in ("rows", "cols", "model", "model_params"):
        if key in over:
            doc["crossbar"][key] = over.pop(key)
    if "surrogate" in over:
        doc["surrogate"]["kind"] = over.pop("surrogate")
    doc["update"].update(over)
    return run_job(validate_config_from_dict(doc)).figures()


# ----------------------------------------------------------------------------- no SPICE
def test_amplitude_response_matches_the_compact_model_between_grid_points():
    # Reference: the compact model's own integrator, run for the exact amplitude (off the grid)
    # and the exact starting state. The table interpolates bilinearly; VTEAM's step grows as
    # (v/v_on - 1)^3, so with 121 amplitudes between 0 and the nominal -0.27 V the error is a
    # fraction of a percent.
    m = get_model("vteam", k_on_m_per_s=-0.01)
    r = amplitude_response(m, PULSE, 0.3, nominal_v=[-0.27])
    from memspice.surrogate.tabulated import single_pulse_waveform

    x0 = np.array([0.43, 0.61, 0.87])
    g0 = m.conductance(x0)
    for v in (-0.2613, -0.2377):
        t, w = single_pulse_waveform(v, PULSE.width_s, PULSE.rise_s, PULSE.fall_s)
        g_ref = m.conductance(m.integrate(t, w, x0)[-1])
        dg_tab = r.after(g0, np.full(3, v)) - g0
        np.testing.assert_allclose(dg_tab, g_ref - g0, rtol=0.01)
    # below the ON threshold (|v| < 0.2 V) and at 0 V nothing moves
    np.testing.assert_allclose(r.after(g0, np.full(3, -0.15)), g0, rtol=0, atol=1e-15)
    # every value stays in the compact model's conductance range, also for the largest pulses
    g_all = np.linspace(r.g_min_s, r.g_max_s, 50)
    for v in (-0.3, 0.3):
        out = r.after(g_all, np.full(50, v))
        assert out.min() >= r.g_min_s and out.max() <= r.g_max_s


def test_amplitude_response_refuses_what_it_cannot_answer():
    m = get_model("vteam", k_on_m_per_s=-0.01)
    r = amplitude_response(m, PULSE, 0.3, n_states=11, n_coarse=11)
    with pytest.raises(ParameterError, match="outside the device's range"):
        r.after(np.array([r.g_max_s * 1.01]), np.array([-0.1]))
    with pytest.raises(ParameterError, match="span"):
        r.after(np.array([r.g_min_s]), np.array([-0.31]))
    with pytest.raises(ParameterError, match="odd"):
        amplitude_response(m, PULSE, 0.3, n_coarse=10)
    with pytest.raises(ParameterError, match="outside"):
        amplitude_response(m, PULSE, 0.3, nominal_v=[-0.35])


def test_write_voltage_of_one_cell_is_the_series_divider():
    # Hand result: a 1x1 write with every line driven is a series loop
    # driver - row segment - contact - device - column segment - driver, so the device sees
    # V R_dev / (R_dev + 2 R_driver + 2 R_wire + R_contact).
    m = get_model("resistor")
    xb = Crossbar(m, np.full((1, 1), 0.5), row_wire_ohm=2.0, col_wire_ohm=3.0, contact_ohm=5.0, driver_ohm=7.0)
    g = float(xb.conductances_s()[0, 0])
    wa = WriteArray(Topology.of(xb), amplitude_response(m, PULSE, 1.0, n_states=5, n_coarse=5))
    v = wa.device_voltages(np.array([[g]]), np.array([[0.6]]), np.array([[-0.4]]))[0, 0, 0]
    r_dev = 1.0 / g
    assert v == pytest.approx(1.0 * r_dev / (r_dev + 2 * 7.0 + 2.0 + 3.0 + 5.0), rel=1e-12)


def test_validate_config_names_the_surrogate_kinds():
    with pytest.raises(ConfigError, match="'array', 'tabulated', 'calibrated'"):
        validate_config_from_dict({"surrogate": {"kind": "ideal"}})


# ----------------------------------------------------------------------------- against ngspice
@pytest.mark.spice
@pytest.mark.parametrize("wire_ohm, blind_at_least", [(0.5, 1.0), (1.0, 3.0)])
def test_v2_write_with_wires_matches_ngspice(wire_ohm, blind_at_least):
    # Issue 19's bound: <= 5 % RMS over the programmed cells (measured 0.61 % at 0.5 ohm and
    # 0.72 % at 1 ohm; the worst IR-drop loss 9.4 % / 17 % agrees with ngspice's to 4 digits).
    # The wire-blind surrogate on the same job is off by > 100 % / > 300 % (measured 160 % / 584 %).
    f = _job(wire_ohm=wire_ohm)
    assert f["dg_rel_rms_error"] <= 0.05
    assert f["ir_loss_surrogate_worst"] == pytest.approx(f["ir_loss_worst"], rel=1e-3)
    blind = _job(wire_ohm=wire_ohm, surrogate="tabulated")
    assert blind["dg_rel_rms_error"] > blind_at_least


@pytest.mark.spice
def test_v3_write_predicts_the_disturb_of_the_unselected_cells():
    # V/3 at -0.27 V puts +0.09 V on the unselected cells, above VTEAM's OFF threshold
    # (v_off = 0.02 V): ngspice shows a disturb of ~190 % of the programmed |dG|. Bounds of
    # issue 19: programmed dG within 5 % RMS, disturb within 20 % (measured 0.07 % / 0.08 %).
    f = _job(wire_ohm=1.0, scheme="v/3")
    assert f["disturb_ratio_spice"] > 1.0  # a real, measurable disturb
    assert f["dg_rel_rms_error"] <= 0.05
    assert f["disturb_rel_rms_error"] <= 0.20


@pytest.mark.spice
def test_no_threshold_device_disturb_matches_ngspice():
    # Linear ion drift (no threshold): every half-selected cell moves at V/2. 16x16, 1 ohm,
    # mobility raised to 1e-10 m^2/(V s) so a 1 V, 50 ns pulse moves the state measurably.
    # Disturb within 20 % (issue 19); measured 0.03 % (the wire-blind one 3.7 %).
    f = _job(wire_ohm=1.0, model="ion_drift_joglekar", model_params={"mu_v_m2_per_vs": 1e-10}, amplitude_v=1.0)
    assert f["disturb_ratio_spice"] > 0.5
    assert f["disturb_rel_rms_error"] <= 0.20
    assert f["dg_rel_rms_error"] <= 0.05


@pytest.mark.spice
def test_coincidence_update_with_wires_matches_ngspice():
    # One stochastic-coincidence step (BL 10, seeded x and delta) on 16x16 with 1 ohm: within
    # 5 % RMS (measured 0.25 %; worst IR-drop loss 25 %).
    f = _job(wire_ohm=1.0, kind="coincidence")
    assert f["ir_loss_worst"] > 0.1
    assert f["dg_rel_rms_error"] <= 0.05


@pytest.mark.spice
@pytest.mark.slow
def test_32x32_write_with_half_ohm_wires_matches_ngspice():
    # 32x32, 0.5 ohm: the wire-blind surrogate is off by ~7000 % (issue 19); measured 0.93 %.
    f = _job(wire_ohm=0.5, rows=32, cols=32)
    assert f["dg_rel_rms_error"] <= 0.05


@pytest.mark.spice
@pytest.mark.slow
def test_no_switching_is_reported_as_roundoff_not_as_a_ratio():
    # 32x32 with 1 ohm: 37 % of the write voltage is lost, the programmed cells stay below
    # VTEAM's ON threshold and ngspice's dG is the integrator's rounding (~1e-20 S). The tool
    # must say so (no 1e15 % ratio) and the surrogate must agree that nothing moves.
    f = _job(wire_ohm=1.0, rows=32, cols=32)
    assert f["dg_spice_is_roundoff"] and np.isnan(f["dg_rel_rms_error"])
    assert f["dg_mean_abs_surrogate_s"] < f["dg_floor_s"]


@pytest.mark.spice
def test_calibrated_surrogate_takes_the_default_states():
    # The default job's states (uniform in x = 0.4..0.9) reach outside the window the calibration
    # train sweeps; those cells step with the compact model's own table instead of stopping the
    # run with "outside the pulse model's range" (issue 19). Wire-blind, near-ideal wires: within
    # 5 % of ngspice (measured 2.4 %).
    f = _job(wire_ohm=0.01, surrogate="calibrated")
    assert f["dg_rel_rms_error"] <= 0.05
