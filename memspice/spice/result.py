"""The result of one simulation: named numpy arrays with units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from memspice.errors import SpiceError

#: ngspice plot names (raw-file "Plotname") mapped to our short analysis names.
_ANALYSIS_BY_PLOTNAME = {
    "operating point": "op",
    "transient analysis": "tran",
    "dc transfer characteristic": "dc",
    "ac analysis": "ac",
}

_UNIT_BY_TYPE = {"voltage": "V", "current": "A", "time": "s", "frequency": "Hz"}


def analysis_from_plotname(plotname: str) -> str:
    """Short analysis name (``op``, ``tran``, ``dc``, ``ac``) of an ngspice plot name."""
    return _ANALYSIS_BY_PLOTNAME.get(plotname.strip().lower(), plotname.strip().lower())


def unit_from_type(vector_type: str) -> str:
    """SI unit symbol of an ngspice vector type (``voltage`` -> ``V``); empty if unknown."""
    return _UNIT_BY_TYPE.get(vector_type.strip().lower(), "")


@dataclass(frozen=True)
class SimResult:
    """Vectors of one ngspice analysis, at full double precision.

    Names are lower case and follow the raw-file convention: ``v(node)`` for a
    node voltage (``v(x3_7.x)`` for a node inside subcircuit instance ``x3_7``),
    ``i(vname)`` for the current through a voltage source (flowing from its +
    node through the source to its - node, ngspice's sign), ``time`` for the
    time axis of a transient and ``v(v-sweep)`` (or the swept source) for a DC
    sweep. For ``.op`` every vector has one element.
    """

    analysis: str
    title: str
    vectors: Mapping[str, np.ndarray]
    units: Mapping[str, str] = field(default_factory=dict)
    axis: str | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        key = name.lower()
        try:
            return self.vectors[key]
        except KeyError:
            raise SpiceError(
                f"no vector named {name!r} in the {self.analysis} result; "
                f"available: {', '.join(sorted(self.vectors)[:40])}"
                + (" ..." if len(self.vectors) > 40 else "")
            ) from None

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.vectors

    def v(self, node: str) -> np.ndarray:
        """Voltage of ``node`` against ground (V); ``0`` and ``gnd`` give zeros."""
        node = node.lower()
        if node in ("0", "gnd"):
            return np.zeros(self.n_points)
        return self[f"v({node})"]

    def i(self, source: str) -> np.ndarray:
        """Current through voltage source ``source`` (A), ngspice's sign (into the + terminal)."""
        return self[f"i({source.lower()})"]

    @property
    def time(self) -> np.ndarray:
        """Time axis of a transient (s)."""
        if self.analysis != "tran":
            raise SpiceError(f"a {self.analysis} result has no time axis; run a .tran analysis")
        return self["time"]

    @property
    def sweep(self) -> np.ndarray:
        """Independent variable of a DC sweep or transient."""
        if self.axis is None:
            raise SpiceError("an operating point has no sweep axis")
        return self[self.axis]

    @property
    def n_points(self) -> int:
        first = next(iter(self.vectors.values()), np.zeros(1))
        return int(first.shape[0])

    def scalar(self, name: str) -> float:
        """The single value of an operating-point vector."""
        values = self[name]
        if values.shape[0] != 1:
            raise SpiceError(f"{name!r} has {values.shape[0]} points, not one (is this an .op result?)")
        return float(values[0])
