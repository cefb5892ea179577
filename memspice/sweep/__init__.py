"""Parameter sweeps: a grid of validate-update, calibration, training or crossbar read/write points.

Stage 11 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit, memspice.cell, memspice.surrogate,
memspice.calibrate, memspice.energy, memspice.validate and memspice.learn (and the
foundation modules), nothing later.

    from memspice.sweep import load_sweep, run_sweep, read_results
    spec = load_sweep("examples/sweeps/write_pulses.toml")   # every point checked before anything runs
    run = run_sweep(spec, workers=2)                         # or scheduler="tcp://host:8786" (Dask)
    rows = read_results(run.output)                          # one dict per point: parameters, metrics, status

The results table (CSV) is written as points finish; running the same sweep
again skips the points already in it, and a point that fails (a circuit that
does not converge, a timeout) is a row with its error, not the end of the
sweep. Modules: ``spec`` (the TOML file -> points with stable keys),
``tasks`` (what a point of each kind runs), ``table`` (the CSV journal),
``runner`` (process pool or Dask).
"""

from memspice.sweep.runner import SweepRun, default_workers, run_point, run_sweep
from memspice.sweep.spec import Point, SweepSpec, load_sweep, point_key, sweep_from_dict
from memspice.sweep.table import ResultTable, export_parquet, read_results
from memspice.sweep.tasks import TASKS

__all__ = [
    "Point", "ResultTable", "SweepRun", "SweepSpec", "TASKS", "default_workers", "export_parquet", "load_sweep",
    "point_key", "read_results", "run_point", "run_sweep", "sweep_from_dict",
]
