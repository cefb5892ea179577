"""Run every benchmark and write benchmarks/results/*.csv and benchmarks/results/RESULTS.md.

    python -m benchmarks.run_all            # the full set (the 128x128 ngspice reads and 32x32 write take minutes)
    python -m benchmarks.run_all --quick    # small sizes, few repeats: a minute or two
    python -m benchmarks.run_all --only sweep_throughput write_pulse

Each benchmark module runs as its own process (``python benchmarks/<name>.py``,
its normal command line), so one that fails or is killed does not take the
others with it, and their timings do not share a warm interpreter. Each
module's table lands in results/<name>.csv (from its ``--csv`` option, or from
its ``--json`` output), its printed output in results/<name>.txt, and
RESULTS.md collects every table with the machine it was measured on (CPU,
cores, RAM, Python, numpy, ngspice). Benchmarks print tables; nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Bench:
    name: str
    title: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    output: str = "csv"  #: "csv": the module writes --csv FILE; "json": the module prints --json with a "rows" list


BENCHMARKS = (
    Bench("ir_drop_read", "IR-drop read: nodal solver vs ngspice (16..128), nodal alone to 1024",
          ("--sizes", "16", "32", "64", "128", "--nodal-sizes", "256", "512", "1024"),
          ("--sizes", "16", "--nodal-sizes", "64", "--spice-batch", "4")),
    Bench("ir_drop_train_read", "IR-drop reads at training speed: ideal vs exact vs linearised, updates between reads",
          ("--sizes", "64x64", "256x128", "784x256", "--wires", "0.5", "1", "2.5", "--steps", "60"),
          ("--sizes", "64x64", "--steps", "10")),
    Bench("array_write", "Array-aware coincidence updates ([tile.array]) vs the wire-blind tile, per mini-batch",
          (), ("--sizes", "17x5", "--repeats", "1")),
    Bench("circuit_in_the_loop", "Circuit in the loop (VACASK) vs array-aware surrogate vs wire-blind tile, digits 64-4-10",
          (), ()),
    Bench("write_pulse", "SPICE write-pulse time per array size (V/2 pulse, ngspice transient)",
          ("--sizes", "4", "8", "16", "32"), ("--sizes", "4", "8", "16")),
    Bench("engines", "Circuit engines side by side: ngspice vs VACASK, read and write-pulse time per array size",
          (), ("--sizes", "16", "32", "--ngspice-max", "16")),
    Bench("sweep_throughput", "Sweep throughput: 8 ngspice write points with 1 and 2 local workers", (), ()),
    Bench("calibrate_cycles", "Fitting measured cycles: 13,000 reads of one device in the wide layout, per family",
          (), ("--cycles", "10", "--families", "soft-bounds", "tabulated")),
    Bench("surrogate_update", "Surrogate tile: pulsed updates and reads vs floating point", (), ("--repeats", "3")),
    Bench("train_throughput", "Training throughput: `memspice train` per rule vs a float32 numpy SGD limit "
          "(and aihwkit if installed)",
          ("--samples", "59940"), ("--samples", "1920")),
)


def machine() -> dict:
    """CPU model, cores, RAM, OS, Python, numpy and ngspice versions of this machine."""
    info = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "host": platform.node(),
            "os": platform.platform(), "python": platform.python_version()}
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cpu"] = cpu
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info["cores"] = f"{usable} usable of {os.cpu_count()}"
    try:
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        info["ram"] = f"{kb / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["ram"] = "unknown"
    import numpy

    info["numpy"] = numpy.__version__
    try:
        from memspice.spice import ngspice_info

        ng = ngspice_info()
        info["ngspice"] = f"{ng['version']} ({ng['executable']})"
    except Exception as exc:  # noqa: BLE001 - the description must not stop the benchmarks
        info["ngspice"] = f"unavailable ({exc})"
    info["blas threads"] = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return info


def _run(bench: Bench, quick: bool, out_dir: Path) -> dict:
    args = list(bench.quick if quick else bench.full)
    csv_path = out_dir / f"{bench.name}.csv"
    if bench.output == "csv":
        args += ["--csv", str(csv_path)]
    else:
        args += ["--json"]
    cmd = [sys.executable, str(HERE / f"{bench.name}.py"), *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    print(f"== {bench.name}: {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    (out_dir / f"{bench.name}.txt").write_text(proc.stdout + (("\n--- stderr\n" + proc.stderr) if proc.stderr else ""))
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    if proc.returncode == 0 and bench.output == "json":
        doc = json.loads(proc.stdout)
        rows = doc["rows"]
        from memspice.commands.output import write_csv_rows

        write_csv_rows(csv_path, list(rows[0]), rows)
    print(proc.stdout if proc.returncode == 0 else proc.stdout + proc.stderr, flush=True)
    print(f"   {bench.name}: {status} in {wall:.1f} s", flush=True)
    return {"bench": bench, "status": status, "wall_s": wall, "csv": csv_path if csv_path.exists() else None,
            "command": " ".join([f"python benchmarks/{bench.name}.py", *(bench.quick if quick else bench.full),
                                 f"--csv {out_dir.name}/{bench.name}.csv" if bench.output == "csv" else "--json"])}


def _fmt(text: str) -> str:
    try:
        x = float(text)
    except ValueError:
        return text.replace("|", "\\|")
    if x != x or text.strip().lstrip("-").isdigit():
        return text
    return f"{x:.4g}"


def markdown_table(path: Path) -> str:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return "(empty)"
    head, body = rows[0], rows[1:]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in r) + " |" for r in body]
    return "\n".join(lines)


def write_report(results: list[dict], info: dict, quick: bool, out_dir: Path) -> Path:
    lines = ["# memspice benchmark results", "",
             f"`python -m benchmarks.run_all{' --quick' if quick else ''}` on {info['date']}. "
             "Timings depend on the machine and on what else ran on it; compare ratios rather than absolute times.",
             "", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    path = out_dir / "RESULTS.md"
    earlier = _sections(path.read_text()) if path.exists() else {}
    ran = {r["bench"].name: r for r in results}
    for b in BENCHMARKS:
        r = ran.get(b.name)
        if r is None:  # not run this time (--only): keep its section from the earlier report, marked
            if b.title in earlier:
                body = earlier[b.title]
                note = "(from an earlier `run_all`; not re-run with this one)"
                lines += ["", f"## {b.title}", "", *(body if note in body else [note, "", *body])]
            continue
        lines += ["", f"## {b.title}", "", f"`{r['command'].strip()}` -- {r['status']}, {r['wall_s']:.1f} s wall; "
                  f"table: `{b.name}.csv`, output: `{b.name}.txt`", ""]
        lines.append(markdown_table(r["csv"]) if r["csv"] is not None else "(no table: see the .txt output)")
    listed = {b.name for b in BENCHMARKS} | {"run_all", "__init__"}
    unlisted = sorted(p.stem for p in HERE.glob("*.py") if p.stem not in listed)
    if unlisted:
        lines += ["", f"Not run (not registered in benchmarks/run_all.py): {', '.join(unlisted)}."]
    path.write_text("\n".join(lines) + "\n")
    return path


def _sections(text: str) -> dict[str, list[str]]:
    """The body lines of each ``## title`` section of an earlier RESULTS.md (blank lines at either end dropped)."""
    out: dict[str, list[str]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            out[title] = []
        elif title is not None and not line.startswith("Not run (not registered"):
            out[title].append(line)
    return {t: _strip_blank(body) for t, body in out.items()}


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats (a minute or two)")
    ap.add_argument("--only", nargs="+", choices=[b.name for b in BENCHMARKS], help="run only these benchmarks")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="results folder (default benchmarks/results)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine()
    chosen = [b for b in BENCHMARKS if args.only is None or b.name in args.only]
    results = [_run(b, args.quick, args.out) for b in chosen]
    path = write_report(results, info, args.quick, args.out)
    print(f"wrote {path}")
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
