"""Results as DataFrames (memspice.results, memspice.frames), the run and sweep plots, memspice compare,
and [tile] model_file.

References: the numbers a DataFrame holds are checked against the file read
with the csv module (an independent parser); the compare gap against the
difference of the two metrics.csv values by hand; the sweep read currents
against Ohm's law; a model file's device against read_model_file.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from memspice.errors import ConfigError, DataError, MissingDependency

ROOT = Path(__file__).resolve().parents[1]


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two short digits runs, floating point and stochastic coincidence on the shipped calibrated device."""
    from memspice.learn import load_config, train

    out = tmp_path_factory.mktemp("runs")
    fp = train(load_config(ROOT / "examples/digits_sgd.toml", {"training.epochs": 2}), out / "fp", progress=False)
    sc = train(load_config(ROOT / "examples/digits_calibrated.toml", {"training.epochs": 2}), out / "sc",
               progress=False)
    return out, fp, sc


def test_load_a_run_holds_metrics_and_timing_with_units_in_the_names(runs):
    from memspice.results import load

    out, fp, _ = runs
    df = load(out / "fp")
    raw, timing = _csv(out / "fp" / "metrics.csv"), _csv(out / "fp" / "timing.csv")
    assert list(df["epoch"]) == [1, 2]
    # the same numbers as the file, bit for bit (floats are written with repr)
    assert list(df["train_loss_nats"]) == [float(r["train_loss"]) for r in raw]
    assert list(df["test_accuracy_frac"]) == [float(r["test_accuracy"]) for r in raw]
    assert list(df["train_time_s"]) == [float(r["train_time_s"]) for r in timing]
    assert "energy_total_j" in df.columns and "train_loss" not in df.columns
    assert df.attrs["kind"] == "run" and df.attrs["summary"]["config"]["rule"]["name"] == "sgd"
    # TrainResult.to_dataframe is the same table
    assert list(fp.to_dataframe()["validation_loss_nats"]) == list(df["validation_loss_nats"])


def test_load_run_gives_every_table_of_the_run(runs):
    from memspice.results import load_run

    out, _, _ = runs
    r = load_run(out / "sc")
    # counters.csv: one row per epoch and layer (2 epochs x 2 layers of 64-32-10)
    assert len(r.counters) == 4 and set(r.counters["layer"]) == {0, 1}
    assert r.config["rule"]["name"] == "stochastic-coincidence"
    assert r.cosim is None  # the run had no [cosim]


