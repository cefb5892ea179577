"""Circuit engines side by side: read ``.op`` and V/2 write-pulse time per array size, ngspice vs VACASK.

    PYTHONPATH=. python benchmarks/engines.py [--sizes 16 32 64 128 256] [--ngspice-max 64] [--csv out.csv]

Circuit (the same for every engine): an N x N VTEAM crossbar, states uniform
in [0, 1) (seed 0), 1-ohm row and column segments, 10-ohm drivers.

* read: one DC operating point, every row at 0.1 V, columns on virtual-ground
  ammeters -- memspice.circuit.read with solver "nodal" (numpy, every size),
  "ngspice" (up to ``--ngspice-max``) and "vacask" (every size);
* write: one V/2 pulse of +0.3 V on the far-corner cell (most IR drop), 50 ns
  plateau, 5 ns edges, 10 ns before and after (an 80 ns transient), largest
  step 1 ns (edge/5) -- memspice.circuit.write with engine "ngspice" (up to
  ``--ngspice-max``) and "vacask".

Times are end to end (deck writing, simulator subprocess, reading the raw
file, energies): wall clock, and CPU time of this process plus its children
(the simulator), which is what to compare on a loaded machine -- the wall
clock of a run that shares its cores with other work overstates both engines.
VACASK's model library comes from the compile cache (compiled before timing). The fidelity columns compare the engines
where both ran: largest column-current difference of the read relative to the
nodal solver, and the selected cell's state change VACASK vs ngspice.
Not a test: it prints a Markdown table and writes CSV; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEYS = ["array", "cells", "read_nodal_s", "read_ngspice_s", "read_vacask_s", "read_vacask_vs_nodal",
        "write_ngspice_s", "write_vacask_s", "write_ngspice_cpu_s", "write_vacask_cpu_s", "write_speedup_cpu",
        "dx_selected_vacask", "dx_selected_ngspice", "dx_selected_rel_diff", "time_points_vacask"]


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(fn, cpu: dict | None = None, key: str = ""):
    """(result, wall seconds); with ``cpu`` also stores the CPU seconds (self + children) under ``key``."""
    c0, t0 = _cpu_s(), time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    if cpu is not None:
        cpu[key] = _cpu_s() - c0
    return out, wall


def measure(sizes: list[int], ngspice_max: int) -> list[dict]:
    import numpy as np

    from memspice.circuit import Crossbar, PulseShape, ReadStimulus, WriteScheme, read, write
    from memspice.circuit.vacask_writer import device_library
    from memspice.devices import get_model

    m = get_model("vteam")
    device_library(m)  # compile (or find in the cache) before any timing
    pulse = PulseShape(width_s=50e-9, rise_s=5e-9, fall_s=5e-9, delay_s=10e-9, tail_s=10e-9, steps_per_edge=5)
    rows = []
    for n in sizes:
        xb = Crossbar(m, np.random.default_rng(0).uniform(0.0, 1.0, (n, n)), row_wire_ohm=1.0, col_wire_ohm=1.0,
                      driver_ohm=10.0)
        stim = ReadStimulus(np.full(n, 0.1))
        sel = (n - 1, n - 1)
        scheme = WriteScheme(0.3, sel, scheme="v/2", pulse=pulse)
        r: dict = {"array": f"{n}x{n}", "cells": n * n}
        nodal, r["read_nodal_s"] = _timed(lambda: read(xb, stim, solver="nodal"))
        vc, r["read_vacask_s"] = _timed(lambda: read(xb, stim, RunSettings(timeout_s=3600.0), solver="vacask"))
        ref = nodal.i_cols_a
        r["read_vacask_vs_nodal"] = float(np.max(np.abs(vc.i_cols_a - ref)) / np.max(np.abs(ref)))
        print(f"{n:4d}x{n:<4d} read  nodal {r['read_nodal_s']:.3f} s  vacask {r['read_vacask_s']:.3f} s", flush=True)
        wv, r["write_vacask_s"] = _timed(lambda: write(xb, scheme, RunSettings(engine="vacask", timeout_s=3600.0)),
                                         r, "write_vacask_cpu_s")
        r["dx_selected_vacask"] = float(wv.states_after[sel] - wv.states_before[sel])
        r["time_points_vacask"] = int(wv.time_s.size)
        print(f"{n:4d}x{n:<4d} write vacask {r['write_vacask_s']:.3f} s (CPU {r['write_vacask_cpu_s']:.3f} s)",
              flush=True)
        if n <= ngspice_max:
            _, r["read_ngspice_s"] = _timed(lambda: read(xb, stim, RunSettings(timeout_s=3600.0), solver="ngspice"))
            wn, r["write_ngspice_s"] = _timed(lambda: write(xb, scheme, RunSettings(engine="ngspice", timeout_s=3600.0)),
                                              r, "write_ngspice_cpu_s")
            r["dx_selected_ngspice"] = float(wn.states_after[sel] - wn.states_before[sel])
            r["dx_selected_rel_diff"] = r["dx_selected_vacask"] / r["dx_selected_ngspice"] - 1
            r["write_speedup_cpu"] = r["write_ngspice_cpu_s"] / r["write_vacask_cpu_s"]
            print(f"{n:4d}x{n:<4d} ngspice read {r['read_ngspice_s']:.3f} s  write {r['write_ngspice_s']:.3f} s "
                  f"(CPU {r['write_ngspice_cpu_s']:.3f} s)", flush=True)
        rows.append(r)
    return rows


def markdown(rows: list[dict]) -> str:
    head = ["array", "read nodal [s]", "read ngspice [s]", "read VACASK [s]", "read VACASK vs nodal",
            "write ngspice [s]", "write VACASK [s]", "write ngspice CPU [s]", "write VACASK CPU [s]",
            "write speed-up (CPU)", "Δx selected VACASK vs ngspice"]
    keys = ["array", "read_nodal_s", "read_ngspice_s", "read_vacask_s", "read_vacask_vs_nodal",
            "write_ngspice_s", "write_vacask_s", "write_ngspice_cpu_s", "write_vacask_cpu_s", "write_speedup_cpu",
            "dx_selected_rel_diff"]

    def cell(k, v):
        if v is None:
            return "–"
        if k == "array":
            return v
        if k in ("read_vacask_vs_nodal", "dx_selected_rel_diff"):
            return f"{v:.1e}" if k == "read_vacask_vs_nodal" else f"{v:+.2%}"
        if k == "write_speedup_cpu":
            return f"{v:.1f}x"
        return f"{v:.3g}"

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(k, r.get(k)) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128, 256],
                    help="array sizes N (default 16 32 64 128 256)")
    ap.add_argument("--ngspice-max", type=int, default=64, help="largest N run in ngspice (default 64)")
    ap.add_argument("--csv", type=Path, default=HERE / "results" / "engines.csv",
                    help="CSV file to write (default benchmarks/results/engines.csv)")
    args = ap.parse_args(argv)
    rows = measure(args.sizes, args.ngspice_max)
    print()
    print(markdown(rows))
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    from memspice.commands.output import write_csv_rows

    write_csv_rows(args.csv, KEYS, rows, ignore_extra=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
