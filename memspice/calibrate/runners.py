"""Run calibration experiments on a compact model: in numpy, in ngspice on one cell, or in a crossbar.

Where an experiment runs is a value too:

``NumpyCell()``            the compact model's own numpy integrator (fast, no circuit);
``SpiceCell()``            one cell driven by an ideal PWL source in ngspice
                           (``SpiceCell(engine="vacask")``: the model's
                           Verilog-A in VACASK);
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
from memspice.calibrate.experiments import IVSweep, PulseTrain, iv_waveform, pulse_train_waveform
from memspice.errors import ParameterError

__all__ = ["ModelRef", "NumpyCell", "SpiceCell", "run_pulse_train", "run_iv_sweep", "single_cell_deck"]


@dataclass(frozen=True)
class ModelRef:
    """A compact model by name and parameter overrides (SI); picklable, so it crosses process boundaries."""

    name: str
    params: Mapping[str, float] = field(default_factory=dict)

    def build(self):
        from memspice.devices import get_model

        return get_model(self.name, **dict(self.params))

    @classmethod
    def of(cls, model) -> "ModelRef":
        """A ModelRef from a CompactModel (only the parameters that differ from the preset are kept)."""
        if isinstance(model, ModelRef):
            return model
        if isinstance(model, str):
            return cls(model)
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

    backend: str = "subprocess"
    timeout_s: float = 300.0
    max_step_per_edge: int = 5
    """The time step is bounded by (shortest edge) / max_step_per_edge (ALGORITHMS.md: <= 1/5 of an edge)."""
    engine: str = "ngspice"
    """``"ngspice"`` (the model's subcircuit; ``backend`` picks subprocess or shared) or ``"vacask"``
    (the model's Verilog-A compiled by openvaf-r, see memspice.circuit.vacask_writer)."""

    def __post_init__(self):
        if self.engine not in ("ngspice", "vacask"):
            raise ParameterError(f"SpiceCell engine {self.engine!r} is unknown; choose 'ngspice' or 'vacask'")

    @property
    def label(self) -> str:
        return f"{self.engine}, single cell"


def _model(model):
    if isinstance(model, ModelRef):
        return model.build()
    if isinstance(model, str):
        return ModelRef(model).build()
    return model


def _x0(model, x0):
    return model.x0_default if x0 is None else model.check_state(x0, "x0")


def single_cell_deck(model, waveform, x0: float, max_step_per_edge: int = 5) -> str:
    """ngspice deck: PWL source on node p, the device from p to ground, one .tran card."""
    t_stop = float(waveform.t_s[-1])
    t_max = waveform.rise_s / max_step_per_edge
    return "\n".join([
        f"* memspice calibrate: pulse train on one {model.name} cell",
        model.spice_subckt(),
        f"Vdrive p 0 {waveform.pwl()}",
        model.spice_instance("cell", "p", "0", x0),
        f".tran {t_max:.6g} {t_stop:.12g} 0 {t_max:.6g}",
        ".end",
        "",
    ])


def _vacask_cell(model, t_s, v_v, x0: float, max_step_s: float, timeout_s: float):
    """(time, cell current, state) of one cell on a PWL source in VACASK, the twin of single_cell_deck."""
    from memspice.circuit.vacask_writer import STATE_NODE, device_library, device_model_card, source_params
    from memspice.spice import simulate

    lib = device_library(model)
    deck = "\n".join([
        f"memspice calibrate: one {model.name} cell",
        lib.load_line,
        device_model_card(model, lib),
        "model vsource vsource",
        f"vdrive (p 0) vsource {source_params(t_s, v_v)}",
        f"xcell (p 0) {model.subckt_name} x0={x0!r}",
        "control",
        f'  save v(p) i(vdrive) v("xcell:{STATE_NODE}")',
        f"  analysis tran1 tran step={max_step_s:.6g} stop={float(t_s[-1])!r} maxstep={max_step_s:.6g}",
        "endc",
        "",
    ])
    res = simulate(deck, backend="vacask", timeout_s=timeout_s)
    # the source current flows into its + node from the circuit: the cell current is -i(vdrive)
    return res.time, -res.i("vdrive"), res.v(f"xcell.{STATE_NODE}")


def _pulse_data(g, wf, exp: PulseTrain, model, where: str, states=None) -> PulseData:
    volts = np.r_[0.0, wf.amplitudes_v]
    widths = np.r_[0.0, np.full(wf.amplitudes_v.size, exp.width_s)]
    meta = {"experiment": exp.describe(), "engine": where, "model": model.name, "params": dict(model.params),
            "read_v": wf.read_v}
    if states is not None:
        meta["states"] = np.asarray(states)
    return PulseData(conductance_s=np.asarray(g, dtype=float), voltage_v=volts, width_s=widths,
                     device=model.name, source=f"{model.name} in {where}", meta=meta)


def run_pulse_train(model, exp: PulseTrain, where=None) -> PulseData:
    """Run a pulse train on ``model`` (CompactModel, ModelRef or name) ``where`` (default NumpyCell())."""
    where = NumpyCell() if where is None else where
    m = _model(model)
    read_v = m.v_read_v if exp.read_v is None else exp.read_v
    wf = pulse_train_waveform(exp, read_v)
    x0 = _x0(m, exp.x0)
    if isinstance(where, NumpyCell):
        t, v = _refine(wf.t_s, wf.v_v, where.points_per_segment, wf.read_times_s)
        xs = m.integrate(t, v, np.array(x0), max_dx=where.max_dx)
        x_read = np.interp(wf.read_times_s, t, np.asarray(xs).reshape(t.size))
        g = m.conductance(x_read, read_v)
        return _pulse_data(g, wf, exp, m, where.label, x_read)
    if isinstance(where, SpiceCell) and where.engine == "vacask":
        time, i_cell, states = _vacask_cell(m, wf.t_s, wf.v_v, x0, wf.rise_s / where.max_step_per_edge,
                                            where.timeout_s)
        g = np.interp(wf.read_times_s, time, i_cell) / read_v
        return _pulse_data(g, wf, exp, m, where.label, np.interp(wf.read_times_s, time, states))
    if isinstance(where, SpiceCell):
        from memspice.spice import simulate

        deck = single_cell_deck(m, wf, x0, where.max_step_per_edge)
        res = simulate(deck, backend=where.backend, timeout_s=where.timeout_s)
        time = res.time
        # the source current flows into its + node from the circuit: the cell current is -i(vdrive)
        i_cell = -res.i("vdrive")
        g = np.interp(wf.read_times_s, time, i_cell) / read_v
        state_name = f"v(xcell.{m.spice_state_node})"
        states = np.interp(wf.read_times_s, time, res.vectors[state_name]) if state_name in res.vectors else None
        return _pulse_data(g, wf, exp, m, where.label, states)
    run = getattr(where, "run_pulse_train", None)
    if run is not None:
        return run(m, exp)
    raise ParameterError(f"where = {where!r}: give NumpyCell(), SpiceCell() or SpiceArrayCell(...).")


def _refine(t, v, per_segment: int, must: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner waveform resampled with ``per_segment`` points per segment (plus the read instants)."""
    frac = np.linspace(0.0, 1.0, per_segment + 1)[:-1]
    tt = (t[:-1, None] + (t[1:] - t[:-1])[:, None] * frac[None, :]).ravel()
    tt = np.unique(np.r_[tt, t[-1], must])
    return tt, np.interp(tt, t, v)


def run_iv_sweep(model, exp: IVSweep, where=None) -> IVData:
    """Run an I-V sweep on ``model``; the current is the cell current at each sample."""
    where = NumpyCell() if where is None else where
    m = _model(model)
    t, v = iv_waveform(exp)
    x0 = _x0(m, exp.x0)
    if isinstance(where, NumpyCell):
        xs = np.asarray(m.integrate(t, v, np.array(x0), max_dx=where.max_dx)).reshape(t.size)
        i = m.current(v, xs)
    elif isinstance(where, SpiceCell) and where.engine == "vacask":
        time, i_cell, _ = _vacask_cell(m, t, v, x0, (t[1] - t[0]) / 2.0, where.timeout_s)
        i = np.interp(t, time, i_cell)
    elif isinstance(where, SpiceCell):
        from memspice.spice import simulate

        pairs = " ".join(f"{a:.12g} {b:.12g}" for a, b in zip(t, v))
        t_max = (t[1] - t[0]) / 2.0
        deck = "\n".join([
            f"* memspice calibrate: I-V sweep on one {m.name} cell",
            m.spice_subckt(),
            f"Vdrive p 0 PWL({pairs})",
            m.spice_instance("cell", "p", "0", x0),
            f".tran {t_max:.6g} {t[-1]:.12g} 0 {t_max:.6g}",
            ".end",
            "",
        ])
        res = simulate(deck, backend=where.backend, timeout_s=where.timeout_s)
        i = np.interp(t, res.time, -res.i("vdrive"))
    else:
        raise ParameterError(f"where = {where!r}: I-V sweeps run in NumpyCell() or SpiceCell().")
    return IVData(time_s=t, voltage_v=v, current_a=np.asarray(i, dtype=float), device=m.name,
                  source=f"{m.name} in {where.label}",
                  meta={"experiment": f"I-V {exp.shape} sweep, {exp.amplitude_v:g} V, {exp.frequency_hz:g} Hz"})
