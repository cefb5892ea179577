"""A pulse train on one cell inside a crossbar (ngspice): wire resistance and half-select included.

The crossbar is memspice.circuit's (1R, wires of ``wire_ohm`` per segment,
every row and column driven); the drive is the experiment's own waveform:

* programming pulse of amplitude V on the calibrated cell (i, j), V/2 scheme:
  row i at V, column j at 0, every other row and column at V/2, so the
  half-selected cells of row i and column j see V/2 and the rest 0
  (before IR drop);
* read: row i at the read voltage, every other line at 0 V; the read current
  is the current into column j's source, so the read conductance includes
  the wires between the drivers and the cell, as a measurement in the array
  would.

The selected cell defaults to the far corner (last row, last column), the
cell with the longest wires to its drivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memspice.calibrate.data import PulseData
from memspice.calibrate.experiments import PulseTrainExperiment, pulse_train_waveform
from memspice.errors import ParameterError
from memspice.spice import RunSettings, check_settings

__all__ = ["SpiceArrayCell", "array_deck", "array_run"]



@dataclass(frozen=True)
class SpiceArrayCell:
    """Run experiments on cell ``cell`` of a rows x cols 1R crossbar in ngspice."""

    rows: int = 32
    cols: int = 32
    wire_ohm: float = 10.0
    """Resistance of one row- and one column-wire segment (ohm)."""
    cell: tuple[int, int] | None = None
    """(row, col) of the calibrated cell; None = the far corner (rows-1, cols-1)."""
    scheme: str = "v/2"
    """Half-select scheme of the programming pulses: "v/2" (unselected lines at V/2) or "v/3"."""
    x0_others: float | None = None
    """Initial state of every other cell; None = the same as the calibrated cell's."""
    driver_ohm: float = 0.0
    """Output resistance of every line driver (ohm)."""
    settings: RunSettings = field(default_factory=lambda: RunSettings().long())
    """How ngspice runs; a whole pulse train on an array is a long transient (:meth:`RunSettings.long`)."""
    max_step_per_edge: int = 5

    def __post_init__(self) -> None:
        check_settings(self.settings, "SpiceArrayCell.settings")
        if int(self.rows) != self.rows or int(self.cols) != self.cols or self.rows < 1 or self.cols < 1:
            raise ParameterError(f"SpiceArrayCell: rows = {self.rows!r}, cols = {self.cols!r} must be integers >= 1.")
        if not (np.isfinite(self.wire_ohm) and self.wire_ohm >= 0):
            raise ParameterError(f"SpiceArrayCell.wire_ohm = {self.wire_ohm!r}: must be a resistance >= 0 ohm.")
        from memspice.circuit.stimulus import BIAS

        if self.scheme not in BIAS:
            raise ParameterError(f"SpiceArrayCell.scheme = {self.scheme!r}: choose 'v/2' or 'v/3'.")
        i, j = self.selected
        if not (0 <= i < self.rows and 0 <= j < self.cols):
            raise ParameterError(f"SpiceArrayCell.cell = {self.cell!r} is outside the {self.rows} x {self.cols} array.")

    @property
    def selected(self) -> tuple[int, int]:
        return (self.rows - 1, self.cols - 1) if self.cell is None else (int(self.cell[0]), int(self.cell[1]))

    @property
    def label(self) -> str:
        i, j = self.selected
        return f"ngspice, cell ({i}, {j}) of a {self.rows}x{self.cols} 1R crossbar, {self.wire_ohm:g} ohm/segment, {self.scheme}"

    def run_pulse_train(self, model, exp: PulseTrainExperiment) -> PulseData:
        from memspice.circuit.transient import transient

        read_v = model.v_read_v if exp.read_v is None else exp.read_v
        xbar, drive, saves, wf = array_run(model, exp, self, read_v)
        res = transient(xbar, drive, self.settings, saves=saves).result
        i, j = self.selected
        # current into column j's source = current down column j (ngspice's sign: into the + node)
        i_col = res.i(f"vcol{j}")
        g = np.interp(wf.read_times_s, res.time, i_col) / read_v
        state = f"v(x{i}_{j}.{model.spice_state_node})"
        states = np.interp(wf.read_times_s, res.time, res.vectors[state]) if state in res.vectors else None
        volts = np.r_[0.0, wf.amplitudes_v]
        widths = np.r_[0.0, np.full(wf.amplitudes_v.size, exp.width_s)]
        meta = {"experiment": exp.describe(), "engine": self.label, "model": model.name, "params": dict(model.params),
                "read_v": read_v}
        if states is not None:
            meta["states"] = states
        return PulseData(conductance_s=g, voltage_v=volts, width_s=widths, device=f"{model.name}[{i},{j}]",
                         source=f"{model.name} in {self.label}", meta=meta)


