"""The model-definition value: parameters, state, and the two equations, written once.

A :class:`ModelDefinition` is what a model author writes (see
``memspice.devices.library``): parameters with unit, default, allowed range and
citation; one state variable with its bounds; the terminal current
``i(V, X)`` and the state equation ``dX/dt = f(V, X)`` as sympy expressions in
the symbols :data:`~memspice.devices.expressions.V`, :data:`~memspice.devices.expressions.X`
and the parameters' symbols. Everything else (numpy functions, ngspice
subcircuit, Verilog-A module, TOML card) is rendered from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from memspice.errors import ParameterError


#: Names the renderers use for ports, nodes and variables; no parameter may take them.
RESERVED_NAMES = frozenset({"p", "n", "xs", "x", "x0", "v_pn", "i_pn", "dxdt", "state", "time"})



def interval_text(low: float | None, high: float | None, low_inclusive: bool, high_inclusive: bool) -> str:
    """A range in interval notation, e.g. ``(0, inf)`` or ``[0, 1]``; None = unbounded on that side."""
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "[" if low is not None and low_inclusive else "("
    right = "]" if high is not None and high_inclusive else ")"
    return f"{left}{lo}, {hi}{right}"

@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    ``default`` is in SI units (the unit string says which); ``low``/``high``
    bound the allowed range (None: unbounded on that side) and
    ``low_inclusive``/``high_inclusive`` say whether the bound itself is allowed.
    ``citation`` says where the default comes from (paper, table/equation).
    """

    name: str
    default: float
    unit: str
    description: str
    citation: str = ""
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = False
    high_inclusive: bool = False

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, real=True)

    def range_text(self) -> str:
        """The allowed range in interval notation, e.g. ``(0, inf)`` or ``[0, 1]``."""
        return interval_text(self.low, self.high, self.low_inclusive, self.high_inclusive)

    def check(self, value: float, model: str) -> float:
        """``value`` as a float, or ParameterError naming the model, parameter, value and range."""
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{model}: parameter {self.name} must be a number in {self.range_text()} {self.unit}, got {value!r}"
            ) from None
        ok = math.isfinite(value)
        if ok and self.low is not None:
            ok = value >= self.low if self.low_inclusive else value > self.low
        if ok and self.high is not None:
            ok = value <= self.high if self.high_inclusive else value < self.high
        if not ok:
            raise ParameterError(
                f"{model}: parameter {self.name} = {value!r} {self.unit} is outside its allowed range "
                f"{self.range_text()} ({self.description}); pick a value inside the range"
            )
        return value


@dataclass(frozen=True)
class StateVariable:
    """The model's state variable X and its bounds [x_min, x_max].

    ``unit`` is "1" for a normalised state. ``description`` says what X means
    physically (e.g. "w/D, doped-region width over device thickness").
    """

    name: str
    x_min: float
    x_max: float
    unit: str
    description: str

    def __post_init__(self):
        if not self.x_min < self.x_max:
            raise ParameterError(f"state {self.name}: x_min {self.x_min} must be below x_max {self.x_max}")


@dataclass(frozen=True)
class Constraint:
    """A relation between parameters, e.g. r_on_ohm < r_off_ohm.

    ``holds(params)`` returns True when satisfied; ``text`` is shown in the
    error (it names the parameters and the required relation).
    """

    text: str
    holds: Callable[[Mapping[str, float]], bool]


@dataclass(frozen=True)
class Characterisation:
    """Typical drive for a model's plots and checks (not physics; a sensible stimulus).

    ``sine_amplitude_v`` at ``sine_frequency_hz`` traces a pinched loop that
    moves the state visibly; ``pulse_up_v``/``pulse_down_v`` with flat top
    ``pulse_width_s`` move the state up/down by roughly 0.5-3 % of the range
    per pulse from mid-range.
    """

    sine_amplitude_v: float
    sine_frequency_hz: float
    pulse_up_v: float
    pulse_down_v: float
    pulse_width_s: float


@dataclass(frozen=True)
class ModelDefinition:
    """One compact model, written once.

    ``current`` is i(V, X) in amperes, ``dxdt`` is dX/dt in state units per
    second, both sympy expressions in ``expressions.V``, ``expressions.X`` and
    the parameter symbols. ``v_read_v`` is the default read voltage (small
    enough not to disturb the state over a read). ``spice_title`` heads the
    rendered files. ``x0_default`` is the initial state an instance gets when
    none is given.
    """

    name: str
    title: str
    citation: str
    description: str
    parameters: tuple[Parameter, ...]
    state: StateVariable
    current: sp.Expr
    dxdt: sp.Expr
    v_read_v: float
    x0_default: float
    characterisation: Characterisation | None = None
    constraints: tuple[Constraint, ...] = ()
    notes: str = ""

    def __post_init__(self):
        from memspice.devices.expressions import V, X
        from memspice.names import check_netlist_name

        check_netlist_name(self.name, "model name")  # it becomes the .subckt / module name

        known = {V, X} | {p.symbol for p in self.parameters}
        for label, expr in (("current", self.current), ("dxdt", self.dxdt)):
            unknown = set(sp.sympify(expr).free_symbols) - known
            if unknown:
                raise ParameterError(
                    f"model {self.name}: the {label} expression uses undeclared symbols "
                    f"{sorted(map(str, unknown))}; declare them as Parameters"
                )
        names = [p.name for p in self.parameters]
        clash = set(names) & RESERVED_NAMES
        if clash:
            raise ParameterError(
                f"model {self.name}: parameter names {sorted(clash)} are reserved by the renderers "
                f"(ports, state node, variables: {sorted(RESERVED_NAMES)}); rename them"
            )
        if len(set(names)) != len(names):
            raise ParameterError(f"model {self.name}: duplicate parameter names in {names}")

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ParameterError(
            f"model {self.name} has no parameter {name!r}; its parameters are: {', '.join(self.parameter_names)}"
        )

    def resolve(self, overrides: Mapping[str, float]) -> dict[str, float]:
        """Defaults updated with ``overrides``, every value checked against its range and the constraints."""
        for name in overrides:
            self.parameter(name)  # unknown name -> ParameterError listing the known ones
        values = {p.name: p.check(overrides.get(p.name, p.default), self.name) for p in self.parameters}
        for constraint in self.constraints:
            if not constraint.holds(values):
                involved = ", ".join(f"{n}={values[n]:g}" for n in values if n in constraint.text)
                raise ParameterError(
                    f"{self.name}: parameters must satisfy {constraint.text}, got {involved}; change them so it holds"
                )
        return values
