"""IR-drop reads at training speed: ideal vs exact vs linearised ir_drop reads of a tile updated between reads.

    PYTHONPATH=. python benchmarks/ir_drop_train_read.py                 # 64x64, 256x128, 784x256 (inputs x outputs), 2.5 ohm
    python benchmarks/ir_drop_train_read.py --sizes 64x64 --wires 0.5 1 2.5 --steps 50
    python benchmarks/ir_drop_train_read.py --csv benchmarks/results/ir_drop_train_read.csv
    python benchmarks/ir_drop_train_read.py --sizes 64x64 256x128 --wires 0.5 1 2.5 --drift-table 1 10 30 100 300

Three tiles with the same devices, weights and pulse updates: ReadConfig
mode "ideal" (x @ W.T), mode "ir_drop" with ir_method "exact" (the sparse
nodal solve, refactorised after every update) and with ir_method
"linearised" (memspice.surrogate.ir_fast). Each step reads a batch of 64
random inputs on every tile (timed: the forward call, including whatever
refactorisation, refresh or check the update made due) and then applies the
same rank-one pulse counts n = round(3 d x^T) to every tile (not timed; it
is the same for all three). The exact tile is read at ``--exact-steps``
steps only (it costs seconds per batch at the large sizes) but updated at
every step; the RMS error of the linearised read (relative to the RMS exact
output) is taken at those steps. The first linearised read builds the matrices
("build", once per run); the linearised time per batch is the mean over the
later steps, with the refreshes and checks they made; "median" is the typical
step (no refresh, no check), against the median ideal step. Ratios are to the ideal read
of the same tile in the same run. ``--drift-table K ...`` instead measures the
linearisation alone (ir_tol 0.99 and ir_max_iter 500, so checks do not refresh; the
table's refreshes column confirms it) after K updates since
its build. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import time

import numpy as np

from memspice.surrogate import AnalogTile, ConstantStep, ReadConfig, TileConfig

G_OFF, G_ON = 1e-6, 1e-4


def _tiles(n_out: int, n_in: int, wire: float, seed: int):
    dev = ConstantStep(g_min_s=G_OFF, g_max_s=G_ON, dg_up_s=1e-7, dg_down_s=1e-7)
    w0 = np.random.default_rng(seed).uniform(-1, 1, (n_out, n_in))
    tiles = {}
    for name, rc in (("ideal", ReadConfig()),
                     ("exact", ReadConfig(mode="ir_drop", wire_r_ohm=wire)),
                     ("linearised", ReadConfig(mode="ir_drop", wire_r_ohm=wire, ir_method="linearised"))):
        t = AnalogTile(n_out, n_in, TileConfig(device=dev, read=rc), np.random.default_rng(seed + 1))
        t.set_weights(w0)
        tiles[name] = t
    return tiles


def _timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def run_case(n_in: int, n_out: int, wire: float, steps: int, exact_steps: int, batch: int, seed: int) -> dict:
    tiles = _tiles(n_out, n_in, wire, seed)
    rng = np.random.default_rng(seed + 2)
    exact_at = set(np.unique(np.linspace(0, steps - 1, exact_steps).round().astype(int)).tolist())
    t_ideal, t_exact, t_lin, errs, ideal_errs = [], [], [], [], []
    steps = max(steps, 2)
    reader = None
    for step in range(steps):
        x = rng.uniform(-1, 1, (batch, n_in))
        y_ideal, dt = _timed(tiles["ideal"].forward, x)
        t_ideal.append(dt)
        y_lin, dt = _timed(tiles["linearised"].forward, x)
        t_lin.append(dt)
        reader = tiles["linearised"]._ir_linearised_readers[False][1]
        if step in exact_at:
            y_ex, dt = _timed(tiles["exact"].forward, x)
            t_exact.append(dt)
            rms = np.sqrt(np.mean(y_ex**2))
            errs.append(np.sqrt(np.mean((y_lin - y_ex) ** 2)) / rms)
            ideal_errs.append(np.sqrt(np.mean((y_ideal - y_ex) ** 2)) / rms)
        counts = np.rint(3.0 * np.outer(rng.uniform(-1, 1, n_out), rng.uniform(-1, 1, n_in))).astype(np.int64)
        for t in tiles.values():
            t.apply_pulses(counts)
    ideal = float(np.mean(t_ideal))
    return {
        "size": f"{n_in}x{n_out}", "wire_ohm": wire, "batch": batch, "steps": steps, "exact_steps": len(t_exact),
        "ideal_s": ideal, "exact_s": float(np.mean(t_exact)), "linearised_build_s": t_lin[0],
        "linearised_s": float(np.mean(t_lin[1:])), "linearised_median_s": float(np.median(t_lin[1:])),
        "exact_ratio": float(np.mean(t_exact)) / ideal, "linearised_ratio": float(np.mean(t_lin[1:])) / ideal,
        "median_ratio": float(np.median(t_lin)) / float(np.median(t_ideal)),
        "refreshes": reader.refreshes, "checks": reader.checks,
        "rms_err_lin_vs_exact": float(np.max(errs)), "rms_err_ideal_vs_exact": float(np.max(ideal_errs)),
    }


def error_vs_steps(n_in: int, n_out: int, wire: float, marks: list[int], seed: int) -> list[dict]:
    """RMS error of the linearisation alone (no refresh: ir_tol 0.99) after K updates since the build."""
    dev = ConstantStep(g_min_s=G_OFF, g_max_s=G_ON, dg_up_s=1e-7, dg_down_s=1e-7)
    rc = ReadConfig(mode="ir_drop", wire_r_ohm=wire, ir_method="linearised", ir_tol=0.99, ir_max_iter=500)
    tile = AnalogTile(n_out, n_in, TileConfig(device=dev, read=rc), np.random.default_rng(seed + 1))
    tile.set_weights(np.random.default_rng(seed).uniform(-1, 1, (n_out, n_in)))
    exact = AnalogTile(n_out, n_in, TileConfig(device=dev, read=ReadConfig(mode="ir_drop", wire_r_ohm=wire)),
                       np.random.default_rng(seed + 1))
    exact.set_weights(np.random.default_rng(seed).uniform(-1, 1, (n_out, n_in)))
    rng = np.random.default_rng(seed + 2)
    x = rng.uniform(-1, 1, (64, n_in))
    tile.forward(x)
    g0 = tile.g_plus.copy(), tile.g_minus.copy()
    rows = []
    for k in range(1, max(marks) + 1):
        counts = np.rint(3.0 * np.outer(rng.uniform(-1, 1, n_out), rng.uniform(-1, 1, n_in))).astype(np.int64)
        tile.apply_pulses(counts)
        exact.apply_pulses(counts)
        if k in marks:
            y, y_ex = tile.forward(x), exact.forward(x)
            drift = np.sqrt(np.sum((tile.g_plus - g0[0]) ** 2) + np.sum((tile.g_minus - g0[1]) ** 2)) / np.sqrt(
                np.sum(g0[0] ** 2) + np.sum(g0[1] ** 2))
            rms = np.sqrt(np.mean(y_ex**2))
            rows.append({"size": f"{n_in}x{n_out}", "wire_ohm": wire, "updates_since_refresh": k,
                         "rel_drift": float(drift), "rms_err_lin_vs_exact": float(np.sqrt(np.mean((y - y_ex) ** 2)) / rms),
                         "rms_err_ideal_vs_exact": float(np.sqrt(np.mean((x @ tile.get_weights().T - y_ex) ** 2)) / rms),
                         "refreshes": tile._ir_linearised_readers[False][1].refreshes})
            print(" ".join(f"{key} {v:.4g}" if isinstance(v, float) else f"{key} {v}" for key, v in rows[-1].items()),
                  flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["64x64", "256x128", "784x256"], help="inputs x outputs")
    ap.add_argument("--wires", type=float, nargs="+", default=[2.5], help="wire resistance per segment (ohm)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--exact-steps", type=int, default=None, help="steps read by the exact tile too (default: all up "
                    "to 128x128 cells, else 3)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", help="also write the table as CSV")
    ap.add_argument("--drift-table", type=int, nargs="+", metavar="K",
                    help="instead: the linearisation's error after K updates without refresh, for each K")
    args = ap.parse_args(argv)
    rows = []
    if args.drift_table:
        for size in args.sizes:
            n_in, n_out = (int(v) for v in size.lower().split("x"))
            for wire in args.wires:
                rows += error_vs_steps(n_in, n_out, wire, sorted(set(args.drift_table)), args.seed)
        if args.csv:
            with open(args.csv, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(list(rows[0]))
                w.writerows([list(r.values()) for r in rows])
        return 0
    for size in args.sizes:
        n_in, n_out = (int(v) for v in size.lower().split("x"))
        for wire in args.wires:
            k = args.exact_steps or (args.steps if n_in * n_out <= 128 * 128 else 3)
            r = run_case(n_in, n_out, wire, args.steps, min(k, args.steps), args.batch, args.seed)
            rows.append(r)
            print(f"{r['size']:>8} {wire:4g} ohm  ideal {r['ideal_s'] * 1e3:8.3f} ms  exact {r['exact_s'] * 1e3:10.1f} ms "
                  f"(x{r['exact_ratio']:.0f})  linearised build {r['linearised_build_s']:.2f} s, {r['linearised_s'] * 1e3:9.2f} ms (x{r['linearised_ratio']:.1f}; "
                  f"median x{r['median_ratio']:.1f})  refreshes {r['refreshes']}  checks {r['checks']}  "
                  f"rms err {r['rms_err_lin_vs_exact']:.2e} (ideal {r['rms_err_ideal_vs_exact']:.3f})", flush=True)
    from memspice.commands.output import format_table

    headers = list(rows[0])
    print()
    print(format_table(headers, [list(r.values()) for r in rows], "{:.4g}"))
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            w.writerows([list(r.values()) for r in rows])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
