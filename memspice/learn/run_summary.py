"""What a run leaves and how it is continued: :class:`TrainResult`, summary.json, the resume checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memspice.errors import ConfigError
from memspice.learn import checkpoint as ckpt
from memspice.learn.config import TrainConfig, config_from_dict
from memspice.learn.target import target_record


@dataclass(frozen=True)
class TrainResult:
    """What a run (or a run segment) ended with."""

    out_dir: Path
    epochs_completed: int
    history: list
    """One dict per epoch with the METRIC_COLUMNS."""
    timing: list
    """One dict per epoch with the TIMING_COLUMNS."""
    test_accuracy: float
    """Test accuracy after the last completed epoch (nan if none completed)."""
    weights: list
    """(W, b) per layer at the end, float arrays."""
    stats: dict
    """The rule's counters (pulses applied, clipped probabilities, refreshed pairs)."""
    interrupted: bool

    def to_dataframe(self):
        """The history, one row per epoch, joined with the timing (pandas; as memspice.results.load(out_dir))."""
        from memspice.frames import frame

        timing = {r["epoch"]: r for r in self.timing}
        return frame([{**row, **timing.get(row["epoch"], {})} for row in self.history])



def check_same_run(saved: dict, config: TrainConfig) -> None:
    """A checkpoint may be resumed only with the config that made it (epochs may grow)."""
    now = config.to_dict()
    differences = []
    for section in sorted(set(saved) | set(now)):
        a, b = saved.get(section), now.get(section)
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if section == "training" and key == "epochs":
                    continue
                if a.get(key) != b.get(key):
                    differences.append(f"{section}.{key}: checkpoint {a.get(key)!r}, config {b.get(key)!r}")
        elif a != b:
            differences.append(f"{section}: checkpoint {a!r}, config {b!r}")
    if differences:
        raise ConfigError(
            "the checkpoint was made with a different configuration (" + "; ".join(differences) + "); "
            "resume with the original config, or start afresh in another --out folder"
        )


def write_summary(out_dir: Path, config: TrainConfig, rule_name: str, result: TrainResult,
                  energy_table: str | None = None) -> None:
    """summary.json: final test accuracy, timings, the rule's counters, the energy table used, the config."""
    times = [t["train_time_s"] for t in result.timing]
    doc = {
        "dataset": config.data.name,
        "sizes": list(config.network.sizes),
        "rule": rule_name,
        "seed": config.seed,
        "epochs_completed": result.epochs_completed,
        "interrupted": result.interrupted,
        "test_accuracy": result.test_accuracy if result.history else None,
        "best_validation_accuracy": max((h["validation_accuracy"] for h in result.history), default=None),
        "mean_train_time_per_epoch_s": float(np.mean(times)) if times else None,
        "stats": result.stats,
        "target": target_record(config.training, result.history),  # [training] target_loss (memspice.learn.target)
        "energy_table": energy_table,  # which energy table priced the energy_*_j columns (operations.json)
        "config": config.to_dict(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def resume_config(out_dir: str | Path) -> TrainConfig:
    """The configuration stored in a run folder's last checkpoint."""
    state = ckpt.load_checkpoint(Path(out_dir) / "checkpoints" / "last.npz")
    return config_from_dict(state["config"])

