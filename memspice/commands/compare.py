"""``memspice compare RUN RUN ...``: several training runs side by side (table, JSON and an overlay plot)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from memspice.commands.output import format_table, print_json

_EXAMPLE = """\
example:
  memspice train examples/digits_sgd.toml --out runs/fp
  memspice train examples/digits_stochastic.toml --out runs/sc
  memspice compare runs/fp runs/sc -o runs/fp-vs-sc.png     # the first run is the reference
"""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "compare",
        help="training runs side by side: final and best accuracy, the gap to the first run, an overlay plot",
        description="Read the metrics.csv of each RUN folder (memspice train --out) and print, per run, the rule, "
        "the epochs, the final test accuracy, the best validation accuracy and the test-accuracy gap to the first "
        "RUN (the reference, usually the floating-point run). Writes an overlay of validation loss and test "
        "accuracy per epoch (-o, default compare.png in the current folder).",
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="training run folders; the first is the reference")
    p.add_argument("--label", action="append", default=None, metavar="TEXT",
                   help="legend label per run, in order (repeatable; default: the folder names)")
    p.add_argument("-o", "--out", type=Path, default=Path("compare.png"), help="overlay plot (.png; default compare.png)")
    p.add_argument("--json", action="store_true", help="print a JSON document instead of the table")
    p.set_defaults(func=_compare)


def run_rows(runs: list[Path], labels: list[str] | None = None) -> list[dict]:
    """One summary dict per run folder (label, rule, epochs, accuracies, gap to the first run) and its history."""
    from memspice.errors import DataError, ParameterError
    from memspice.learn.metrics import read_csv

    if labels is not None and len(labels) != len(runs):
        raise ParameterError(f"--label given {len(labels)} times for {len(runs)} runs; give one per run or none")
    rows = []
    for k, run in enumerate(runs):
        metrics = run / "metrics.csv"
        if not metrics.is_file():
            raise DataError(f"RUN {str(run)!r}: no metrics.csv there; give a folder written by memspice train --out")
        history = read_csv(metrics)
        if not history:
            raise DataError(f"RUN {str(run)!r}: metrics.csv has no epoch yet; let the run finish an epoch first")
        summary = run / "summary.json"
        rule = json.loads(summary.read_text(encoding="utf-8")).get("config", {}).get("rule", {}).get("name", "?") \
            if summary.is_file() else "?"
        best = max((r["validation_accuracy"] for r in history if math.isfinite(r["validation_accuracy"])),
                   default=float("nan"))
        rows.append({"label": labels[k] if labels else run.name, "run": str(run), "rule": rule,
                     "epochs": history[-1]["epoch"], "test_accuracy": history[-1]["test_accuracy"],
                     "best_validation_accuracy": best, "history": history})
    ref = rows[0]["test_accuracy"]
    for r in rows:
        r["gap_to_reference_points"] = 100.0 * (r["test_accuracy"] - ref)
    return rows


def _compare(args) -> int:
    from memspice.learn.plots import plot_compare

    rows = run_rows(list(args.runs), args.label)
    png = plot_compare(args.out, [(r["label"], r["history"]) for r in rows],
                       title=f"{len(rows)} runs, reference {rows[0]['label']}")
    if args.json:
        print_json({"runs": [{k: v for k, v in r.items() if k != "history"} for r in rows], "plot": str(png)})
        return 0
    table = [(r["label"], r["rule"], r["epochs"], f"{100 * r['test_accuracy']:.2f} %",
              f"{100 * r['best_validation_accuracy']:.2f} %", f"{r['gap_to_reference_points']:+.2f}") for r in rows]
    print(format_table(["run", "rule", "epochs", "test accuracy", "best validation", "gap to first (points)"], table))
    print(f"\noverlay: {png}")
    return 0
