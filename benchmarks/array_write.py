"""Cost of array-aware coincidence updates ([tile.array]) against the wire-blind tile, per mini-batch.

    python benchmarks/array_write.py                       # sizes 17x5 33x10 65x32 129x64, batch 16
    python benchmarks/array_write.py --sizes 65x32 --wire 1.0 --batch 16 --csv out.csv

For each tile (n_in x n_out, VTEAM with the validate defaults, 1 ohm per
segment unless --wire) one mini-batch of stochastic-coincidence pulse trains
(BL 10, 30 % firing per line and slot) is applied

* wire-blind: the tile's pulse counts (apply_pulses of the net coincidence counts);
* array-aware with refactor = "batch", "sample" and "slot" (memspice.surrogate.array_tile).

It reports the time per mini-batch, the ratio to the wire-blind update and
to a float32 outer-product update of the same weights (the floating-point
limit of a training step's write), and the RMS difference of the cheaper
refactor settings from the per-slot solve relative to the RMS ΔG. Not a
test: nothing asserts a time. Run with OPENBLAS_NUM_THREADS=1 for a
single-core comparison.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import save_rows  # noqa: E402
from memspice.learn.tiles import make_tile, tile_config_from_table  # noqa: E402
from memspice.surrogate import AnalogTile  # noqa: E402
from memspice.surrogate.array_tile import coincidence_update  # noqa: E402
from memspice.validate import defaults  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _tile(n_out, n_in, wire, refactor, seed=0):
    table = {"array": {"model": defaults.MODEL, "model_params": dict(defaults.MODEL_PARAMS),
                       "amplitude_up_v": defaults.AMPLITUDE_UP_V, "amplitude_down_v": defaults.AMPLITUDE_DOWN_V,
                       "width_s": defaults.WIDTH_S, "edge_s": defaults.EDGE_S, "wire_ohm": wire, "refactor": refactor},
             "mapping": {"g_min_s": 1.0e-3, "g_max_s": 3.0e-3}}
    tile = make_tile(n_out, n_in, tile_config_from_table(table), np.random.default_rng(seed))
    tile.set_weights(np.random.default_rng(seed + 1).uniform(-0.8, 0.8, (n_out, n_in)))
    return tile


def _timed(fn, repeats):
    best = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return float(np.median(best))


def run(sizes, wire, batch, bl, repeats):
    rows = []
    for size in sizes:
        n_in, n_out = (int(v) for v in size.lower().split("x"))
        rng = np.random.default_rng(3)
        x = rng.uniform(-1, 1, (batch, n_in))
        d = rng.uniform(-1, 1, (batch, n_out))
        rb = rng.random((batch, bl, n_in)) < 0.3
        cb = rng.random((batch, bl, n_out)) < 0.3
        counts = -np.einsum("btj,bti,bj,bi->ji", cb, rb, np.sign(d), np.sign(x)).astype(np.int64)
        base = _tile(n_out, n_in, wire, "batch")
        base.config.array_write.response()  # tabulated once, outside the timing
        g0 = base._g.copy()
        blind = AnalogTile(n_out, n_in, dataclasses.replace(base.config, array_write=None), np.random.default_rng(0))

        def wire_blind():
            blind.set_conductances(g0[0], g0[1])
            blind.apply_pulses(counts)

        w = np.zeros((n_out, n_in), dtype=np.float32)
        xf, df = x.astype(np.float32), d.astype(np.float32)

        def float_step():
            w.__isub__(np.float32(0.01) * (df.T @ xf))

        t_blind = _timed(wire_blind, repeats)
        t_float = _timed(float_step, repeats)
        after = {}
        times = {}
        for refactor in ("batch", "sample", "slot"):
            tile = _tile(n_out, n_in, wire, refactor)

            def array_step(tile=tile):
                tile._g[...] = g0
                coincidence_update(tile, x, d, rb, cb)

            times[refactor] = _timed(array_step, repeats if refactor != "slot" else 1)
            after[refactor] = tile._g.copy()
        dg_ref = after["slot"] - g0
        rms_ref = float(np.sqrt(np.mean(dg_ref**2)))
        for refactor in ("batch", "sample", "slot"):
            err = float(np.sqrt(np.mean((after[refactor] - after["slot"]) ** 2))) / rms_ref if rms_ref else float("nan")
            rows.append({"size": f"{n_in}x{n_out}", "wire_ohm": wire, "batch": batch, "refactor": refactor,
                         "t_array_s": times[refactor], "t_wire_blind_s": t_blind, "t_float32_s": t_float,
                         "ratio_to_wire_blind": times[refactor] / t_blind, "ratio_to_float32": times[refactor] / t_float,
                         "rel_rms_vs_slot": err})
            print(f"{n_in:>4}x{n_out:<4} {refactor:>6}: {times[refactor] * 1e3:9.2f} ms per batch   "
                  f"wire-blind {t_blind * 1e3:7.3f} ms ({times[refactor] / t_blind:8.1f}x)   "
                  f"float32 {t_float * 1e3:7.3f} ms ({times[refactor] / t_float:9.1f}x)   "
                  f"vs per-slot {100 * err:6.3f} % RMS", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["17x5", "33x10", "65x32", "129x64"], help="n_in x n_out tiles")
    ap.add_argument("--wire", type=float, default=1.0, help="ohm per wire segment (default 1)")
    ap.add_argument("--batch", type=int, default=16, help="samples per mini-batch (default 16)")
    ap.add_argument("--bl", type=int, default=10, help="pulse-train length (default 10)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, median (default 3)")
    ap.add_argument("--csv", type=Path, default=RESULTS / "array_write.csv", help="CSV output")
    args = ap.parse_args(argv)
    rows = run(args.sizes, args.wire, args.batch, args.bl, args.repeats)
    save_rows(args.csv, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
