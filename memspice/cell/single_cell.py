"""One compact-model cell on an ideal PWL voltage source, in ngspice or VACASK: the decks calibration runs.

:func:`run_ngspice_cell` writes the model's subcircuit, a PWL source on node
``p`` and the cell from ``p`` to ground with one ``.tran`` card (time step
bounded by ``max_step_s``); :func:`run_vacask_cell` is its twin in VACASK (the
model's Verilog-A compiled by openvaf-r, see memspice.circuit.vacask_writer).
Both return the cell's current and state over time as a :class:`CellTrace`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memspice.circuit.vacask_writer import STATE_NODE, device_library, device_model_card, source_params
from memspice.spice import RunSettings, settings_or_default, simulate

__all__ = ["CellTrace", "ngspice_cell_deck", "pwl_text", "run_ngspice_cell", "run_vacask_cell", "vacask_cell_deck"]


@dataclass(frozen=True, eq=False)
class CellTrace:
    """A simulated cell: ``time_s`` (T,) the simulator's time points, ``i_a`` (T,) the cell current p -> n,
    ``x`` (T,) the cell's state (None when the simulator gave no state vector)."""

    time_s: np.ndarray
    i_a: np.ndarray
    x: np.ndarray | None


def pwl_text(t_s, v_v) -> str:
    """ngspice PWL source text ``PWL(t0 v0 t1 v1 ...)`` of the corners (t_s, v_v), 12 significant digits."""
    pairs = " ".join(f"{t:.12g} {v:.12g}" for t, v in zip(t_s, v_v))
    return f"PWL({pairs})"


def ngspice_cell_deck(model, t_s, v_v, x0: float, max_step_s: float, title: str) -> str:
    """ngspice deck: PWL source on node p, the device (instance ``Xcell``) from p to ground, one .tran card.

    ``title`` is the deck's first line (a ``*`` comment)."""
    return "\n".join([
        title,
        model.spice_subckt(),
        f"Vdrive p 0 {pwl_text(t_s, v_v)}",
        model.spice_instance("cell", "p", "0", x0),
        f".tran {max_step_s:.6g} {float(t_s[-1]):.12g} 0 {max_step_s:.6g}",
        ".end",
        "",
    ])


def run_ngspice_cell(model, t_s, v_v, x0: float, max_step_s: float, *, title: str,
                     settings: RunSettings | None = None, with_state: bool = True) -> CellTrace:
    """Simulate :func:`ngspice_cell_deck`; ``with_state`` also reads the state vector when ngspice saved it.

    ``settings``: backend and time limit (default :class:`~memspice.spice.RunSettings()`); the deck is ngspice's."""
    settings = settings_or_default(settings, engine="ngspice")
    res = simulate(ngspice_cell_deck(model, t_s, v_v, x0, max_step_s, title), settings)
    # the source current flows into its + node from the circuit: the cell current is -i(vdrive)
    x = None
    if with_state:
        x = res.vectors.get(f"v(xcell.{model.spice_state_node})")
    return CellTrace(res.time, -res.i("vdrive"), x)


def vacask_cell_deck(model, t_s, v_v, x0: float, max_step_s: float) -> str:
    """The VACASK twin of :func:`ngspice_cell_deck` (the model's Verilog-A, compiled and cached)."""
    lib = device_library(model)
    return "\n".join([
        f"memspice calibrate: one {model.name} cell",
        lib.load_line,
        device_model_card(model, lib),
        "model vsource vsource",
        f"vdrive (p 0) vsource {source_params(t_s, v_v)}",
        f"xcell (p 0) {model.subckt_name} x0={x0!r}",
        "control",
        f'  save v(p) i(vdrive) v("xcell:{STATE_NODE}")',
        f"  analysis tran1 tran step={max_step_s:.6g} stop={float(t_s[-1])!r} maxstep={max_step_s:.6g}",
        "endc",
        "",
    ])


def run_vacask_cell(model, t_s, v_v, x0: float, max_step_s: float, *,
                    settings: RunSettings | None = None) -> CellTrace:
    """Simulate :func:`vacask_cell_deck` in VACASK (``settings``: its time limit; default
    :class:`~memspice.spice.RunSettings()`)."""
    settings = settings_or_default(settings, engine="vacask")
    res = simulate(vacask_cell_deck(model, t_s, v_v, x0, max_step_s), settings)
    # the source current flows into its + node from the circuit: the cell current is -i(vdrive)
    return CellTrace(res.time, -res.i("vdrive"), res.v(f"xcell.{STATE_NODE}"))
