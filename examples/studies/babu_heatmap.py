"""Heat maps of a Babu et al. study: test accuracy over (dynamic range, levels), one panel per variability.

    python examples/studies/babu_heatmap.py examples/studies/babu_fashion_quick.csv --baseline 0.743 \
        --out examples/studies/babu_fashion_quick.png

``--baseline``: the floating-point accuracy of the same network at the same scale (the test_accuracy in
summary.json of `memspice train` with the sgd rule and the sweep's overrides); cells then show accuracy
minus baseline, in points, and a red outline encloses the cells within 3 points of the baseline (Babu et
al.'s "within 3 % of floating point"). The outline follows cell edges: the grid is discrete, and a
contour interpolated between cell centres would claim values at (dynamic range, levels) never run.
``--markdown`` also prints the cells as one Markdown table per variability.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from memspice.sweep.table import read_results

G_MIN_S = 1.0e-6  # babu_fashion_base.toml
THRESHOLD_POINTS = -3.0  # Babu et al.: "within 3 % of floating point"


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


def scale_note(rows: list[dict]) -> str:
    """The run scale the sweep overrode (network, epochs, images), e.g. '784-64-10, 3 epochs, ...'; '' if none."""
    r = rows[0]
    parts = []
    if isinstance(r.get("network.sizes"), list):
        parts.append("-".join(str(n) for n in r["network.sizes"]))
    if r.get("training.epochs") is not None:
        parts.append(f"{r['training.epochs']} epochs")
    if r.get("data.max_train") is not None:
        parts.append(f"{r['data.max_train']} training images")
    if r.get("data.max_test") is not None:
        parts.append(f"{r['data.max_test']} test images")
    return ", ".join(parts)


def outline_segments(inside: np.ndarray) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Cell edges that separate cells in ``inside[i, j]`` (i: x index, j: y index) from cells outside it.

    Cells sit at integer (i, j) with edges at +-0.5 (imshow's pixel centres); the grid border counts as
    outside, so a region that reaches the border is closed along it.
    """
    padded = np.pad(inside, 1, constant_values=False)
    segs = []
    for i in range(inside.shape[0]):
        for j in range(inside.shape[1]):
            if not inside[i, j]:
                continue
            if not padded[i, j + 1]:  # left neighbour
                segs.append(((i - 0.5, j - 0.5), (i - 0.5, j + 0.5)))
            if not padded[i + 2, j + 1]:  # right
                segs.append(((i + 0.5, j - 0.5), (i + 0.5, j + 0.5)))
            if not padded[i + 1, j]:  # below
                segs.append(((i - 0.5, j - 0.5), (i + 0.5, j - 0.5)))
            if not padded[i + 1, j + 2]:  # above
                segs.append(((i - 0.5, j + 0.5), (i + 0.5, j + 0.5)))
    return segs


def markdown(drs, lvs, vs, value, unit: str) -> str:
    """One Markdown table per variability: rows dynamic range, columns levels, cells ``value`` (``unit``)."""
    out = []
    for v, panel in zip(vs, value):
        out.append(f"programming variability {100 * v:g} % ({unit})\n")
        out.append("| dynamic range \\ levels | " + " | ".join(str(n) for n in lvs) + " |")
        out.append("|---" * (lvs.size + 1) + "|")
        for d, row in zip(drs, panel):
            out.append(f"| {d:g} | " + " | ".join("-" if np.isnan(x) else f"{x:+.1f}" for x in row) + " |")
        out.append("")
    return "\n".join(out)


