"""Behavioural surrogate tile: fast reads and pulsed updates with device non-idealities.

    from memspice.surrogate import AnalogTile, TileConfig, WeightMapping, SoftBounds
    tile = AnalogTile(n_out, n_in, TileConfig(device=SoftBounds()), np.random.default_rng(0))

Modules: ``mapping`` (W <-> G pair), ``pulse_models`` (update families,
presets, the n-pulse engines), ``read`` (read path config, quantisation,
drift), ``tile`` (AnalogTile), ``tabulated`` (pulse tables from compact
models), ``ir_drop`` (nodal read with wire resistance), ``serialise``.
"""

from memspice.surrogate.mapping import WeightMapping
from memspice.surrogate.pulse_models import (
    ConstantStep,
    DeviceDraws,
    ExpStep,
    GokmenVlasov2016,
    GongReRAMExpStep2018,
    GongReRAMSoftBounds2018,
    LinearStep,
    NandakumarPCM2018,
    PCMStatistical,
    PowerStep,
    PulseModel,
    SoftBounds,
    TangECRAM2018,
    apply_pulse_counts,
)
from memspice.surrogate.read import PCMReadNandakumar2018, QuantisationRangeWarning, ReadConfig, quantise
from memspice.surrogate.tabulated import Tabulated, tabulate_compact_model
from memspice.surrogate.tile import AnalogTile, TileConfig

__all__ = [
    "AnalogTile",
    "TileConfig",
    "WeightMapping",
    "ReadConfig",
    "PCMReadNandakumar2018",
    "QuantisationRangeWarning",
    "quantise",
    "PulseModel",
    "ConstantStep",
    "LinearStep",
    "SoftBounds",
    "ExpStep",
    "PowerStep",
    "PCMStatistical",
    "Tabulated",
    "tabulate_compact_model",
    "GokmenVlasov2016",
    "GongReRAMSoftBounds2018",
    "GongReRAMExpStep2018",
    "TangECRAM2018",
    "NandakumarPCM2018",
    "DeviceDraws",
    "apply_pulse_counts",
    "PULSE_MODELS",
]

#: Every concrete pulse-update model (families and presets) by class name: the names
#: training configs ([tile] device = ...) and calibrated model files may use.
PULSE_MODELS = {
    name: obj
    for name in __all__
    if isinstance(obj := globals().get(name), type) and issubclass(obj, PulseModel) and obj is not PulseModel
}
