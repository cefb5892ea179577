"""Error of CBRAM stochastic-computing products against exact ones, versus stream length.

Prints, for each driver (ideal amplitude, 6- and 4-bit amplitude DAC, width
encoding on a 1 ns clock) and stream length L, over random signed operand
pairs x, y in [-1, 1]: the RMS error of the stochastic product, its mean
(bias), and the RMS error binomial statistics predict for an ideal encoder,
sqrt(mean q(1-q)/L) with q = |xy|. The ideal encoder follows that 1/sqrt(L)
law; a quantising driver levels off at its encoding error.

    python benchmarks/cbram_sc_error.py [--pairs 4000] [--seed 0] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from memspice.learn.stochastic_computing import CBRAMSwitching, sc_multiply  # noqa: E402

LENGTHS = (8, 16, 32, 64, 128, 256, 512, 1024)
DRIVERS = {
    "amplitude, ideal DAC": CBRAMSwitching(),
    "amplitude, 6-bit DAC": CBRAMSwitching(amplitude_bits=6),
    "amplitude, 4-bit DAC": CBRAMSwitching(amplitude_bits=4),
    "width, 1 ns clock": CBRAMSwitching(encoding="width", width_step_s=1e-9),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4000, help="operand pairs per point (default 4000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, default=None, help="also write the table as CSV")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(-1, 1, args.pairs)
    y = rng.uniform(-1, 1, args.pairs)
    exact = x * y
    q = np.abs(exact)
    rows = []
    print(f"{'driver':<22} {'L':>5} {'RMS error':>10} {'bias':>10} {'ideal RMS':>10}")
    for name, cell in DRIVERS.items():
        for length in LENGTHS:
            err = sc_multiply(x, y, length, cell, rng) - exact
            rms, bias = float(np.sqrt(np.mean(err**2))), float(np.mean(err))
            ideal = float(np.sqrt(np.mean(q * (1 - q)) / length))
            rows.append((name, length, rms, bias, ideal))
            print(f"{name:<22} {length:>5} {rms:>10.5f} {bias:>+10.5f} {ideal:>10.5f}")
    if args.csv is not None:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["driver", "stream_length", "rms_error", "bias", "ideal_rms_error"])
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
