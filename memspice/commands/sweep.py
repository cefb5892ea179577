"""``memspice sweep SWEEP.toml``: run a parameter grid locally or on a Dask cluster, resumably."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memspice.commands.output import format_table, print_json
from memspice.inputs import arg_positive_int, input_file, output_file

_EPILOG = """\
examples:
  memspice sweep examples/sweeps/write_pulses.toml                  all cores, resumes by default
  memspice sweep examples/sweeps/write_pulses.toml --workers 2
  memspice sweep examples/sweeps/ir_drop_reads.toml --scheduler tcp://10.0.0.5:8786
  memspice sweep examples/sweeps/write_pulses.toml --no-resume      start the table afresh

A sweep file has [sweep] (kind, output), [base] (fixed parameters), [grid]
(lists whose combinations are run) and optional [[cases]]; see
memspice/sweep/spec.py and, for each kind's parameters, memspice/sweep/tasks.py.
Results go to one CSV (a relative sweep.output is in the current folder, never
beside the sweep file), a row per point as it finishes; running the command
again runs only the points missing from it. Failed points are rows with
status=error and the error text. Exit status: 0 all points ok, 1 some points
failed (see the table), 2 a memspice error (bad sweep file), 130 interrupted.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a grid of read/write/validate-update/calibrate/train points into one results table",
        description="Expand the grid of SWEEP.toml, run every point not yet in the results CSV on a local "
        "process pool (or a Dask cluster with --scheduler) and append each result as it arrives.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sweep", type=Path, help="sweep file (TOML)")
    p.add_argument("--workers", type=arg_positive_int, default=None, metavar="N",
                   help="local worker processes (default: every usable core)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786 (needs dask[distributed])")
    p.add_argument("--resume", dest="resume", action="store_true", default=True,
                   help="skip points already in the results table (default)")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="overwrite the results table and run every point")
    p.add_argument("--retry-failed", action="store_true", help="also run again points recorded with an error")
    p.add_argument("-o", "--out", "--output", dest="output", type=Path, metavar="CSV", help="results table (default: sweep.output of the file)")
    p.add_argument("--dry-run", action="store_true", help="check the file and list the points; run nothing")
    p.add_argument("--json", action="store_true", help="print a JSON document instead of tables")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_sweep)


def _sweep(args) -> int:
    import dataclasses

    from memspice.errors import ParameterError
    from memspice.sweep import load_sweep, read_results, run_sweep

    input_file(args.sweep, "sweep file")
    spec = load_sweep(args.sweep)
    if args.output is not None:
        if args.output.suffix.lower() != ".csv":
            raise ParameterError(f"--out {str(args.output)!r}: the results table is a .csv file")
        output_file(args.output, "--out")
        spec = dataclasses.replace(spec, output=args.output)
    if args.dry_run:
        rows = [(p.index, p.key, ", ".join(f"{k}={p.params[k]!r}" for k in spec.varied if k in p.params)) for p in spec.points]
        if args.json:
            print_json({"kind": spec.kind, "output": str(spec.output), "points": [
                {"index": p.index, "key": p.key, "params": dict(p.params)} for p in spec.points]})
        else:
            print(f"{spec.name}: {len(spec.points)} {spec.kind} point(s) -> {spec.output}")
            print(format_table(["point", "key", "varied parameters"], rows))
        return 0
    run = run_sweep(spec, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                    retry_failed=args.retry_failed, progress=not (args.no_progress or args.json))
    results = read_results(run.output)
    plot = _plot(spec, results, run.output)
    if args.json:
        print_json({**run.as_dict(), "kind": spec.kind, "results": results, "plot": plot})
    else:
        _print_results(spec, results)
        print(f"{spec.name}: {run.ran} point(s) run ({run.ok} ok, {run.failed} failed), {run.skipped} already done, "
              f"{run.remaining} remaining; {run.elapsed_s:.1f} s on {run.executor}; table: {run.output}"
              + (f", plot: {plot}" if plot else ""))
    if run.interrupted:
        print(f"memspice: sweep interrupted; run the same command again to finish the {run.remaining} remaining point(s)",
              file=sys.stderr)
        return 130
    return 1 if run.failed else 0


def _plot(spec, results: list[dict], output) -> str | None:
    """The sweep's picture beside its CSV (memspice.sweep.plots), or None when no metric is a number."""
    from memspice.sweep import TASKS
    from memspice.sweep.plots import plot_sweep, sweep_metric

    metric = sweep_metric(results, TASKS[spec.kind].metrics)
    if metric is None:
        return None
    return str(plot_sweep(output.with_suffix(".png"), results, spec.varied, metric, title=spec.name))


def _print_results(spec, results: list[dict], max_rows: int = 40) -> None:
    from memspice.sweep import TASKS

    metrics = [m for m in TASKS[spec.kind].metrics if not all(isinstance(r.get(m), list) for r in results)][:4]
    headers = ["point", *spec.varied, "status", *metrics]
    rows = []
    for r in sorted(results, key=lambda r: r["point"])[:max_rows]:
        cells = [r["point"], *(r.get(k) for k in spec.varied), r["status"]]
        cells += [r.get(m) if r["status"] == "ok" else "" for m in metrics]
        rows.append(["" if c is None else c for c in cells])
    print(format_table(headers, rows, "{:.4g}"))
    for r in results:
        if r["status"] != "ok":
            print(f"point {r['point']} ({r['key']}): {r['error_type']}: {r['error']}")
    if len(results) > max_rows:
        print(f"... {len(results) - max_rows} more rows in the table")
