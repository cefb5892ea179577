"""Sweep task kinds on a crossbar: a read, a write pulse, a validate-update (keys shared by the three: memspice.sweep.tasks)."""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from memspice.errors import ConfigError, ParameterError
from memspice.sweep.task_base import NUM as _NUM, Key, Task, prefixed as _prefixed

__all__ = ["ReadTask", "ValidateTask", "WriteTask", "spice_options"]

#: a SPICE option name: letters, digits, underscore; nothing that could end a card or start a new one
_OPTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
_OPTION_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")


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
    from memspice.external.registry import resolve_model

    name = params.get("model", "vteam")
    overrides = {k: float(v) for k, v in _prefixed(params, "params.").items()}
    ident = (name, tuple(sorted(overrides.items())))
    if cache is not None and ident in cache:
        return cache[ident]
    model = resolve_model(name, overrides)
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
