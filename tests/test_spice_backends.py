"""The ngspice backends against hand calculations, each other, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from memspice.spice import RunSettings
from memspice.errors import ParameterError, SpiceConvergenceError, SpiceError, SpiceTimeout
from memspice.spice import get_simulator, simulate
from memspice.spice.rawfile import read_raw

pytestmark = pytest.mark.spice

DIVIDER = """resistor divider
V1 in 0 DC 1.2
R1 in out 1k
R2 out 0 3.3k
.op
.end
"""

RC = """rc step
V1 in 0 PULSE(0 1 0 1p 1p 1 2)
R1 in out 1k
C1 out 0 1n
.tran 10n 5u 0 5n
.end
"""


def test_divider_op_matches_hand_value(backend):
    # Hand value: V_out = V * R2 / (R1 + R2); I = V / (R1 + R2), flowing into V1's + terminal as -I.
    res = simulate(DIVIDER, RunSettings(backend=backend))
    assert res.analysis == "op"
    assert res.scalar("v(out)") == pytest.approx(1.2 * 3.3e3 / 4.3e3, rel=1e-9)
    assert res.i("v1")[0] == pytest.approx(-1.2 / 4.3e3, rel=1e-9)
    assert res.units["v(out)"] == "V" and res.units["i(v1)"] == "A"


def test_rc_step_matches_exponential(backend):
    # Analytic: v(t) = V (1 - exp(-t/RC)), RC = 1 us. 1 ps edge, max step 5 ns.
    res = simulate(RC, RunSettings(backend=backend))
    t = res.time
    v = res.v("out")
    probe = np.linspace(0.25e-6, 4.75e-6, 10)
    simulated = np.interp(probe, t, v)
    analytic = 1.0 - np.exp(-probe / 1e-6)
    assert np.max(np.abs(simulated / analytic - 1.0)) < 1e-3  # within 0.1 % at 10 time points


def test_backends_agree_on_a_dc_sweep():
    deck = """sweep through a nonlinear element
