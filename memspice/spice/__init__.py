"""Simulation backends: one interface, ngspice in a subprocess or in-process.

>>> from memspice.spice import simulate
>>> res = simulate(deck_text, backend="subprocess", timeout_s=30)   # doctest: +SKIP
>>> res.v("out"), res.i("vdd")                                     # doctest: +SKIP
"""

from memspice.spice.result import SimResult
from memspice.spice.simulator import BACKENDS, Simulator, get_simulator, ngspice_info, simulate

__all__ = ["BACKENDS", "SimResult", "Simulator", "get_simulator", "ngspice_info", "simulate"]
