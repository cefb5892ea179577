"""What one sweep point runs: a crossbar read or write, a validate-update, a calibration, a training run.

Each task kind declares its parameter keys (checked before anything runs) and
the metric columns it returns (the results table's columns are fixed up
front, so rows can be appended as they arrive). A task turns a point's flat
parameter dict into the library's values -- :class:`memspice.circuit.Crossbar`,
:class:`memspice.validate.PulseSchedule`, :class:`memspice.calibrate.PulseTrain`,
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

Task-specific keys are listed on each task class.
"""

from __future__ import annotations

import abc

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memspice.errors import ConfigError, ParameterError

__all__ = ["TASKS", "Task", "run_task"]

_NUM = (int, float)
#: a SPICE option name: letters, digits, underscore; nothing that could end a card or start a new one
_OPTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
_OPTION_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")


@dataclass(frozen=True)
class Key:
    """One parameter key: accepted Python types (from TOML), and a one-line description."""

    types: tuple
    doc: str
    required: bool = False


def _type_name(types: tuple) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}
    if set(types) == {int, float}:
        return "a number"
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check_type(name: str, value, types: tuple, where: str):
    if isinstance(value, bool) and bool not in types:
        raise ConfigError(f"{where}: {name} = {value!r}: expected {_type_name(types)}")
    if not isinstance(value, types):
        raise ConfigError(f"{where}: {name} = {value!r}: expected {_type_name(types)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {name} = {value!r}: must be finite")
    return value


@dataclass(frozen=True)
class Task(abc.ABC):
    """Base of the task kinds: declared keys and dotted prefixes, metric columns, check and run."""

    kind: str = ""
    keys: Mapping[str, Key] = field(default_factory=dict)
    prefixes: Mapping[str, Key] = field(default_factory=dict)  #: "params." -> type of every params.<name>
    metrics: tuple[str, ...] = ()

    def normalise(self, params: Mapping, *, where: str) -> dict:
        """``params`` checked for unknown keys, missing required keys and types (values are not changed)."""
        out = {}
        for name, value in params.items():
            if name in self.keys:
                out[name] = _check_type(name, value, self.keys[name].types, where)
                continue
            prefix = next((p for p in self.prefixes if name.startswith(p) and len(name) > len(p)), None)
            if prefix is None:
                known = sorted([*self.keys, *(p + "<name>" for p in self.prefixes)])
                raise ConfigError(f"{where}: unknown parameter {name!r} for a {self.kind!r} sweep; "
                                  f"its parameters are: {', '.join(known)}")
            out[name] = _check_type(name, value, self.prefixes[prefix].types, where)
        missing = [k for k, spec in self.keys.items() if spec.required and k not in out]
        if missing:
            raise ConfigError(f"{where}: a {self.kind!r} sweep needs {', '.join(missing)} (in [base], [grid] or [[cases]])")
        return out

    def check_points(self, points: Sequence[Mapping], *, base_dir: Path) -> None:
        """Build every point's values without simulating: bad values fail here, before the sweep starts."""

    @abc.abstractmethod
    def run(self, params: Mapping, *, base_dir: Path, workdir: Path) -> dict:
        """Run one point; the returned dict becomes the point's row in the results table."""


