"""Single-device test benches: one cell driven by a waveform, in numpy or a circuit simulator.

Stage 5 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external and memspice.circuit (and the foundation modules),
nothing later.

>>> from memspice.devices import get_model
>>> from memspice.cell import pulse_response, sine_drive, loop_area
>>> m = get_model("vteam")
>>> r = pulse_response(m, 10, -0.2, 50e-9, simulator="ngspice")     # doctest: +SKIP
>>> loop_area(sine_drive(m, 0.3, 1e6))                             # doctest: +SKIP

Modules: ``testbench`` (one device along a PWL waveform: ``drive``),
``pulses`` (N pulses, state and conductance after each), ``hysteresis``
(sine-driven I-V loops and their area), ``plots`` (the figures of
``memspice models plot``), ``single_cell`` (the one-cell ngspice and VACASK
decks calibration experiments run on), ``imported_pulses`` (pulse trains on
an imported Verilog-A device in VACASK).
"""

from memspice.cell.hysteresis import loop_area, sine_drive
from memspice.cell.pulses import pulse_response
from memspice.cell.testbench import SIMULATORS, drive

__all__ = ["SIMULATORS", "drive", "loop_area", "pulse_response", "sine_drive"]
