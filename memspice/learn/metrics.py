"""Per-epoch metrics: accuracy and the metrics CSV (the curves: memspice.learn.plots)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

METRIC_COLUMNS = (
    "epoch",
    "train_loss",
    "train_accuracy",
    "validation_loss",
    "validation_accuracy",
    "test_accuracy",
)
"""Columns of metrics.csv. Losses are mean cross-entropy in nats; accuracies are fractions in [0, 1].
train_* are averaged over the epoch's mini-batches as they were trained (weights changing)."""

TIMING_COLUMNS = ("epoch", "train_time_s", "eval_time_s")
"""Columns of timing.csv (wall-clock, so kept apart from the reproducible metrics.csv)."""


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose most probable class is the label."""
    return float(np.mean(np.argmax(probs, axis=1) == labels))


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    """Write ``rows`` (dicts keyed by ``columns``); floats as repr so they round-trip exactly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([repr(float(row[c])) if isinstance(row[c], float) else row[c] for c in columns])
    tmp.replace(path)


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV written by :func:`write_csv`, numbers parsed."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in rows]
