"""Run calibration experiments on a compact model: in numpy, in ngspice on one cell, or in a crossbar.

Where an experiment runs is a value too:

``NumpyCell()``            the compact model's own numpy integrator (fast, no circuit);
``SpiceCell()``            one cell driven by an ideal PWL source in ngspice
                           (``SpiceCell(settings=RunSettings(engine="vacask"))``:
                           the model's Verilog-A in VACASK);
``SpiceArrayCell(...)``    the same cell inside a crossbar with wire resistance,
                           written by memspice.circuit, the other cells
                           half-selected (see memspice.calibrate.inarray).

The compact model is passed as a ``ModelRef`` (name + parameter overrides),
a small picklable value, so the same call can run in a worker process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from memspice.calibrate.data import IVData, PulseData
from memspice.calibrate.experiments import IVSweepExperiment, PulseTrainExperiment, iv_waveform, pulse_train_waveform
from memspice.cell.imported_pulses import PulseProtocol, measure_pulse_trains
from memspice.cell.single_cell import run_ngspice_cell, run_vacask_cell
from memspice.errors import ParameterError
from memspice.external.model import ExternalModel
from memspice.spice import RunSettings, check_settings

__all__ = ["ModelRef", "NumpyCell", "SpiceCell", "run_pulse_train", "run_iv_sweep"]


@dataclass(frozen=True)
class ModelRef:
    """A compact model by name and parameter overrides (SI); picklable, so it crosses process boundaries."""

    name: str
    params: Mapping[str, float] = field(default_factory=dict)

    def build(self):
        """The model: built-in or imported (:func:`memspice.external.registry.resolve_model`)."""
        from memspice.external.registry import resolve_model

        return resolve_model(self.name, self.params)

    @classmethod
    def of(cls, model) -> "ModelRef":
        """A ModelRef from a CompactModel (only the parameters that differ from the preset are kept);
        an imported device (ExternalModel) is returned as it is (it runs in this process)."""
        if isinstance(model, ModelRef):
            return model
        if isinstance(model, str):
            return cls(model)
        if isinstance(model, ExternalModel):
            return model
        defaults = {p.name: p.default for p in model.definition.parameters}
        return cls(model.name, {k: float(v) for k, v in model.params.items() if defaults.get(k) != v})


@dataclass(frozen=True)
class NumpyCell:
    """Integrate the compact model in numpy (memspice.devices.CompactModel.integrate)."""

    max_dx: float = 2e-3
    """Largest state change per internal step, as a fraction of the state range."""
    points_per_segment: int = 20
    """Sample points per waveform segment handed to the integrator."""

    label = "numpy compact model"


@dataclass(frozen=True)
class SpiceCell:
    """One cell driven by an ideal PWL voltage source in a circuit engine (ngspice by default)."""

    max_step_per_edge: int = 5
    """The time step is bounded by (shortest edge) / max_step_per_edge (docs/algorithms.md, "Numerical traps": <= 1/5 of an edge)."""
    settings: RunSettings = field(default_factory=RunSettings)
    """Where the cell runs: ``settings.engine`` ``"ngspice"`` (the model's subcircuit; ``settings.backend``
    picks subprocess or shared) or ``"vacask"`` (the model's Verilog-A compiled by openvaf-r, see
    memspice.circuit.vacask_writer), and the time limit of one run."""

    def __post_init__(self):
        check_settings(self.settings, "SpiceCell.settings")

    @property
    def label(self) -> str:
        return f"{self.settings.engine}, single cell"


def _model(model):
    if isinstance(model, ModelRef):
        return model.build()
    if isinstance(model, str):
        return ModelRef(model).build()
    return model


def _x0(model, x0):
    return model.x0_default if x0 is None else model.check_state(x0, "x0")


def _pulse_data(g, wf, exp: PulseTrainExperiment, model, where: str, states=None) -> PulseData:
    volts = np.r_[0.0, wf.amplitudes_v]
    widths = np.r_[0.0, np.full(wf.amplitudes_v.size, exp.width_s)]
    meta = {"experiment": exp.describe(), "engine": where, "model": model.name, "params": dict(model.params),
            "read_v": wf.read_v}
    if states is not None:
        meta["states"] = np.asarray(states)
    return PulseData(conductance_s=np.asarray(g, dtype=float), voltage_v=volts, width_s=widths,
                     device=model.name, source=f"{model.name} in {where}", meta=meta)


def run_pulse_train(model, exp: PulseTrainExperiment, where=None) -> PulseData:
    """Run a pulse train on ``model`` (CompactModel, ModelRef or name) ``where`` (default NumpyCell())."""
    where = NumpyCell() if where is None else where
    m = _model(model)
    read_v = m.v_read_v if exp.read_v is None else exp.read_v
    wf = pulse_train_waveform(exp, read_v)
    if isinstance(m, ExternalModel):
        return _external_pulse_train(m, exp, wf, where)
    x0 = _x0(m, exp.x0)
    if isinstance(where, NumpyCell):
        t, v = _refine(wf.t_s, wf.v_v, where.points_per_segment, wf.read_times_s)
        xs = m.integrate(t, v, np.array(x0), max_dx=where.max_dx)
        x_read = np.interp(wf.read_times_s, t, np.asarray(xs).reshape(t.size))
        g = m.conductance(x_read, read_v)
        return _pulse_data(g, wf, exp, m, where.label, x_read)
    if isinstance(where, SpiceCell):
        max_step_s = wf.rise_s / where.max_step_per_edge
        if where.settings.engine == "vacask":
            trace = run_vacask_cell(m, wf.t_s, wf.v_v, x0, max_step_s, settings=where.settings)
        else:
            trace = run_ngspice_cell(m, wf.t_s, wf.v_v, x0, max_step_s,
                                     title=f"* memspice calibrate: pulse train on one {m.name} cell",
                                     settings=where.settings)
        g = np.interp(wf.read_times_s, trace.time_s, trace.i_a) / read_v
        states = None if trace.x is None else np.interp(wf.read_times_s, trace.time_s, trace.x)
        return _pulse_data(g, wf, exp, m, where.label, states)
    run = getattr(where, "run_pulse_train", None)
    if run is not None:
        return run(m, exp)
    raise ParameterError(f"where = {where!r}: give NumpyCell(), SpiceCell() or SpiceArrayCell(...).")


def _external_pulse_train(m: ExternalModel, exp: PulseTrainExperiment, wf, where) -> PulseData:
    """The pulse train on an imported Verilog-A device, in VACASK (the only engine that runs it)."""
    if not isinstance(where, SpiceCell):
        raise ParameterError(f"{m.name} is an imported Verilog-A model: it runs in VACASK only; calibrate it in "
                             "SpiceCell() (--engine spice), not in numpy or inside an ngspice array")
    if exp.read_v is not None and exp.read_v != m.v_read_v:
        raise ParameterError(f"{m.name} was imported with read voltage {m.v_read_v:g} V; read_v = {exp.read_v:g} V "
                             "needs a re-import with --v-read")
    proto = PulseProtocol(exp.width_s, rise_s=exp.rise, fall_s=exp.rise, rest_s=exp.gap, read_s=exp.read_width,
                          steps_per_edge=max(10, where.max_step_per_edge))
    x0 = None if exp.x0 is None else [m.check_state(exp.x0, "x0")]
    if x0 is None and m.settable:
        x0 = [m.x0_default]
    res = measure_pulse_trains(m, [wf.amplitudes_v], proto, x0=x0, settings=where.settings)[0]
    return _pulse_data(res.g_s, wf, exp, m, "vacask, single cell", res.x)


def _refine(t, v, per_segment: int, must: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner waveform resampled with ``per_segment`` points per segment (plus the read instants)."""
    frac = np.linspace(0.0, 1.0, per_segment + 1)[:-1]
    tt = (t[:-1, None] + (t[1:] - t[:-1])[:, None] * frac[None, :]).ravel()
    tt = np.unique(np.r_[tt, t[-1], must])
    return tt, np.interp(tt, t, v)


