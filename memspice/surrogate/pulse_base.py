"""The pulse-model contract: the base class every update family derives from and the per-device draws.

A device's state is its conductance G (S) between its own bounds [lo, hi]
(the nominal ``g_min_s``/``g_max_s`` plus a device-to-device draw); the models
are written in the normalised position

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
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memspice.errors import MemspiceError, ParameterError

__all__ = ["DeviceDraws", "PulseModel", "require_positive", "require_step_below_range"]


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
        raise MemspiceError(f"{type(self).__name__} has no affine form; use the per_pulse update.")

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
# checks the families share


def require_positive(model: PulseModel, *names: str) -> None:
    """ParameterError unless every named field of ``model`` is > 0."""
    for n in names:
        v = getattr(model, n)
        if not v > 0.0:
            raise ParameterError(f"{type(model).__name__}.{n} = {v!r}: must be > 0.")


def require_step_below_range(model: PulseModel, step_s: float) -> None:
    """ParameterError if one pulse step spans the model's whole conductance range."""
    if step_s >= model.g_range_s:
        raise ParameterError(
            f"{type(model).__name__}: one pulse step ({step_s:g} S) spans the whole range "
            f"g_max_s - g_min_s = {model.g_range_s:g} S; use a smaller step or a wider range."
        )
