"""The emitted Verilog-A, compiled and evaluated by verilogae, against the numpy rendering."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.devices import get_model, model_names

verilogae = pytest.importorskip("verilogae", reason="verilogae evaluates the emitted Verilog-A (pip install verilogae)")


@pytest.mark.parametrize("name", model_names())
def test_verilog_a_current_and_dxdt_match_numpy(name, tmp_path):
    # Independent evaluator: verilogae compiles the .va text (OpenVAF front end) and evaluates
    # the retrieved variables i_pn and dxdt; they must equal the numpy functions to 1e-6 relative
    # on a grid of (v, x) spanning both polarities, the thresholds and the state bounds.
    m = get_model(name)
    path = tmp_path / f"{m.subckt_name}.va"
    path.write_text(m.verilog_a())
    va = verilogae.load(str(path))
    c = m.definition.characterisation
    v_max = 1.5 * max(abs(c.pulse_up_v), abs(c.pulse_down_v), c.sine_amplitude_v)
    v, x = np.meshgrid(np.linspace(-v_max, v_max, 41), np.linspace(m.x_min, m.x_max, 21))
    v, x = v.ravel(), x.ravel()
    volts = {"br_pn": v, "br_xs": x}
    for var, reference in (("i_pn", m.current(v, x)), ("dxdt", m.dxdt(v, x))):
        fn = va.functions[var]
        params = {p: m.params[p] for p in fn.parameters}  # verilogae wants every parameter the variable uses
        got = fn.eval(temperature=300.0, voltages=volts, **params)
        scale = np.maximum(np.abs(reference), 1e-6 * np.max(np.abs(reference)) + 1e-300)
        rel = np.max(np.abs(got - reference) / scale)
        assert rel < 1e-6, (var, rel)
