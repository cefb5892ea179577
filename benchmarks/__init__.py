"""Speed and fidelity measurements (not tests): ``python -m benchmarks.run_all [--quick]`` runs them all."""


def save_rows(path, rows: list[dict]) -> None:
    """Write a benchmark's result rows as CSV at ``path`` (its folder made if needed) and say where."""
    from pathlib import Path

    from memspice.commands.output import write_csv_rows

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv_rows(path, list(rows[0]), rows)
    print(f"wrote {path}")
