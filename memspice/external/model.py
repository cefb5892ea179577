"""An imported Verilog-A device as a memspice device model: its state, its VACASK-measured read table, its VACASK lines.

The device (:class:`ExternalModel`) maps two module terminals to the cell's
``p`` and ``n`` (a module with more than two terminals needs the mapping; the
other terminals are tied to ``n``) and names its state (:class:`StateSpec`):

* an internal node (its potential is the state; e.g. ``gap`` of a filament
  model), or an output variable -- both read back from VACASK; the state's
  initial value is an instance parameter (``init_param``), which must set the
  state at the operating point (checked on import);
* or, when the model exposes nothing, the read conductance itself (state kind
  ``"conductance"``): pulse responses still work, but crossbars need per-cell
  initial states and refuse such a device.

The numbers memspice needs in numpy -- the read conductance ``G(x)`` and the
current ``i(v, x)`` -- come from a :class:`ReadTable` measured once in VACASK
on import and interpolated: tables of the simulator's own answers, never a
re-implementation of the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from memspice.errors import CircuitError, ParameterError
from memspice.external.interface import VerilogAInterface

__all__ = ["STATE_KINDS", "ExternalModel", "ReadTable", "StateSpec", "vacask_number"]

STATE_KINDS = ("node", "opvar", "conductance")


@dataclass(frozen=True)
class StateSpec:
    """Which quantity of the module is the device state.

    ``kind``: ``"node"`` (potential of internal node ``name``), ``"opvar"``
    (output variable ``name``) or ``"conductance"`` (no state exposed: the
    read conductance, S, is the state). ``init_param``: the instance parameter
    that sets the state at t = 0 (None: the state cannot be set per cell).
    ``x_min``/``x_max``: the state's range (for ``"conductance"``: the read
    conductances the device reaches, filled in by measurement).
    """

    kind: str
    name: str = ""
    init_param: str | None = None
    x_min: float = 0.0
    x_max: float = 1.0

    def __post_init__(self):
        if self.kind not in STATE_KINDS:
            raise ParameterError(f"state kind {self.kind!r} is unknown; choose one of {', '.join(STATE_KINDS)}")
        if not (math.isfinite(self.x_min) and math.isfinite(self.x_max) and self.x_min < self.x_max):
            raise ParameterError(f"state range [{self.x_min!r}, {self.x_max!r}] of {self.name or self.kind} is not "
                                 "an interval; give state_range=(low, high) with low < high")


@dataclass(frozen=True, eq=False)
class ReadTable:
    """Device current measured in VACASK on a grid: ``i_a[k, m]`` at voltage ``v_v[k]``, state ``x[m]``.

    Operating points of a bank of cells, one per state (set by the init
    parameter), the source swept over ``v_v``; ``v_v`` contains the read voltage.
    """

    x: np.ndarray
    v_v: np.ndarray
    i_a: np.ndarray
    v_read_v: float

    def conductance(self, x) -> np.ndarray:
        """Chord conductance i(v_read, x)/v_read (S), monotone cubic in the state, log-interpolated when positive."""
        from scipy.interpolate import PchipInterpolator

        k = int(np.argmin(np.abs(self.v_v - self.v_read_v)))
        g = self.i_a[k] / self.v_v[k]
        if np.all(g > 0):
            return np.exp(PchipInterpolator(self.x, np.log(g), extrapolate=True)(np.asarray(x, dtype=float)))
        return PchipInterpolator(self.x, g, extrapolate=True)(np.asarray(x, dtype=float))

    def current(self, v, x) -> np.ndarray:
        """Current (A) at voltage ``v`` and state ``x`` (broadcast): a cubic spline in v through the
        measured voltages (exact at 0 and at v_read; extrapolated beyond them), monotone cubic in the state."""
        from scipy.interpolate import CubicSpline, PchipInterpolator

        v, x = np.broadcast_arrays(np.asarray(v, dtype=float), np.asarray(x, dtype=float))
        per_v = PchipInterpolator(self.x, self.i_a, axis=1, extrapolate=True)(x.ravel())  # (V, n)
        coeffs = CubicSpline(self.v_v, per_v, axis=0).c  # (4, V - 1, n)
        vv = v.ravel()
        k = np.clip(np.searchsorted(self.v_v, vv) - 1, 0, self.v_v.size - 2)
        dv = vv - self.v_v[k]
        cols = np.arange(vv.size)
        out = ((coeffs[0, k, cols] * dv + coeffs[1, k, cols]) * dv + coeffs[2, k, cols]) * dv + coeffs[3, k, cols]
        return out.reshape(v.shape)


@dataclass(frozen=True, eq=False)
class ExternalModel:
    """A user's Verilog-A device, usable where memspice expects a device model (VACASK engine).

    Build it with :func:`import_verilog_a` (which measures the read table) or
    :func:`memspice.external.card.load_external_card`. ``params``:
    parameter values written on the model card (checked against the declared
    ranges; unknown names are an error). ``terminals``: the module terminals
    used as the cell's (p, n). Methods broadcast like ``CompactModel``'s.
    """

    interface: VerilogAInterface
    terminals: tuple[str, str]
    state: StateSpec
    v_read_v: float
    params: Mapping[str, float] = field(default_factory=dict)
    table: ReadTable | None = None
    name: str = ""
    x0_default: float | None = None
    citation: str = ""

    def __post_init__(self):
        iface = self.interface
        values = {}
        for key, value in dict(self.params).items():
            declared = iface.parameter(key)
            if self.state.init_param is not None and declared.name == self.state.init_param:
                raise ParameterError(f"{iface.module}: {key} is the state's initial value; give it per cell "
                                     "(crossbar states / x0), not as a model parameter")
            values[declared.name] = declared.check(value, iface.module)
        object.__setattr__(self, "params", MappingProxyType(values))
        object.__setattr__(self, "terminals", tuple(self.terminals))
        if not self.name:
            object.__setattr__(self, "name", iface.module)
        if not (math.isfinite(self.v_read_v) and self.v_read_v != 0):
            raise ParameterError(f"v_read_v = {self.v_read_v!r} must be a finite non-zero read voltage (V)")
        if self.x0_default is None:
            x0 = self._declared_init()
            object.__setattr__(self, "x0_default", x0)
        if not self.citation:
            object.__setattr__(self, "citation", f"user Verilog-A module {iface.module} from {iface.source}")

    def _declared_init(self) -> float:
        st = self.state
        if st.init_param is not None:
            d = self.interface.parameter(st.init_param).default
            if isinstance(d, float) and math.isfinite(d) and st.x_min <= d <= st.x_max:
                return float(d)
        return 0.5 * (self.state.x_min + self.state.x_max)

    # --- identity and state ---------------------------------------------------------
    @property
    def module(self) -> str:
        return self.interface.module

    @property
    def state_name(self) -> str:
        return self.state.name or "g_read"

    @property
    def x_min(self) -> float:
        return self.state.x_min

    @property
    def x_max(self) -> float:
        return self.state.x_max

    @property
    def subckt_name(self) -> str:
        """Name of the model card in a VACASK netlist (``ext_<module>``)."""
        return f"ext_{self.module}"

    @property
    def spice_state_node(self) -> str:
        """The result vector of a cell's state is ``v(<inst>.<spice_state_node>)`` (a node or a saved opvar)."""
        if self.state.kind == "conductance":
            raise CircuitError(f"{self.module}: the state is the read conductance (the model exposes no state); "
                               "there is no state vector to read back -- import with state=NAME")
        return self.state.name

    def check_state(self, x, label: str = "x") -> float:
        x = float(x)
        if not (self.x_min <= x <= self.x_max):
            raise ParameterError(f"{self.module}: {label} = {x!r} is outside the state range "
                                 f"[{self.x_min:g}, {self.x_max:g}] of {self.state_name}")
        return x

    @property
    def settable(self) -> bool:
        """True when each cell's initial state can be set (an init parameter and an observable state)."""
        return self.state.kind != "conductance" and self.state.init_param is not None

    # --- numpy (from the VACASK-measured table) -------------------------------------------
    def _table(self) -> ReadTable:
        if self.table is None:
            raise ParameterError(f"{self.module}: no read table measured; build the device with import_verilog_a "
                                 "(or state kind 'conductance', whose state is the conductance itself)")
        return self.table

    def conductance(self, x, v_read: float | None = None) -> np.ndarray:
        """Chord conductance i(v_read, x)/v_read (S) from the VACASK-measured table."""
        if v_read is not None and not np.isclose(float(v_read), self.v_read_v, rtol=1e-12, atol=0):
            raise ParameterError(f"{self.module}: the read table was measured at v_read_v = {self.v_read_v:g} V, "
                                 f"not {float(v_read):g} V; import the model with that read voltage")
        if self.state.kind == "conductance":
            return np.asarray(x, dtype=float)
        return self._table().conductance(x)

    def current(self, v, x) -> np.ndarray:
        """Terminal current p -> n (A) at voltage ``v`` and state ``x``, interpolated in the VACASK table."""
        if self.state.kind == "conductance":
            return np.asarray(v, dtype=float) * np.asarray(x, dtype=float)  # chord conductance: exact at v_read only
        return self._table().current(v, x)

    # --- VACASK text ---------------------------------------------------------------------
    def vacask_model_card(self, card: str | None = None) -> str:
        """``model <card> <module> name=value ...`` with this device's parameter values."""
        values = " ".join(f"{k}={vacask_number(v)}" for k, v in self.params.items())
        return f"model {card or self.subckt_name} {self.module} {values}".rstrip()

    def vacask_nodes(self, node_p: str, node_n: str) -> str:
        """The instance's node list in the module's port order: p, n, other terminals tied to n."""
        p, n = self.terminals
        return " ".join(node_p if t == p else node_n for t in self.interface.terminals)

    def vacask_instance(self, inst: str, node_p: str, node_n: str, x0: float | None = None,
                        card: str | None = None) -> str:
        """One instance line; ``x0`` (checked) goes on the init parameter (needs a settable state)."""
        line = f"{inst} ({self.vacask_nodes(node_p, node_n)}) {card or self.subckt_name}"
        if x0 is None:
            return line
        if not self.settable:
            raise CircuitError(f"{self.module}: a cell's initial state cannot be set (the state is "
                               f"{'the read conductance' if self.state.kind == 'conductance' else self.state.name} "
                               f"and the init parameter is {self.state.init_param}); import with state=NAME and "
                               "init_param=NAME of an instance parameter")
        return f"{line} {self.state.init_param}={vacask_number(self.check_state(x0, 'x0'))}"

    def vacask_state_save(self, inst: str) -> str:
        """The ``save`` item that puts the state of instance ``inst`` into the results."""
        if self.state.kind == "node":
            return f'v("{inst}:{self.state.name}")'
        if self.state.kind == "opvar":
            return f"p({inst}, {self.state.name})"
        return self.spice_state_node  # raises: no state vector

    # --- what a Crossbar checks for; ngspice cannot load OSDI ------------------------------------
    def spice_subckt(self) -> str:
        raise CircuitError(f"{self.module} is an external Verilog-A model: ngspice 39 cannot load compiled "
                           "Verilog-A; simulate it with RunSettings(engine='vacask')")

    def verilog_a(self) -> str:
        """The user's Verilog-A source text, unchanged."""
        return self.interface.source.read_text()

    def describe(self) -> str:
        state = ("state: the read conductance (none exposed)" if self.state.kind == "conductance" else
                 f"state {self.state_name} ({self.state.kind}) in [{self.x_min:g}, {self.x_max:g}]")
        return (f"{self.module} ({self.interface.source.name}), terminals p={self.terminals[0]} n={self.terminals[1]}, "
                f"{state}, read at {self.v_read_v:g} V")


def vacask_number(x) -> str:
    """A number as VACASK netlist text, to full double precision."""
    return f"{float(x):.17g}"

