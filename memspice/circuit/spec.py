"""A crossbar as a specification: size, cell, model and parameters, wires, drivers, readout, state or state range.

:class:`CrossbarSpec` is what the CLI, validate-update jobs, sweeps, energy
tables, co-simulation, the demo and in-array calibration describe a crossbar
with; :meth:`CrossbarSpec.build` turns it into the :class:`~memspice.circuit.Crossbar`
value, the one place where wire overrides and initial states are resolved:

* ``states`` (an array) -- exactly these states;
* ``state`` -- every cell at this state;
* ``state_range = (lo, hi)`` -- uniform random states from
  ``rng.uniform(lo, hi, size=(rows, cols))`` (one draw of the generator,
  nothing else); ``state_range = "model"`` draws over the model's whole range;
* none of them -- every cell at the model's ``x0_default``.

:meth:`CrossbarSpec.from_table` reads the keys of a TOML table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from memspice.circuit.crossbar import Crossbar, Readout
from memspice.errors import ParameterError
from memspice.inputs import check_allocation, positive_int

__all__ = ["CrossbarSpec", "MODEL_RANGE"]

#: ``state_range`` value: uniform over the model's whole state range [x_min, x_max]
MODEL_RANGE = "model"

#: memory one cell of a crossbar takes while it is read or written, nodal solver and deck writer included
#: (bytes; measured peak resident size: 64x64 -> 256x256 and 256x256 -> 512x512 reads with 1 ohm wires
#: grew by 3.0 and 3.6 kB a cell); the estimate made before anything is allocated
BYTES_PER_CELL = 4096

_TABLE_KEYS = ("rows", "cols", "cell", "model", "model_params", "wire_ohm", "row_wire_ohm", "col_wire_ohm",
               "contact_ohm", "driver_ohm", "readout", "state", "state_range")


@dataclass(frozen=True, eq=False)
class CrossbarSpec:
    """How to build a crossbar (see the module docstring for the state rules).

    ``model``: a model name (memspice.devices) with ``model_params``
    overrides (SI), or a compact-model object (then ``model_params`` must be
    empty). ``wire_ohm``: one row and one column segment;
    ``row_wire_ohm`` / ``col_wire_ohm`` override it per direction.
    """

    rows: int = 8
    cols: int = 8
    cell: str = "1R"
    model: object = "vteam"
    model_params: Mapping = dataclasses.field(default_factory=dict)
    wire_ohm: float = 0.0
    row_wire_ohm: float | None = None
    col_wire_ohm: float | None = None
    contact_ohm: float = 0.0
    driver_ohm: float = 0.0
    readout: str = "virtual_ground"
    state: float | None = None
    state_range: tuple | str | None = None
    states: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.states is None:
            rows, cols = positive_int(self.rows, "crossbar rows"), positive_int(self.cols, "crossbar cols")
            object.__setattr__(self, "rows", rows)
            object.__setattr__(self, "cols", cols)
            check_allocation(rows * cols * BYTES_PER_CELL, f"a {rows}x{cols} crossbar ({rows * cols} cells)",
                             "use fewer rows or columns")
        given = [n for n in ("state", "state_range", "states") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ParameterError(f"give one of state, state_range or states, not {' and '.join(given)}")
        if self.state_range is not None and self.state_range != MODEL_RANGE:
            try:
                lo, hi = (float(a) for a in self.state_range)
            except (TypeError, ValueError):
                raise ParameterError(f"state_range = {self.state_range!r}: give [low, high] or {MODEL_RANGE!r}") from None
        if not isinstance(self.model, str) and self.model_params:
            raise ParameterError("model_params go with a model name; a model object carries its own parameters")

    @property
    def shape(self) -> tuple[int, int]:
        if self.states is not None:
            return tuple(np.shape(self.states))
        return (int(self.rows), int(self.cols))

    def build_model(self):
        """The device model: the object given, or the built-in or imported model of that name
        (:func:`memspice.external.registry.resolve_model`)."""
        if not isinstance(self.model, str):
            return self.model
        from memspice.external.registry import resolve_model

        return resolve_model(self.model, self.model_params)

    def initial_states(self, model, rng: np.random.Generator | None = None) -> np.ndarray:
        """(rows, cols) initial states by the rules of the module docstring (one rng draw for a range)."""
        shape = self.shape
        if self.states is not None:
            return np.asarray(self.states, dtype=float)
        if self.state is not None:
            return np.full(shape, float(self.state))
        if self.state_range is None:
            return np.full(shape, float(model.x0_default))
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("random initial states (state_range) need rng = numpy.random.default_rng(seed)")
        lo, hi = (model.x_min, model.x_max) if self.state_range == MODEL_RANGE else (float(a) for a in self.state_range)
        return rng.uniform(lo, hi, size=shape)

    def build(self, rng: np.random.Generator | None = None, *, model=None) -> Crossbar:
        """The Crossbar value. ``rng``: drawn from for a ``state_range`` only. ``model``: an already built model."""
        model = self.build_model() if model is None else model
        states = self.initial_states(model, rng)
        row_w = self.wire_ohm if self.row_wire_ohm is None else self.row_wire_ohm
        col_w = self.wire_ohm if self.col_wire_ohm is None else self.col_wire_ohm
        return Crossbar(model, states, cell=self.cell, row_wire_ohm=row_w, col_wire_ohm=col_w,
                        contact_ohm=self.contact_ohm, driver_ohm=self.driver_ohm, readout=Readout(kind=self.readout))

    def replace(self, **changes) -> "CrossbarSpec":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_table(cls, table: Mapping, **defaults) -> "CrossbarSpec":
        """A spec from the keys of a TOML table (see :data:`_TABLE_KEYS`); ``defaults`` fill keys it leaves out.

        A list ``state_range`` becomes a (low, high) tuple. Unknown keys are a
        ParameterError naming the known ones.
        """
        unknown = sorted(set(table) - set(_TABLE_KEYS))
        if unknown:
            raise ParameterError(f"unknown crossbar key(s) {', '.join(unknown)}; the keys are {', '.join(_TABLE_KEYS)}")
        kw = {**defaults, **table}
        if isinstance(kw.get("state_range"), list):
            kw["state_range"] = tuple(kw["state_range"])
        return cls(**kw)
