"""Pulse-update models: how one programming pulse changes a device's conductance.

Every model is a frozen dataclass. A device's state is its conductance G (S)
between its own bounds [lo, hi] (the nominal ``g_min_s``/``g_max_s`` plus a
device-to-device draw); the models are written in the normalised position

    u = (G - lo) / (hi - lo),      u in [0, 1],

and give the mean conductance change of one pulse, in siemens,

    dG_up   = f_up   * s_up(u)          (potentiation, dG > 0)
    dG_down = f_down * s_down(u)        (depression,   dG < 0)

where ``f_up``/``f_down`` are the device's step factors (1 for the nominal
device; device-to-device variation ``step_d2d_rel`` and ``up_down_d2d_rel``).
Each pulse also gets cycle-to-cycle noise: a multiplicative part
``c2c_rel * |dG|`` and an additive part ``c2c_abs_s`` (standard deviations,
both Gaussian). The hard bounds lo/hi are physical: a device does not move
past them.

Families (equations in each class docstring): ConstantStep, LinearStep,
SoftBounds, ExpStep, PowerStep, PCMStatistical; Tabulated lives in
``memspice.surrogate.tabulated``. Presets are subclasses with the values of a
cited paper.

Update engines (``apply_pulse_counts``):

* ``"closed_form"`` for the *affine* families (ConstantStep, LinearStep,
  SoftBounds, PCMStatistical), whose mean step is affine in G and whose
  per-pulse noise standard deviation is affine in G. The n-pulse update is
  then a linear stochastic recursion whose mean and variance after n pulses
  have closed forms (geometric sums, see ``_affine_moments``); the result is
  drawn as one Gaussian with exactly those two moments and the hard bounds are
  applied once at the end. Exact for noise-free devices (the map is monotone,
  so clipping once equals clipping after every pulse); with noise the first two
  moments are exact away from the bounds and the shape is approximated by a
  Gaussian, and a path that touches a bound and comes back is not modelled.
  Cost: a fixed number of vectorised operations, independent of n.
* ``"per_pulse"``: every pulse drawn and clipped in turn, vectorised over the
  cells that still have pulses left (cost proportional to the total number of
  pulses, not to cells x max count). The reference, and the engine for the
  non-affine families (ExpStep, PowerStep, Tabulated).

``apply_pulse_counts`` here is the float64 reference of both engines; the tile
runs the closed form through ``memspice.surrogate.fast_update`` (same
moments, per-device constants precomputed, float32 increments, Box-Muller
draws), and tests hold the two against each other.
"""

from __future__ import annotations

import abc

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import MemspiceError, ParameterError

__all__ = [
    "PulseModel",
    "ConstantStep",
    "LinearStep",
    "SoftBounds",
    "ExpStep",
    "PowerStep",
    "PCMStatistical",
    "GokmenVlasov2016",
    "GongReRAMSoftBounds2018",
    "GongReRAMExpStep2018",
    "TangECRAM2018",
    "NandakumarPCM2018",
    "DeviceDraws",
    "apply_pulse_counts",
]


# ---------------------------------------------------------------------------
# per-device draws


@dataclass(frozen=True)
class DeviceDraws:
    """Device-to-device parameters of a set of devices (all arrays of one shape).

    Drawn once when a tile is made and kept for its life (checkpointed with it).
    """

    lo_s: np.ndarray
    """Lower conductance bound of each device (S)."""
    hi_s: np.ndarray
    """Upper conductance bound of each device (S); equal to lo_s for a stuck device."""
    f_up: np.ndarray
    """Step factor of potentiation pulses (1 = nominal)."""
    f_down: np.ndarray
    """Step factor of depression pulses (1 = nominal)."""

    @property
    def range_s(self) -> np.ndarray:
        return self.hi_s - self.lo_s


# ---------------------------------------------------------------------------
# base class


