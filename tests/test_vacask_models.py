"""The shipped Verilog-A of every compact model (models/NAME.va), compiled by openvaf-r and run
in VACASK, against the model's ngspice subcircuit and its own numpy integration
(``CompactModel.integrate``).

One device, 100 trapezoidal pulses: 50 of one polarity then 50 of the other, so the state
moves both ways. The state after each pulse must agree within 1 % RMS of the state range,
VACASK vs numpy and ngspice vs numpy (issue 12's criterion).
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.spice import RunSettings
from memspice.devices import get_model, model_names
from memspice.cell.testbench import drive
from memspice.resources import data_file
from memspice.spice import simulate
from memspice.spice.osdi import compile_va

pytestmark = pytest.mark.spice

# Per model: (first 50 pulses V, last 50 pulses V, flat width s). Chosen with the numpy model so
# each half moves the state by roughly a third of its range without pinning it at a bound.
PULSE_TRAINS = {
    "resistor": (1.0, -1.0, 10e-9),  # state must not move at all
    "vteam": (0.1, -0.21, 10e-9),  # above v_off = 0.02 V, just past v_on = -0.2 V (alpha_on = 3)
    "ion_drift_joglekar": (1.0, -1.0, 2e-3),  # ion drift is slow: ms pulses at 1 V
    "ion_drift_biolek": (1.0, -1.0, 2e-3),
    "ion_drift_prodromakis": (1.0, -1.0, 5e-3),
    "yakopcic": (1.0, -0.8, 2e-6),
    "stanford_pku": (1.12, -1.2, 10e-9),  # gap growth is steeply exponential in V
}

N_PULSES = 100


def _pulse_train(first_v: float, second_v: float, width_s: float):
    """PWL breakpoints of the train; edges are a tenth of the width, the period twice the width."""
    edge = width_s / 10
    period = 2 * width_s
    t, v = [0.0], [0.0]
    for k in range(N_PULSES):
        amp = first_v if k < N_PULSES // 2 else second_v
        start = k * period + edge
        t += [start, start + edge, start + edge + width_s, start + 2 * edge + width_s]
        v += [0.0, amp, amp, 0.0]
    t.append(N_PULSES * period + edge)
    v.append(0.0)
    return np.array(t), np.array(v), edge, period


@pytest.mark.parametrize("name", model_names())
def test_pulse_train_trajectory_matches_numpy_and_ngspice(name, tmp_path):
    assert name in PULSE_TRAINS, f"add a pulse train for the new model {name!r} to PULSE_TRAINS"
    m = get_model(name)
    # Start away from the preset's x0, on the instance line: x0 is an instance parameter
    # (verilog_render marks it (*type="instance"*)), so each crossbar cell can have its own.
    x0 = m.x_min + 0.4 * (m.x_max - m.x_min)
    # Exactly the file the package ships (tests/test_devices_models_dir.py keeps it current).
    osdi = compile_va(data_file("models", f"{name}.va"), cache_dir=tmp_path)
    t, v, edge, period = _pulse_train(*PULSE_TRAINS[name])
    wave = ", ".join(f"{a:.15g}, {b:.15g}" for a, b in zip(t, v))
    deck = f"""{name}: {N_PULSES} pulses
load "{osdi.path}"
model dev {osdi.modules[0]}
model vsource vsource
v1 (a 0) vsource type="pwl" wave=[{wave}]
d1 (a 0) dev x0={x0!r}
control
  analysis tran1 tran step={edge / 5:.6g} stop={t[-1]:.15g} maxstep={edge / 5:.6g}
endc
"""
    res = simulate(deck, RunSettings(engine="vacask", timeout_s=60))
    # The state is the potential of the module's internal node xs (see verilog_render).
    x_vacask = res.v("d1.xs")
    assert x_vacask[0] == pytest.approx(x0, abs=1e-9)  # the hold at x0 fixes the operating point

    # Reference: the numpy rendering of the same model, integrated along the same PWL waveform.
    x_numpy = m.integrate(t, v, np.array(x0))
    # Second reference: the model's ngspice subcircuit (behavioural sources, state capacitor)
    # under the same waveform and the same largest step.
    ng = drive(m, t, v, x0, simulator="ngspice", max_step_s=edge / 5, settings=RunSettings(timeout_s=120))
    ends = np.arange(1, N_PULSES + 1) * period  # after each pulse, with the device at 0 V
    after_vacask = np.interp(ends, res.time, x_vacask)
    after_numpy = np.interp(ends, t, x_numpy)
    after_ngspice = ng.state_at(ends)
    span = m.x_max - m.x_min
    rms = np.sqrt(np.mean((after_vacask - after_numpy) ** 2)) / span
    assert rms < 0.01, f"{name}: VACASK vs numpy, RMS state difference {rms:.2%} of the state range"
    rms_ng = np.sqrt(np.mean((after_ngspice - after_numpy) ** 2)) / span
    assert rms_ng < 0.01, f"{name}: ngspice vs numpy, RMS state difference {rms_ng:.2%} of the state range"
    rms_engines = np.sqrt(np.mean((after_vacask - after_ngspice) ** 2)) / span
    assert rms_engines < 0.01, f"{name}: VACASK vs ngspice, RMS state difference {rms_engines:.2%}"
    if name != "resistor":
        # The train must really move the state both ways, or the comparison proves little.
        assert np.ptp(after_numpy) > 0.1 * span
        assert after_numpy[N_PULSES // 2 - 1] != pytest.approx(after_numpy[-1], abs=0.05 * span)
    else:
        np.testing.assert_allclose(after_vacask, x0, atol=1e-9)
