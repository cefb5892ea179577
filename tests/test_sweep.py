"""Sweeps: grid expansion and keys, the resumable results table, and real ngspice sweeps.

References: the nodal solver (an independent solver of the same crossbar,
agreeing with ngspice to ~1e-12 per memspice.circuit's tests), Ohm's law
with Kirchhoff's current law for ideal wires (I_j = V sum_i G_ij), and the
compact model's own numpy integration of the write pulse.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """A sweep file's relative output goes to the current folder: run each case in its own."""
    monkeypatch.chdir(tmp_path)

from memspice.errors import ConfigError, ParameterError
from memspice.sweep import load_sweep, point_key, read_results, run_sweep, sweep_from_dict
from memspice.sweep.table import ResultTable

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


READ_SWEEP = """
[sweep]
kind = "read"
name = "reads"
output = "reads.csv"

[base]
model = "vteam"
cols = 3
state_seed = 7
solver = "{solver}"

[grid]
rows = [3, 4]
wire_ohm = [0.0, 5.0]
v_read_v = [0.01, 0.02]
"""


def _nodal_reference(params: dict) -> np.ndarray:
    """Column currents of the point's crossbar from the nodal solver (built here, not by the sweep)."""
    from memspice.circuit import Crossbar, NodalSolver
    from memspice.devices import get_model

    m = get_model("vteam")
    rows, cols = params["rows"], params["cols"]
    states = np.random.default_rng(params["state_seed"]).uniform(m.x_min, m.x_max, size=(rows, cols))
    xb = Crossbar(m, states, row_wire_ohm=params["wire_ohm"], col_wire_ohm=params["wire_ohm"])
    return NodalSolver.for_crossbar(xb).solve(np.full((1, rows), params["v_read_v"])).i_cols_a[0]


def _check_reads_against_nodal(rows: list[dict]) -> None:
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows), [r["error"] for r in rows]
    for r in rows:
        ref = _nodal_reference(r)
        # ngspice and the nodal solver solve the same linear network: agreement to 1e-9 relative
        # (1 pA in 1 mA) shows the sweep built the crossbar each point asks for
        np.testing.assert_allclose(r["i_cols_a"], ref, rtol=1e-9, atol=0)
        assert r["i_col_max_a"] == pytest.approx(ref.max(), rel=1e-9)


# ----------------------------------------------------------------------------- spec (no simulator)

def test_grid_and_cases_expand_with_later_overrides_and_stable_keys(tmp_path):
    doc = {
        "sweep": {"kind": "read", "output": "r.csv"},
        "base": {"model": "vteam", "rows": 2, "cols": 2, "solver": "nodal", "v_read_v": 0.05},
        "grid": {"wire_ohm": [0.0, 1.0, 2.0], "v_read_v": [0.01, 0.02]},
        "cases": [{"state": 0.2}, {"state": 0.8}],
    }
    spec = sweep_from_dict(doc, tmp_path)
    assert len(spec.points) == 2 * 3 * 2  # cases x grid
    assert {p.params["v_read_v"] for p in spec.points} == {0.01, 0.02}  # the grid overrides [base]
    assert spec.output == tmp_path / "r.csv"
    # a key depends on the parameters only: reordering the dict or growing the grid keeps it
    p0 = spec.points[0]
    assert point_key("read", dict(reversed(list(p0.params.items())))) == p0.key
    doc["grid"]["wire_ohm"].append(3.0)
    grown = {p.key for p in sweep_from_dict(doc, tmp_path).points}
    assert {p.key for p in spec.points} < grown and len(grown) == 16
    assert len({p.key for p in spec.points}) == 12


@pytest.mark.parametrize("doc, words", [
    ({"sweep": {"kind": "reed"}}, "sweep.kind"),
    ({"sweep": {"kind": "read"}, "grid": {"rows": 3}}, "grid axis is a non-empty list"),
    ({"sweep": {"kind": "read"}, "grid": {"rows": [2, 2]}}, "twice"),
    ({"sweep": {"kind": "read"}, "base": {"rowz": 2}}, "unknown parameter 'rowz'"),
    ({"sweep": {"kind": "read"}, "base": {"rows": 2.5}}, "expected an integer"),
    ({"sweep": {"kind": "read"}, "base": {"cell": "2T2R"}}, "cell type '2T2R'"),
    ({"sweep": {"kind": "write"}, "base": {"rows": 2}}, "needs amplitude_v"),
    ({"sweep": {"kind": "write"}, "base": {"amplitude_v": 1.0, "rows": 2, "cols": 2, "index": [5, 0]}}, "outside 0..1"),
    ({"sweep": {"kind": "write"}, "base": {"amplitude_v": 1.0, "spice_options.reltol\n.include x": 1}}, "option name"),
    ({"sweep": {"kind": "read", "output": "r.txt"}}, ".csv"),
    ({"sweep": {"kind": "read"}, "grid": {"v_read_v": [float("nan")]}}, "finite"),
    ({"sweep": {"kind": "train"}, "base": {"config": "missing.toml"}}, "does not exist"),
])
def test_bad_sweep_files_fail_before_running_with_the_key_named(tmp_path, doc, words):
    with pytest.raises(ConfigError, match=None) as err:
        sweep_from_dict(doc, tmp_path)
    assert words in str(err.value)


