"""The tracebacks of issue 25, each now a clean memspice error (or a clean exit), through the real CLI.

Each case runs ``memspice.cli.main`` under the ``cli`` fixture's hard time
limit, or ``python -m memspice`` in a subprocess with a timeout where the
case is about the process (a broken pipe).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def test_zero_byte_checkpoint_is_a_clean_error(tmp_path, cli):
    empty = tmp_path / "last.npz"
    empty.write_bytes(b"")  # np.load raised EOFError on this
    code, _, err = cli(["evaluate", empty])
    assert code == 2 and "cannot be read" in err and "truncated" in err and "Traceback" not in err


def test_checkpoint_that_is_not_a_zip_is_a_clean_error(tmp_path, cli):
    junk = tmp_path / "last.npz"
    junk.write_bytes(b"PK\x03\x04" + b"\xff" * 100)  # a zip signature and garbage
    code, _, err = cli(["evaluate", junk])
    assert code == 2 and "cannot be read" in err


@pytest.mark.spice
def test_sweep_with_a_failed_point_reports_it_and_exits_1(tmp_path, cli):
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        '[sweep]\nkind = "read"\noutput = "r.csv"\n'
        '[base]\nmodel = "vteam"\nrows = 2\ncols = 2\nsolver = "ngspice"\nstate_seed = 1\n'
        "[grid]\ntimeout_s = [600.0, 1e-6]\n"  # the second point cannot even build its deck in 1 us
    )
    code, out, err = cli(["sweep", sweep, "--workers", "1", "--no-progress", "--output", tmp_path / "r.csv"],
                         timeout_s=120)
    assert code == 1, err  # "1 some points failed" (the command's epilog); it raised KeyError 'index' before
    assert "point 1 (" in out and "SpiceTimeout" in out
    with open(tmp_path / "r.csv", newline="") as fh:
        rows = {int(r["point"]): r for r in csv.DictReader(fh)}
    assert rows[1]["status"] == "error" and rows[0]["status"] == "ok"
    # the good point: no wires, so the column current is the ideal G.V (independent: Ohm's law per cell)
    assert float(rows[0]["i_col_mean_a"]) == pytest.approx(float(rows[0]["i_ideal_mean_a"]), rel=1e-6)


def test_json_into_a_closed_pipe_exits_quietly():
    # `memspice crossbar read ... --json | head -0`: the reader has gone before the command prints
    proc = subprocess.Popen([sys.executable, "-m", "memspice", "crossbar", "read", "--rows", "64", "--cols", "64",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT)
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 141  # 128 + SIGPIPE, as a shell reports a writer killed by a closed pipe