def _prefixed(params: Mapping, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


# --------------------------------------------------------------------------- crossbar kinds
_CROSSBAR_KEYS = {
    "model": Key((str,), "compact model name"),
    "rows": Key((int,), "number of rows"),
    "cols": Key((int,), "number of columns"),
    "cell": Key((str,), "cell type, 1R or 1T1R"),
    "state": Key(_NUM, "state of every cell"),
    "state_seed": Key((int,), "seed of uniformly random cell states"),
    "wire_ohm": Key(_NUM, "row and column segment resistance (ohm)"),
    "row_wire_ohm": Key(_NUM, "row segment resistance (ohm)"),
    "col_wire_ohm": Key(_NUM, "column segment resistance (ohm)"),
    "contact_ohm": Key(_NUM, "contact resistance (ohm)"),
    "driver_ohm": Key(_NUM, "driver output resistance (ohm)"),
    "readout": Key((str,), "column readout kind"),
    "backend": Key((str,), "ngspice backend"),
    "timeout_s": Key(_NUM, "ngspice time limit (s)"),
}
_PULSE_KEYS = {
    "amplitude_v": Key(_NUM, "write amplitude (V)", required=True),
    "width_s": Key(_NUM, "pulse plateau (s)"),
    "rise_s": Key(_NUM, "rise time (s)"),
    "fall_s": Key(_NUM, "fall time (s); default rise_s"),
    "scheme": Key((str,), "v/2 or v/3"),
}


def _model(params: Mapping, cache: dict | None = None):
    from memspice.devices import get_model

    name = params.get("model", "vteam")
    overrides = {k: float(v) for k, v in _prefixed(params, "params.").items()}
    ident = (name, tuple(sorted(overrides.items())))
    if cache is not None and ident in cache:
        return cache[ident]
    model = get_model(name, **overrides)
    if cache is not None:
        cache[ident] = model
    return model


def _crossbar(params: Mapping, model):
    from memspice.circuit.spec import MODEL_RANGE, CrossbarSpec

    rows, cols = params.get("rows", 4), params.get("cols", 4)
    for name, n in (("rows", rows), ("cols", cols)):
        if n < 1:
            raise ParameterError(f"{name} = {n}: an array needs at least 1 row and 1 column")
    if rows * cols > 512 * 512:
        raise ParameterError(f"rows x cols = {rows} x {cols}: larger than the 512 x 512 a sweep point may simulate")
    if "state" in params and "state_seed" in params:
        raise ParameterError("give either state (every cell) or state_seed (random states), not both")
    rng = None
    if "state_seed" in params:
        if params["state_seed"] < 0:
            raise ParameterError(f"state_seed = {params['state_seed']}: must be >= 0")
        rng = np.random.default_rng(params["state_seed"])
    if "wire_ohm" in params and ("row_wire_ohm" in params or "col_wire_ohm" in params):
        raise ParameterError("give wire_ohm (both directions) or row_wire_ohm/col_wire_ohm, not both")
    wire = float(params.get("wire_ohm", 0.0))
    spec = CrossbarSpec(
        rows=rows, cols=cols, cell=params.get("cell", "1R"), model=model,
        row_wire_ohm=float(params.get("row_wire_ohm", wire)), col_wire_ohm=float(params.get("col_wire_ohm", wire)),
        contact_ohm=float(params.get("contact_ohm", 0.0)), driver_ohm=float(params.get("driver_ohm", 0.0)),
        readout=params.get("readout", "virtual_ground"),
        state=float(params["state"]) if "state" in params else None,
        state_range=MODEL_RANGE if rng is not None else None,
    )
    return spec.build(rng)


def _run_settings(params: Mapping, options: Mapping | None = None):
    """The point's ``backend`` and ``timeout_s`` keys (and ngspice options) as a RunSettings."""
    from memspice.spice import BACKENDS, RunSettings

    backend = params.get("backend", "subprocess")
    if backend not in BACKENDS:
        raise ParameterError(f"backend = {backend!r}: choose one of {', '.join(BACKENDS)}")
    kw = {"timeout_s": float(params["timeout_s"])} if "timeout_s" in params else {}
    if "timeout_s" in kw and not kw["timeout_s"] > 0:
        raise ParameterError(f"timeout_s = {kw['timeout_s']!r}: must be > 0 s")
    return RunSettings(backend=backend, options=options, **kw)


def spice_options(params: Mapping) -> dict:
    """``spice_options.<name>`` keys as a ``.options`` dict; names and values checked so no card can be injected."""
    out = {}
    for name, value in _prefixed(params, "spice_options.").items():
        if not _OPTION_NAME.match(name):
            raise ParameterError(f"spice_options.{name}: an ngspice option name is letters, digits and '_' "
                                 "(e.g. reltol, abstol, itl4)")
        if isinstance(value, str) and not _OPTION_WORD.match(value):
            raise ParameterError(f"spice_options.{name} = {value!r}: a text option value is one word "
                                 "(letters, digits, '_'), e.g. method = 'gear'")
        out[name] = value
    return out


def _pulse(params: Mapping):
    from memspice.circuit import PulseShape

    rise = float(params.get("rise_s", 1e-9))
    return PulseShape(width_s=float(params.get("width_s", 10e-9)), rise_s=rise, fall_s=float(params.get("fall_s", rise)),
                      steps_per_edge=int(params.get("steps_per_edge", 50)))


class _CrossbarTask(Task):
    def check_points(self, points, *, base_dir):
        cache: dict = {}
        for k, p in enumerate(points):
            try:
                self.build(p, cache)
            except ParameterError as exc:
                raise ConfigError(f"point {k}: {exc}") from None

    @abc.abstractmethod
    def build(self, params: Mapping, cache: dict | None = None):
        """The crossbar and stimulus of one point, checked (no simulation)."""


@dataclass(frozen=True)
class ReadTask(_CrossbarTask):
    """``kind = "read"``: a DC read of every row at ``v_read_v``.

    Keys: the crossbar keys, ``v_read_v`` (V; default the model's read
    voltage), ``solver`` ("ngspice", default, or "nodal").
    Metrics: column currents (A; ``i_cols_a`` is the list), the ideal G.V
    currents without wires, the worst IR-drop loss 1 - I/I_ideal over columns,
    and the power drawn from the row sources (W).
    """

    kind: str = "read"
    keys: Mapping[str, Key] = field(default_factory=lambda: {
        **_CROSSBAR_KEYS, "v_read_v": Key(_NUM, "read voltage of every row (V)"),
        "solver": Key((str,), "ngspice or nodal")})
    prefixes: Mapping[str, Key] = field(default_factory=lambda: {"params.": Key(_NUM, "model parameter")})
    metrics: tuple[str, ...] = ("i_col_mean_a", "i_col_min_a", "i_col_max_a", "i_ideal_mean_a", "ir_drop_worst",
                                "power_w", "i_cols_a")

    def build(self, params, cache=None):
        from memspice.circuit import ReadStimulus

        model = _model(params, cache)
        xb = _crossbar(params, model)
        v = float(params.get("v_read_v", model.v_read_v))
        solver = params.get("solver", "ngspice")
        if solver not in ("ngspice", "nodal"):
            raise ParameterError(f"solver = {solver!r}: choose 'ngspice' or 'nodal'")
        _run_settings(params)
        return xb, ReadStimulus(np.full(xb.rows, v))

    def run(self, params, *, base_dir, workdir):
        from memspice.circuit import read

        xb, stim = self.build(params)
        solver = params.get("solver", "ngspice")
        res = read(xb, stim, _run_settings(params), solver=solver)
        i = res.i_cols_a[0]
        ideal = stim.batch[0] @ xb.conductances_s()
        return {
            "i_col_mean_a": float(np.mean(i)), "i_col_min_a": float(np.min(i)), "i_col_max_a": float(np.max(i)),
            "i_ideal_mean_a": float(np.mean(ideal)), "ir_drop_worst": float(np.max(1.0 - i / ideal)),
            "power_w": float(res.power_w(stim.batch)[0]), "i_cols_a": [float(x) for x in i],
        }


@dataclass(frozen=True)
class WriteTask(_CrossbarTask):
    """``kind = "write"``: one V/2 or V/3 write pulse in ngspice (memspice.circuit.write).

    Keys: the crossbar keys, ``amplitude_v`` (required), ``width_s`` (10 ns),
    ``rise_s`` (1 ns), ``fall_s`` (= rise_s), ``scheme`` ("v/2"), ``target``
    ("cell", "row" or "column"), ``index`` ([row, col] for a cell, an integer
    for a row or column; default the far corner / last line),
    ``steps_per_edge`` (50).
    Metrics: the selected cells' mean state and conductance (S) before and
    after, the largest state change of any unselected cell (the disturb), the
    energy from all sources (J) and the number of time points.
    """

    kind: str = "write"
    keys: Mapping[str, Key] = field(default_factory=lambda: {
        **_CROSSBAR_KEYS, **_PULSE_KEYS, "target": Key((str,), "cell, row or column"),
        "index": Key((int, list), "selected cell [row, col], row or column"),
        "steps_per_edge": Key((int,), "time steps per pulse edge")})
    prefixes: Mapping[str, Key] = field(default_factory=lambda: {
        "params.": Key(_NUM, "model parameter"), "spice_options.": Key((int, float, str), "ngspice option")})
    metrics: tuple[str, ...] = ("state_before", "state_after", "g_before_s", "g_after_s", "dg_selected_s",
                                "disturb_max_abs_dstate", "energy_j", "time_points")

    def build(self, params, cache=None):
        from memspice.circuit import WriteScheme

        spice_options(params)  # first: a name that could inject a card is the most important thing to reject
        model = _model(params, cache)
        xb = _crossbar(params, model)
        target = params.get("target", "cell")
        default = [xb.rows - 1, xb.cols - 1] if target == "cell" else (xb.rows - 1 if target == "row" else xb.cols - 1)
        index = params.get("index", default)
        if isinstance(index, list):
            if len(index) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in index):
                raise ParameterError(f"index = {index!r}: a cell is [row, col], two integers")
            index = tuple(index)
        scheme = WriteScheme(float(params["amplitude_v"]), index, target=target, scheme=params.get("scheme", "v/2"),
                             pulse=_pulse(params))
        drive = scheme.drive(xb.rows, xb.cols)  # checks the index against the array
        _run_settings(params)
        return xb, scheme, drive

    def run(self, params, *, base_dir, workdir):
        from memspice.circuit.transient import transient

        xb, scheme, drive = self.build(params)
        res = transient(xb, drive, _run_settings(params, spice_options(params))).write_result()
        sel_r, sel_c = scheme.selected(xb.rows, xb.cols)
        mask = np.zeros(xb.shape, dtype=bool)
        mask[np.ix_(sel_r, sel_c)] = True
        model = xb.model
        g0 = np.asarray(model.conductance(res.states_before), dtype=float) * np.ones(xb.shape)
        g1 = np.asarray(model.conductance(res.states_after), dtype=float) * np.ones(xb.shape)
        dx = res.states_after - res.states_before
        return {
            "state_before": float(np.mean(res.states_before[mask])), "state_after": float(np.mean(res.states_after[mask])),
            "g_before_s": float(np.mean(g0[mask])), "g_after_s": float(np.mean(g1[mask])),
            "dg_selected_s": float(np.mean(g1[mask] - g0[mask])),
            "disturb_max_abs_dstate": float(np.max(np.abs(dx[~mask]))) if (~mask).any() else 0.0,
            "energy_j": res.total_energy_j, "time_points": int(res.time_s.size),
        }