def array_deck(model, exp: PulseTrainExperiment, where: SpiceArrayCell, read_v: float):
    """(deck text, waveform) of ``exp`` on the selected cell of ``where``'s crossbar."""
    from memspice.circuit.spice_writer import write_netlist

    xbar, drive, saves, wf = array_run(model, exp, where, read_v)
    return write_netlist(xbar, drive, saves=saves), wf


def array_run(model, exp: PulseTrainExperiment, where: SpiceArrayCell, read_v: float):
    """(crossbar, drive, saves, waveform) of ``exp`` on the selected cell of ``where``'s crossbar."""
    from memspice.circuit.saves import Saves
    from memspice.circuit.spec import CrossbarSpec
    from memspice.circuit.stimulus import BIAS, Drive, Waveform

    wf = pulse_train_waveform(exp, read_v)
    if np.any(np.isclose(wf.amplitudes_v, read_v)):
        raise ParameterError(f"a pulse amplitude equals the read voltage {read_v:g} V; the two cannot be told apart in the drive.")
    x0 = model.x0_default if exp.x0 is None else model.check_state(exp.x0, "x0")
    x_others = x0 if where.x0_others is None else model.check_state(where.x0_others, "x0_others")
    states = np.full((where.rows, where.cols), x_others)
    i_sel, j_sel = where.selected
    states[i_sel, j_sel] = x0
    xbar = CrossbarSpec(model=model, states=states, cell="1R", wire_ohm=where.wire_ohm,
                        driver_ohm=where.driver_ohm).build()
    # line levels at each corner: the selected row follows the full waveform
    # (pulses and reads); unselected lines follow the pulses only, scaled by the
    # scheme; the selected column stays at 0
    v = wf.v_v
    is_read = np.isclose(v, read_v) & (v != 0)
    pulses_only = np.where(is_read, 0.0, v)
    f_row, f_col = BIAS[where.scheme]
    t = tuple(float(x) for x in wf.t_s)
    sel_row = Waveform(v_v=tuple(float(x) for x in v), t_s=t)
    half_row = Waveform(v_v=tuple(float(x) for x in f_row * pulses_only), t_s=t)
    half_col = Waveform(v_v=tuple(float(x) for x in f_col * pulses_only), t_s=t)
    zero = Waveform.dc(0.0)
    drive = Drive(
        rows=tuple(sel_row if r == i_sel else half_row for r in range(where.rows)),
        cols=tuple(zero if c == j_sel else half_col for c in range(where.cols)),
        gates_on=(True,) * where.rows,
        t_stop_s=float(wf.t_s[-1]),
        max_step_s=wf.rise_s / where.max_step_per_edge,
        label=f"calibration pulse train on cell ({i_sel}, {j_sel}), {where.scheme}",
    )
    # keep only what the calibration reads: the raw file of a 32 x 32 transient
    # with every node would be hundreds of MB
    saves = Saves(currents=(f"vcol{j_sel}",), states=((i_sel, j_sel),))
    return xbar, drive, saves, wf