def plot(drs, lvs, vs, value, *, label: str, title: str, outline: bool, vmin: float | None = None):
    """The figure: one panel per variability (up to 3 a row), shared colour scale, cell values printed.

    ``vmin``: floor of the colour scale (cells below it take the floor colour and keep their printed
    value), so that a few very poor cells do not squeeze the range around the threshold into one hue.
    ``outline``: enclose the cells at or above THRESHOLD_POINTS in red.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    cmap = plt.get_cmap("viridis")
    lo, hi = np.nanmin(value), np.nanmax(value)
    clipped = vmin is not None and lo < vmin
    norm = Normalize(vmin if clipped else lo, hi, clip=True)
    ncols = min(3, vs.size)
    nrows = -(-vs.size // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.5 * ncols + 1.2, 3.2 * nrows + 0.7), squeeze=False,
                             layout="constrained")
    for k, (ax, v, panel) in enumerate(zip(axes.flat, vs, value)):
        im = ax.imshow(panel.T, origin="lower", cmap=cmap, norm=norm, aspect="auto")
        for i in range(drs.size):
            for j in range(lvs.size):
                if np.isfinite(panel[i, j]):
                    r, g, b, _ = cmap(norm(panel[i, j]))
                    ink = "k" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "w"  # legible on the cell colour
                    ax.text(i, j, f"{panel[i, j]:.1f}", ha="center", va="center", fontsize=7, color=ink)
        if outline:
            inside = np.nan_to_num(panel, nan=-np.inf) >= THRESHOLD_POINTS
            ax.add_collection(LineCollection(outline_segments(inside), colors="r", linewidths=2.0, zorder=3,
                                             clip_on=False))
        ax.set_xticks(range(drs.size), [f"{d:g}" for d in drs])
        ax.set_yticks(range(lvs.size), [str(n) for n in lvs])
        ax.set_xlabel("dynamic range G_max/G_min")
        if k % ncols == 0:
            ax.set_ylabel("conductance levels")
        ax.set_title(f"programming variability {100 * v:g} %", fontsize=10)
    spare = axes.flat[vs.size:]
    for ax in spare:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), label=label, shrink=0.9, extend="min" if clipped else "neither")
    if outline:
        handle = Line2D([], [], color="r", lw=2, label=f"within {-THRESHOLD_POINTS:g} points of FP")
        if spare.size:
            spare[0].legend(handles=[handle], loc="center", frameon=False)
        else:
            fig.legend(handles=[handle], loc="outside lower right", fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="results CSV of the sweep")
    ap.add_argument("--baseline", type=float, default=None, help="floating-point test accuracy (fraction)")
    ap.add_argument("--out", type=Path, default=None, help="PNG (default: beside the results, .png)")
    ap.add_argument("--markdown", action="store_true", help="also print the cells as Markdown tables")
    ap.add_argument("--vmin", type=float, default=None,
                    help="floor of the colour scale, in the plotted unit (default with --baseline: -12 points)")
    args = ap.parse_args()
    if args.baseline is not None and not 0.0 < args.baseline <= 1.0:
        raise SystemExit(f"--baseline {args.baseline}: give the FP test accuracy as a fraction, e.g. 0.743")
    import matplotlib

    matplotlib.use("Agg")

    rows = read_results(args.results)
    drs, lvs, vs, acc = grid(rows)
    if args.baseline is not None:
        value, label, unit = 100 * (acc - args.baseline), "test accuracy - FP baseline (points)", "points vs FP"
        head = f"FP baseline {100 * args.baseline:.1f} %"
    else:
        value, label, unit, head = 100 * acc, "test accuracy (%)", "test accuracy %", ""
    title = "\n".join(t for t in ("Stochastic coincidence on Fashion-MNIST" + (f", {head}" if head else ""),
                                   scale_note(rows)) if t)
    vmin = args.vmin if args.vmin is not None else (4 * THRESHOLD_POINTS if args.baseline is not None else None)
    fig = plot(drs, lvs, vs, value, label=label, title=title, outline=args.baseline is not None, vmin=vmin)
    out = args.out or args.results.with_suffix(".png")
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")
    if args.markdown:
        print(markdown(drs, lvs, vs, value, unit))


if __name__ == "__main__":
    main()
