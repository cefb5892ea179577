"""Speed of the surrogate tile: pulsed updates and reads, against the floating-point baseline.

    python benchmarks/surrogate_update.py [--repeats 20] [--csv out.csv]

For 256x256 and 784x256 tiles (n_in x n_out) and batch 1 and 64 it prints:

* reads: forward (y = W x) and backward (d W) calls per second and vectors per second;
* updates: a pulsed update of the whole tile from one batch, for several
  device models. The pulse counts come from the batch gradient
  (n = round(-eta delta^T x / dw_min), dense: nearly every cell pulsed), and
  the time is compared with the floating-point update it replaces
  (W -= eta delta^T x: the outer product plus the write). "ratio" is
  t_pulsed / t_float (the target is <= 4, "the float outer product plus 3x");
* the pulse-count construction itself is not timed (it is the learning
  rule's work, the same float outer product).

Timings are medians over ``--repeats`` calls, on whatever else the machine
is running; compare ratios rather than absolute numbers. The device update is
single-threaded numpy while the float baseline is a BLAS call; for a
like-for-like single-core comparison run with OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memspice.commands.output import write_csv_rows  # noqa: E402
from memspice.surrogate import (  # noqa: E402
    AnalogTile,
    ConstantStep,
    GokmenVlasov2016,
    GongReRAMExpStep2018,
    NandakumarPCM2018,
    SoftBounds,
    TangECRAM2018,
    TileConfig,
)

SIZES = [(256, 256), (784, 256)]  # (n_in, n_out)
BATCHES = [1, 64]
DEVICES = {
    "ConstantStep (no noise)": ConstantStep(),
    "SoftBounds c2c 30%": SoftBounds(c2c_rel=0.3),
    "GokmenVlasov2016": GokmenVlasov2016(),
    "TangECRAM2018": TangECRAM2018(),
    "NandakumarPCM2018": NandakumarPCM2018(),
    "GongReRAMExpStep2018*": GongReRAMExpStep2018(),  # per-pulse engine
}


def median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV file")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []

    print("reads (ideal read path)")
    print(f"{'tile':>9} {'batch':>5} {'fwd calls/s':>12} {'fwd vec/s':>12} {'bwd calls/s':>12} {'bwd vec/s':>12}")
    for n_in, n_out in SIZES:
        tile = AnalogTile(n_out, n_in, TileConfig(device=ConstantStep()), rng)
        tile.set_weights(rng.uniform(-0.5, 0.5, (n_out, n_in)))
        for b in BATCHES:
            x = rng.uniform(-1, 1, (b, n_in))
            d = rng.uniform(-1, 1, (b, n_out))
            tf = median_time(lambda: tile.forward(x), args.repeats)
            tb = median_time(lambda: tile.backward(d), args.repeats)
            print(f"{n_in}x{n_out:<5} {b:>5} {1 / tf:12.0f} {b / tf:12.0f} {1 / tb:12.0f} {b / tb:12.0f}")
            rows.append(dict(kind="read", tile=f"{n_in}x{n_out}", batch=b, device="", t_s=tf, t_bwd_s=tb))

    print()
    print("pulsed update of the whole tile from one batch (dense pulse counts) vs float W -= eta d^T x")
    print(f"{'tile':>9} {'batch':>5} {'device':<24} {'t_float ms':>10} {'t_pulse ms':>10} {'ratio':>6} {'Mcells/s':>9} {'mean |n|':>8}")
    for n_in, n_out in SIZES:
        for b in BATCHES:
            x = rng.uniform(-1, 1, (b, n_in))
            delta = rng.uniform(-1, 1, (b, n_out))
            w_float = rng.uniform(-0.5, 0.5, (n_out, n_in))
            eta = 0.01

            def float_update():
                w_float[...] -= eta * (delta.T @ x)

            t_float = median_time(float_update, args.repeats)
            for name, dev in DEVICES.items():
                tile = AnalogTile(n_out, n_in, TileConfig(device=dev), np.random.default_rng(1))
                tile.set_weights(rng.uniform(-0.5, 0.5, (n_out, n_in)))
                grad = delta.T @ x
                # about 2 pulses per cell on average, independent of the batch size
                n = np.rint(-grad / np.abs(grad).mean() * 2.0).astype(np.int64)
                t_pulse = median_time(lambda: tile.apply_pulses(n), args.repeats)
                ratio = t_pulse / t_float
                print(
                    f"{n_in}x{n_out:<5} {b:>5} {name:<24} {t_float * 1e3:10.3f} {t_pulse * 1e3:10.3f} "
                    f"{ratio:6.1f} {n.size / t_pulse / 1e6:9.1f} {np.abs(n).mean():8.2f}"
                )
                rows.append(dict(kind="update", tile=f"{n_in}x{n_out}", batch=b, device=name, t_s=t_pulse,
                                 t_float_s=t_float, ratio=ratio, mean_abs_n=float(np.abs(n).mean())))
    print("* per-pulse engine (non-affine model): cost grows with the number of pulses")

    print()
    print("sparse update (10 % of cells pulsed, |n| <= 3), 784x256")
    n_in, n_out = SIZES[-1]
    for name, dev in DEVICES.items():
        tile = AnalogTile(n_out, n_in, TileConfig(device=dev), np.random.default_rng(2))
        tile.set_weights(rng.uniform(-0.5, 0.5, (n_out, n_in)))
        n = rng.integers(-3, 4, (n_out, n_in)) * (rng.random((n_out, n_in)) < 0.1)
        t = median_time(lambda: tile.apply_pulses(n), args.repeats)
        print(f"  {name:<24} {t * 1e3:8.3f} ms  {n.size / t / 1e6:8.1f} Mcells/s")
        rows.append(dict(kind="sparse_update", tile=f"{n_in}x{n_out}", batch=0, device=name, t_s=t))

    if args.csv:
        write_csv_rows(args.csv, sorted({k for r in rows for k in r}), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
