"""TileConfig: everything that defines an AnalogTile apart from its size and state."""

from __future__ import annotations

from dataclasses import dataclass, field

from memspice.errors import ParameterError
from memspice.surrogate.array_tile import ArrayWriteConfig
from memspice.surrogate.mapping import WeightMapping
from memspice.surrogate.pulse_base import PulseModel
from memspice.surrogate.pulse_models import ConstantStep
from memspice.surrogate.read import ReadConfig

__all__ = ["TileConfig"]


@dataclass(frozen=True)
class TileConfig:
    """Everything that defines a tile apart from its size and state."""

    device: PulseModel = field(default_factory=ConstantStep)
    """Pulse-update model of every device (both devices of a pair are drawn from it)."""
    mapping: WeightMapping | None = None
    """Weight <-> conductance map; None = the device's nominal [g_min_s, g_max_s] with w_max = 1."""
    read: ReadConfig = field(default_factory=ReadConfig)
    """Forward read (y = W x)."""
    backward_read: ReadConfig | None = None
    """Transposed read (d W); None = the same as ``read``."""
    pair_scheme: str = "auto"
    """"push_pull", "unipolar", or "auto" (unipolar for devices without gradual depression, else push_pull)."""
    update_engine: str = "auto"
    """"auto", "closed_form" or "per_pulse" (see memspice.surrogate.pulse_models)."""
    array_write: ArrayWriteConfig | None = None
    """The crossbar's write circuit: coincidence updates go through it (memspice.surrogate.array_tile); None =
    wire-blind (pulse counts at the nominal voltage)."""

    def __post_init__(self) -> None:
        if not isinstance(self.device, PulseModel):
            raise ParameterError(f"TileConfig.device = {self.device!r}: give a pulse-update model (e.g. ConstantStep()).")
        if self.pair_scheme not in ("auto", "push_pull", "unipolar"):
            raise ParameterError(
                f"TileConfig.pair_scheme = {self.pair_scheme!r}: choose 'auto', 'push_pull' or 'unipolar'."
            )
        if self.pair_scheme == "push_pull" and not self.device.bidirectional:
            raise ParameterError(
                f"TileConfig.pair_scheme = 'push_pull' needs depression pulses, which "
                f"{type(self.device).__name__} does not have; use 'unipolar'."
            )
        if self.update_engine not in ("auto", "closed_form", "per_pulse"):
            raise ParameterError(
                f"TileConfig.update_engine = {self.update_engine!r}: choose 'auto', 'closed_form' or 'per_pulse'."
            )
        if self.array_write is not None:
            if not isinstance(self.array_write, ArrayWriteConfig):
                raise ParameterError(f"TileConfig.array_write = {self.array_write!r}: give an ArrayWriteConfig or None.")
            if self.scheme != "push_pull":
                raise ParameterError("TileConfig.array_write needs push-pull pairs (pair_scheme 'push_pull' or 'auto' "
                                     "with a bidirectional device)")
            if self.read.has_drift or self.bwd_read.has_drift:
                raise ParameterError("TileConfig.array_write plays pulses through a compact model without drift; "
                                     "leave drift_nu at 0 in the reads of an array-aware tile")
            m = self.weight_mapping
            self.array_write.check_mapping(m.g_min_s, m.g_max_s)
        if self.update_engine == "closed_form" and not self.device.affine:
            raise ParameterError(
                f"TileConfig.update_engine = 'closed_form' needs an affine model; "
                f"{type(self.device).__name__} is not (use 'per_pulse' or 'auto')."
            )

    @property
    def weight_mapping(self) -> WeightMapping:
        if self.mapping is not None:
            return self.mapping
        return WeightMapping(g_min_s=self.device.g_min_s, g_max_s=self.device.g_max_s, w_max=1.0)

    @property
    def scheme(self) -> str:
        if self.pair_scheme != "auto":
            return self.pair_scheme
        return "push_pull" if self.device.bidirectional else "unipolar"

    @property
    def bwd_read(self) -> ReadConfig:
        return self.read if self.backward_read is None else self.backward_read
