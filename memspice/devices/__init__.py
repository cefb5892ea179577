"""Compact memristor models: one definition, rendered to numpy, ngspice and Verilog-A.

Stage 1 of the layer order (docs/design.md): may import only the foundation modules.

>>> from memspice.devices import get_model, model_names
>>> m = get_model("vteam")                       # preset values (SI units), cited
>>> m.current(0.5, 0.2), m.dxdt(0.5, 0.2)         # doctest: +SKIP
>>> print(m.spice_subckt())                      # doctest: +SKIP

A model is written once (``memspice.devices.library``) as a
:class:`ModelDefinition`: parameters with unit, default, range and citation;
a state variable with bounds; ``i(V, X)`` and ``dX/dt`` as sympy expressions.
:class:`CompactModel` binds parameter values and renders it.

Stage 1 of the layer order, the ground floor: imports nothing of memspice but
the foundation modules (errors, names, resources, config). Running a device
in a simulator is memspice.cell's job (``memspice.cell.pulse_response``,
``drive``, ``sine_drive``); imported Verilog-A devices are memspice.external.
"""

from __future__ import annotations

from memspice.devices.compact import CompactModel
from memspice.devices.definition import Constraint, ModelDefinition, Parameter, StateVariable
from memspice.devices.library import DEFINITIONS
from memspice.devices.pulses import DriveResult, PulseResponse
from memspice.devices.stochastic import CbramModel, PcmModel
from memspice.errors import ParameterError

#: Stochastic pulse-level models (not ODE compact models): name -> class.
STOCHASTIC = {"pcm": PcmModel, "cbram": CbramModel}


def model_names() -> tuple[str, ...]:
    """Names of the continuous compact models (``CompactModel``: numpy, ngspice, Verilog-A)."""
    return tuple(DEFINITIONS)


def stochastic_model_names() -> tuple[str, ...]:
    """Names of the stochastic pulse-level models (``PcmModel``, ``CbramModel``)."""
    return tuple(STOCHASTIC)


def all_model_names() -> tuple[str, ...]:
    return model_names() + stochastic_model_names()


def get_definition(name: str) -> ModelDefinition:
    """The (parameter-symbolic) definition of continuous model ``name``."""
    try:
        factory = DEFINITIONS[name]
    except KeyError:
        raise ParameterError(
            f"unknown model {name!r}; continuous models: {', '.join(model_names())}"
            + (f" ({name!r} is a stochastic pulse model: use get_model)" if name in STOCHASTIC else "")
        ) from None
    return factory()


def get_model(name: str, **params: float):
    """Model ``name`` with its preset parameters, updated by ``params`` (SI units, checked).

    Continuous models give a :class:`CompactModel`; ``"pcm"`` and ``"cbram"``
    give the stochastic :class:`PcmModel` / :class:`CbramModel`.
    """
    if name in STOCHASTIC:
        return STOCHASTIC[name](params)
    if name not in DEFINITIONS:
        raise ParameterError(f"unknown model {name!r}; available: {', '.join(all_model_names())}")
    return CompactModel(get_definition(name), params)


__all__ = [
    "CbramModel",
    "PcmModel",
    "DriveResult",
    "PulseResponse",
    "all_model_names",
    "stochastic_model_names",
    "CompactModel",
    "Constraint",
    "ModelDefinition",
    "Parameter",
    "StateVariable",
    "get_definition",
    "get_model",
    "model_names",
]
