"""Expression building blocks and the two text printers (ngspice B-source, Verilog-A).

A model's equations are sympy expressions in two free variables, the terminal
voltage ``V`` (volts, p minus n) and the normalised state ``X``, plus the
model's parameter symbols. This module holds:

* the smooth building blocks the model library uses (``ramp``, the bound
  ``guard``), written so that every renderer sees the same function;
* ``NgspicePrinter``: prints an expression as an ngspice 39 B-source expression;
* ``VerilogAPrinter``: prints it as a Verilog-A (LRM 2.4) real expression.

Both printers derive from sympy's C99 printer, which already knows operator
precedence; they only change what differs in the target language:

* ngspice evaluates ``pow(a, b)`` and ``a^b`` as ``|a|^b`` (ngspice 39 prints
  ``pow(-2, 3) = 8``), so integer powers are printed as products and a real
  power is only ever printed for a base the model keeps non-negative;
* natural log is ``ln`` in both targets (``log`` is log10 in Verilog-A);
* ``Abs`` is ``abs``; ``Piecewise`` is a nested, fully parenthesised ternary
  on one line (both languages have ``c ? a : b``).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.c import C99CodePrinter

#: Terminal voltage v(p, n) in volts.
V = sp.Symbol("V", real=True)
#: Normalised state variable (see each model's ``StateVariable``).
X = sp.Symbol("X", real=True)


class Ramp(sp.Function):
    """ramp(z) = max(z, 0): continuous, exactly 0 below 0 (so a real power of it is defined).

    Printed as ``max(z, 0.0)`` (ngspice and Verilog-A both have ``max``) and
    evaluated with ``numpy.maximum``; its derivative is the Heaviside step.
    """

    nargs = 1
    is_real = True

    def fdiff(self, argindex=1):
        return Step(self.args[0])

    @classmethod
    def eval(cls, z):
        if z.is_number:
            return sp.Max(z, 0)
        return None


class Step(sp.Function):
    """Unit step, 1 for z > 0 else 0: the derivative of :class:`Ramp`.

    Only the numpy Jacobian uses it (the text renderers never differentiate);
    it is its own function rather than sympy's Heaviside because lambdify
    prints Heaviside through a Piecewise whose condition simplification takes
    minutes on the larger models.
    """

    nargs = 1
    is_real = True

    def fdiff(self, argindex=1):
        return sp.Integer(0)


def ramp(z: sp.Expr) -> sp.Expr:
    """max(z, 0) as a :class:`Ramp` (one function, the same in every renderer)."""
    return Ramp(z)


#: Names lambdify needs for the functions defined here.
NUMPY_FUNCTIONS = {
    "Ramp": lambda z: np.maximum(z, 0.0),
    "Step": lambda z: np.greater(z, 0.0).astype(float),
}


def guard_up(x: sp.Expr, x_max: float, width: float) -> sp.Expr:
    """Smooth factor that stops upward motion at ``x_max``: 1 - exp(-(x_max - x)/width).

    It is ~1 more than a few ``width`` below the bound (1 - e^-10 at 10 widths),
    falls linearly to 0 at the bound and turns negative (restoring) beyond it,
    so the state cannot cross ``x_max`` yet is never clamped: the factor only
    multiplies motion *towards* the bound, motion away from it is unaffected,
    so a state at the bound can always leave it (no boundary lock).
    """
    return 1 - sp.exp(-(x_max - x) / width)


def guard_down(x: sp.Expr, x_min: float, width: float) -> sp.Expr:
    """Mirror of :func:`guard_up` for the lower bound."""
    return 1 - sp.exp(-(x - x_min) / width)


def directional(rate: sp.Expr, up: sp.Expr, down: sp.Expr) -> sp.Expr:
    """``rate*up`` where rate > 0 and ``rate*down`` where rate < 0, continuous at rate = 0.

    Written with ramps instead of a branch: max(rate,0)*up - max(-rate,0)*down.
    This is how a window that depends on the direction of motion (Biolek's
    stp(-i), the bound guards) is expressed without a discontinuity.
    """
    return ramp(rate) * up - ramp(-rate) * down


class _TextPrinter(C99CodePrinter):
    """Shared part: one-line ternaries, products for integer powers, ``ln``, ``abs``."""

    _function_names: dict[str, str] = {}

    def __init__(self, symbol_names: dict[sp.Symbol, str], settings=None):
        super().__init__(settings or {})
        self._symbol_names = symbol_names

    def _print_Symbol(self, expr):
        if expr in self._symbol_names:
            return self._symbol_names[expr]
        raise KeyError(f"symbol {expr} has no name in the target language")

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Integer(self, expr):
        return repr(float(expr))

    def _print_Rational(self, expr):
        return repr(float(expr))

    def _print_Pow(self, expr):
        base, exp = expr.as_base_exp()
        if exp.is_Integer or (exp.is_Number and float(exp).is_integer()):
            n = int(exp)
            b = self.parenthesize(base, 1000)  # atom-tight parentheses
            if n == 0:
                return "1.0"
            if 0 < n <= 8:
                return "(" + "*".join([b] * n) + ")"
            if -8 <= n < 0:
                return "(1.0/(" + "*".join([b] * (-n)) + "))"
        if exp == sp.Rational(1, 2):
            return f"sqrt({self._print(base)})"
        return self._real_power(base, exp)

    def _real_power(self, base, exp):
        return f"pow({self._print(base)}, {self._print(exp)})"

    def _print_Ramp(self, expr):
        return f"max({self._print(expr.args[0])}, 0.0)"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_log(self, expr):
        return f"ln({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr):
        if expr.args[-1].cond != sp.true:
            raise ValueError("a Piecewise must end with an otherwise-branch (cond True) to render")
        text = self._print(expr.args[-1].expr)
        for piece in reversed(expr.args[:-1]):
            text = f"(({self._print(piece.cond)}) ? ({self._print(piece.expr)}) : ({text}))"
        return text

    def _print_Function(self, expr):  # exp, sinh, ... keep their names
        return super()._print_Function(expr)


class NgspicePrinter(_TextPrinter):
    """ngspice 39 B-source expression syntax."""

    def _real_power(self, base, exp):
        # ngspice's pow(a, b) is |a|^b; the model library only raises
        # non-negative bases (ramp outputs, positive parameters) to real powers.
        return f"pow({self._print(base)}, {self._print(exp)})"


class VerilogAPrinter(_TextPrinter):
    """Verilog-A real expression syntax (ln, pow, abs, ?:)."""


def to_ngspice(expr: sp.Expr, symbol_names: dict[sp.Symbol, str]) -> str:
    """``expr`` as an ngspice B-source expression; ``symbol_names`` maps every free symbol to its text."""
    return NgspicePrinter(symbol_names).doprint(expr)


def to_verilog_a(expr: sp.Expr, symbol_names: dict[sp.Symbol, str]) -> str:
    """``expr`` as a Verilog-A expression; ``symbol_names`` maps every free symbol to its text."""
    return VerilogAPrinter(symbol_names).doprint(expr)
