"""``CompactModel``: a model definition with its parameter values, and its three renderings."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import sympy as sp

from memspice.devices.definition import ModelDefinition
from memspice.devices.numpy_render import NumpyFunctions, compile_numpy, integrate_states
from memspice.devices.spice_render import STATE_NODE, render_subckt
from memspice.devices.verilog_render import render_module
from memspice.errors import ParameterError


@dataclass(frozen=True)
class CompactModel:
    """A continuous compact model with concrete parameter values (SI units).

    Build it with :func:`memspice.devices.get_model`. The state ``x`` lives in
    [``x_min``, ``x_max``] (see ``definition.state`` for its meaning); every
    method broadcasts over arrays of devices.
    """

    definition: ModelDefinition
    params: Mapping[str, float]
    _numpy: NumpyFunctions = field(init=False, repr=False, compare=False)
    _current_expr: sp.Expr = field(init=False, repr=False, compare=False)
    _dxdt_expr: sp.Expr = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        values = self.definition.resolve(self.params)
        object.__setattr__(self, "params", MappingProxyType(values))
        subs = {p.symbol: sp.Float(values[p.name], 17) for p in self.definition.parameters}
        current = sp.sympify(self.definition.current).xreplace(subs)
        dxdt = sp.sympify(self.definition.dxdt).xreplace(subs)
        object.__setattr__(self, "_current_expr", current)
        object.__setattr__(self, "_dxdt_expr", dxdt)
        object.__setattr__(self, "_numpy", compile_numpy(current, dxdt))

    # --- identity -----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def citation(self) -> str:
        return self.definition.citation

    @property
    def state_name(self) -> str:
        return self.definition.state.name

    @property
    def x_min(self) -> float:
        return self.definition.state.x_min

    @property
    def x_max(self) -> float:
        return self.definition.state.x_max

    @property
    def v_read_v(self) -> float:
        """Default read voltage (V): small enough that a read does not disturb the state."""
        return self.definition.v_read_v

    @property
    def x0_default(self) -> float:
        return self.definition.x0_default

    @property
    def is_default(self) -> bool:
        """True when every parameter has its preset value."""
        return all(self.params[p.name] == p.default for p in self.definition.parameters)

    @property
    def subckt_name(self) -> str:
        """``ms_<name>`` for the preset; with changed parameters a short hash of the values is
        appended, so two parameter sets can share one netlist without a name clash."""
        base = f"ms_{self.name}"
        if self.is_default:
            return base
        digest = hashlib.sha1(repr(sorted(self.params.items())).encode()).hexdigest()[:8]
        return f"{base}_{digest}"

    @property
    def spice_state_node(self) -> str:
        """Internal node of the subcircuit whose voltage is the state: v(<inst>.<node>)."""
        return STATE_NODE

    # --- numpy --------------------------------------------------------------------
    def current(self, v, x) -> np.ndarray:
        """Terminal current (A) from p to n at voltage ``v`` (V) and state ``x``; broadcasts."""
        return self._numpy.current(v, x)

    def dxdt(self, v, x) -> np.ndarray:
        """State derivative dx/dt (state units per second) at ``v``, ``x``; broadcasts."""
        return self._numpy.dxdt(v, x)

    def conductance(self, x, v_read: float | None = None) -> np.ndarray:
        """Chord conductance i(v_read, x)/v_read (S); default v_read = ``v_read_v``."""
        v_read = self.v_read_v if v_read is None else float(v_read)
        if v_read == 0:
            raise ParameterError("v_read must be non-zero (the chord conductance i/v is undefined at 0 V)")
        return self.current(v_read, x) / v_read

    def integrate(self, t_s, v_t, x0, *, max_dx: float = 2e-3) -> np.ndarray:
        """States along a piecewise-linear voltage waveform.

        ``t_s`` (T,) s; ``v_t`` (T,) V for all devices or (T, *x0.shape) per device;
        ``x0`` initial states (any shape). Returns (T, *x0.shape). ``max_dx`` is
        the largest state change per internal step as a fraction of the state
        range (see :mod:`memspice.devices.numpy_render`).
        """
        return integrate_states(
            self._numpy, t_s, v_t, x0, x_range=self.x_max - self.x_min, max_dx=max_dx,
            bounds=(self.x_min, self.x_max), model_name=self.name,
        )

    # --- text renderings ----------------------------------------------------------------
    def spice_subckt(self) -> str:
        """ngspice subcircuit ``.subckt <subckt_name> p n x0=...`` (see memspice.devices.spice_render)."""
        st = self.definition.state
        return render_subckt(
            subckt_name=self.subckt_name,
            title=self.definition.title,
            citation=self.citation,
            state_text=f"{st.name} = {st.description}, in [{st.x_min:g}, {st.x_max:g}]",
            params=self.params,
            current=self._current_expr,
            dxdt=self._dxdt_expr,
            x0_default=self.x0_default,
        )

    def spice_instance(self, inst: str, node_p: str, node_n: str, x0: float | None = None) -> str:
        """One instance line ``X<inst> <p> <n> <subckt> x0=<x0>``; x0 is checked against the bounds."""
        from memspice.names import check_netlist_name

        check_netlist_name(inst, "instance name")
        check_netlist_name(node_p, "node name (p)")
        check_netlist_name(node_n, "node name (n)")
        x0 = self.x0_default if x0 is None else self.check_state(x0, "x0")
        return f"X{inst} {node_p} {node_n} {self.subckt_name} x0={x0:.12g}"

    def verilog_a(self) -> str:
        """Verilog-A module named like the subcircuit, parameters defaulting to this model's values."""
        return render_module(self.definition, self.params, self.subckt_name)

    def check_state(self, x, label: str = "x") -> float:
        """``x`` as a float, or ParameterError if it lies outside [x_min, x_max]."""
        x = float(x)
        if not (self.x_min <= x <= self.x_max):
            raise ParameterError(
                f"{self.name}: {label} = {x!r} is outside the state range [{self.x_min:g}, {self.x_max:g}] "
                f"({self.definition.state.description})"
            )
        return x


def states_for_conductance(model, g_s: np.ndarray) -> np.ndarray:
    """Device states whose chord conductance (at the model's read voltage) is ``g_s`` (S).

    Vectorised bisection over [x_min, x_max] (the conductance must be
    monotone in the state, as for every model with a one-dimensional
    surrogate); 64 halvings resolve the state to the last bit. A conductance
    outside the model's range is a ParameterError.
    """
    g = np.asarray(g_s, dtype=float)
    lo_x, hi_x = float(model.x_min), float(model.x_max)
    g_lo, g_hi = (float(np.asarray(model.conductance(np.array([x]))).ravel()[0]) for x in (lo_x, hi_x))
    g_min, g_max = min(g_lo, g_hi), max(g_lo, g_hi)
    bad = ~np.isfinite(g) | (g < g_min * (1 - 1e-12)) | (g > g_max * (1 + 1e-12))
    if np.any(bad):
        v = float(g[bad].flat[0])
        raise ParameterError(
            f"a conductance of {v:g} S is outside the {model.name} range [{g_min:g}, {g_max:g}] S: the tile cannot be "
            "written into this crossbar (use a tile device tabulated from the same compact model)"
        )
    increasing = g_hi > g_lo
    a = np.full(g.shape, lo_x)
    b = np.full(g.shape, hi_x)
    for _ in range(64):
        m = 0.5 * (a + b)
        gm = np.asarray(model.conductance(m), dtype=float)
        go_up = (gm < g) if increasing else (gm > g)
        a = np.where(go_up, m, a)
        b = np.where(go_up, b, m)
    return 0.5 * (a + b)
