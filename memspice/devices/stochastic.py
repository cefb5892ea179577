"""The stochastic pulse-level models, by name: statistical PCM (``devices.pcm``) and Poisson CBRAM (``devices.cbram``)."""

from __future__ import annotations

from memspice.devices.cbram import CbramModel
from memspice.devices.pcm import PcmModel

__all__ = ["CbramModel", "PcmModel"]
