"""What a transient keeps in its result: a value both deck writers turn into their own save statements.

A full-array transient that keeps every node at every time point is large
(a 32 x 32 array: hundreds of MB of raw file), so a job that reads only a
few vectors says which ones, and the writer spells them (ngspice ``.save``
cards, VACASK ``save`` items). ``None`` for a deck's saves keeps each
writer's default (ngspice: every vector; VACASK: the nodes and currents
the readers use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.errors import ParameterError

__all__ = ["Saves"]


def _cells(name: str, cells) -> tuple[tuple[int, int], ...] | None:
    if cells is None:
        return None
    out = []
    for c in cells:
        try:
            i, j = (int(x) for x in c)
        except (TypeError, ValueError):
            raise ParameterError(f"Saves.{name}: give (row, col) pairs, got {c!r}") from None
        out.append((i, j))
    return tuple(out)


@dataclass(frozen=True)
class Saves:
    """The vectors a transient keeps.

    ``currents``: element names of sources whose current is kept (lower case,
    e.g. ``"vcol3"``); None = every line and gate source. ``states``: cells
    (row, col) whose device state is kept; None = every cell.
    ``cell_voltages``: cells whose two device terminals are kept (the device
    voltage); ``time`` is always kept.
    """

    currents: tuple[str, ...] | None = None
    states: tuple[tuple[int, int], ...] | None = None
    cell_voltages: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if self.currents is not None:
            object.__setattr__(self, "currents", tuple(str(c).lower() for c in self.currents))
        object.__setattr__(self, "states", _cells("states", self.states))
        object.__setattr__(self, "cell_voltages", _cells("cell_voltages", self.cell_voltages) or ())

    def source_names(self, net) -> list[str]:
        """The kept source currents of element table ``net`` (lower-case element names)."""
        if self.currents is not None:
            return list(self.currents)
        return ([f"vrow{i}" for i in net.row_source] + [f"vcol{j}" for j in net.col_source]
                + [f"vgate{i}" for i in net.gate_source])

    def state_cells(self, rows: int, cols: int) -> list[tuple[int, int]]:
        if self.states is not None:
            return list(self.states)
        return [(i, j) for i in range(rows) for j in range(cols)]

    def terminal_nodes(self, net) -> list[str]:
        """Node names of the kept cells' device terminals, sorted, ground left out."""
        nodes = set()
        for i, j in self.cell_voltages:
            nodes.update((net.name(net.device_p[i, j]), net.name(net.device_n[i, j])))
        return [n for n in sorted(nodes) if n != "0"]

    @classmethod
    def of_cells(cls, selected, *, currents=None, states=None) -> "Saves":
        """Saves with the device voltages of the cells where boolean ``selected`` (rows, cols) is true."""
        return cls(currents=currents, states=states, cell_voltages=tuple(map(tuple, np.argwhere(selected))))
