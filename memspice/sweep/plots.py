"""A picture of a sweep's results table, written beside the CSV (``<output>.png``).

One varied parameter: the metric against it (a line; categories on the axis
when the values are not numbers). Two or more: a heat map over the first two
varied parameters, averaged over the others (the title says which). No
varied parameter: one bar per point. Failed points are left out and counted
in the title. The metric is the task's first scalar metric that the ok
points report, unless one is named.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

__all__ = ["plot_sweep", "sweep_metric"]


def _scalar(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def sweep_metric(results: list[dict], metrics) -> str | None:
    """The first of ``metrics`` with a finite number in every ok row (None if there is none)."""
    ok = [r for r in results if r.get("status") == "ok"]
    for m in metrics:
        if ok and all(_scalar(r.get(m)) for r in ok):
            return m
    return None


def _axis_values(rows: list[dict], name: str) -> list:
    vals = list(dict.fromkeys(_key(r.get(name)) for r in rows))
    if all(isinstance(v, (int, float)) for v in vals):
        return sorted(vals)
    return vals


def _key(v):
    return tuple(v) if isinstance(v, list) else v if not isinstance(v, dict) else str(v)


def plot_sweep(path: str | Path, results: list[dict], varied, metric: str, title: str = "sweep") -> Path:
    """Write the picture of ``metric`` over the ``varied`` parameters of ``results`` to ``path`` (PNG)."""
    from memspice.learn.plots import figure, save_png

    ok = [r for r in results if r.get("status") == "ok" and _scalar(r.get(metric))]
    failed = len(results) - len(ok)
    varied = list(varied)
    fig, (ax,) = figure(1, 6.4, 4.4)
    note = f" ({failed} point(s) failed, not shown)" if failed else ""
    if not varied:
        ax.bar([str(r["point"]) for r in ok], [r[metric] for r in ok])
        ax.set(xlabel="point", ylabel=metric)
    elif len(varied) == 1:
        name = varied[0]
        xs = _axis_values(ok, name)
        means = _means(ok, [name], metric)
        ys = [means[(x,)] for x in xs]
        if all(isinstance(x, (int, float)) for x in xs):
            ax.plot(xs, ys, "-o")
            if len(xs) > 2 and min(xs) > 0 and max(xs) / min(xs) >= 100:
                ax.set_xscale("log")
        else:
            ax.plot(range(len(xs)), ys, "-o")
            ax.set_xticks(range(len(xs)), [str(x) for x in xs], rotation=30, ha="right")
        ax.set(xlabel=name, ylabel=metric)
        ax.grid(True, alpha=0.3)
    else:
        a, b = varied[0], varied[1]
        xs, ys = _axis_values(ok, a), _axis_values(ok, b)
        means = _means(ok, [a, b], metric)
        grid = [[means.get((x, y), float("nan")) for x in xs] for y in ys]
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(xs)), [f"{x:g}" if isinstance(x, float) else str(x) for x in xs], rotation=30, ha="right")
        ax.set_yticks(range(len(ys)), [f"{y:g}" if isinstance(y, float) else str(y) for y in ys])
        ax.set(xlabel=a, ylabel=b)
        for j, row in enumerate(grid):
            for i, v in enumerate(row):
                if math.isfinite(v):
                    ax.text(i, j, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w")
        fig.colorbar(im, ax=ax, label=metric)
        if len(varied) > 2:
            note = f", mean over {', '.join(varied[2:])}" + note
    ax.set_title(f"{title}: {metric}{note}", fontsize=9)
    fig.tight_layout()
    return save_png(fig, path)


def _means(rows: list[dict], names: list[str], metric: str) -> dict:
    acc: dict = defaultdict(list)
    for r in rows:
        acc[tuple(_key(r.get(n)) for n in names)].append(r[metric])
    return {k: sum(v) / len(v) for k, v in acc.items()}
