"""Sweep throughput: the same 8 ngspice write points with 1 and with 2 local worker processes.

    PYTHONPATH=. python benchmarks/sweep_throughput.py [--workers 1 2] [--size 8] [--csv out.csv]

Each point is one V/2 write pulse on a size x size VTEAM crossbar
(memspice.sweep kind "write": amplitude x width x wire resistance, 2 x 2 x 2).
Every worker count runs the whole sweep into a fresh results table, so no
point is skipped; the time is the wall clock of run_sweep (pool start-up
included). Speed-up is relative to the first worker count. Not a test: it
prints a table; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

SWEEP = """
[sweep]
kind = "write"
name = "throughput"
output = "points.csv"

[base]
model = "vteam"
rows = {n}
cols = {n}
state = 0.5
rise_s = 5e-9

[grid]
amplitude_v = [-0.22, -0.25]
width_s = [20e-9, 50e-9]
wire_ohm = [1.0, 5.0]
"""


def measure(workers: list[int], size: int) -> list[dict]:
    from memspice.sweep import load_sweep, run_sweep

    rows = []
    for w in workers:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sweep.toml"
            path.write_text(SWEEP.format(n=size))
            run = run_sweep(load_sweep(path), workers=w, resume=False, progress=False)
        if run.failed:
            raise SystemExit(f"{run.failed} point(s) failed; see memspice sweep for the errors")
        rows.append({"workers": w, "points": run.ran, "array": f"{size}x{size}", "wall_s": run.elapsed_s,
                     "points_per_s": run.ran / run.elapsed_s})
    for r in rows:
        r["speedup"] = rows[0]["wall_s"] / r["wall_s"]
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time (default 1 2)")
    ap.add_argument("--size", type=int, default=8, help="array size of every point (default 8: ~0.5 s per point)")
    ap.add_argument("--csv", type=Path, help="also write the table as CSV")
    args = ap.parse_args(argv)
    rows = measure(args.workers, args.size)
    from memspice.commands.output import format_table, write_csv_rows

    keys = ["workers", "points", "array", "wall_s", "points_per_s", "speedup"]
    print(f"sweep of 8 ngspice V/2 write points ({args.size}x{args.size} VTEAM), local process pool")
    print(format_table(keys, [[r[k] for k in keys] for r in rows], "{:.4g}"))
    if args.csv:
        write_csv_rows(args.csv, keys, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
