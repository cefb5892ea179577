"""Behavioural surrogate tile: fast reads and pulsed updates with device non-idealities.

Stage 6 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit and memspice.cell (and the
foundation modules), nothing later.

    from memspice.surrogate import AnalogTile, TileConfig, WeightMapping, SoftBounds
    tile = AnalogTile(n_out, n_in, TileConfig(device=SoftBounds()), np.random.default_rng(0))

Modules: ``mapping`` (W <-> G pair), ``pulse_base`` (the pulse-model base
class, device draws), ``pulse_models`` (update families), ``presets`` (cited
presets), ``pulse_counts`` (the n-pulse update), ``fast_update`` (the tile's
closed-form updater), ``read`` (read path config, quantisation, drift),
``tile`` (AnalogTile), ``tile_reads`` (its read path), ``tabulated`` (pulse
tables from compact models), ``ir_drop`` (nodal read with wire resistance),
``ir_fast`` (its linearised form at training speed), ``serialise``
(configs and tile state as plain dicts), ``array_write`` (array-aware
writes: device voltages from the write circuit, pulse response over
amplitude), ``array_tile`` (a tile's coincidence updates through it),
``tile_config`` (TileConfig).
"""

from memspice.surrogate.array_tile import ArrayWriteConfig
from memspice.surrogate.mapping import WeightMapping
from memspice.surrogate.presets import (
    GokmenVlasov2016,
    GongReRAMExpStep2018,
    GongReRAMSoftBounds2018,
    NandakumarPCM2018,
    TangECRAM2018,
)
from memspice.surrogate.pulse_base import DeviceDraws, PulseModel
from memspice.surrogate.pulse_counts import apply_pulse_counts
from memspice.surrogate.pulse_models import ConstantStep, ExpStep, LinearStep, PCMStatistical, PowerStep, SoftBounds
from memspice.surrogate.read import PCMReadNandakumar2018, QuantisationRangeWarning, ReadConfig, quantise
from memspice.surrogate.tabulated import Tabulated, tabulate_compact_model
from memspice.surrogate.tile import AnalogTile, TileConfig

__all__ = [
    "AnalogTile",
    "ArrayWriteConfig",
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
