"""Calibration: fit the surrogate's pulse-update models to SPICE runs or measured data.

Stage 7 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit, memspice.cell and
memspice.surrogate (and the foundation modules), nothing later.

    from memspice.calibrate import (PulseTrainExperiment, SpiceCell, calibrate_compact_model,
                                    read_pulse_csv, calibrate_pulse_data, save_calibration)
    cal = calibrate_compact_model("vteam", PulseTrainExperiment(-0.212, 50e-9, n_up=30, amplitude_down_v=0.09),
                                  "tabulated", where=SpiceCell())
    save_calibration(cal, "fitted.toml", "report/")

Modules, in data-flow order: ``data`` (PulseData/IVData values and their CSV
files), ``experiments`` (pulse trains, I-V and pulse sweeps as values and
waveforms), ``runners`` (run them in numpy, in ngspice on one cell),
``inarray`` (the same cell inside a crossbar), ``parallel`` (independent runs
in worker processes), ``fitting`` (generic bounded least squares with
uncertainties), ``families`` (which surrogate fields each family fits),
``pulsefit`` (fit one device), ``statistics`` (device-to-device spread),
``modelfile`` (TOML the surrogate and ``memspice train`` load), ``report``
(Markdown + PNG), ``workflow`` (the jobs end to end).
"""

from memspice.calibrate.data import IVData, PulseData, read_iv_csv, read_pulse_csv, write_iv_csv, write_pulse_csv
from memspice.calibrate.experiments import IVSweepExperiment, PulseSweepExperiment, PulseTrainExperiment
from memspice.calibrate.families import FAMILIES, predict_pulse_train
from memspice.calibrate.fitting import FitResult, ParameterSpec, least_squares_fit
from memspice.calibrate.modelfile import load_tile_config, read_model_file, write_model_file
from memspice.calibrate.parallel import run_pulse_trains
from memspice.calibrate.pulsefit import Evaluation, PulseFit, evaluate_model, fit_pulse_model, noise_estimates
from memspice.calibrate.report import HeldOut, compare_fits, write_report
from memspice.calibrate.runners import ModelRef, NumpyCell, SpiceCell, run_iv_sweep, run_pulse_train
from memspice.calibrate.statistics import DeviceStatistics, device_statistics, fit_devices
from memspice.calibrate.workflow import Calibration, calibrate_compact_model, calibrate_pulse_data, save_calibration

__all__ = [
    "PulseData", "IVData", "read_pulse_csv", "write_pulse_csv", "read_iv_csv", "write_iv_csv",
    "PulseTrainExperiment", "IVSweepExperiment", "PulseSweepExperiment",
    "ModelRef", "NumpyCell", "SpiceCell", "run_pulse_train", "run_iv_sweep", "run_pulse_trains",
    "ParameterSpec", "FitResult", "least_squares_fit",
    "FAMILIES", "predict_pulse_train",
    "PulseFit", "fit_pulse_model", "evaluate_model", "Evaluation", "noise_estimates",
    "DeviceStatistics", "device_statistics", "fit_devices",
    "write_model_file", "read_model_file", "load_tile_config",
    "HeldOut", "compare_fits", "write_report",
    "Calibration", "calibrate_pulse_data", "calibrate_compact_model", "save_calibration",
]