_VALIDATE_FIGURES = ("n_programmed", "n_half_selected", "dg_mean_abs_spice_s", "dg_mean_abs_surrogate_s",
                     "dg_rms_error_s", "dg_rel_rms_error", "dg_max_error_s", "disturb_max_abs_spice_s",
                     "disturb_max_abs_surrogate_s", "disturb_ratio_spice", "disturb_ratio_surrogate", "ir_loss_worst",
                     "ir_loss_mean", "energy_total_j", "energy_per_cell_j")


@dataclass(frozen=True)
class ValidateTask(_CrossbarTask):
    """``kind = "validate-update"``: memspice.validate.validate_update of a V/2 or V/3 write schedule.

    Keys: the crossbar keys, ``amplitude_v`` (required), ``cells`` (list of
    [row, col]; default the far corner), ``n_pulses`` (1), ``width_s``,
    ``rise_s``, ``fall_s``, ``scheme``. The surrogate is the one
    validate_update tabulates from the compact model.
    Metrics: UpdateValidation.figures() (surrogate vs ngspice per cell, disturb,
    IR-drop loss, energy).
    """

    kind: str = "validate-update"
    keys: Mapping[str, Key] = field(default_factory=lambda: {
        **_CROSSBAR_KEYS, **_PULSE_KEYS, "cells": Key((list,), "programmed cells [[row, col], ...]"),
        "n_pulses": Key((int,), "pulses per programmed cell")})
    prefixes: Mapping[str, Key] = field(default_factory=lambda: {"params.": Key(_NUM, "model parameter")})
    metrics: tuple[str, ...] = _VALIDATE_FIGURES

    def build(self, params, cache=None):
        from memspice.circuit.schedule import write_schedule

        model = _model(params, cache)
        xb = _crossbar(params, model)
        cells = params.get("cells", [[xb.rows - 1, xb.cols - 1]])
        if not cells or not all(isinstance(c, list) and len(c) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                                          for x in c) for c in cells):
            raise ParameterError(f"cells = {cells!r}: a list of [row, col] pairs of integers, e.g. [[0, 1], [2, 3]]")
        n_pulses = params.get("n_pulses", 1)
        if n_pulses < 1:
            raise ParameterError(f"n_pulses = {n_pulses}: must be >= 1")
        sched = write_schedule(xb.shape, [tuple(c) for c in cells], float(params["amplitude_v"]),
                               scheme=params.get("scheme", "v/2"), pulse=_pulse(params), n_pulses=n_pulses)
        _run_settings(params)
        return xb, sched

    def run(self, params, *, base_dir, workdir):
        from memspice.validate import validate_update

        xb, sched = self.build(params)
        figures = validate_update(xb, sched, settings=_run_settings(params)).figures()
        return {k: figures.get(k, float("nan")) for k in self.metrics}


