"""Simulation backends: one interface, ngspice in a subprocess or in-process.

Stage 2 of the layer order (docs/design.md): may import memspice.devices (and the
foundation modules), nothing later.

>>> from memspice.spice import RunSettings, simulate
>>> res = simulate(deck_text, RunSettings(backend="subprocess", timeout_s=30))   # doctest: +SKIP
>>> res.v("out"), res.i("vdd")                                     # doctest: +SKIP
"""

from memspice.spice.result import SimResult
from memspice.spice.settings import BACKENDS, DEFAULT_TIMEOUT_S, ENGINES, RunSettings, check_settings, settings_or_default
from memspice.spice.simulator import Simulator, get_simulator, ngspice_info, simulate

__all__ = ["BACKENDS", "DEFAULT_TIMEOUT_S", "ENGINES", "RunSettings", "SimResult", "Simulator", "get_simulator",
           "ngspice_info", "check_settings", "settings_or_default", "simulate"]
