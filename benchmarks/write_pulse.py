"""SPICE write-pulse time per array size: one V/2 pulse on an N x N VTEAM crossbar in ngspice.

    PYTHONPATH=. python benchmarks/write_pulse.py [--sizes 4 8 16 32] [--csv out.csv]

The far-corner cell (most IR drop) gets a -0.25 V, 50 ns pulse (5 ns edges,
time step <= edge/50) through 1-ohm row and column segments; the others are
half-selected. Time is memspice.circuit.write end to end (deck writing,
ngspice subprocess, reading the raw file, energies); ngspice's transient
dominates and grows faster than the N^2 cells (sparse LU of a 2-D mesh).
Not a test: it prints a table; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def measure(sizes: list[int]) -> list[dict]:
    from memspice.circuit import Crossbar, PulseShape, WriteScheme, write
    from memspice.devices import get_model

    m = get_model("vteam")
    rows = []
    for n in sizes:
        xb = Crossbar.uniform(m, n, n, 0.5, row_wire_ohm=1.0, col_wire_ohm=1.0)
        scheme = WriteScheme(-0.25, (n - 1, n - 1), pulse=PulseShape(width_s=50e-9, rise_s=5e-9, fall_s=5e-9))
        t0 = time.perf_counter()
        res = write(xb, scheme, RunSettings(timeout_s=3600.0))
        t = time.perf_counter() - t0
        rows.append({"array": f"{n}x{n}", "cells": n * n, "time_s": t, "time_points": int(res.time_s.size),
                     "ms_per_time_point": 1e3 * t / res.time_s.size, "state_after": float(res.states_after[n - 1, n - 1]),
                     "energy_j": res.total_energy_j})
        print(f"{n:4d}x{n:<4d} {t:9.3f} s", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16, 32], help="array sizes N (default 4 8 16 32)")
    ap.add_argument("--csv", type=Path, help="also write the table as CSV")
    args = ap.parse_args(argv)
    rows = measure(args.sizes)
    from memspice.commands.output import format_table, write_csv_rows

    keys = ["array", "cells", "time_s", "time_points", "ms_per_time_point", "state_after", "energy_j"]
    print(format_table(keys, [[r[k] for k in keys] for r in rows], "{:.4g}"))
    if args.csv:
        write_csv_rows(args.csv, keys, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
