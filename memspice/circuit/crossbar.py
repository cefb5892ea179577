"""The crossbar value: array size, cell type, device model and states, wires and periphery.

Topology (the same for the SPICE deck and the nodal solver, see
:mod:`memspice.circuit.network`)::

    Vrow_i -- R_driver -- Rwr_i_0 -- r_i_0 -- Rwr_i_1 -- r_i_1 -- ... -- r_i_{C-1}     (row i, driven at the left)
                                       |                  |
                                   cell (0..)          cell ...
                                       |                  |
    c_0_j -- Rwc_0_j -- c_1_j -- ... -- c_{R-1}_j -- Rwc_{R-1}_j -- cb_j -- readout   (column j, read at the bottom)

Every cell owns one row-wire segment (on its driver side) and one column-wire
segment (on its readout side), so an R x C array has R*C segments of each kind;
``row_wire_ohm``/``col_wire_ohm`` is the resistance of one segment. A cell is
``contact -- device`` (1R) or ``contact -- device -- NMOS drain/source`` (1T1R,
gate on the row's gate line ``g_i``). In a write the columns are driven through
the same driver resistance as the rows instead of being read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memspice.errors import ParameterError

CELL_TYPES = ("1R", "1T1R")
READOUT_KINDS = ("virtual_ground", "tia", "sense_resistor")


def _non_negative(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ParameterError(f"{name} = {value!r} must be a finite resistance >= 0 ohm (0 means an ideal connection)")
    if value > 0 and not np.isfinite(1.0 / value):
        raise ParameterError(f"{name} = {value!r} ohm is too small to turn into a conductance; use 0 for an ideal connection")
    return value


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(f"{name} = {value!r} must be finite and > 0")
    return value


@dataclass(frozen=True)
class Readout:
    """How the columns are read.

    ``kind``:
      * ``"virtual_ground"``: an ideal 0 V ammeter to ground (column end held at exactly 0 V);
      * ``"tia"``: the ``ms_tia`` subcircuit of circuits/tia.cir, an inverting amplifier with
        open-loop gain ``tia_gain`` and feedback ``tia_feedback_ohm``;
        v_out = -A v_in, input conductance (1 + A)/R_f;
      * ``"sense_resistor"``: ``sense_ohm`` from the column end to ground; v_out = i * R_s.
    """

    kind: str = "virtual_ground"
    tia_feedback_ohm: float = 1e4  #: R_f of the TIA (ohm)
    tia_gain: float = 1e5  #: open-loop gain A of the TIA's amplifier (V/V)
    sense_ohm: float = 100.0  #: R_s of the sense-resistor readout (ohm)

    def __post_init__(self):
        if self.kind not in READOUT_KINDS:
            raise ParameterError(f"readout kind {self.kind!r} is unknown; choose one of {', '.join(READOUT_KINDS)}")
        _positive("tia_feedback_ohm", self.tia_feedback_ohm)
        _positive("tia_gain", self.tia_gain)
        _positive("sense_ohm", self.sense_ohm)


@dataclass(frozen=True)
class AccessTransistor:
    """The NMOS of a 1T1R cell: model card ``ms_nmos`` from circuits/access_nmos.lib.

    The gate lines run along the rows (one per row, ``g_i``); the body is tied to ground.
    """

    width_m: float = 1.0e-6  #: channel width W (m)
    length_m: float = 0.1e-6  #: channel length L (m); W/L = 10 gives R_on ~ 0.67 kOhm at 1.2 V
    v_gate_on_v: float = 1.2  #: gate voltage of a selected row (V)
    v_gate_off_v: float = 0.0  #: gate voltage of an unselected row (V)

    def __post_init__(self):
        _positive("width_m", self.width_m)
        _positive("length_m", self.length_m)
        for name in ("v_gate_on_v", "v_gate_off_v"):
            if not np.isfinite(getattr(self, name)):
                raise ParameterError(f"{name} = {getattr(self, name)!r} must be finite")


@dataclass(frozen=True, eq=False)
class Crossbar:
    """A rows x cols crossbar of one device model with per-cell states (a value; never mutated).

    ``states`` (rows, cols): each device's state, inside [model.x_min, model.x_max].
    Resistances are per wire segment, per cell contact and per driver, in ohm;
    0 means an ideal connection (the nodes are merged).
    """

    model: object  #: a memspice.devices.CompactModel
    states: np.ndarray  #: (rows, cols) device states
    cell: str = "1R"  #: "1R" or "1T1R"
    row_wire_ohm: float = 0.0  #: resistance of one row-wire segment (ohm)
    col_wire_ohm: float = 0.0  #: resistance of one column-wire segment (ohm)
    contact_ohm: float = 0.0  #: contact resistance in series with every device (ohm)
    driver_ohm: float = 0.0  #: output resistance of every line driver (ohm)
    readout: Readout = field(default_factory=Readout)
    access: AccessTransistor = field(default_factory=AccessTransistor)

    def __post_init__(self):
        states = np.array(self.states, dtype=float)  # a private copy, frozen below
        if states.ndim != 2:
            raise ParameterError(
                f"states must be a (rows, cols) array, got shape {states.shape}; "
                "use Crossbar.uniform(model, rows, cols, state) for a uniform array"
            )
        rows, cols = states.shape
        if rows < 1 or cols < 1:
            raise ParameterError(f"a crossbar needs at least 1 row and 1 column, got {rows} x {cols}")
        for attr in ("current", "conductance", "x_min", "x_max", "spice_subckt", "subckt_name"):
            if not hasattr(self.model, attr):
                raise ParameterError(
                    f"model {self.model!r} is not a compact model (no {attr!r}); "
                    "use memspice.devices.get_model(name)"
                )
        if getattr(self.model, "settable", True) is False:
            raise ParameterError(
                f"model {self.model.name}: a crossbar needs each cell's state, and this imported device's state "
                "cannot be set (no state or no init parameter; its state would be taken as a conductance); "
                "re-import it naming the state: memspice models import FILE.va --state NAME --init-param NAME"
            )
        bad = ~np.isfinite(states) | (states < self.model.x_min) | (states > self.model.x_max)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ParameterError(
                f"state of cell ({i}, {j}) = {float(states[i, j])!r} is outside the {self.model.name} state range "
                f"[{self.model.x_min:g}, {self.model.x_max:g}] ({int(bad.sum())} cell(s) out of range)"
            )
        states.setflags(write=False)
        object.__setattr__(self, "states", states)
        if self.cell not in CELL_TYPES:
            raise ParameterError(f"cell type {self.cell!r} is unknown; choose one of {', '.join(CELL_TYPES)}")
        for name in ("row_wire_ohm", "col_wire_ohm", "contact_ohm", "driver_ohm"):
            object.__setattr__(self, name, _non_negative(name, getattr(self, name)))
        if not isinstance(self.readout, Readout):
            raise ParameterError(f"readout must be a Readout, got {self.readout!r}")
        if not isinstance(self.access, AccessTransistor):
            raise ParameterError(f"access must be an AccessTransistor, got {self.access!r}")

    @classmethod
    def uniform(cls, model, rows: int, cols: int, state: float | None = None, **kwargs) -> "Crossbar":
        """All cells in one state (default: the model's ``x0_default``)."""
        if int(rows) != rows or int(cols) != cols or rows < 1 or cols < 1:
            raise ParameterError(f"rows and cols must be integers >= 1, got rows={rows!r}, cols={cols!r}")
        x = getattr(model, "x0_default", None) if state is None else state
        return cls(model=model, states=np.full((int(rows), int(cols)), float(x)), **kwargs)

    @property
    def rows(self) -> int:
        return self.states.shape[0]

    @property
    def cols(self) -> int:
        return self.states.shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self.states.shape

    def conductances_s(self, v_read_v: float | None = None) -> np.ndarray:
        """(rows, cols) chord conductance of every device at ``v_read_v`` (default: the model's read voltage)."""
        return np.asarray(self.model.conductance(self.states, v_read_v), dtype=float) * np.ones(self.shape)

    def with_states(self, states) -> "Crossbar":
        """The same crossbar with new device states (checked like the constructor)."""
        states = np.asarray(states, dtype=float)
        if states.shape != self.shape:
            raise ParameterError(f"new states have shape {states.shape}, the crossbar is {self.shape}")
        return Crossbar(
            model=self.model, states=states, cell=self.cell, row_wire_ohm=self.row_wire_ohm,
            col_wire_ohm=self.col_wire_ohm, contact_ohm=self.contact_ohm, driver_ohm=self.driver_ohm,
            readout=self.readout, access=self.access,
        )

    def describe(self) -> str:
        """One line for titles and tables."""
        return (
            f"{self.rows}x{self.cols} {self.cell} {self.model.name}, wires {self.row_wire_ohm:g}/{self.col_wire_ohm:g} "
            f"ohm/segment, contact {self.contact_ohm:g} ohm, driver {self.driver_ohm:g} ohm, readout {self.readout.kind}"
        )