def test_results_table_repairs_a_torn_last_line_and_refuses_another_sweeps_file(tmp_path):
    table = ResultTable(tmp_path / "t.csv", ("key", "point", "status", "x"))
    table.create(overwrite=False)
    table.append({"key": "a", "point": 0, "status": "ok", "x": 1.5})
    table.append({"key": "b", "point": 1, "status": "error", "x": None})
    with open(table.path, "a") as fh:  # what a kill in the middle of a write leaves
        fh.write("c,2,o")
    done = table.finished()
    assert sorted(done) == ["a", "b"]
    assert table.path.read_text().endswith("\n") and "c,2" not in table.path.read_text()
    assert sorted(table.finished(include_failed=False)) == ["a"]
    with pytest.raises(ConfigError, match="different sweep"):
        ResultTable(table.path, ("key", "point", "status", "y")).finished()


# ----------------------------------------------------------------------------- nodal sweeps (fast, no ngspice)

def test_stopped_sweep_resumes_only_missing_points_and_matches_ohms_law(tmp_path):
    """stop_after interrupts like Ctrl-C; the second call runs the rest; ideal wires give I_j = V sum_i G_ij."""
    text = READ_SWEEP.format(solver="nodal").replace("[0.0, 5.0]", "[0.0]").replace("state_seed = 7\n", "")
    sweep = _write(tmp_path / "s.toml", text + "\n[[cases]]\nstate = 0.25\n[[cases]]\nstate = 0.75\n")
    spec = load_sweep(sweep)
    assert len(spec.points) == 8
    first = run_sweep(spec, workers=1, progress=False, stop_after=3)
    assert first.interrupted and first.ran == 3
    second = run_sweep(load_sweep(sweep), workers=2, progress=False)
    assert (second.skipped, second.ran, second.ok, second.interrupted) == (3, 5, 5, False)
    rows = read_results(spec.output)
    assert sorted(r["key"] for r in rows) == sorted(p.key for p in spec.points)
    lines = spec.output.read_text().splitlines()
    assert len(lines) == 1 + 8  # every point exactly once: nothing was run twice
    from memspice.devices import get_model

    m = get_model("vteam")
    for r in rows:
        expected = r["v_read_v"] * r["rows"] * float(m.conductance(r["state"]))  # KCL, every cell in parallel
        np.testing.assert_allclose(r["i_cols_a"], expected, rtol=1e-12)
    third = run_sweep(load_sweep(sweep), workers=2, progress=False)
    assert (third.skipped, third.ran) == (8, 0)


