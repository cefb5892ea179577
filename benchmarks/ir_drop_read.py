"""IR-drop read: ngspice vs the nodal solver, time and max relative difference.

    PYTHONPATH=. python benchmarks/ir_drop_read.py    # (or after pip install -e .) 16, 32, 64 with ngspice; nodal alone up to 512
    python benchmarks/ir_drop_read.py --sizes 16 32   # ngspice sizes
    python benchmarks/ir_drop_read.py --csv out.csv

VTEAM crossbar (memspice.devices), random states, 1-ohm row and column
segments, virtual-ground readout; reads at 2..10 mV. For one and for 64 input
vectors: ngspice runs one ``.op`` per vector (subprocess backend, deck written
by memspice.circuit); the nodal solver factorises once (time includes
assembly and factorisation) and solves all vectors together. The relative
difference is the largest over column currents and device voltages.
Not a test: it prints a table; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import time

import numpy as np

from memspice.spice import RunSettings
from memspice.circuit import Crossbar, NodalSolver, ReadStimulus, read
from memspice.devices import get_model


def _case(n: int, batch: int, rng: np.random.Generator):
    m = get_model("vteam")
    xb = Crossbar(m, rng.uniform(0, 1, size=(n, n)), row_wire_ohm=1.0, col_wire_ohm=1.0)
    return xb, ReadStimulus(rng.uniform(0.2, 1.0, size=(batch, n)) * m.v_read_v)


def _rel(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64], help="sizes solved by ngspice too")
    ap.add_argument("--nodal-sizes", type=int, nargs="+", default=[128, 256, 512], help="sizes solved by the nodal solver only")
    ap.add_argument("--spice-batch", type=int, default=64, help="vectors ngspice solves at the small sizes (<= 32); 64x64 runs 2 and extrapolates")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", help="also write the table as CSV")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    table = []
    for n in args.sizes + args.nodal_sizes:
        for batch in (1, 64):
            xb, st = _case(n, batch, rng)
            t0 = time.perf_counter()
            nod = NodalSolver.for_crossbar(xb).solve(st.batch)
            t_nodal = time.perf_counter() - t0
            t_spice = rel = float("nan")
            note = ""
            if n in args.sizes:
                # ngspice costs the same per vector; at 64x64 (~5-15 s per .op) run 2 and scale
                k = batch if (n <= 32 and batch <= args.spice_batch) else min(batch, 2)
                sub = ReadStimulus(st.batch[:k])
                t0 = time.perf_counter()
                sp = read(xb, sub, RunSettings(timeout_s=900), solver="ngspice")
                t_spice = (time.perf_counter() - t0) * batch / k
                note = "" if k == batch else f"ngspice time from {k} vectors x {batch // k}"
                rel = max(_rel(nod.i_cols_a[:k], sp.i_cols_a), _rel(nod.v_cells_v[:k], sp.v_cells_v))
            speedup = t_spice / t_nodal if np.isfinite(t_spice) else float("nan")
            table.append((n, batch, t_spice, t_nodal, speedup, rel, note))
            print(f"{n:4d} x{batch:3d}  ngspice {t_spice:10.3f} s  nodal {t_nodal:9.4f} s  "
                  f"speed-up {speedup:9.1f}  max rel diff {rel:.2e}  {note}", flush=True)
    headers = ["size", "vectors", "ngspice [s]", "nodal [s]", "speed-up", "max rel diff", "note"]
    from memspice.commands.output import format_table

    print()
    print(format_table(headers, table, "{:.4g}"))
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
