"""Run independent experiments in parallel worker processes, with a progress bar.

Each job is (model reference, experiment, where) -- all small picklable
values -- so a worker rebuilds the compact model itself (compiled numpy
functions do not pickle) and runs its own ngspice. Results come back in the
order of the jobs. With ``workers=1`` everything runs in this process (no
pool), which is also what a single job does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from memspice.calibrate.data import PulseData
from memspice.calibrate.experiments import PulseTrainExperiment
from memspice.calibrate.runners import ModelRef, run_pulse_train
from memspice.errors import ParameterError

__all__ = ["run_pulse_trains", "default_workers"]


def default_workers() -> int:
    """Half the cores this process may use (at least 1): ngspice runs are CPU-bound, and the machine is shared."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        n = os.cpu_count() or 1
    return max(1, n // 2)


def _job(args) -> PulseData:
    model, exp, where = args
    return run_pulse_train(model, exp, where)


def run_pulse_trains(
    model,
    experiments: Sequence[PulseTrainExperiment],
    where=None,
    *,
    workers: int | None = None,
    progress: bool = True,
    description: str = "pulse trains",
) -> list[PulseData]:
    """Run each experiment on ``model``; independent runs go to ``workers`` processes.

    ``model`` is a ModelRef, a model name or a CompactModel (turned into a
    ModelRef). ``where`` as in run_pulse_train (the same for every job).
    """
    ref = ModelRef.of(model)
    jobs = [(ref, e, where) for e in experiments]
    if not jobs:
        return []
    workers = default_workers() if workers is None else int(workers)
    if not isinstance(ref, ModelRef):  # an imported device object: its runs share this process's VACASK
        workers = 1
    if workers < 1:
        raise ParameterError(f"workers = {workers!r}: need at least 1.")
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc=description, unit="run", disable=not progress)
    try:
        if workers == 1 or len(jobs) == 1:
            out = []
            for j in jobs:
                out.append(_job(j))
                bar.update(1)
            return out
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            out = []
            for r in pool.map(_job, jobs):
                out.append(r)
                bar.update(1)
            return out
    finally:
        bar.close()
