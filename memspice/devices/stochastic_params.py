"""Parameter checks and draw-source checks shared by the stochastic pulse-level models (PCM, CBRAM)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from memspice.devices.definition import Constraint, Parameter
from memspice.errors import ParameterError


def resolve_parameters(name: str, parameters: tuple[Parameter, ...], constraints: tuple[Constraint, ...],
                       overrides: Mapping[str, float]) -> dict[str, float]:
    """Every parameter's value (the default unless overridden), checked against its range and the constraints."""
    known = {p.name: p for p in parameters}
    for key in overrides:
        if key not in known:
            raise ParameterError(f"model {name} has no parameter {key!r}; its parameters are: {', '.join(known)}")
    values = {p.name: p.check(overrides.get(p.name, p.default), name) for p in parameters}
    for c in constraints:
        if not c.holds(values):
            raise ParameterError(f"{name}: parameters must satisfy {c.text}; change them so it holds")
    return values


def parameters_digest(params: Mapping[str, float]) -> str:
    """Eight hex digits naming a parameter set (for the subcircuit name of a non-default model)."""
    return hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:8]


def require_rng(rng, where: str) -> np.random.Generator:
    """``rng`` if it is a numpy Generator, else ParameterError saying how to give one."""
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            f"{where} needs rng=numpy.random.Generator (e.g. numpy.random.default_rng(seed)) for its random draws, "
            f"got {rng!r}"
        )
    return rng
