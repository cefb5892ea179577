"""Energy of a finished (or running) training run, from its counters.csv and an energy model."""

from __future__ import annotations

from pathlib import Path

from memspice.energy.counters_csv import read_counters_csv
from memspice.energy.estimate import PARTS, EnergyModel


def estimate_run(run_dir: str | Path, model: EnergyModel) -> list[dict]:
    """One dict per epoch: ``epoch``, ``energy_<part>`` (J) summed over layers, and ``layers``.

    Reads ``counters.csv`` of the run folder (written by the trainer's
    the trainer's operation counting; read by
    :func:`memspice.energy.counters_csv.read_counters_csv`), so any energy table can
    be applied after training.
    """
    rows = read_counters_csv(Path(run_dir) / "counters.csv")
    out = []
    for epoch in sorted({r["epoch"] for r in rows}):
        layers = sorted((r for r in rows if r["epoch"] == epoch), key=lambda r: r["layer"])
        est = model.estimate(layers, [(r["n_out"], r["n_cols"]) for r in layers],
                             [r["devices_per_pulse"] for r in layers])
        doc = {"epoch": epoch, **{f"energy_{p}": est[p] for p in (*PARTS, "total_j")},
               "forward_j_per_mac": est["forward_j_per_mac"], "layers": est["layers"]}
        out.append(doc)
    return out
