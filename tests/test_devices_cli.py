"""`memspice models ...`: the thin CLI over memspice.devices."""

from __future__ import annotations

import json

import numpy as np

from memspice.cli import main
from memspice.devices import all_model_names, get_model
from memspice.cell.hysteresis import loop_area, sine_drive


def test_list_json_names_every_model(capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(all_model_names())


def test_export_is_the_library_rendering(capsys, tmp_path):
    assert main(["models", "export", "yakopcic", "--format", "va"]) == 0
    assert capsys.readouterr().out == get_model("yakopcic").verilog_a()
    out = tmp_path / "v.cir"
    assert main(["models", "export", "vteam", "--format", "spice", "--param", "r_off_ohm=2000", "--out", str(out)]) == 0
    assert out.read_text() == get_model("vteam", r_off_ohm=2000.0).spice_subckt()


def test_bad_parameter_exits_2_with_the_range(capsys):
    assert main(["models", "show", "vteam", "--param", "r_on_ohm=-3"]) == 2
    assert "r_on_ohm = -3.0 ohm is outside its allowed range (0, inf)" in capsys.readouterr().err


def test_plot_writes_png_with_the_library_numbers(capsys, tmp_path):
    png = tmp_path / "y.png"
    assert main(["models", "plot", "yakopcic", "--out", str(png), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    m = get_model("yakopcic")
    c = m.definition.characterisation
    expected = loop_area(sine_drive(m, c.sine_amplitude_v, c.sine_frequency_hz))
    assert np.isclose(doc["loop_area_w"][0], expected, rtol=1e-12)