def test_cli_sweep_json_and_dry_run(tmp_path, capsys):
    from memspice.cli import main

    sweep = _write(tmp_path / "s.toml", READ_SWEEP.format(solver="nodal"))
    assert main([ "sweep", str(sweep), "--dry-run", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed["points"]) == 8 and not (tmp_path / "reads.csv").exists()
    assert main(["sweep", str(sweep), "--workers", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["ran"], doc["ok"], doc["failed"]) == (8, 8, 0)
    for r in doc["results"]:
        np.testing.assert_allclose(r["i_cols_a"], _nodal_reference(r), rtol=1e-12)
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2  # a memspice error: message, exit status 2


# ----------------------------------------------------------------------------- ngspice sweeps

@pytest.mark.spice
def test_eight_spice_reads_with_two_workers_match_the_nodal_solver(tmp_path):
    spec = load_sweep(_write(tmp_path / "s.toml", READ_SWEEP.format(solver="ngspice")))
    run = run_sweep(spec, workers=2, progress=False)
    assert (run.ran, run.ok) == (8, 8)
    rows = read_results(spec.output)
    _check_reads_against_nodal(rows)
    assert len({r["worker"] for r in rows}) == 2  # the points really ran in two processes


@pytest.mark.spice
def test_same_sweep_runs_on_a_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="install the sweep extra: pip install 'dask[distributed]'")
    spec = load_sweep(_write(tmp_path / "s.toml", READ_SWEEP.format(solver="ngspice")))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = run_sweep(spec, scheduler=cluster.scheduler_address, progress=False)
    assert (run.ran, run.ok) == (8, 8) and run.executor.startswith("dask")
    rows = read_results(spec.output)
    _check_reads_against_nodal(rows)
    assert all(r["worker"].split(":")[1] != str(os.getpid()) for r in rows)  # computed on the cluster's workers


WRITE_SWEEP = """
[sweep]
kind = "write"
output = "writes.csv"

[base]
model = "vteam"
rows = 2
cols = 2
state = 0.5
index = [1, 1]
width_s = 20e-9
rise_s = 5e-9
timeout_s = 30

[grid]
amplitude_v = [-0.21, -0.22]
wire_ohm = [0.0]

[[cases]]
cell = "1R"
[[cases]]
cell = "1T1R"
[[cases]]                # tolerances no transient can meet: ngspice gives up ("timestep too small")
cell = "1T1R"
spice_options = {{ reltol = 1e-14, abstol = 1e-30, vntol = 1e-30 }}
"""


@pytest.mark.spice
def test_a_point_that_cannot_converge_is_a_row_with_its_error(tmp_path):
    spec = load_sweep(_write(tmp_path / "w.toml", WRITE_SWEEP.format()))
    run = run_sweep(spec, workers=2, progress=False)
    assert (run.ran, run.ok, run.failed, run.interrupted) == (6, 4, 2, False)
    rows = read_results(spec.output)
    bad = [r for r in rows if r["status"] == "error"]
    assert {r["spice_options.reltol"] for r in bad} == {1e-14}
    for r in bad:
        assert r["error_type"] == "SpiceConvergenceError"
        assert "timestep too small" in r["error"].lower() and r["state_after"] is None
    # the points that did converge are right: 1R with ideal wires puts the full pulse on the cell, so its
    # state follows the compact model's numpy integration of that trapezoid (resolution 2e-3 of the range)
    from memspice.devices import get_model

    m = get_model("vteam")
    for r in rows:
        if r["cell"] != "1R":
            continue
        d, rise, width = 1e-9, r["rise_s"], r["width_s"]
        t = np.array([0, d, d + rise, d + rise + width, d + 2 * rise + width, 2 * d + 2 * rise + width])
        v = np.array([0, 0, 1, 1, 0, 0]) * r["amplitude_v"]
        x_ref = m.integrate(t, v, np.array(0.5))[-1]
        assert abs(r["state_after"] - x_ref) < 1e-3
        assert 0.5 - r["state_after"] > 5e-3  # it did switch: the comparison is not 0.5 vs 0.5
        assert r["disturb_max_abs_dstate"] < 1e-9  # V/2 = -0.11 V is inside VTEAM's thresholds (-0.2, 0.02) V
    # resuming does not rerun the failed points unless asked
    again = run_sweep(load_sweep(tmp_path / "w.toml"), workers=1, progress=False)
    assert again.ran == 0
    retry = run_sweep(load_sweep(tmp_path / "w.toml"), workers=1, progress=False, retry_failed=True)
    assert (retry.ran, retry.failed) == (2, 2)


@pytest.mark.spice
def test_killed_sweep_restarts_with_only_the_missing_points(tmp_path):
    text = WRITE_SWEEP.format().split("[[cases]]")[0].replace("[-0.21, -0.22]", "[-0.21, -0.215, -0.22, -0.225]")
    sweep = _write(tmp_path / "k.toml", text.replace("wire_ohm = [0.0]", "wire_ohm = [0.0, 2.0]"))
    spec = load_sweep(sweep)
    assert len(spec.points) == 8
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "memspice", "sweep", str(sweep), "--workers", "1", "--no-progress"],
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if spec.output.exists() and len(spec.output.read_text().splitlines()) - 1 >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep, its worker and any ngspice it started
        proc.wait()
    before = spec.output.read_text()
    n_before = len(before.splitlines()) - 1
    assert 3 <= n_before < 8
    run = run_sweep(load_sweep(sweep), workers=2, progress=False)
    assert (run.skipped, run.ran, run.ok) == (n_before, 8 - n_before, 8 - n_before)
    after = spec.output.read_text()
    assert after.startswith(before)  # the killed run's rows are kept as they were
    rows = read_results(spec.output)
    assert sorted(r["key"] for r in rows) == sorted(p.key for p in spec.points)
    assert len(after.splitlines()) == 1 + 8
    assert sum(r["run_id"] == run.run_id for r in rows) == 8 - n_before


def test_run_sweep_rejects_bad_arguments(tmp_path):
    spec = load_sweep(_write(tmp_path / "s.toml", READ_SWEEP.format(solver="nodal")))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ParameterError, match="workers"):
            run_sweep(spec, workers=bad, progress=False)
    with pytest.raises(ConfigError, match="cannot connect"):
        run_sweep(spec, scheduler="tcp://127.0.0.1:1", progress=False, scheduler_timeout_s=1.0)


# ----------------------------------------------------------------------------- training and calibration kinds

