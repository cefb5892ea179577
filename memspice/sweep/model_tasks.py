"""Sweep task kinds on a model: a calibration (memspice.calibrate) and a training run (memspice.learn)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from memspice.errors import ConfigError, ParameterError
from memspice.sweep.circuit_tasks import _run_settings
from memspice.sweep.task_base import NUM as _NUM, Key, Task, prefixed as _prefixed

__all__ = ["CalibrateTask", "TrainTask"]


@dataclass(frozen=True)
class CalibrateTask(Task):
    """``kind = "calibrate"``: memspice.calibrate.calibrate_compact_model on one pulse train.

    Keys: ``model``, ``params.<name>``, ``amplitude_v`` (required; first
    block), ``amplitude_down_v`` (default -amplitude_v), ``width_s``
    (required), ``n_pulses`` (20 per block), ``cycles`` (1), ``x0``,
    ``family`` ("soft-bounds"), ``engine`` ("spice" or "numpy"), ``array_rows``
    and ``array_cols`` (run the cell inside a crossbar), ``wire_ohm`` (array
    segments), ``backend``, ``timeout_s``, ``n_nodes`` (tabulated family),
    ``fix.<field>`` (hold a surrogate field at a value).
    Metrics: the fit's rms and max error (S), R^2, rms error relative to the
    conductance range, and whether the optimiser converged.
    """

    kind: str = "calibrate"
    keys: Mapping[str, Key] = field(default_factory=lambda: {
        "model": Key((str,), "compact model name"), "amplitude_v": Key(_NUM, "first block amplitude (V)", required=True),
        "amplitude_down_v": Key(_NUM, "second block amplitude (V)"), "width_s": Key(_NUM, "pulse width (s)", required=True),
        "n_pulses": Key((int,), "pulses per block"), "cycles": Key((int,), "up/down block pairs"),
        "x0": Key(_NUM, "initial state"), "family": Key((str,), "pulse-update family"),
        "engine": Key((str,), "spice or numpy"), "array_rows": Key((int,), "crossbar rows"),
        "array_cols": Key((int,), "crossbar columns"), "wire_ohm": Key(_NUM, "array wire segment (ohm)"),
        "backend": Key((str,), "ngspice backend"), "timeout_s": Key(_NUM, "ngspice time limit (s)"),
        "n_nodes": Key((int,), "table nodes of the tabulated family")})
    prefixes: Mapping[str, Key] = field(default_factory=lambda: {
        "params.": Key(_NUM, "model parameter"), "fix.": Key(_NUM, "fixed surrogate field")})
    metrics: tuple[str, ...] = ("rms_error_s", "max_error_s", "r_squared", "rms_rel_range", "converged")

    def build(self, params):
        from memspice.calibrate import PulseTrainExperiment
        from memspice.calibrate.families import FAMILIES
        from memspice.calibrate.runners import ModelRef, NumpyCell, SpiceCell

        family = params.get("family", "soft-bounds")
        if family not in FAMILIES:
            raise ParameterError(f"family = {family!r}: choose one of {', '.join(FAMILIES)}")
        ref = ModelRef(params.get("model", "vteam"), {k: float(v) for k, v in _prefixed(params, "params.").items()})
        n = params.get("n_pulses", 20)
        train = PulseTrainExperiment(float(params["amplitude_v"]), float(params["width_s"]), n_up=n,
                           amplitude_down_v=params.get("amplitude_down_v"), cycles=params.get("cycles", 1),
                           x0=params.get("x0"))
        engine = params.get("engine", "spice")
        if engine not in ("spice", "numpy"):
            raise ParameterError(f"engine = {engine!r}: choose 'spice' or 'numpy'")
        run = _run_settings(params)
        in_array = "array_rows" in params or "array_cols" in params
        if engine == "numpy":
            if in_array:
                raise ParameterError("array_rows/array_cols need engine = 'spice' (the numpy engine runs one cell)")
            where = NumpyCell()
        elif in_array:
            from memspice.calibrate.inarray import SpiceArrayCell

            where = SpiceArrayCell(rows=params.get("array_rows", 32), cols=params.get("array_cols", 32),
                                   wire_ohm=float(params.get("wire_ohm", 0.0)), settings=run)
        else:
            where = SpiceCell(settings=run)
        return ref, train, family, where

    def check_points(self, points, *, base_dir):
        models: dict = {}
        for k, p in enumerate(points):
            try:
                ref, *_ = self.build(p)
                ident = (ref.name, tuple(sorted(ref.params.items())))
                if ident not in models:
                    models[ident] = ref.build()
            except ParameterError as exc:
                raise ConfigError(f"point {k}: {exc}") from None

    def run(self, params, *, base_dir, workdir):
        from memspice.calibrate import calibrate_compact_model

        ref, train, family, where = self.build(params)
        cal = calibrate_compact_model(ref, train, family, where=where, fixed=_prefixed(params, "fix.") or None,
                                      n_nodes=params.get("n_nodes", 9), workers=1, progress=False)
        fit = cal.fits[0][1]
        return {"rms_error_s": fit.fit.rms_error, "max_error_s": fit.fit.max_error, "r_squared": fit.fit.r_squared,
                "rms_rel_range": fit.rms_rel_range, "converged": bool(fit.fit.success)}


@dataclass(frozen=True)
class TrainTask(Task):
    """``kind = "train"``: memspice.learn.train of a training config with some keys overridden.

    Keys: ``config`` (path of a training TOML, relative to the sweep file;
    required) and any key of that config as a dotted name (``seed``,
    ``rule.learning_rate``, ``training.epochs``, ``tile.<key>``...), which
    replaces the config's value. Each point trains into
    ``<results stem>_runs/<point key>/`` and resumes from its own checkpoint
    when the sweep is restarted.
    Metrics: test accuracy after the last epoch, the best validation accuracy,
    the last validation loss, the epochs completed and the training time (s).
    """

    kind: str = "train"
    keys: Mapping[str, Key] = field(default_factory=lambda: {
        "config": Key((str,), "training config file", required=True), "seed": Key((int,), "seed of the run")})
    prefixes: Mapping[str, Key] = field(default_factory=lambda: {
        p: Key((int, float, str, bool, list, dict), "training config key") for p in
        ("data.", "network.", "training.", "rule.", "tile.")})
    metrics: tuple[str, ...] = ("test_accuracy", "best_validation_accuracy", "final_validation_loss",
                                "epochs_completed", "train_time_s")

    def config(self, params: Mapping, base_dir: Path):
        from memspice.learn.config import load_config

        path = Path(params["config"])
        path = path if path.is_absolute() else Path(base_dir) / path
        if not path.is_file():
            raise ConfigError(f"config = {params['config']!r}: the training config {str(path)!r} does not exist")
        overrides = {name: value for name, value in params.items() if name != "config"}
        try:
            return load_config(path, overrides)
        except ConfigError as exc:
            raise ConfigError(f"training config {path.name} with the sweep's overrides: {exc}") from None

    def check_points(self, points, *, base_dir):
        for k, p in enumerate(points):
            try:
                self.config(p, base_dir)
            except ConfigError as exc:
                raise ConfigError(f"point {k}: {exc}") from None

    def run(self, params, *, base_dir, workdir):
        from memspice.learn.trainer import train

        config = self.config(params, base_dir)
        resume = (Path(workdir) / "checkpoints" / "last.npz").is_file()
        result = train(config, workdir, resume=resume, progress=False)
        hist = result.history
        return {
            "test_accuracy": float(result.test_accuracy),
            "best_validation_accuracy": max((h["validation_accuracy"] for h in hist), default=float("nan")),
            "final_validation_loss": hist[-1]["validation_loss"] if hist else float("nan"),
            "epochs_completed": int(result.epochs_completed),
            "train_time_s": float(sum(t["train_time_s"] for t in result.timing)),
        }