def run_iv_sweep(model, exp: IVSweepExperiment, where=None) -> IVData:
    """Run an I-V sweep on ``model``; the current is the cell current at each sample."""
    where = NumpyCell() if where is None else where
    m = _model(model)
    t, v = iv_waveform(exp)
    x0 = _x0(m, exp.x0)
    if isinstance(where, NumpyCell):
        xs = np.asarray(m.integrate(t, v, np.array(x0), max_dx=where.max_dx)).reshape(t.size)
        i = m.current(v, xs)
    elif isinstance(where, SpiceCell):
        max_step_s = (t[1] - t[0]) / 2.0
        if where.settings.engine == "vacask":
            trace = run_vacask_cell(m, t, v, x0, max_step_s, settings=where.settings)
        else:
            trace = run_ngspice_cell(m, t, v, x0, max_step_s, title=f"* memspice calibrate: I-V sweep on one {m.name} cell",
                                     settings=where.settings, with_state=False)
        i = np.interp(t, trace.time_s, trace.i_a)
    else:
        raise ParameterError(f"where = {where!r}: I-V sweeps run in NumpyCell() or SpiceCell().")
    return IVData(time_s=t, voltage_v=v, current_a=np.asarray(i, dtype=float), device=m.name,
                  source=f"{m.name} in {where.label}",
                  meta={"experiment": f"I-V {exp.shape} sweep, {exp.amplitude_v:g} V, {exp.frequency_hz:g} Hz"})
