"""Crossbar circuits: the crossbar value, stimuli, graph checks, the SPICE writer and the nodal solver.

Stage 4 of the layer order (docs/design.md): may import memspice.devices, memspice.spice
and memspice.external (and the foundation modules), nothing later.

>>> import numpy as np
>>> from memspice.devices import get_model
>>> from memspice.circuit import Crossbar, ReadStimulus, read, solve_read
>>> xb = Crossbar(get_model("vteam"), np.full((32, 32), 0.5), row_wire_ohm=2.5, col_wire_ohm=2.5)
>>> res = read(xb, ReadStimulus(np.full(32, 0.01)), solver="nodal")      # or solver="ngspice"
>>> res.i_cols_a.shape, res.v_cells_v.shape
((1, 32), (1, 32, 32))
>>> solve_read(np.full((4, 3), 1e-4), np.ones((8, 4)) * 0.1, row_wire_ohm=1.0).i_cols_a.shape   # a surrogate's G
(8, 3)
"""

from memspice.circuit.crossbar import AccessTransistor, Crossbar, Readout
from memspice.circuit.network import ElementTable, Topology, build_elements, check_graph, to_graph
from memspice.circuit.nodal import NodalSolver, solve_read
from memspice.circuit.results import ReadResult, WriteResult
from memspice.circuit.run import read, write
from memspice.circuit.saves import Saves
from memspice.circuit.schedule import CoincidenceDraw, PulseSchedule, coincidence_schedule, draw_coincidence, write_schedule
from memspice.circuit.spice_writer import write_netlist
from memspice.circuit.stimulus import (
    BIAS, SENSE, CoincidenceTrain, Drive, PulseShape, ReadStimulus, Waveform, WriteScheme, bernoulli_trains,
)
from memspice.circuit.transient import Transient, transient

__all__ = [
    "AccessTransistor", "BIAS", "CoincidenceDraw", "CoincidenceTrain", "Crossbar", "Drive", "ElementTable", "NodalSolver",
    "PulseSchedule", "PulseShape", "ReadResult", "ReadStimulus", "Readout", "SENSE", "Saves", "Topology", "Transient",
    "Waveform", "WriteResult", "WriteScheme", "bernoulli_trains", "build_elements", "check_graph",
    "coincidence_schedule", "draw_coincidence", "read", "solve_read", "to_graph", "transient", "write",
    "write_netlist", "write_schedule",
]