V1 in 0 DC 0
R1 in a 100
D1 a 0 dmod
.model dmod D(IS=1e-14 N=1.5)
.dc V1 0 2 0.1
.end
"""
    a = simulate(deck, RunSettings(backend="subprocess"))
    b = simulate(deck, RunSettings(backend="shared"))
    assert a.axis == b.axis == "v(v-sweep)"
    for name in ("v(a)", "i(v1)"):
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=1e-15)


def test_rc_backends_agree_at_full_precision():
    a = simulate(RC, RunSettings(backend="subprocess"))
    b = simulate(RC, RunSettings(backend="shared"))
    np.testing.assert_allclose(a.time, b.time, rtol=1e-9)
    np.testing.assert_allclose(a.v("out"), b.v("out"), rtol=1e-9, atol=1e-15)


def test_malformed_netlist_carries_ngspice_message(backend):
    deck = "bad\nV1 in 0 DC 1\nQ7 a b\n.op\n.end\n"
    with pytest.raises(SpiceError) as info:
        simulate(deck, RunSettings(backend=backend))
    assert not isinstance(info.value, SpiceConvergenceError)
    assert "could not find a valid modelname" in info.value.ngspice_message
    assert info.value.netlist_line.strip() == "Q7 a b"


def test_contradictory_sources_raise_convergence_error(backend):
    # Two ideal sources forcing one node to 1 V and 2 V: the MNA matrix is singular.
    deck = "loop\nV1 a 0 DC 1\nV2 a 0 DC 2\nR1 a 0 1k\n.op\n.end\n"
    with pytest.raises(SpiceConvergenceError) as info:
        simulate(deck, RunSettings(backend=backend))
    assert "singular matrix" in info.value.ngspice_message.lower()


def _child_ngspice_processes() -> set[int]:
    """ngspice processes started by this test process (other jobs on the machine may run their own)."""
    out = subprocess.run(["pgrep", "-P", str(os.getpid()), "-x", "ngspice"], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_timeout_kills_the_run(backend):
    # 1 ms of a 1 MHz sine at a 1 ps step: minutes of work, stopped after 1.5 s.
    deck = "slow\nV1 a 0 SIN(0 1 1e6)\nR1 a b 1k\nC1 b 0 1n\n.tran 1p 1m\n.end\n"
    start = time.monotonic()
    with pytest.raises(SpiceTimeout):
        simulate(deck, RunSettings(backend=backend, timeout_s=1.5))
    assert time.monotonic() - start < 1.5 + 2.0
    assert not _child_ngspice_processes()  # the killed child was reaped, nothing left behind
    # and the simulator works again straight away (the shared library was halted and cleaned)
    assert simulate(DIVIDER, RunSettings(backend=backend)).scalar("v(out)") == pytest.approx(1.2 * 3.3e3 / 4.3e3, rel=1e-9)


def test_shared_backend_is_clean_between_runs():
    # The second run must not see the first circuit's nodes (reset between runs).
    sim = get_simulator("shared")
    try:
        first = sim.run(DIVIDER)
        second = sim.run("other\nV9 q 0 DC 2\nR9 q 0 1k\n.op\n.end\n")
    finally:
        sim.close()
    assert "v(out)" in first and "v(out)" not in second
    assert second.i("v9")[0] == pytest.approx(-2e-3, rel=1e-9)


def test_ascii_raw_file_matches_binary(tmp_path):
    deck = tmp_path / "rc.cir"
    deck.write_text(RC)
    env = dict(os.environ, SPICE_ASCIIRAWFILE="1")
    subprocess.run(["ngspice", "-b", "-r", str(tmp_path / "a.raw"), str(deck)], env=env, capture_output=True, check=True)
    subprocess.run(["ngspice", "-b", "-r", str(tmp_path / "b.raw"), str(deck)], capture_output=True, check=True)
    ascii_plot = read_raw(tmp_path / "a.raw")[0]
    binary_plot = read_raw(tmp_path / "b.raw")[0]
    assert b"Values:" in (tmp_path / "a.raw").read_bytes()
    # ascii raw files print 15+ significant digits
    np.testing.assert_allclose(ascii_plot.v("out"), binary_plot.v("out"), rtol=1e-12, atol=1e-18)


def test_unknown_backend_and_bad_timeout():
    with pytest.raises(ParameterError, match="unknown backend"):
        get_simulator("hspice")
    with pytest.raises(ParameterError, match="timeout_s"):
        simulate(DIVIDER, RunSettings(timeout_s=0))


def test_run_settings_is_the_only_way_to_say_how_a_deck_runs():
    # The loose keywords of the transition are gone: every runner takes settings=RunSettings(...).
    import numpy as np

    from memspice.calibrate.inarray import SpiceArrayCell
    from memspice.calibrate.runners import SpiceCell
    from memspice.circuit import Crossbar, ReadStimulus, read, write
    from memspice.devices import get_model

    xb = Crossbar(get_model("resistor"), np.full((2, 2), 0.5))
    with pytest.raises(TypeError):
        simulate(DIVIDER, backend="subprocess")
    with pytest.raises(TypeError):
        read(xb, ReadStimulus(np.full(2, 0.01)), solver="ngspice", timeout_s=10)
    with pytest.raises(TypeError):
        write(xb, ReadStimulus(np.full(2, 0.01)), engine="vacask")
    for cls in (SpiceCell, SpiceArrayCell):
        with pytest.raises(TypeError):
            cls(backend="shared")
        with pytest.raises(ParameterError, match="RunSettings"):
            cls(settings="shared")
    with pytest.raises(ParameterError, match="RunSettings"):
        simulate(DIVIDER, "shared")
    assert not hasattr(RunSettings, "of")
    assert SpiceCell().settings == RunSettings() and SpiceCell(settings=RunSettings(engine="vacask")).label.startswith("vacask")


def test_shared_library_exit_is_reported_not_fatal(tmp_path):
    # A deck that tells ngspice to quit makes libngspice call its controlled-exit
    # hook. Run in a child Python so this test's own library stays usable: the
    # child must get SpiceError for that run and for the next, and live on.
    script = tmp_path / "quit.py"
    script.write_text(
        "from memspice.spice import get_simulator\n"
        "from memspice.errors import SpiceError\n"
        "sim = get_simulator('shared')\n"
        "for deck in ('q\\nV1 a 0 DC 1\\nR1 a 0 1k\\n.control\\nquit\\n.endc\\n.op\\n.end\\n',\n"
        "             'd\\nV1 a 0 DC 1\\nR1 a 0 1k\\n.op\\n.end\\n'):\n"
        "    try:\n"
        "        sim.run(deck)\n"
        "        print('NO ERROR')\n"
        "    except SpiceError as exc:\n"
        "        print('SpiceError:', str(exc).splitlines()[0])\n"
        "print('alive')\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stderr
    assert lines[0].startswith("SpiceError: ngspice's shared library exited")
    assert lines[1].startswith("SpiceError: ngspice's shared library exited")
    assert lines[-1] == "alive"
