"""Heat maps of a Babu et al. study: test accuracy over (dynamic range, levels), one panel per variability.

    python examples/studies/babu_heatmap.py examples/studies/babu_fashion_quick.csv --baseline 0.85 \
        --out examples/studies/babu_fashion_quick.png

``--baseline``: the floating-point accuracy of the same network (e.g. the test_accuracy in summary.json
of `memspice train examples/fashion_sgd.toml`); cells then show accuracy minus baseline, in points,
and the contour of -3 points marks Babu et al.'s "within 3 % of floating point".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from memspice.sweep.table import read_results

G_MIN_S = 1.0e-6  # babu_fashion_base.toml


def grid(rows: list[dict]):
    """(dynamic ranges, levels, variabilities, accuracy[var, dr, levels]) from a results table."""
    done = [r for r in rows if r.get("status") == "ok"]
    if not done:
        raise SystemExit("no finished points in the results table yet")
    dr = np.array([r["tile.device_params.g_max_s"] / G_MIN_S for r in done])
    lv = np.array([(r["tile.device_params.g_max_s"] - G_MIN_S) / r["tile.device_params.dg_up_s"] for r in done])
    var = np.array([r["tile.device_params.c2c_rel"] for r in done])
    dr, lv = np.round(dr, 6), np.round(lv).astype(int)
    drs, lvs, vs = np.unique(dr), np.unique(lv), np.unique(var)
    acc = np.full((vs.size, drs.size, lvs.size), np.nan)
    for r, d, n, v in zip(done, dr, lv, var):
        acc[np.searchsorted(vs, v), np.searchsorted(drs, d), np.searchsorted(lvs, n)] = r["test_accuracy"]
    return drs, lvs, vs, acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="results CSV of the sweep")
    ap.add_argument("--baseline", type=float, default=None, help="floating-point test accuracy (fraction)")
    ap.add_argument("--out", type=Path, default=None, help="PNG (default: beside the results, .png)")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drs, lvs, vs, acc = grid(read_results(args.results))
    value = 100 * (acc - args.baseline) if args.baseline is not None else 100 * acc
    label = "accuracy - FP baseline (points)" if args.baseline is not None else "test accuracy (%)"
    fig, axes = plt.subplots(1, vs.size, figsize=(4.2 * vs.size, 3.8), squeeze=False)
    lo, hi = np.nanmin(value), np.nanmax(value)
    for ax, v, panel in zip(axes[0], vs, value):
        im = ax.imshow(panel.T, origin="lower", cmap="viridis", vmin=lo, vmax=hi, aspect="auto")
        for i in range(drs.size):
            for j in range(lvs.size):
                if np.isfinite(panel[i, j]):
                    ax.text(i, j, f"{panel[i, j]:.1f}", ha="center", va="center", fontsize=7, color="w")
        if args.baseline is not None and np.nanmin(panel) < -3 < np.nanmax(panel):
            ax.contour(panel.T, levels=[-3], colors="r", linewidths=1)
        ax.set_xticks(range(drs.size), [f"{d:g}" for d in drs])
        ax.set_yticks(range(lvs.size), [str(n) for n in lvs])
        ax.set_xlabel("dynamic range G_max/G_min")
        ax.set_ylabel("levels")
        ax.set_title(f"programming variability {100 * v:g} %")
    fig.colorbar(im, ax=axes[0].tolist(), label=label)
    out = args.out or args.results.with_suffix(".png")
    fig.savefig(out, dpi=120, bbox_inches="tight")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
