"""Accuracy gap against device-to-device spread (babu_fashion_d2d.toml), mean and std over seeds.

    memspice sweep examples/studies/babu_fashion_d2d.toml --workers 1 --output runs/babu_d2d.csv
    memspice sweep examples/studies/babu_fashion_d2d_fp.toml --output runs/babu_d2d_fp.csv
    python examples/studies/babu_d2d_table.py runs/babu_d2d.csv runs/babu_d2d_fp.csv

Prints a markdown table: one row per device-to-device case (step spread step_d2d_rel, bound spread
g_max_d2d_s as a fraction of G_max - G_min), one column per cycle-to-cycle variability c2c_rel, each cell
the test accuracy minus the FP baseline's mean (points), mean ± std over the seeds.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

STEP, BOUND, C2C = "tile.device_params.step_d2d_rel", "tile.device_params.g_max_d2d_s", "tile.device_params.c2c_rel"


def _ok_rows(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["status"] == "ok"]


def _cell(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):+.1f} ± {sd:.1f} (n={len(values)})"


def table(rows: list[dict], fp_rows: list[dict]) -> str:
    fp = [100 * float(r["test_accuracy"]) for r in fp_rows]
    fp_mean = statistics.mean(fp)
    groups: dict = {}
    for r in rows:
        g_range = float(r["tile.device_params.g_max_s"]) - 1e-6  # G_min = 1 uS in every point (make_babu_study)
        key = (float(r[STEP]), round(float(r[BOUND]) / g_range, 6))
        groups.setdefault(key, {}).setdefault(float(r[C2C]), []).append(100 * float(r["test_accuracy"]) - fp_mean)
    c2cs = sorted({c for g in groups.values() for c in g})
    lines = [f"FP baseline {fp_mean:.1f} ± {statistics.stdev(fp) if len(fp) > 1 else 0:.1f} % "
             f"(n={len(fp)}); cells: test accuracy minus the FP mean, points, mean ± std over seeds.", "",
             "| step d2d (rel) | bound d2d (of range) | " + " | ".join(f"c2c {c:g}" for c in c2cs) + " |",
             "|---|---|" + "---|" * len(c2cs)]
    for (step, bound) in sorted(groups, key=lambda k: (k[1], k[0])):
        cells = [_cell(groups[(step, bound)][c]) if c in groups[(step, bound)] else "–" for c in c2cs]
        lines.append(f"| {step:g} | {bound:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="the sweep table of babu_fashion_d2d.toml")
    ap.add_argument("baseline", type=Path, help="the sweep table of babu_fashion_d2d_fp.toml")
    args = ap.parse_args(argv)
    print(table(_ok_rows(args.results), _ok_rows(args.baseline)), end="")


if __name__ == "__main__":
    main()
