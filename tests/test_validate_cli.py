"""``memspice validate-update``: options and TOML job file, JSON and files written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memspice.cli import main
from memspice.errors import ConfigError
from memspice.validate import load_validate_config


@pytest.mark.spice
def test_cli_resistor_energy_from_toml_and_options(tmp_path, capsys):
    # Linear resistors (R_on = R_off = 50 kohm), ideal wires, V/2 write of cells (1,1) and (1,3) with
    # 0.8 V: one slot in which cell (i, j) sees v_row_i - v_col_j, so the analytic energy is
    # E = sum_ij V_ij^2 / R * (w + (r + f)/3) (a trapezoid: the ramps contribute V^2 t/3 each).
    job = tmp_path / "job.toml"
    job.write_text(
        'seed = 2\n'
        '[crossbar]\nrows = 4\ncols = 5\nmodel = "resistor"\nwire_ohm = 0.0\nstate = 1.0\n'
        '[crossbar.model_params]\nr_on_ohm = 5e4\nr_off_ohm = 5e4\n'
        '[pulse]\nwidth_s = 20e-9\nrise_s = 2e-9\nfall_s = 2e-9\n'
        '[update]\nkind = "write"\nscheme = "v/2"\ncells = [[1, 1], [1, 3]]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    # the option overrides the file's amplitude (the default would be the VTEAM's -0.27 V)
    assert main(["validate-update", "--config", str(job), "--amplitude", "0.8", "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    v_r = np.array([0.4, 0.8, 0.4, 0.4])
    v_c = np.array([0.4, 0.0, 0.4, 0.0, 0.4])
    e_ref = float(np.sum((v_r[:, None] - v_c[None, :]) ** 2) / 5e4 * (20e-9 + 4e-9 / 3))
    assert doc["figures"]["energy_total_j"] == pytest.approx(e_ref, rel=0.005)
    assert doc["figures"]["energy_per_cell_j"] == pytest.approx(e_ref / 2, rel=0.005)
    assert doc["figures"]["n_programmed"] == 2
    for key in ("json", "csv", "heatmaps"):
        assert (out / doc["outputs"][key].split("/")[-1]).stat().st_size > 0


def test_validate_config_rejects_unknown_keys(tmp_path):
    job = tmp_path / "bad.toml"
    job.write_text("[update]\nkind = \"write\"\namplitude = 1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="amplitude"):
        load_validate_config(job)
