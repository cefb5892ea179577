"""The `memspice` command's own subcommands: run, doctor, --help."""

from __future__ import annotations

import csv
import json

import pytest

from memspice.cli import main

DIVIDER = "divider\nV1 in 0 DC 2\nR1 in out 1k\nR2 out 0 1k\n.op\n.end\n"


@pytest.mark.spice
def test_run_json_reports_divider_voltage(tmp_path, capsys):
    deck = tmp_path / "d.cir"
    deck.write_text(DIVIDER)
    assert main(["run", str(deck), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # hand value: equal resistors halve 2 V
    assert doc["vectors"]["v(out)"][0] == pytest.approx(1.0, rel=1e-12)
    assert doc["units"]["i(v1)"] == "A"


@pytest.mark.spice
def test_run_csv_has_units_in_header(tmp_path):
    deck = tmp_path / "d.cir"
    deck.write_text(DIVIDER)
    out = tmp_path / "r.csv"
    assert main(["run", str(deck), "--csv", str(out), "--backend", "shared"]) == 0
    with out.open() as fh:
        rows = list(csv.reader(fh))
    header = dict(zip(rows[0], rows[1]))
    assert float(header["i(v1) [A]"]) == pytest.approx(-1e-3, rel=1e-12)  # 2 V across 2 kΩ


def test_missing_netlist_is_a_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.cir")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.spice
def test_doctor_finds_ngspice_39(capsys):
    assert main(["doctor", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["executable"] and info["version"].startswith("39")
    assert info["osdi"] is False  # Debian's ngspice 39 is built without OSDI
