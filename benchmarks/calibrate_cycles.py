"""Fitting measured cycles at lab scale: the wide set/reset files of one device, read and fitted.

    python benchmarks/calibrate_cycles.py [--cycles 50] [--pulses 130] [--csv out.csv]

Data: one soft-bounds device (2-20 uS, steps 0.4 / 0.3 uS, 30 nS read noise),
``--cycles`` cycles of ``--pulses`` set then reset pulses written in the wide
layout (one column per cycle, a set file and a reset file): 50 x 260 =
13,000 reads by default. Timed: reading the two files, and each family's
whole fit (calibrate_pulse_data: equation-error start, output-error fit of
every cycle with its own initial state, standard errors, noise estimates,
replay figures). The reference in the same run is the cost of one free run
of the fitted model over every cycle (predict_pulse_trains), so "runs" =
fit time / one run says how many model evaluations the fit is worth.
Columns also give the fit's residual against the known read noise and the
mean-cycle replay error, so a speed-up that broke the fit would show.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memspice.calibrate import calibrate_pulse_data  # noqa: E402
from memspice.calibrate.families import predict_pulse_trains  # noqa: E402
from memspice.calibrate.synthetic import synthetic_pulse_train, up_down_pattern  # noqa: E402
from memspice.calibrate.wide import read_set_reset, write_set_reset  # noqa: E402
from memspice.commands.output import format_table, write_csv_rows  # noqa: E402
from memspice.surrogate import SoftBounds  # noqa: E402

TRUE = SoftBounds(g_min_s=2e-6, g_max_s=20e-6, dg_up_s=0.4e-6, dg_down_s=0.3e-6)
READ_NOISE_S = 30e-9


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=50)
    ap.add_argument("--pulses", type=int, default=130, help="set pulses per cycle (as many reset pulses)")
    ap.add_argument("--families", nargs="+", default=["soft-bounds", "tabulated", "exp-step"])
    ap.add_argument("--csv", type=Path)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    d = synthetic_pulse_train(TRUE, up_down_pattern(args.pulses, args.pulses, args.cycles), 3e-6, rng,
                              read_noise_s=READ_NOISE_S, amplitude_v=1.2, device="d0")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        s, r = write_set_reset(Path(tmp) / "set.csv", Path(tmp) / "reset.csv", d)
        t0 = time.perf_counter()
        trains = read_set_reset(s, r, set_voltage_v=1.2, reset_voltage_v=-1.2, width_s=5e-8)
        read_s = time.perf_counter() - t0
    reads = sum(t.conductance_s.size for t in trains)
    for fam in args.families:
        t0 = time.perf_counter()
        cal = calibrate_pulse_data(trains, fam)
        fit_s = time.perf_counter() - t0
        model = cal.fits[0][1].model
        ups = [t.directions(1) for t in trains]
        t0 = time.perf_counter()
        predict_pulse_trains(model, [t.conductance_s[0] for t in trains], ups)
        one_run_s = time.perf_counter() - t0
        f = cal.summary()["fits"]["d0"]
        rows.append({"family": fam, "reads": reads, "cycles": len(trains), "read_files_s": round(read_s, 4),
                     "fit_s": round(fit_s, 3), "one_run_s": round(one_run_s, 5), "runs": round(fit_s / one_run_s),
                     "reads_per_s": round(reads / fit_s), "rms_over_read_noise": round(f["rms_error_s"] / READ_NOISE_S, 4),
                     "mean_cycle_replay_pct": round(100 * f["replay"]["mean_cycle_replay_rms_rel_range"], 4)})
    cols = list(rows[0])
    print(f"{reads} reads ({len(trains)} cycles of {args.pulses} set + {args.pulses} reset pulses), wide set/reset files")
    print(format_table(cols, [[r[c] for c in cols] for r in rows]))
    if args.csv:
        write_csv_rows(args.csv, cols, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