def test_train_sweep_overrides_reach_the_run(tmp_path):
    """Each point is the training run of the config with its overrides: the same seed and overrides run directly
    through memspice.learn.train give identical metrics (the trainer is bit-reproducible per seed)."""
    import tomllib

    from memspice.learn import train
    from memspice.learn.config import config_from_dict

    config = ROOT / "examples" / "digits_sgd.toml"
    sweep = _write(tmp_path / "t.toml", f"""
[sweep]
kind = "train"
output = "t.csv"
[base]
config = "{config.as_posix()}"
"training.epochs" = 1
"data.max_train" = 200
[grid]
seed = [3, 4]
""")
    run = run_sweep(load_sweep(sweep), workers=2, progress=False)
    assert (run.ran, run.ok) == (2, 2)
    rows = {r["seed"]: r for r in read_results(tmp_path / "t.csv")}
    doc = tomllib.loads(config.read_text())
    for seed in (3, 4):
        doc["seed"] = seed
        doc["training"]["epochs"], doc["data"]["max_train"] = 1, 200
        direct = train(config_from_dict(doc), tmp_path / f"direct{seed}", progress=False)
        assert rows[seed]["test_accuracy"] == direct.test_accuracy
        assert rows[seed]["epochs_completed"] == 1
        assert (tmp_path / "t_runs" / rows[seed]["key"] / "metrics.csv").is_file()
    assert rows[3]["test_accuracy"] != rows[4]["test_accuracy"]  # the seed did reach the run


def test_calibrate_sweep_matches_a_direct_calibration(tmp_path):
    """The numpy engine is deterministic: a sweep point's fit error equals calibrate_compact_model's on the same train."""
    from memspice.calibrate import NumpyCell, PulseTrainExperiment, calibrate_compact_model

    sweep = _write(tmp_path / "c.toml", """
[sweep]
kind = "calibrate"
output = "c.csv"
[base]
model = "vteam"
engine = "numpy"
n_pulses = 15
amplitude_down_v = 0.09
width_s = 50e-9
[grid]
amplitude_v = [-0.2117, -0.22]
""")
    run = run_sweep(load_sweep(sweep), workers=1, progress=False)
    assert (run.ran, run.ok) == (2, 2)
    for r in read_results(tmp_path / "c.csv"):
        cal = calibrate_compact_model("vteam", PulseTrainExperiment(r["amplitude_v"], 50e-9, n_up=15, amplitude_down_v=0.09),
                                      "soft-bounds", where=NumpyCell(), workers=1, progress=False)
        fit = cal.fits[0][1].fit
        assert r["rms_error_s"] == pytest.approx(fit.rms_error, rel=1e-12)
        assert r["r_squared"] == pytest.approx(fit.r_squared, rel=1e-12)
        assert 0.5 < r["r_squared"] <= 1.0  # soft bounds does describe VTEAM's pulse response


@pytest.mark.spice
def test_validate_update_sweep_matches_a_direct_validation(tmp_path):
    """Each point is memspice.validate.validate_update of the schedule it describes (ngspice is deterministic)."""
    from memspice.circuit import Crossbar, PulseShape
    from memspice.devices import get_model
    from memspice.validate import validate_update, write_schedule

    sweep = _write(tmp_path / "v.toml", """
[sweep]
kind = "validate-update"
output = "v.csv"
[base]
model = "vteam"
rows = 3
cols = 3
state = 0.6
cells = [[2, 2], [0, 1]]
width_s = 50e-9
rise_s = 5e-9
wire_ohm = 1.0
[grid]
amplitude_v = [-0.212, -0.24]
""")
    run = run_sweep(load_sweep(sweep), workers=2, progress=False)
    assert (run.ran, run.ok) == (2, 2)
    xb = Crossbar(get_model("vteam"), np.full((3, 3), 0.6), row_wire_ohm=1.0, col_wire_ohm=1.0)
    for r in read_results(tmp_path / "v.csv"):
        sched = write_schedule((3, 3), [(2, 2), (0, 1)], r["amplitude_v"], scheme="v/2",
                               pulse=PulseShape(width_s=50e-9, rise_s=5e-9, fall_s=5e-9))
        fig = validate_update(xb, sched).figures()
        # one slot per programmed row: the rest of rows 0 and 2 and of columns 1 and 2 is half-selected,
        # {(0,0), (0,2), (1,1), (2,1), (2,0), (1,2)}
        assert r["n_programmed"] == 2 and r["n_half_selected"] == fig["n_half_selected"] == 6
        # same deck, same ngspice: the conductance changes agree to 1e-9 relative (raw-file precision is ~1e-16)
        assert r["dg_mean_abs_spice_s"] == pytest.approx(fig["dg_mean_abs_spice_s"], rel=1e-9)
        assert r["energy_total_j"] == pytest.approx(fig["energy_total_j"], rel=1e-9)
        assert r["dg_mean_abs_spice_s"] > 0  # the pulses did program the cells