@dataclass(frozen=True)
class PulseModel(abc.ABC):
    """Fields shared by every pulse-update model (see the module docstring)."""

    g_min_s: float = 1.0e-6
    """Nominal lower conductance bound, G_min (S)."""
    g_max_s: float = 11.0e-6
    """Nominal upper conductance bound, G_max (S)."""
    step_d2d_rel: float = 0.0
    """Device-to-device relative std of the step size: f = 1 + step_d2d_rel * xi, shared by up and down."""
    up_down_d2d_rel: float = 0.0
    """Device-to-device up/down imbalance: f_up = f (1 + d), f_down = f (1 - d), d = up_down_d2d_rel * xi'."""
    g_min_d2d_s: float = 0.0
    """Device-to-device std of the lower bound, lo = G_min + g_min_d2d_s * xi (S)."""
    g_max_d2d_s: float = 0.0
    """Device-to-device std of the upper bound, hi = G_max + g_max_d2d_s * xi (S)."""
    c2c_rel: float = 0.0
    """Cycle-to-cycle relative std of each pulse's step: dG -> dG (1 + c2c_rel * xi)."""
    c2c_abs_s: float = 0.0
    """Cycle-to-cycle additive write noise per pulse, std (S): dG -> dG + c2c_abs_s * xi."""

    bidirectional: ClassVar[bool] = True
    """False for devices with no gradual depression (PCM: RESET is abrupt)."""
    affine: ClassVar[bool] = False
    """True when the mean step and the noise std are affine in G (closed-form n-pulse update)."""
    citation: ClassVar[str] = ""

    def __post_init__(self) -> None:
        name = type(self).__name__
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not np.isfinite(value):
                raise ParameterError(f"{name}.{f.name} = {value!r}: must be finite.")
        if self.g_min_s < 0.0:
            raise ParameterError(f"{name}.g_min_s = {self.g_min_s!r}: a conductance bound must be >= 0 S.")
        if not self.g_max_s > self.g_min_s:
            raise ParameterError(
                f"{name}.g_max_s = {self.g_max_s!r} must exceed g_min_s = {self.g_min_s!r} S."
            )
        for fname in ("step_d2d_rel", "up_down_d2d_rel", "g_min_d2d_s", "g_max_d2d_s", "c2c_rel", "c2c_abs_s"):
            if getattr(self, fname) < 0.0:
                raise ParameterError(f"{name}.{fname} = {getattr(self, fname)!r}: a standard deviation must be >= 0.")

    # -- the model proper -------------------------------------------------

    @property
    def g_range_s(self) -> float:
        return self.g_max_s - self.g_min_s

    @abc.abstractmethod
    def mean_step_s(self, u: np.ndarray, up: np.ndarray, lo_s: np.ndarray, range_s: np.ndarray) -> np.ndarray:
        """Mean conductance change (S, signed) of one pulse of a nominal-step device at position u.

        ``up`` is a boolean array (True: potentiation pulse). ``lo_s``/``range_s``
        are the device's own bounds (broadcastable to u).
        """

    def affine_coeffs_s(
        self, up: np.ndarray, lo_s: np.ndarray, range_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For affine models: (A, B, C0, C1) in S with mean step A + B u and extra noise std C0 + C1 u.

        The extra noise is not scaled by the step factor (it is the PCM-style
        state-dependent write noise); ``c2c_rel``/``c2c_abs_s`` come on top.
        """
        raise MemspiceError(f"{type(self).__name__} has no affine form; use the per_pulse engine.")

    def extra_noise_std_s(self, u: np.ndarray, up: np.ndarray, lo_s: np.ndarray, range_s: np.ndarray) -> np.ndarray | float:
        """State-dependent write noise std per pulse (S), beyond c2c_rel/c2c_abs_s. Zero by default."""
        return 0.0

    # -- device-to-device draws --------------------------------------------

    def draw_devices(self, shape: tuple[int, ...], rng: np.random.Generator) -> DeviceDraws:
        """Draw the device-to-device parameters of ``shape`` devices.

        A drawn upper bound below the device's lower bound gives a *stuck*
        device (range 0, it never moves), as a broken cell does; a drawn lower
        bound below 0 S is unphysical and raises ParameterError.
        """
        name = type(self).__name__
        lo = np.full(shape, self.g_min_s)
        hi = np.full(shape, self.g_max_s)
        if self.g_min_d2d_s > 0.0:
            lo = lo + self.g_min_d2d_s * rng.standard_normal(shape)
            if np.any(lo < 0.0):
                raise ParameterError(
                    f"{name}.g_min_d2d_s = {self.g_min_d2d_s:g} S draws negative lower bounds "
                    f"(g_min_s = {self.g_min_s:g} S, {int((lo < 0).sum())} devices); "
                    "reduce g_min_d2d_s or raise g_min_s."
                )
        if self.g_max_d2d_s > 0.0:
            hi = hi + self.g_max_d2d_s * rng.standard_normal(shape)
        hi = np.maximum(hi, lo)  # stuck devices: documented above, counted by the tile
        f = np.ones(shape)
        if self.step_d2d_rel > 0.0:
            # a negative factor would invert the device; it is a device that
            # does not respond (factor 0), counted with the stuck ones
            f = np.maximum(1.0 + self.step_d2d_rel * rng.standard_normal(shape), 0.0)
        f_up, f_down = f, f
        if self.up_down_d2d_rel > 0.0:
            d = self.up_down_d2d_rel * rng.standard_normal(shape)
            f_up = np.maximum(f * (1.0 + d), 0.0)
            f_down = np.maximum(f * (1.0 - d), 0.0)
        return DeviceDraws(lo_s=lo, hi_s=hi, f_up=np.array(f_up, copy=True), f_down=np.array(f_down, copy=True))

    def nominal_step_s(self, u: float, up: bool) -> float:
        """Mean step (S, signed) of the nominal device at position u."""
        val = self.mean_step_s(
            np.array([u], dtype=float), np.array([up]), np.array([self.g_min_s]), np.array([self.g_range_s])
        )
        return float(val[0])


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
        _positive(self, "dg_up_s", "dg_down_s")
        _step_below_range(self, max(self.dg_up_s, self.dg_down_s))

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
        _positive(self, "dg_up_s", "dg_down_s")
        _step_below_range(self, max(self.dg_up_s, self.dg_down_s) * (1 + max(abs(self.gamma_up), abs(self.gamma_down))))

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
        """The saturating-exponential device of NeuroSim / binary stochastic learning (ALGORITHMS.md §3):

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
        _positive(self, "dg_up_s", "dg_down_s")
        _step_below_range(self, max(self.dg_up_s, self.dg_down_s))

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
        _positive(self, "dg_up_s", "dg_down_s")
        worst = max(
            self.nominal_step_s(u, up) * (1 if up else -1) for u in (0.0, 0.5, 1.0) for up in (True, False)
        )
        _step_below_range(self, worst)

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
        _positive(self, "dg_up_s", "dg_down_s", "gamma_up", "gamma_down")
        _step_below_range(self, max(self.dg_up_s, self.dg_down_s))

    def mean_step_s(self, u, up, lo_s, range_s):
        uc = np.clip(u, 0.0, 1.0)  # position outside the bounds: step of the bound itself
        return np.where(up, self.dg_up_s * (1.0 - uc) ** self.gamma_up, -self.dg_down_s * uc**self.gamma_down)


@dataclass(frozen=True)
class PCMStatistical(PulseModel):
    """Statistical PCM model (Nandakumar et al., arXiv 1712.01192; ALGORITHMS.md §4).

    Only SET (potentiation) pulses are gradual, so the device is unipolar:
    a differential pair is updated by SET pulses on G+ (W up) or G- (W down).

        mean dG = mean_offset_s + mean_slope * G
        std  dG = std_offset_s  + std_slope  * G

    with G in S, on [g_min_s, g_max_s] = [0.1, 20] µS. The mean step vanishes
    at G* = -mean_offset_s / mean_slope = 10.6 µS, so repeated SET pulses
    settle there with a spread set by the std.
    """

    g_min_s: float = 0.1e-6
    g_max_s: float = 20.0e-6
    mean_offset_s: float = 0.892e-6
    """Mean SET increment at G = 0 (S)."""
    mean_slope: float = -0.084
    """Change of the mean SET increment per siemens of G (1)."""
    std_offset_s: float = 0.575e-6
    """Std of the SET increment at G = 0 (S)."""
    std_slope: float = 0.09
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


# ---------------------------------------------------------------------------
# presets (values from the cited papers; conductances 1-11 µS unless the
# paper gives them, so that one device spans a weight range of w_max)


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
    """The PCM of Nandakumar et al. as used in their mixed-precision training (ALGORITHMS.md §4)."""


# ---------------------------------------------------------------------------
# the update engines


def apply_pulse_counts(
    model: PulseModel,
    g_s: np.ndarray,
    n: np.ndarray,
    draws: DeviceDraws,
    rng: np.random.Generator,
    engine: str = "auto",
) -> np.ndarray:
    """Conductances after |n| pulses of sign(n) on each device (1-D arrays of one length).

    ``draws`` holds the device-to-device parameters of exactly these devices.
    ``engine``: "auto" (closed form for affine models, else per pulse),
    "closed_form" or "per_pulse" (see the module docstring). Cells with n = 0
    must not be passed (the caller gathers the pulsed cells).
    """
    if engine == "auto":
        engine = "closed_form" if model.affine else "per_pulse"
    if engine not in ("closed_form", "per_pulse"):
        raise ParameterError(f"engine = {engine!r}: choose 'auto', 'closed_form' or 'per_pulse'.")
    if engine == "closed_form" and not model.affine:
        raise ParameterError(f"engine 'closed_form' needs an affine model; {type(model).__name__} is not.")
    up = n > 0
    if not model.bidirectional and not np.all(up):
        raise ParameterError(
            f"{type(model).__name__} cannot take depression pulses (no gradual RESET); "
            "use TileConfig(pair_scheme='unipolar')."
        )
    k = np.abs(n)
    lo = draws.lo_s
    rng_s = draws.range_s
    live = rng_s > 0.0
    rsafe = np.where(live, rng_s, 1.0)
    u0 = (g_s - lo) / rsafe
    f = np.where(up, draws.f_up, draws.f_down)
    if engine == "closed_form":
        u = _closed_form(model, u0, k, up, f, lo, rsafe, rng)
    else:
        u = _per_pulse(model, u0, k, up, f, lo, rsafe, rng)
    # the hard bounds of each device are physical limits (a conductance
    # cannot pass its own G_max); a stuck device does not move at all
    u = np.clip(u, 0.0, 1.0)
    return np.where(live, lo + u * rsafe, g_s)


def _closed_form(model, u0, k, up, f, lo, r, rng):
    a_s, b_s, c0_s, c1_s = model.affine_coeffs_s(up, lo, r)
    alpha = f * a_s / r
    beta = f * b_s / r
    s0 = (model.c2c_rel * f * a_s + c0_s) / r
    s1 = (model.c2c_rel * f * b_s + c1_s) / r
    sa = model.c2c_abs_s / r
    mean, var = _affine_moments(u0, k, alpha, beta, s0, s1, sa)
    if model.c2c_rel == 0.0 and model.c2c_abs_s == 0.0 and not np.any(c0_s) and not np.any(c1_s):
        return mean
    return mean + np.sqrt(np.maximum(var, 0.0)) * rng.standard_normal(mean.shape)


def _affine_moments(u0, k, alpha, beta, s0, s1, sa):
    """Mean and variance of u_k for u_{j+1} = u_j + alpha + beta u_j + (s0 + s1 u_j) xi_j + sa xi'_j.

    With r = 1 + beta and rho = r^2 + s1^2 (xi, xi' independent standard normals):
        m_k = r^k u0 + alpha sum_{j<k} r^j
        V_k = sum_{j<k} rho^(k-1-j) [(s0 + s1 m_j)^2 + sa^2]
    and, writing s0 + s1 m_j = A + B r^j about the fixed point u* = -alpha/beta,
        V_k = (A^2 + sa^2) S(rho, k) + 2 A B H(rho, r, k) + B^2 H(rho, r^2, k)
    with S the geometric sum and H(p, q, k) = sum_j p^(k-1-j) q^j = q^(k-1) S(p/q, k).
    Sums are evaluated through log1p/expm1 so that rho -> r (tiny noise) and
    r -> 1 (tiny slope) stay accurate.
    """
    k = k.astype(np.float64)
    if np.any((beta == 0.0) & (s1 != 0.0)):
        raise MemspiceError("affine update with zero slope and state-dependent noise is not supported")
    if np.any(beta <= -1.0):
        raise ParameterError("a pulse step overshoots the device's whole range (slope <= -1 per pulse)")
    r = 1.0 + beta
    mean = np.exp(k * np.log1p(beta)) * u0 + alpha * _geom(beta, k)
    nz = beta != 0.0
    ustar = np.where(nz, -alpha / np.where(nz, beta, 1.0), 0.0)
    A = s0 + s1 * ustar
    B = np.where(nz, s1 * (u0 - ustar), 0.0)
    e_rho = 2.0 * beta + beta * beta + s1 * s1           # rho - 1
    log_r = np.log1p(beta)
    var = (A * A + sa * sa) * _geom(e_rho, k)
    var += 2.0 * A * B * np.exp((k - 1.0) * log_r) * _geom(beta + s1 * s1 / r, k)
    var += B * B * np.exp(2.0 * (k - 1.0) * log_r) * _geom(s1 * s1 / (r * r), k)
    return mean, var


def _geom(e, k):
    """sum_{j=0}^{k-1} (1 + e)^j, accurate for e -> 0."""
    e = np.asarray(e, dtype=np.float64)
    small = np.abs(e) < 1e-300
    esafe = np.where(small, 1.0, e)
    t = np.log1p(esafe)
    return np.where(small, k, np.expm1(k * t) / esafe)


def _per_pulse(model, u0, k, up, f, lo, r, rng):
    u = np.array(u0, dtype=np.float64, copy=True)
    idx = np.flatnonzero(k > 0)
    remaining = k.copy()
    noisy_model = model.c2c_rel > 0.0 or model.c2c_abs_s > 0.0
    while idx.size:
        ui, upi, li, ri = u[idx], up[idx], lo[idx], r[idx]
        step = f[idx] * model.mean_step_s(ui, upi, li, ri)
        extra = model.extra_noise_std_s(ui, upi, li, ri)
        if noisy_model or np.any(extra):
            # same noise structure as the closed form: the relative part and the
            # state-dependent part add in amplitude (one source each pulse), the
            # additive write noise is independent of them
            std_corr = model.c2c_rel * np.abs(step) + extra
            std = np.sqrt(std_corr * std_corr + model.c2c_abs_s**2)
            step = step + std * rng.standard_normal(idx.size)
        # each pulse stops at the device's bounds
        u[idx] = np.clip(ui + step / ri, 0.0, 1.0)
        remaining[idx] -= 1
        idx = idx[remaining[idx] > 0]
    return u


# ---------------------------------------------------------------------------
# helpers


def _positive(model: PulseModel, *names: str) -> None:
    for n in names:
        v = getattr(model, n)
        if not v > 0.0:
            raise ParameterError(f"{type(model).__name__}.{n} = {v!r}: must be > 0.")


def _step_below_range(model: PulseModel, step_s: float) -> None:
    if step_s >= model.g_range_s:
        raise ParameterError(
            f"{type(model).__name__}: one pulse step ({step_s:g} S) spans the whole range "
            f"g_max_s - g_min_s = {model.g_range_s:g} S; use a smaller step or a wider range."
        )