@dataclass(frozen=True)
class CalibrateTask(Task):
    """``kind = "calibrate"``: memspice.calibrate.calibrate_compact_model on one pulse train.

    Keys: ``model``, ``params.<name>``, ``amplitude_v`` (required; first
    block), ``amplitude_down_v`` (default -amplitude_v), ``width_s``
    (required), ``n_pulses`` (20 per block), ``cycles`` (1), ``x0``,
    ``family`` ("soft-bounds"), ``engine`` ("spice" or "numpy"), ``array_rows``
    and ``array_cols`` (run the cell inside a crossbar), ``wire_ohm`` (array
    segments), ``backend``, ``timeout_s``, ``n_nodes`` (tabulated family),
    ``fix.<field>`` (hold a surrogate field at a value).
    Metrics: the fit's rms and max error (S), R^2, rms error relative to the
    conductance range, and whether the optimiser converged.
    """

    kind: str = "calibrate"
    keys: Mapping[str, Key] = field(default_factory=lambda: {
        "model": Key((str,), "compact model name"), "amplitude_v": Key(_NUM, "first block amplitude (V)", required=True),
        "amplitude_down_v": Key(_NUM, "second block amplitude (V)"), "width_s": Key(_NUM, "pulse width (s)", required=True),
        "n_pulses": Key((int,), "pulses per block"), "cycles": Key((int,), "up/down block pairs"),
        "x0": Key(_NUM, "initial state"), "family": Key((str,), "pulse-update family"),
        "engine": Key((str,), "spice or numpy"), "array_rows": Key((int,), "crossbar rows"),
        "array_cols": Key((int,), "crossbar columns"), "wire_ohm": Key(_NUM, "array wire segment (ohm)"),
        "backend": Key((str,), "ngspice backend"), "timeout_s": Key(_NUM, "ngspice time limit (s)"),
        "n_nodes": Key((int,), "table nodes of the tabulated family")})
    prefixes: Mapping[str, Key] = field(default_factory=lambda: {
        "params.": Key(_NUM, "model parameter"), "fix.": Key(_NUM, "fixed surrogate field")})
    metrics: tuple[str, ...] = ("rms_error_s", "max_error_s", "r_squared", "rms_rel_range", "converged")

    def build(self, params):
        from memspice.calibrate import PulseTrain
        from memspice.calibrate.families import FAMILIES
        from memspice.calibrate.runners import ModelRef, NumpyCell, SpiceCell

        family = params.get("family", "soft-bounds")
        if family not in FAMILIES:
            raise ParameterError(f"family = {family!r}: choose one of {', '.join(FAMILIES)}")
        ref = ModelRef(params.get("model", "vteam"), {k: float(v) for k, v in _prefixed(params, "params.").items()})
        n = params.get("n_pulses", 20)
        train = PulseTrain(float(params["amplitude_v"]), float(params["width_s"]), n_up=n,
                           amplitude_down_v=params.get("amplitude_down_v"), cycles=params.get("cycles", 1),
                           x0=params.get("x0"))
        engine = params.get("engine", "spice")
        if engine not in ("spice", "numpy"):
            raise ParameterError(f"engine = {engine!r}: choose 'spice' or 'numpy'")
        run = _run_settings(params)
        in_array = "array_rows" in params or "array_cols" in params
        if engine == "numpy":
            if in_array:
                raise ParameterError("array_rows/array_cols need engine = 'spice' (the numpy engine runs one cell)")
            where = NumpyCell()
        elif in_array:
            from memspice.calibrate.inarray import SpiceArrayCell

            where = SpiceArrayCell(rows=params.get("array_rows", 32), cols=params.get("array_cols", 32),
                                   wire_ohm=float(params.get("wire_ohm", 0.0)), settings=run)
        else:
            where = SpiceCell(backend=run.backend, timeout_s=run.timeout_s)
        return ref, train, family, where

    def check_points(self, points, *, base_dir):
        models: dict = {}
        for k, p in enumerate(points):
            try:
                ref, *_ = self.build(p)
                ident = (ref.name, tuple(sorted(ref.params.items())))
                if ident not in models:
                    models[ident] = ref.build()
            except ParameterError as exc:
                raise ConfigError(f"point {k}: {exc}") from None

    def run(self, params, *, base_dir, workdir):
        from memspice.calibrate import calibrate_compact_model

        ref, train, family, where = self.build(params)
        cal = calibrate_compact_model(ref, train, family, where=where, fixed=_prefixed(params, "fix.") or None,
                                      n_nodes=params.get("n_nodes", 9), workers=1, progress=False)
        fit = cal.fits[0][1]
        return {"rms_error_s": fit.fit.rms_error, "max_error_s": fit.fit.max_error, "r_squared": fit.fit.r_squared,
                "rms_rel_range": fit.rms_rel_range, "converged": bool(fit.fit.success)}