def test_curves_png_gets_a_panel_for_energy(runs):
    # 64-32-10 runs count energy: loss, accuracy and energy panels, 3 x 5 inches x 100 dpi wide
    import struct

    out, _, _ = runs
    png = (out / "sc" / "curves.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1500, 360)


def test_compare_prints_the_gap_to_the_first_run_and_writes_the_overlay(runs, capsys):
    from memspice.cli import main

    out, fp, sc = runs
    png = out / "cmp.png"
    assert main(["compare", str(out / "fp"), str(out / "sc"), "-o", str(png), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    gap = 100 * (float(_csv(out / "sc" / "metrics.csv")[-1]["test_accuracy"])
                 - float(_csv(out / "fp" / "metrics.csv")[-1]["test_accuracy"]))
    assert doc["runs"][1]["gap_to_reference_points"] == pytest.approx(gap, abs=1e-12)
    assert doc["runs"][0]["gap_to_reference_points"] == 0.0
    assert doc["runs"][1]["rule"] == "stochastic-coincidence"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["compare", str(out / "fp"), str(out / "nowhere")]) == 2  # a memspice error, one line
    assert "nowhere': no metrics.csv there; give a folder written by memspice train --out" in capsys.readouterr().err


def test_model_file_in_tile_uses_the_calibrated_device(tmp_path):
    from memspice.calibrate import read_model_file
    from memspice.learn import load_config
    from memspice.learn.tiles import tile_config_from_table

    cfg = load_config(ROOT / "examples/digits_calibrated.toml")
    model, _ = read_model_file(ROOT / "examples/devices/vteam_fitted.toml")
    device = tile_config_from_table(cfg.tile).device
    assert type(device) is type(model)
    np.testing.assert_array_equal(device.g_table_s, model.g_table_s)
    assert "model_file" not in cfg.to_dict()["tile"]  # the run records the device, not the path
    with pytest.raises(ConfigError, match="remove device"):
        load_config(ROOT / "examples/digits_calibrated.toml", {"tile.device": "ConstantStep"})
    with pytest.raises(ConfigError, match="no file"):
        load_config(ROOT / "examples/digits_calibrated.toml", {"tile.model_file": str(tmp_path / "none.toml")})


def test_train_set_model_file_is_relative_to_the_current_folder(tmp_path, monkeypatch, capsys):
    import shutil

    from memspice.cli import main

    shutil.copy(ROOT / "examples/devices/vteam_fitted.toml", tmp_path / "mine.toml")
    monkeypatch.chdir(tmp_path)
    rc = main(["train", str(ROOT / "examples/digits_calibrated.toml"), "--set", "tile.model_file=mine.toml",
               "--set", "training.epochs=1", "--out", "run", "--json"])
    assert rc == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["config"]["tile"]["device"] == "Tabulated"


def test_load_reads_sweep_tables_cells_and_model_files(tmp_path, monkeypatch):
    from memspice.results import kind_of, load

    monkeypatch.chdir(tmp_path)  # a sweep's relative output is in the current folder
    from memspice.sweep import load_sweep, run_sweep

    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nkind = "read"\noutput = "reads.csv"\n[base]\nmodel = "vteam"\ncols = 3\nrows = 4\n'
                     'state = 0.5\nsolver = "nodal"\n[grid]\nv_read_v = [0.01, 0.02]\n', encoding="utf-8")
    spec = load_sweep(sweep)
    run_sweep(spec, workers=1, progress=False)
    df = load(spec.output)
    assert df.attrs["kind"] == "sweep" and list(df["status"]) == ["ok", "ok"]
    from memspice.devices import get_model

    g = float(get_model("vteam").conductance(0.5))
    for v, i_cols in zip(df["v_read_v"], df["i_cols_a"]):  # ideal wires: I_j = V * rows * G (KCL)
        np.testing.assert_allclose(i_cols, v * 4 * g, rtol=1e-12)
    fitted = load(ROOT / "examples/devices/vteam_fitted.toml")
    assert fitted.attrs["kind"] == "fitted-model" and fitted["device"].iloc[0] == "Tabulated"
    assert fitted["family"].iloc[0] == "tabulated"
    cells = tmp_path / "v-cells.csv"
    cells.write_text("row,col,role,g_before_s,dg_spice_s,dg_surrogate_s,dg_error_s,ir_loss\n"
                     "0,1,programmed,1e-3,2e-6,2.1e-6,1e-7,0.05\n", encoding="utf-8")
    assert kind_of(cells) == "cells" and load(cells)["ir_loss_frac"].iloc[0] == 0.05
    for bad, words in ((tmp_path / "none.csv", "does not exist"), (tmp_path, "without metrics.csv")):
        with pytest.raises(DataError, match=words):
            load(bad)
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="not a text CSV"):
        load(tmp_path / "bin.csv")


def test_sweep_command_writes_a_plot_beside_the_table(tmp_path, capsys, monkeypatch):
    import struct

    monkeypatch.chdir(tmp_path)  # a sweep's relative output is in the current folder
    from memspice.cli import main

    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nkind = "read"\noutput = "reads.csv"\n[base]\nmodel = "vteam"\ncols = 3\nstate = 0.5\n'
                     'solver = "nodal"\n[grid]\nrows = [2, 3]\nv_read_v = [0.01, 0.02, 0.03]\n', encoding="utf-8")
    assert main(["sweep", str(sweep), "--json", "--no-progress"]) == 0
    doc = json.loads(capsys.readouterr().out)
    png = Path(doc["plot"])
    assert png == tmp_path / "reads.png"
    assert struct.unpack(">II", png.read_bytes()[16:24]) == (640, 440)


def test_without_pandas_the_error_says_how_to_install_it(monkeypatch, runs):
    from memspice.results import load

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(MissingDependency, match=r"memspice\[analysis\]"):
        load(runs[0] / "fp")


@pytest.mark.spice
def test_shipped_calibrated_device_is_what_its_documented_command_fits(tmp_path):
    """examples/devices/vteam_fitted.toml is reproducible from the command in examples/digits_calibrated.toml."""
    import shlex
    import tomllib

    from memspice.cli import main

    header = (ROOT / "examples/digits_calibrated.toml").read_text(encoding="utf-8")
    command = re.search(r"#\s+(memspice calibrate .*?-o examples/devices/vteam_fitted.toml)", header.replace("\\\n#", ""),
                        flags=re.DOTALL).group(1)
    argv = shlex.split(command.replace("examples/devices/vteam_fitted.toml", str(tmp_path / "fit.toml")))[1:]
    assert main([*argv, "--quiet"]) == 0
    shipped = tomllib.loads((ROOT / "examples/devices/vteam_fitted.toml").read_text(encoding="utf-8"))["tile"]
    again = tomllib.loads((tmp_path / "fit.toml").read_text(encoding="utf-8"))["tile"]
    assert shipped["device"] == again["device"]
    for key, value in shipped["device_params"].items():
        if isinstance(value, str):  # e.g. the interpolation rule's name
            assert again["device_params"][key] == value, key
            continue
        np.testing.assert_allclose(again["device_params"][key], value, rtol=1e-9, atol=0, err_msg=key)
