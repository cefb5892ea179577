"""Updates to a training-loss target (``[training] target_loss`` and ``target_action``).

The measure of Hoskins et al. (Front. Neurosci. 13:793, 2019): how many
rank-1 (outer-product) matrix updates a rule needs to bring the training loss
to a target. The training loss here is the network's mean cross-entropy (nats)
on the whole training set, evaluated after each epoch with the weights of that
moment; not metrics.csv's ``train_loss``, the running mean over the epoch's
mini-batches while the weights moved (it lags the network, and by how much
depends on the batch size, which is the variable a batch-size study changes).
The check is made once per epoch, so the counts are those at the end of the
first epoch whose loss is at or below the target.

With a target set, metrics.csv gets the :data:`TARGET_COLUMNS` (totals since
the start of the run, from the run's operation counters,
:mod:`memspice.learn.counters`) and summary.json a ``target`` record
(:func:`target_record`). ``target_action = "stop"`` ends the run after the
epoch that reached the target; ``"mark"`` trains on to ``training.epochs``.

What is counted (one fact in one place: the counters' definitions):

``outer_products_total``
    the counters' ``outer_products`` summed over layers: per-sample SGD
    (rule "sgd") B per layer and step, SBE k per layer and step.
``steps_total``
    mini-batch steps: the matrix updates of mini-batch gradient descent
    applied as one (full-rank) update per layer and step are
    ``steps_total`` x layers.
``pulses_total``
    device pulses applied: :func:`applied_pulses`.
"""

from __future__ import annotations

PULSE_FIELDS = ("train_pulses", "cell_pulses")
"""The operation-counter fields (memspice.learn.counters) whose sum is every device pulse a rule applied:
coincidence trains, whole-array pulses included, and count matrices programmed cell by cell."""

TARGET_COLUMNS = ("train_set_loss", "steps_total", "outer_products_total", "pulses_total", "target_reached")
"""metrics.csv columns of a run with ``training.target_loss`` (module docstring)."""


def applied_pulses(counts: dict) -> float:
    """Device pulses applied, from one layer's (or the summed) operation counts: the :data:`PULSE_FIELDS` added."""
    return float(sum(counts[f] for f in PULSE_FIELDS))


def target_metrics(train_set_loss: float, counters, target_loss: float) -> dict:
    """The :data:`TARGET_COLUMNS` of the epoch just ended: its whole-training-set loss and the run's totals."""
    summed = counters.summed()
    return {
        "train_set_loss": float(train_set_loss),
        "steps_total": int(round(counters.totals()[0]["steps"])),  # every step records each layer once
        "outer_products_total": int(round(summed["outer_products"])),
        "pulses_total": int(round(applied_pulses(summed))),
        "target_reached": int(train_set_loss <= target_loss),
    }


def first_reached(history: list[dict]) -> dict | None:
    """The first epoch row of ``history`` that reached the target, or None."""
    return next((row for row in history if row.get("target_reached")), None)


def target_record(training, history: list[dict]) -> dict | None:
    """summary.json's ``target``: the target, whether and when it was reached, the counts until then.

    None without ``training.target_loss``. Not reached: ``reached`` false and the counts None.
    """
    if training.target_loss is None:
        return None
    row = first_reached(history)
    record = {"loss": training.target_loss, "measure": "train_set_loss", "action": training.target_action,
              "reached": row is not None}
    keys = {"epoch": "epoch", "steps": "steps_total", "outer_products": "outer_products_total",
            "pulses": "pulses_total", "train_set_loss": "train_set_loss"}
    record.update({k: (row[c] if row is not None else None) for k, c in keys.items()})
    return record


__all__ = ["PULSE_FIELDS", "TARGET_COLUMNS", "applied_pulses", "first_reached", "target_metrics", "target_record"]
