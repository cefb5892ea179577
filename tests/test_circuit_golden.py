"""Golden decks in netlists/: generator output is stable, and every deck runs in plain ngspice."""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pytest

from memspice.circuit.golden import GOLDEN, golden_text, read_4x4_1t1r, read_8x8
from memspice.circuit.nodal import NodalSolver
from memspice.spice import RunSettings, simulate

NETLISTS = Path(__file__).resolve().parents[1] / "netlists"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_deck_is_unchanged(name):
    path = NETLISTS / name
    text = golden_text(name)
    if not path.is_file():
        path.write_text(text)
        pytest.fail(f"{path} was missing and has been written; review it and rerun")
    if path.read_text() != text:
        diff = "".join(difflib.unified_diff(path.read_text().splitlines(True), text.splitlines(True), str(path), "generated", n=1))
        pytest.fail(f"{name} differs from the generator; if intended run `memspice crossbar golden`:\n{diff[:3000]}")


@pytest.mark.spice
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_deck_runs_in_plain_ngspice(name):
    # `ngspice -b` on the file as it is (the subprocess backend), from a foreign working directory:
    # the deck includes everything it needs.
    res = simulate((NETLISTS / name).read_text(), RunSettings(backend="subprocess", timeout_s=120))
    if name.startswith("read_8x8"):
        # the read deck's column currents equal the nodal solver's (independent solver) to 1e-9
        xb, drive = read_8x8()
        v = np.array([float(w.v_v[0]) for w in drive.rows])
        nodal = NodalSolver.for_crossbar(xb).solve(v)
        i_spice = np.array([res.i(f"vsense{j}")[0] for j in range(8)])
        assert np.max(np.abs(i_spice / nodal.i_cols_a[0] - 1)) < 1e-9
    elif name.startswith("read_4x4_1t1r"):
        # Only row 1's gates are on: column j carries row 1's cell alone. Hand calculation, 8 equations
        # for the 4 cell currents I_j and FET drain-source voltages Vds_j:
        #   row wire (2.5 ohm segments, driven at 0.01 V from the left; segment k carries the
        #     cells k.. of the row): v_r_j = 0.01 - 2.5 sum_{k<=j} sum_{m>=k} I_m
        #   column j (3 segments below row 1, then the TIA input conductance (1+A)/R_f):
        #     v_c_j = I_j (3 * 2.5 + R_f/(1+A)),  R_f = 1 kOhm, A = 1e5
        #   device (VTEAM, R = 50 + 950 x ohm) then NMOS: v_r_j - v_c_j = I_j R_j + Vds_j
        #   NMOS level 1 (circuits/access_nmos.lib): I_j = KP W/L ((Vgs - VTO) Vds - Vds^2/2)(1 + LAMBDA Vds)
        #     with KP = 200e-6, W/L = 10, VTO = 0.45, LAMBDA = 0.05, Vgs = 1.2 - v_c_j.
        # TIA output v_out = -A v_c... = -I_j R_f A/(1+A). Tolerance 1e-4 relative (ignored: body
        # effect of the ~50 uV source voltage, ~2e-5; the off rows' gmin leakage).
        from scipy.optimize import fsolve

        xb, _ = read_4x4_1t1r()
        r_dev = 50 + 950 * xb.states[1]
        r_col = 7.5 + 1e3 / (1 + 1e5)

        def residual(u):
            cur, vds = u[:4] * 1e-6, u[4:]
            seg = np.cumsum(cur[::-1])[::-1]  # current in row segment k = sum of I_m, m >= k
            v_r = 0.01 - 2.5 * np.cumsum(seg)
            v_c = cur * r_col
            fet = 200e-6 * 10 * ((1.2 - v_c - 0.45) * vds - vds**2 / 2) * (1 + 0.05 * vds)
            return np.concatenate([(cur - fet) * 1e6, (v_r - v_c - cur * r_dev - vds) * 1e3])

        sol = fsolve(residual, np.concatenate([np.full(4, 8.0), np.full(4, 0.005)]), xtol=1e-14)
        expected = -sol[:4] * 1e-6 * 1e3 * 1e5 / (1 + 1e5)
        v_out = np.array([res.v(f"out{j}")[0] for j in range(4)])
        assert np.max(np.abs(v_out / expected - 1)) < 1e-4
    elif name.startswith("write_v2"):
        # -0.3 V V/2 SET on (3, 5): the selected cell sees ~-0.3 V, past VTEAM's v_on = -0.2 V, and
        # moves towards ON (x down); half-selected cells see ~-0.15 V, inside the threshold: no motion.
        final = np.array([[res.v(f"x{i}_{j}.state")[-1] for j in range(8)] for i in range(8)])
        assert final[3, 5] < 0.8 - 0.05
        others = np.delete(final.ravel(), 3 * 8 + 5)
        assert np.max(np.abs(others - 0.8)) < 1e-6
    else:
        # coincidence train: the states stay inside [0, 1] (smooth guards) and only cells whose row
        # and column fired in the same slot moved (-0.24 V past v_on; one pulse alone is -0.12 V)
        final = np.array([[res.v(f"x{i}_{j}.state")[-1] for j in range(4)] for i in range(4)])
        assert np.all((final > -1e-3) & (final < 1 + 1e-3))
        rng = np.random.default_rng(16)
        from memspice.circuit.stimulus import CoincidenceTrain

        train = CoincidenceTrain.draw([0.2, 0.4, 0.6, 0.8], [0.8, 0.5, 0.3, 0.1], 8, rng, amplitude_v=-0.24)
        assert np.array_equal(np.abs(final - 0.9) > 1e-6, train.coincidences() > 0)


@pytest.mark.spice
@pytest.mark.parametrize("path", sorted(NETLISTS.glob("*.cir")), ids=lambda p: p.name)
def test_every_deck_in_netlists_runs_under_plain_ngspice_b_and_prints_its_result(path, tmp_path):
    # exactly what netlists/README.md promises: `ngspice -b deck.cir`, no -r, from a foreign directory
    import re
    import subprocess

    from memspice.spice.subprocess_backend import find_ngspice

    proc = subprocess.run([find_ngspice(), "-b", str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{path.name}: ngspice -b exited {proc.returncode}:\n{out[-2000:]}"
    assert "no simulations run" not in out
    deck = path.read_text().lower()
    number = r"[-+]?\d+(\.\d*)?(e[-+]?\d+)?"
    meas = re.findall(r"^\.meas\s+tran\s+(\S+)", deck, flags=re.MULTILINE)
    if re.search(r"^\.tran\b", deck, flags=re.MULTILINE):
        assert meas, f"{path.name}: a .tran deck needs a .print or .meas card to run under ngspice -b"
        for name in meas:  # every measurement printed as `name = value`
            assert re.search(rf"^\s*{re.escape(name)}\s*=\s*{number}", out, flags=re.MULTILINE | re.IGNORECASE), name
    else:
        assert re.search(r"^\.op\b", deck, flags=re.MULTILINE)
        sensed = re.findall(r"^(vsense\d+)\s", deck, flags=re.MULTILINE)
        assert sensed
        for name in sensed:  # the operating point lists each column's current
            assert re.search(rf"^\s*{name}#branch\s+{number}", out, flags=re.MULTILINE | re.IGNORECASE), name
