"""The parametric pulse-update families: ConstantStep, LinearStep, SoftBounds, ExpStep, PowerStep, PCMStatistical.

Each is a frozen dataclass on :class:`~memspice.surrogate.pulse_base.PulseModel`
(the position u, step factors and cycle-to-cycle noise are described there);
the equations are in each class docstring. Tabulated lives in
``memspice.surrogate.tabulated``, the cited presets in
``memspice.surrogate.presets``, the n-pulse update in
``memspice.surrogate.pulse_counts``. The affine families (ConstantStep,
LinearStep, SoftBounds, PCMStatistical) have a closed-form n-pulse update.
PCMStatistical's defaults are the PCM device's card (``memspice.devices.pcm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.devices.pcm import PCM_DEFAULTS
from memspice.errors import ParameterError
from memspice.surrogate.pulse_base import DeviceDraws, PulseModel, require_positive, require_step_below_range

__all__ = [
    "PulseModel",
    "DeviceDraws",
    "ConstantStep",
    "LinearStep",
    "SoftBounds",
    "ExpStep",
    "PowerStep",
    "PCMStatistical",
]

_PCM = PCM_DEFAULTS


# ---------------------------------------------------------------------------
# the parametric families


@dataclass(frozen=True)
class ConstantStep(PulseModel):
    """Constant step: dG_up = +dg_up_s, dG_down = -dg_down_s, hard bounds.

    Gokmen & Vlasov, Front. Neurosci. 10:333 (2016), the RPU device.
    """

    dg_up_s: float = 10.0e-9
    """Step of one potentiation pulse, dg_up (S)."""
    dg_down_s: float = 10.0e-9
    """Magnitude of the step of one depression pulse, dg_down (S)."""

    affine: ClassVar[bool] = True
    citation: ClassVar[str] = "Gokmen & Vlasov, Front. Neurosci. 10:333 (2016)"

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "dg_up_s", "dg_down_s")
        require_step_below_range(self, max(self.dg_up_s, self.dg_down_s))

    def mean_step_s(self, u, up, lo_s, range_s):
        return np.where(up, self.dg_up_s, -self.dg_down_s) * np.ones_like(u)

    def affine_coeffs_s(self, up, lo_s, range_s):
        a = np.where(up, self.dg_up_s, -self.dg_down_s)
        z = np.zeros_like(a)
        return a, z, z, z


@dataclass(frozen=True)
class LinearStep(PulseModel):
    """Step linear in the position u (aihwkit's LinearStepDevice, Rasch et al., AICAS 2021):

        dG_up   = +dg_up_s   * (1 - gamma_up * u)
        dG_down = -dg_down_s * (1 - gamma_down * (1 - u))

    gamma = 0 is a constant step, gamma = 1 soft bounds; with gamma < 1 the
    device reaches its hard bound with a step of dg (1 - gamma).
    """

    dg_up_s: float = 10.0e-9
    """Potentiation step at the lower bound (u = 0), dg_up (S)."""
    dg_down_s: float = 10.0e-9
    """Depression step magnitude at the upper bound (u = 1), dg_down (S)."""
    gamma_up: float = 0.5
    """Relative decrease of the potentiation step from u = 0 to u = 1, gamma_up (1)."""
    gamma_down: float = 0.5
    """Relative decrease of the depression step from u = 1 to u = 0, gamma_down (1)."""

    affine: ClassVar[bool] = True
    citation: ClassVar[str] = "Rasch et al., AICAS 2021 (aihwkit LinearStepDevice)"

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "dg_up_s", "dg_down_s")
        require_step_below_range(self, max(self.dg_up_s, self.dg_down_s) * (1 + max(abs(self.gamma_up), abs(self.gamma_down))))

    def mean_step_s(self, u, up, lo_s, range_s):
        return np.where(
            up,
            self.dg_up_s * (1.0 - self.gamma_up * u),
            -self.dg_down_s * (1.0 - self.gamma_down * (1.0 - u)),
        )

    def affine_coeffs_s(self, up, lo_s, range_s):
        a = np.where(up, self.dg_up_s, -self.dg_down_s * (1.0 - self.gamma_down))
        b = np.where(up, -self.dg_up_s * self.gamma_up, -self.dg_down_s * self.gamma_down)
        z = np.zeros_like(a)
        return a, b, z, z

    @classmethod
    def from_exponential_levels(cls, n_levels: float, nonlinearity: float, **kw) -> "LinearStep":
        """The saturating-exponential device of NeuroSim / binary stochastic learning (docs/algorithms.md, "Binary stochastic learning"):

            dG = [(G_max - G_min) / (1 - e^-alpha) - (G - G_min)] (1 - e^(-alpha/N))

        is affine in G, i.e. a LinearStep with dg = R (1 - e^(-alpha/N)) / (1 - e^-alpha)
        and gamma = 1 - e^-alpha (mirrored for depression). ``n_levels`` = N
        pulses from bound to bound, ``nonlinearity`` = alpha > 0. The noise
        factor (1 + gamma_c2c xi) of that paper is ``c2c_rel``.
        """
        if not (n_levels >= 1 and nonlinearity > 0):
            raise ParameterError(
                f"from_exponential_levels(n_levels={n_levels!r}, nonlinearity={nonlinearity!r}): "
                "need n_levels >= 1 and nonlinearity > 0."
            )
        g_min = kw.get("g_min_s", cls.g_min_s)
        g_max = kw.get("g_max_s", cls.g_max_s)
        r = g_max - g_min
        dg = r * -np.expm1(-nonlinearity / n_levels) / -np.expm1(-nonlinearity)
        gamma = float(-np.expm1(-nonlinearity))
        return cls(dg_up_s=dg, dg_down_s=dg, gamma_up=gamma, gamma_down=gamma, **kw)


@dataclass(frozen=True)
class SoftBounds(PulseModel):
    """Soft bounds: the step shrinks linearly to zero at the bound it moves towards,

        dG_up   = +dg_up_s   * (1 - u) = dg_up_s   (hi - G) / (hi - lo)
        dG_down = -dg_down_s * u       = -dg_down_s (G - lo) / (hi - lo)

    so the mean after n up pulses is hi - (hi - G0) (1 - dg_up/(hi - lo))^n
    (Fusi & Abbott, Nat. Neurosci. 2005; aihwkit SoftBoundsDevice).
    """

    dg_up_s: float = 20.0e-9
    """Potentiation step at the lower bound (u = 0), dg_up (S); dw_min at the centre is half of it."""
    dg_down_s: float = 20.0e-9
    """Depression step magnitude at the upper bound (u = 1), dg_down (S)."""

    affine: ClassVar[bool] = True
    citation: ClassVar[str] = "Fusi & Abbott, Nat. Neurosci. 8:485 (2005); Rasch et al., AICAS 2021"

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "dg_up_s", "dg_down_s")
        require_step_below_range(self, max(self.dg_up_s, self.dg_down_s))

    def mean_step_s(self, u, up, lo_s, range_s):
        return np.where(up, self.dg_up_s * (1.0 - u), -self.dg_down_s * u)

    def affine_coeffs_s(self, up, lo_s, range_s):
        a = np.where(up, self.dg_up_s, 0.0)
        b = np.where(up, -self.dg_up_s, -self.dg_down_s)
        z = np.zeros_like(a)
        return a, b, z, z


@dataclass(frozen=True)
class ExpStep(PulseModel):
    """Exponential step (aihwkit ExpStepDevice, Rasch et al., AICAS 2021):

        z       = a (2u - 1) + b
        dG_up   = +dg_up_s   * max(1 - A_up   * exp(+gamma_up   * z), 0)
        dG_down = -dg_down_s * max(1 - A_down * exp(-gamma_down * z), 0)

    For a symmetric weight range z equals aihwkit's 2 a w / (w_max - w_min) + b.
    """

    dg_up_s: float = 10.0e-9
    """Potentiation step prefactor, dg_up (S)."""
    dg_down_s: float = 10.0e-9
    """Depression step prefactor, dg_down (S)."""
    a: float = -0.5
    """Slope of z in the position, a (1)."""
    b: float = -0.5
    """Offset of z, b (1)."""
    gamma_up: float = 5.0
    """Exponent rate of the potentiation step, gamma_up (1)."""
    gamma_down: float = 5.0
    """Exponent rate of the depression step, gamma_down (1)."""
    A_up: float = -1.0
    """Amplitude of the exponential term of potentiation, A_up (1)."""
    A_down: float = -0.1
    """Amplitude of the exponential term of depression, A_down (1)."""

    citation: ClassVar[str] = "Rasch et al., AICAS 2021 (aihwkit ExpStepDevice)"

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "dg_up_s", "dg_down_s")
        worst = max(
            self.nominal_step_s(u, up) * (1 if up else -1) for u in (0.0, 0.5, 1.0) for up in (True, False)
        )
        require_step_below_range(self, worst)

    def mean_step_s(self, u, up, lo_s, range_s):
        z = self.a * (2.0 * u - 1.0) + self.b
        s_up = self.dg_up_s * np.maximum(1.0 - self.A_up * np.exp(self.gamma_up * z), 0.0)
        s_down = self.dg_down_s * np.maximum(1.0 - self.A_down * np.exp(-self.gamma_down * z), 0.0)
        return np.where(up, s_up, -s_down)


@dataclass(frozen=True)
class PowerStep(PulseModel):
    """Power-law step (aihwkit PowStepDevice, Rasch et al., AICAS 2021):

        dG_up   = +dg_up_s   * (1 - u)^gamma_up
        dG_down = -dg_down_s * u^gamma_down

    gamma = 1 is soft bounds; gamma < 1 keeps the step larger near the bound.
    """

    dg_up_s: float = 20.0e-9
    """Potentiation step at the lower bound, dg_up (S)."""
    dg_down_s: float = 20.0e-9
    """Depression step magnitude at the upper bound, dg_down (S)."""
    gamma_up: float = 2.0
    """Exponent of the potentiation step, gamma_up (1), > 0."""
    gamma_down: float = 2.0
    """Exponent of the depression step, gamma_down (1), > 0."""

    citation: ClassVar[str] = "Rasch et al., AICAS 2021 (aihwkit PowStepDevice)"

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "dg_up_s", "dg_down_s", "gamma_up", "gamma_down")
        require_step_below_range(self, max(self.dg_up_s, self.dg_down_s))

    def mean_step_s(self, u, up, lo_s, range_s):
        uc = np.clip(u, 0.0, 1.0)  # position outside the bounds: step of the bound itself
        return np.where(up, self.dg_up_s * (1.0 - uc) ** self.gamma_up, -self.dg_down_s * uc**self.gamma_down)


@dataclass(frozen=True)
class PCMStatistical(PulseModel):
    """Statistical PCM model (Nandakumar et al., arXiv 1712.01192; docs/algorithms.md, "Mixed precision").

    Only SET (potentiation) pulses are gradual, so the device is unipolar:
    a differential pair is updated by SET pulses on G+ (W up) or G- (W down).

        mean dG = mean_offset_s + mean_slope * G
        std  dG = std_offset_s  + std_slope  * G

    with G in S on [g_min_s, g_max_s]. The defaults are the PCM device's card
    (``memspice.devices.pcm.PCM_PARAMETERS``, also ``models/pcm.toml``). The
    mean step vanishes at G* = -mean_offset_s / mean_slope (10.6 µS with the
    card's values), so repeated SET pulses settle there with a spread set by the std.
    """

    g_min_s: float = _PCM["g_min_s"]
    g_max_s: float = _PCM["g_max_s"]
    mean_offset_s: float = _PCM["mean_offset_s"]
    """Mean SET increment at G = 0 (S)."""
    mean_slope: float = _PCM["mean_slope"]
    """Change of the mean SET increment per siemens of G (1)."""
    std_offset_s: float = _PCM["std_offset_s"]
    """Std of the SET increment at G = 0 (S)."""
    std_slope: float = _PCM["std_slope"]
    """Change of the std of the SET increment per siemens of G (1)."""

    bidirectional: ClassVar[bool] = False
    affine: ClassVar[bool] = True
    citation: ClassVar[str] = (
        "Nandakumar et al., 'Mixed-precision deep learning based on computational memory', "
        "arXiv 1712.01192 / Front. Neurosci. 14:406 (2020); PCM model of Nandakumar et al., ISCAS 2018"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not -1.0 < self.mean_slope <= 0.0:
            raise ParameterError(
                f"PCMStatistical.mean_slope = {self.mean_slope!r}: must be in (-1, 0] "
                "(a step that grows with G or overshoots its own fixed point is not a PCM SET)."
            )

    def mean_step_s(self, u, up, lo_s, range_s):
        g = lo_s + u * range_s
        mean = self.mean_offset_s + self.mean_slope * g
        if not np.all(up):
            raise ParameterError(
                "PCMStatistical has no gradual depression (RESET is abrupt); use the 'unipolar' pair scheme."
            )
        return mean

    def extra_noise_std_s(self, u, up, lo_s, range_s):
        g = lo_s + u * range_s
        return np.abs(self.std_offset_s + self.std_slope * g)

    def affine_coeffs_s(self, up, lo_s, range_s):
        # G = lo + u R: mean = (offset + slope lo) + slope R u; std likewise
        a = self.mean_offset_s + self.mean_slope * lo_s
        b = self.mean_slope * range_s
        c0 = self.std_offset_s + self.std_slope * lo_s
        c1 = self.std_slope * range_s
        shape = np.shape(up)
        return (np.broadcast_to(a, shape), np.broadcast_to(b, shape), np.broadcast_to(c0, shape), np.broadcast_to(c1, shape))



_MOVED = {
    "GokmenVlasov2016": "presets", "GongReRAMSoftBounds2018": "presets", "GongReRAMExpStep2018": "presets",
    "TangECRAM2018": "presets", "NandakumarPCM2018": "presets", "apply_pulse_counts": "pulse_counts",
}


def __getattr__(name: str):
    # Checkpoints written before the presets had their own module name them
    # "memspice.surrogate.pulse_models.<Preset>"; serialise.config_from_dict finds them here.
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"memspice.surrogate.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
