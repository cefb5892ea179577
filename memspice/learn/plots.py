"""Pictures of training runs: one run's curves (curves.png) and several runs overlaid (memspice compare).

Built on matplotlib's object API (no pyplot), so they change no global
backend state and work without a display. Every function takes the rows a
run writes (metrics.csv as dicts, memspice.learn.metrics.read_csv) so no
pandas is needed.
"""

from __future__ import annotations

import math
from pathlib import Path

__all__ = ["plot_run", "plot_compare", "energy_parts", "figure", "save_png"]


def figure(n_panels: int, width: float = 5.0, height: float = 3.6):
    """A figure of ``n_panels`` axes (up to 3 in a row, else 2 columns), each ``width`` x ``height`` inches at 100 dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = n_panels if n_panels <= 3 else 2
    rows = math.ceil(n_panels / cols)
    fig = Figure(figsize=(width * cols, height * rows), dpi=100)
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(rows, cols, k + 1) for k in range(n_panels)]


def _finish(fig, path: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def save_png(fig, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` through a temporary file, so an interrupted save leaves no half picture."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    fig.savefig(tmp)
    tmp.replace(path)
    return path


def _finite(rows: list[dict], key: str) -> bool:
    return any(isinstance(r.get(key), (int, float)) and math.isfinite(r[key]) for r in rows)


def energy_parts(history: list[dict]) -> list[str]:
    """The energy_*_j columns of a history other than the total, in file order."""
    keys = list(history[0]) if history else []
    return [k for k in keys if k.startswith("energy_") and k.endswith("_j") and k != "energy_total_j"]


def plot_run(path: str | Path, history: list[dict], title: str) -> Path:
    """Loss and accuracy per epoch; co-simulation errors and energy per epoch when the run has them."""
    epochs = [r["epoch"] for r in history]
    circuit = [k for k in (history[0] if history else {}) if k.startswith("circuit_dg_rel_rms_") and _finite(history, k)]
    has_cosim = _finite(history, "cosim_dg_rel_rms") or _finite(history, "cosim_output_rel_rms") or bool(circuit)
    parts = [k for k in energy_parts(history) if _finite(history, k)]
    fig, axes = figure(2 + has_cosim + bool(parts))
    ax = axes[0]
    ax.plot(epochs, [r["train_loss"] for r in history], "-", label="train (running)")
    ax.plot(epochs, [r["validation_loss"] for r in history], "-o", markersize=3, label="validation")
    ax.set(xlabel="epoch", ylabel="cross-entropy (nats)", title="loss")
    ax.legend(loc="upper right")
    ax = axes[1]
    for key, label, style in (("train_accuracy", "train (running)", "-"), ("validation_accuracy", "validation", "-o"),
                              ("test_accuracy", "test", "--s")):
        ax.plot(epochs, [100.0 * r[key] for r in history], style, label=label, markersize=3)
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    ax.legend(loc="lower right")
    k = 2
    if has_cosim:
        ax = axes[k]
        k += 1
        for key, label in (("cosim_output_rel_rms", "read output"), ("cosim_dg_rel_rms", "ΔG")):
            if _finite(history, key):
                ax.plot(epochs, [100.0 * r[key] for r in history], "-o", markersize=3, label=label)
        for key in circuit:  # circuit in the loop: each write model's ΔG on the circuit's own pulses and states
            label = key[len("circuit_dg_rel_rms_"):].replace("_L", " ΔG, layer ").replace("_", "-")
            ax.plot(epochs, [100.0 * r[key] for r in history], "--s", markersize=3, label=label)
        ax.set(xlabel="epoch", ylabel="RMS error vs SPICE (%)", title="surrogates vs the circuit (epoch mean)")
        ax.set_yscale("log")
        ax.legend(loc="best")
    if parts:
        ax = axes[k]
        for key in parts:
            ax.plot(epochs, [r[key] for r in history], "-o", markersize=3, label=key[len("energy_"):-2].replace("_", " "))
        if _finite(history, "energy_total_j"):
            ax.plot(epochs, [r["energy_total_j"] for r in history], "k--", label="total")
        ax.set(xlabel="epoch", ylabel="energy per epoch (J)", title="energy estimate")
        ax.set_yscale("symlog", linthresh=_linthresh(history, parts))
        ax.legend(loc="best", fontsize="small")
    fig.suptitle(title)
    return _finish(fig, path)


def _linthresh(history: list[dict], parts: list[str]) -> float:
    values = [abs(r[k]) for r in history for k in parts if isinstance(r.get(k), (int, float)) and r[k]]
    return min(values) if values else 1e-12


def plot_compare(path: str | Path, runs: list[tuple[str, list[dict]]], title: str = "runs compared") -> Path:
    """Validation loss and test accuracy per epoch of several runs, one line each (the first is the reference)."""
    fig, (loss_ax, acc_ax) = figure(2)
    for k, (label, history) in enumerate(runs):
        epochs = [r["epoch"] for r in history]
        style = "k-o" if k == 0 else "-o"
        loss_ax.plot(epochs, [r["validation_loss"] for r in history], style, markersize=3, label=label)
        acc_ax.plot(epochs, [100.0 * r["test_accuracy"] for r in history], style, markersize=3, label=label)
    loss_ax.set(xlabel="epoch", ylabel="validation cross-entropy (nats)", title="validation loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    fig.suptitle(title)
    loss_ax.legend(loc="upper right", fontsize="small")
    acc_ax.legend(loc="lower right", fontsize="small")
    return _finish(fig, path)
