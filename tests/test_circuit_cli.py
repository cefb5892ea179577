"""`memspice crossbar netlist|read|golden`: the CLI parses into the same values as the library."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memspice.circuit import Crossbar, ReadStimulus, read
from memspice.cli import main
from memspice.devices import get_model
from memspice.spice import simulate


def test_read_json_equals_the_library_nodal_solve(capsys):
    assert main(["crossbar", "read", "--rows", "6", "--cols", "5", "--wire-ohm", "2.5", "--seed", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # Reference: the same crossbar built in Python (states uniform in [0, 1) from seed 3, the model's v_read).
    m = get_model("vteam")
    xb = Crossbar(m, np.random.default_rng(3).uniform(0, 1, size=(6, 5)), row_wire_ohm=2.5, col_wire_ohm=2.5)
    ref = read(xb, ReadStimulus(np.full(6, m.v_read_v))).i_cols_a[0]
    assert np.max(np.abs(np.array(doc["i_cols_a"]) / ref - 1)) < 1e-12
    # 2.5-ohm segments against 50..1000-ohm VTEAM cells: the IR drop is visible (> 1 %)
    assert np.all(np.array(doc["i_cols_a"]) < 0.99 * np.array(doc["i_ideal_a"]))


@pytest.mark.spice
def test_netlist_command_writes_a_deck_ngspice_runs(tmp_path, capsys):
    out = tmp_path / "xb.cir"
    args = ["crossbar", "netlist", "--rows", "3", "--cols", "3", "--model", "resistor", "--state", "1.0",
            "--v-read", "0.2", "-o", str(out)]
    assert main(args) == 0
    res = simulate(out.read_text())
    # 3 rows of 10-kOhm cells at 0.2 V, ideal wires: every column carries 3 * 0.2 V / 10 kOhm = 60 uA
    for j in range(3):
        assert res.i(f"vsense{j}")[0] == pytest.approx(60e-6, rel=1e-9)


def test_bad_arguments_exit_with_a_message(capsys):
    assert main(["crossbar", "read", "--rows", "0"]) == 2
    assert "argument --rows: '0': give a whole number >= 1" in capsys.readouterr().err
    assert main(["crossbar", "read", "--wire-ohm", "-1"]) == 2
    assert "row_wire_ohm = -1.0" in capsys.readouterr().err


def test_golden_check_reports_no_difference(capsys):
    assert main(["crossbar", "golden", "--check"]) == 0
    assert "0 deck(s) differ" in capsys.readouterr().out