@dataclass(frozen=True)
class TrainTask(Task):
    """``kind = "train"``: memspice.learn.train of a training config with some keys overridden.

    Keys: ``config`` (path of a training TOML, relative to the sweep file;
    required) and any key of that config as a dotted name (``seed``,
    ``rule.learning_rate``, ``training.epochs``, ``tile.<key>``...), which
    replaces the config's value. Each point trains into
    ``<results stem>_runs/<point key>/`` and resumes from its own checkpoint
    when the sweep is restarted.
    Metrics: test accuracy after the last epoch, the best validation accuracy,
    the last validation loss, the epochs completed and the training time (s).
    """

    kind: str = "train"
    keys: Mapping[str, Key] = field(default_factory=lambda: {
        "config": Key((str,), "training config file", required=True), "seed": Key((int,), "seed of the run")})
    prefixes: Mapping[str, Key] = field(default_factory=lambda: {
        p: Key((int, float, str, bool, list, dict), "training config key") for p in
        ("data.", "network.", "training.", "rule.", "tile.")})
    metrics: tuple[str, ...] = ("test_accuracy", "best_validation_accuracy", "final_validation_loss",
                                "epochs_completed", "train_time_s")

    def config(self, params: Mapping, base_dir: Path):
        from memspice.learn.config import load_config

        path = Path(params["config"])
        path = path if path.is_absolute() else Path(base_dir) / path
        if not path.is_file():
            raise ConfigError(f"config = {params['config']!r}: the training config {str(path)!r} does not exist")
        overrides = {name: value for name, value in params.items() if name != "config"}
        try:
            return load_config(path, overrides)
        except ConfigError as exc:
            raise ConfigError(f"training config {path.name} with the sweep's overrides: {exc}") from None

    def check_points(self, points, *, base_dir):
        for k, p in enumerate(points):
            try:
                self.config(p, base_dir)
            except ConfigError as exc:
                raise ConfigError(f"point {k}: {exc}") from None

    def run(self, params, *, base_dir, workdir):
        from memspice.learn.trainer import train

        config = self.config(params, base_dir)
        resume = (Path(workdir) / "checkpoints" / "last.npz").is_file()
        result = train(config, workdir, resume=resume, progress=False)
        hist = result.history
        return {
            "test_accuracy": float(result.test_accuracy),
            "best_validation_accuracy": max((h["validation_accuracy"] for h in hist), default=float("nan")),
            "final_validation_loss": hist[-1]["validation_loss"] if hist else float("nan"),
            "epochs_completed": int(result.epochs_completed),
            "train_time_s": float(sum(t["train_time_s"] for t in result.timing)),
        }


TASKS: dict[str, Task] = {t.kind: t for t in (ReadTask(), WriteTask(), ValidateTask(), CalibrateTask(), TrainTask())}


def run_task(kind: str, params: Mapping, *, base_dir: Path, workdir: Path) -> dict:
    """Run one point of task ``kind``; returns exactly the task's metric columns."""
    task = TASKS[kind]
    metrics = task.run(params, base_dir=Path(base_dir), workdir=Path(workdir))
    if set(metrics) != set(task.metrics):  # a programming error in a task, not bad input
        raise AssertionError(f"task {kind!r} returned {sorted(metrics)}, declared {sorted(task.metrics)}")
    return metrics
