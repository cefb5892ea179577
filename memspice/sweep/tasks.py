"""What one sweep point runs: a crossbar read or write, a validate-update, a calibration, a training run.

Each task kind declares its parameter keys (checked before anything runs) and
the metric columns it returns (the results table's columns are fixed up
front, so rows can be appended as they arrive). A task turns a point's flat
parameter dict into the library's values -- :class:`memspice.circuit.Crossbar`,
:class:`memspice.validate.PulseSchedule`, :class:`memspice.calibrate.PulseTrainExperiment`,
:class:`memspice.learn.TrainConfig` -- and calls the library; nothing here
re-implements a simulation.

Keys shared by the crossbar kinds (read, write, validate-update):

=================  ======================================================  ===================
key                meaning                                                 default
=================  ======================================================  ===================
model              compact model name (memspice.devices.model_names())     "vteam"
params.<name>      compact-model parameter override (SI)                   the preset
rows, cols         array size                                              4, 4
cell               "1R" or "1T1R"                                          "1R"
state              state of every cell (model units)                       model's x0_default
state_seed         instead of ``state``: states uniform in the state       --
                   range from numpy.random.default_rng(state_seed)
wire_ohm           resistance of one row and one column segment (ohm)      0
row_wire_ohm,      per direction, instead of wire_ohm (ohm)                0
col_wire_ohm
contact_ohm        contact resistance in series with each device (ohm)     0
driver_ohm         line-driver output resistance (ohm)                     0
readout            "virtual_ground", "tia" or "sense_resistor"             "virtual_ground"
backend            ngspice backend: "subprocess" or "shared"               "subprocess"
timeout_s          ngspice time limit per run (s)                          600
spice_options.<n>  ngspice ``.options`` n=value (write only)               memspice's defaults
=================  ======================================================  ===================

Task-specific keys are listed on each task class: :mod:`memspice.sweep.circuit_tasks` (read, write,
validate-update) and :mod:`memspice.sweep.model_tasks` (calibrate, train); their base is
:mod:`memspice.sweep.task_base`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from memspice.sweep.circuit_tasks import ReadTask, ValidateTask, WriteTask, spice_options
from memspice.sweep.model_tasks import CalibrateTask, TrainTask
from memspice.sweep.task_base import Key, Task

__all__ = ["TASKS", "Key", "Task", "run_task", "spice_options"]

TASKS: dict[str, Task] = {t.kind: t for t in (ReadTask(), WriteTask(), ValidateTask(), CalibrateTask(), TrainTask())}


def run_task(kind: str, params: Mapping, *, base_dir: Path, workdir: Path) -> dict:
    """Run one point of task ``kind``; returns exactly the task's metric columns."""
    task = TASKS[kind]
    metrics = task.run(params, base_dir=Path(base_dir), workdir=Path(workdir))
    if set(metrics) != set(task.metrics):  # a programming error in a task, not bad input
        raise AssertionError(f"task {kind!r} returned {sorted(metrics)}, declared {sorted(task.metrics)}")
    return metrics
