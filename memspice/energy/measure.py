"""Measure the energy table of a crossbar in ngspice (memspice.circuit transients).

Reads: every row driven with one trapezoidal pulse to ``level``·V_read (the
columns at the crossbar's readout), energy of all line sources divided by
the rows: the energy per row activation of a full-array read, wires and
readout included. The backward (transposed) read is the same measurement on
the transposed array (columns driven, rows sensed): the crossbar value
:func:`transpose_crossbar` swaps rows and columns, wire resistances with them.
Binary reads are the full-scale level; a stochastic bit is a binary read of
one bit slot (``bit_pulse``).

Pulses: one :class:`~memspice.circuit.WriteScheme` pulse on the selected cell
(default the array's centre, so half-selected cells lie on both sides), V/2
and V/3. Per-cell energies are ∫ v·i dt of each device, with i from the
model's current equation at the device's simulated voltage and state
(states read back from every subcircuit's state node over time); integrated
with the rule of :func:`memspice.circuit.transient.source_energy_j`, exact for piecewise-linear
v and i (an ohmic cell under a PWL pulse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memspice.circuit import Crossbar, PulseShape, ReadStimulus, WriteScheme
from memspice.circuit.transient import transient
from memspice.energy.table import EnergyEntry, EnergyTable
from memspice.errors import ParameterError
from memspice.spice import RunSettings, settings_or_default


def _default_read_pulse() -> PulseShape:
    return PulseShape(width_s=10e-9, rise_s=1e-9, fall_s=1e-9, delay_s=1e-9, tail_s=1e-9)


def _default_bit_pulse() -> PulseShape:
    return PulseShape(width_s=2e-9, rise_s=0.2e-9, fall_s=0.2e-9, delay_s=0.2e-9, tail_s=0.2e-9)


def _default_write_pulse() -> PulseShape:
    return PulseShape(width_s=50e-9, rise_s=1e-9, fall_s=1e-9, delay_s=1e-9, tail_s=1e-9)


@dataclass(frozen=True)
class EnergySettings:
    """What to measure: read voltage, DAC levels, pulse shapes, write amplitudes and schemes."""

    v_read_v: float | None = None  #: full-scale read voltage (V); None: the model's v_read_v
    dac_levels: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)  #: analog read levels, fractions of V_read
    read_pulse: PulseShape = field(default_factory=_default_read_pulse)  #: one analog/binary read
    bit_pulse: PulseShape = field(default_factory=_default_bit_pulse)  #: one slot of a stochastic bit stream
    write_amplitudes_v: tuple[float, ...] = (1.0,)  #: programming-pulse amplitudes (V); sign = polarity
    write_pulse: PulseShape = field(default_factory=_default_write_pulse)
    schemes: tuple[str, ...] = ("v/2", "v/3")
    backward: bool = True  #: also measure the transposed (backward) read
    selected: tuple[int, int] | None = None  #: selected cell of the pulses (default: the centre)

    def __post_init__(self):
        levels = tuple(float(u) for u in self.dac_levels)
        if not levels or any(not 0.0 < u <= 1.0 for u in levels):
            raise ParameterError(f"dac_levels = {self.dac_levels!r}: give fractions of the read voltage in (0, 1]")
        object.__setattr__(self, "dac_levels", levels)
        if self.v_read_v is not None and (not np.isfinite(self.v_read_v) or self.v_read_v == 0):
            raise ParameterError(f"v_read_v = {self.v_read_v!r}: give a finite, non-zero read voltage")
        amps = tuple(float(a) for a in self.write_amplitudes_v)
        if any(not np.isfinite(a) or a == 0 for a in amps):
            raise ParameterError(f"write_amplitudes_v = {self.write_amplitudes_v!r}: finite, non-zero volts")
        object.__setattr__(self, "write_amplitudes_v", amps)
        for s in self.schemes:
            if s not in ("v/2", "v/3"):
                raise ParameterError(f"scheme {s!r}: choose v/2 or v/3")


def transpose_crossbar(crossbar: Crossbar) -> Crossbar:
    """The same array seen from its columns: states transposed, row and column wires swapped."""
    return Crossbar(
        model=crossbar.model, states=crossbar.states.T, cell=crossbar.cell, row_wire_ohm=crossbar.col_wire_ohm,
        col_wire_ohm=crossbar.row_wire_ohm, contact_ohm=crossbar.contact_ohm, driver_ohm=crossbar.driver_ohm,
        readout=crossbar.readout, access=crossbar.access,
    )


def describe_crossbar(crossbar: Crossbar, v_read_v: float) -> dict:
    """The crossbar and model a table was measured on, as a TOML-able dict."""
    m = crossbar.model
    g = crossbar.conductances_s(v_read_v)
    return {
        "crossbar": {
            "rows": crossbar.rows, "cols": crossbar.cols, "cell": crossbar.cell,
            "row_wire_ohm": crossbar.row_wire_ohm, "col_wire_ohm": crossbar.col_wire_ohm,
            "contact_ohm": crossbar.contact_ohm, "driver_ohm": crossbar.driver_ohm,
            "readout": crossbar.readout.kind, "summary": crossbar.describe(),
        },
        "model": {"name": m.name, "citation": m.citation, "params": {k: float(v) for k, v in m.params.items()}},
        "states": {
            "mean": float(crossbar.states.mean()), "min": float(crossbar.states.min()),
            "max": float(crossbar.states.max()), "mean_conductance_s": float(g.mean()), "v_read_v": float(v_read_v),
        },
    }


def _transient(crossbar: Crossbar, drive, run: RunSettings):
    """(WriteResult, states over time (T, rows, cols)) of one transient."""
    tr = transient(crossbar, drive, run)
    return tr.write_result(), tr.states_over_time()


def cell_energies_j(crossbar: Crossbar, time_s, v_cells_v, states) -> np.ndarray:
    """(rows, cols) energy ∫ v·i dt each device took (J), i from the model at the simulated v and state."""
    v = np.asarray(v_cells_v, dtype=float)
    i = np.asarray(crossbar.model.current(v, states), dtype=float) * np.ones_like(v)
    h = np.diff(np.asarray(time_s, dtype=float))[:, None, None]
    v0, v1, i0, i1 = v[:-1], v[1:], i[:-1], i[1:]
    return np.sum(h / 6 * (2 * v0 * i0 + v0 * i1 + v1 * i0 + 2 * v1 * i1), axis=0)


def _read_entries(crossbar, direction, settings, v_read, run: RunSettings) -> list[EnergyEntry]:
    from memspice.circuit import write

    out = []
    rows, cols = crossbar.rows, crossbar.cols
    for encoding, levels, pulse in (("analog", settings.dac_levels, settings.read_pulse),
                                    ("stochastic", (1.0,), settings.bit_pulse)):
        for u in levels:
            stim = ReadStimulus(np.full(rows, u * v_read), pulse=pulse)
            res = write(crossbar, stim, run)
            total = res.total_energy_j
            kw = dict(kind="read", voltage_v=v_read, width_s=pulse.width_s, rise_s=pulse.rise_s, fall_s=pulse.fall_s,
                      total_j=total, per_cell_j=total / (rows * cols), direction=direction, level=u,
                      per_line_j=total / rows)
            out.append(EnergyEntry(encoding=encoding, **kw))
            if encoding == "analog" and u == 1.0:
                out.append(EnergyEntry(encoding="binary", **kw))  # a binary read is the full-scale level
    if not any(e.encoding == "binary" for e in out):  # no full-scale DAC level: measure it
        stim = ReadStimulus(np.full(rows, v_read), pulse=settings.read_pulse)
        total = write(crossbar, stim, run).total_energy_j
        p = settings.read_pulse
        out.append(EnergyEntry(kind="read", voltage_v=v_read, width_s=p.width_s, rise_s=p.rise_s, fall_s=p.fall_s,
                               total_j=total, per_cell_j=total / (rows * cols), direction=direction, level=1.0,
                               per_line_j=total / rows, encoding="binary"))
    return out


def _pulse_entries(crossbar, settings, run: RunSettings) -> list[EnergyEntry]:
    rows, cols = crossbar.rows, crossbar.cols
    i0, j0 = settings.selected if settings.selected is not None else (rows // 2, cols // 2)
    same_row = np.zeros((rows, cols), dtype=bool)
    same_row[i0, :] = True
    same_col = np.zeros((rows, cols), dtype=bool)
    same_col[:, j0] = True
    sel = same_row & same_col
    half = (same_row | same_col) & ~sel
    unsel = ~(same_row | same_col)
    p = settings.write_pulse
    out = []
    for scheme in settings.schemes:
        for amp in settings.write_amplitudes_v:
            ws = WriteScheme(amp, (i0, j0), target="cell", scheme=scheme, pulse=p)
            wr, states = _transient(crossbar, ws.drive(rows, cols), run)
            e = cell_energies_j(crossbar, wr.time_s, wr.v_cells_v, states)
            out.append(EnergyEntry(
                kind="pulse", voltage_v=amp, width_s=p.width_s, rise_s=p.rise_s, fall_s=p.fall_s,
                total_j=wr.total_energy_j, per_cell_j=float(e[sel][0]), scheme=scheme,
                half_selected_j=float(e[half].mean()) if half.any() else 0.0,
                unselected_j=float(e[unsel].mean()) if unsel.any() else 0.0,
            ))
    return out


def measure_energy_table(crossbar: Crossbar, settings: EnergySettings | None = None,
                         run: RunSettings | None = None) -> EnergyTable:
    """Run the read and pulse transients of ``settings`` on ``crossbar`` in ngspice; the table with its description.

    ``run``: how ngspice runs (backend, time limit; default RunSettings()).
    """
    settings = EnergySettings() if settings is None else settings
    run = settings_or_default(run)
    v_read = crossbar.model.v_read_v if settings.v_read_v is None else float(settings.v_read_v)
    entries = _read_entries(crossbar, "forward", settings, v_read, run)
    if settings.backward:
        entries += _read_entries(transpose_crossbar(crossbar), "backward", settings, v_read, run)
    entries += _pulse_entries(crossbar, settings, run)
    description = describe_crossbar(crossbar, v_read)
    description["settings"] = {
        "dac_levels": list(settings.dac_levels),
        "read_pulse": _pulse_dict(settings.read_pulse), "bit_pulse": _pulse_dict(settings.bit_pulse),
        "write_pulse": _pulse_dict(settings.write_pulse), "write_amplitudes_v": list(settings.write_amplitudes_v),
        "schemes": list(settings.schemes), "backend": run.backend,
    }
    return EnergyTable(description=description, entries=tuple(entries))


def _pulse_dict(p: PulseShape) -> dict:
    return {"width_s": p.width_s, "rise_s": p.rise_s, "fall_s": p.fall_s, "delay_s": p.delay_s, "tail_s": p.tail_s}
