"""Pulse-model presets: the families with the values of a cited paper (conductances 1-11 uS unless the paper gives them).

Each preset is a subclass that only changes defaults, so ``[tile] device =
"NAME"`` in a training config and a checkpoint name the paper directly. The
PCM preset takes its numbers from the device's card (``memspice.devices.pcm``)
through :class:`~memspice.surrogate.pulse_models.PCMStatistical`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from memspice.surrogate.pulse_models import ConstantStep, ExpStep, LinearStep, PCMStatistical, SoftBounds

__all__ = ["GokmenVlasov2016", "GongReRAMSoftBounds2018", "GongReRAMExpStep2018", "TangECRAM2018", "NandakumarPCM2018"]

_R_DEFAULT = 10.0e-6


@dataclass(frozen=True)
class GokmenVlasov2016(ConstantStep):
    """The RPU device specification of Gokmen & Vlasov, Front. Neurosci. 10:333 (2016), Table 1.

    Weight step 0.001 on |w| <= 0.6 (1200 steps over the bipolar range), i.e.
    600 steps over one device of a pair; 30 % device-to-device and 30 %
    cycle-to-cycle variation of the step, 2 % device-to-device up/down
    imbalance, 30 % device-to-device variation of the bound (here of G_max,
    in units of the range).
    """

    dg_up_s: float = _R_DEFAULT / 600.0
    dg_down_s: float = _R_DEFAULT / 600.0
    step_d2d_rel: float = 0.3
    c2c_rel: float = 0.3
    up_down_d2d_rel: float = 0.02
    g_max_d2d_s: float = 0.3 * _R_DEFAULT
    citation: ClassVar[str] = "Gokmen & Vlasov, Front. Neurosci. 10:333 (2016), Table 1"


@dataclass(frozen=True)
class GongReRAMSoftBounds2018(SoftBounds):
    """Soft-bounds fit to the RRAM of Gong et al., Nat. Commun. 9:2102 (2018),

    as given by aihwkit's ReRamSBPresetDevice (weight step 0.002 at the
    symmetry point on a range of 2, i.e. a centre step of R/1000 and
    dg = 2 R/1000 at the far bound; 30 % d2d step variation; cycle-to-cycle
    noise 3.75 x the centre step, additive; bound variation 0.3/1.25 and
    0.3/0.75 of the bound, here ~0.12 R on G_max).
    """

    dg_up_s: float = 2.0 * _R_DEFAULT / 1000.0
    dg_down_s: float = 2.0 * _R_DEFAULT / 1000.0
    step_d2d_rel: float = 0.3
    up_down_d2d_rel: float = 0.01
    c2c_abs_s: float = 3.75 * _R_DEFAULT / 1000.0
    g_max_d2d_s: float = 0.12 * _R_DEFAULT
    citation: ClassVar[str] = "Gong et al., Nat. Commun. 9:2102 (2018); aihwkit ReRamSBPresetDevice"


@dataclass(frozen=True)
class GongReRAMExpStep2018(ExpStep):
    """Exp-step fit to the RRAM of Gong et al., Nat. Commun. 9:2102 (2018), aihwkit ReRamESPresetDevice.

    dw_min 0.00135 on a weight range of 2 with up/down asymmetry 0.259
    (dg_up = dw (1 + 0.259), dg_down = dw (1 - 0.259)), a = b = -0.5,
    gamma = 5, A_up = -1.18445, A_down = -0.081404; 20 % d2d step variation.
    """

    dg_up_s: float = 0.00135 / 2.0 * _R_DEFAULT * (1.0 + 0.259359)
    dg_down_s: float = 0.00135 / 2.0 * _R_DEFAULT * (1.0 - 0.259359)
    a: float = -0.5
    b: float = -0.5
    gamma_up: float = 5.0
    gamma_down: float = 5.0
    A_up: float = -1.18445
    A_down: float = -0.081404
    step_d2d_rel: float = 0.2
    up_down_d2d_rel: float = 0.05
    citation: ClassVar[str] = "Gong et al., Nat. Commun. 9:2102 (2018); aihwkit ReRamESPresetDevice"


def _tang_linear_step() -> tuple[float, float, float, float]:
    # aihwkit EcRamPresetDevice (Tang et al., IEDM 2018): dw_min 0.002, w in
    # [-0.8276, 1.1724], step_up = dw (1 - gamma_up w / w_max),
    # |step_down| = dw (1 - gamma_down w / w_min). Rewritten in u = (w - w_min)/2.
    dw, w_min, w_max, g_up, g_dn = 0.002, -0.8276, 1.1724, 0.1153, 0.5085
    span = w_max - w_min
    up0 = dw * (1.0 - g_up * w_min / w_max)            # at u = 0
    up1 = dw * (1.0 - g_up * w_max / w_max)            # at u = 1
    dn1 = dw * (1.0 - g_dn * w_max / w_min)            # at u = 1
    dn0 = dw * (1.0 - g_dn * w_min / w_min)            # at u = 0
    scale = _R_DEFAULT / span
    return up0 * scale, dn1 * scale, 1.0 - up1 / up0, 1.0 - dn0 / dn1


_TANG = _tang_linear_step()


@dataclass(frozen=True)
class TangECRAM2018(LinearStep):
    """Linear-step fit to the Li-ion ECRAM of Tang et al., IEDM 2018, from aihwkit's EcRamPresetDevice.

    Converted from aihwkit's weight coordinates (dw_min 0.002, gamma_up 0.1153,
    gamma_down 0.5085 on w in [-0.8276, 1.1724]) to this class's position u;
    10 % d2d step variation, 5 % of the half range on the bounds, 30 %
    multiplicative cycle-to-cycle noise.
    """

    dg_up_s: float = _TANG[0]
    dg_down_s: float = _TANG[1]
    gamma_up: float = _TANG[2]
    gamma_down: float = _TANG[3]
    step_d2d_rel: float = 0.1
    up_down_d2d_rel: float = 0.01
    g_min_d2d_s: float = 0.0
    g_max_d2d_s: float = 0.05 * _R_DEFAULT / 2.0
    c2c_rel: float = 0.3
    citation: ClassVar[str] = "Tang et al., IEDM 2018; aihwkit EcRamPresetDevice"


@dataclass(frozen=True)
class NandakumarPCM2018(PCMStatistical):
    """The PCM of Nandakumar et al. as used in their mixed-precision training (docs/algorithms.md, "Mixed precision")."""
