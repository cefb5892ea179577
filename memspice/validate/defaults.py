"""The default device and pulses of validate-update, the co-simulation checkpoints and the demo (one place).

VTEAM (Kvatinsky et al. 2015; the preset's MemTorch values) with the ON
speed k_on slowed 1000x (-10 -> -0.01 m/s), so that 50 ns pulses move the
state by about 1 % of its range instead of switching it fully. Amplitudes:
-0.27 V raises the conductance (ON) and +0.038 V lowers it (OFF); their
halves, -0.135 V and +0.019 V, stay inside the thresholds v_on = -0.2 V
and v_off = +0.02 V, so a V/2 scheme leaves half-selected cells alone --
until IR drop or a larger amplitude says otherwise, which is what the
validation measures. State change per pulse (numpy, Eq. 1): about 0.8 % of
the range in each direction.
"""

from __future__ import annotations

MODEL = "vteam"
MODEL_PARAMS = {"k_on_m_per_s": -0.01}
AMPLITUDE_UP_V = -0.27
AMPLITUDE_DOWN_V = 0.038
WIDTH_S = 50e-9
EDGE_S = 5e-9
