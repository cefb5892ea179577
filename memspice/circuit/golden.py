"""The golden decks in netlists/: fixed crossbars and stimuli whose SPICE text is kept under review.

Regenerate them all with one command (from a source checkout)::

    memspice crossbar golden            # rewrites netlists/*.cir
    memspice crossbar golden --check    # exit 1 and list the decks that differ

tests/test_circuit_golden.py fails when a deck in netlists/ differs from what
this module writes (a change of the generator, a device model or a circuits/
file shows up as a reviewed diff), and writes a missing deck then fails so a
reviewer looks at it once. Every deck runs as it is with ``ngspice -b`` and
prints its result: a ``.op`` deck prints every node voltage and source current
(the column currents ``vsense<j>#branch``, the TIA outputs ``out<j>``), a
``.tran`` deck carries ``.meas`` cards for the final state of the cells that
matter (without a ``.print``/``.meas`` card ngspice -b runs no analysis).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from memspice.circuit.crossbar import Crossbar, Readout
from memspice.circuit.spice_writer import write_netlist
from memspice.circuit.stimulus import CoincidenceTrain, PulseShape, ReadStimulus, WriteScheme
from memspice.errors import DataError


def _vteam():
    from memspice.devices import get_model

    return get_model("vteam")


def read_8x8() -> tuple[Crossbar, object]:
    """8x8 VTEAM, 2.5-ohm segments, virtual-ground readout, a DC read at 5..10 mV."""
    rng = np.random.default_rng(8)
    xb = Crossbar(_vteam(), np.round(rng.uniform(0, 1, (8, 8)), 6), row_wire_ohm=2.5, col_wire_ohm=2.5)
    v = np.round(rng.uniform(0.005, 0.01, 8), 6)
    return xb, ReadStimulus(v).drive(8, 8)


def write_v2_8x8() -> tuple[Crossbar, object]:
    """8x8 VTEAM, one -0.3 V, 10 ns V/2 SET pulse on cell (3, 5) through 10-ohm drivers."""
    xb = Crossbar(_vteam(), np.full((8, 8), 0.8), row_wire_ohm=2.5, col_wire_ohm=2.5, driver_ohm=10.0)
    pulse = PulseShape(width_s=10e-9, rise_s=1e-9, fall_s=1e-9, delay_s=1e-9, tail_s=1e-9)
    return xb, WriteScheme(-0.3, (3, 5), scheme="v/2", pulse=pulse).drive(8, 8)


def read_4x4_1t1r() -> tuple[Crossbar, object]:
    """4x4 1T1R VTEAM with the TIA readout; only row 1's gates on."""
    rng = np.random.default_rng(4)
    xb = Crossbar(_vteam(), np.round(rng.uniform(0, 1, (4, 4)), 6), cell="1T1R", row_wire_ohm=2.5,
                  col_wire_ohm=2.5, readout=Readout(kind="tia", tia_feedback_ohm=1e3))
    return xb, ReadStimulus(np.full(4, 0.01), gate_rows_on=(1,)).drive(4, 4)


def coincidence_4x4() -> tuple[Crossbar, object]:
    """4x4 VTEAM, a stochastic pulse-coincidence train (BL = 8, seed 16) at -0.24 V."""
    rng = np.random.default_rng(16)
    pulse = PulseShape(width_s=2e-9, rise_s=0.5e-9, fall_s=0.5e-9, delay_s=0.5e-9, tail_s=0.5e-9)
    train = CoincidenceTrain.draw([0.2, 0.4, 0.6, 0.8], [0.8, 0.5, 0.3, 0.1], 8, rng, amplitude_v=-0.24, pulse=pulse)
    return Crossbar.uniform(_vteam(), 4, 4, state=0.9), train.drive(4, 4)


#: file name -> factory of (crossbar, drive)
GOLDEN: dict[str, Callable] = {
    "read_8x8.cir": read_8x8,
    "write_v2_8x8.cir": write_v2_8x8,
    "read_4x4_1t1r.cir": read_4x4_1t1r,
    "coincidence_4x4.cir": coincidence_4x4,
}


def _cross(row: int, col: int, rows: int, cols: int) -> tuple[tuple[int, int], ...]:
    """The cells of row ``row`` and column ``col`` (selected and half-selected), then the unselected (0, 0)."""
    line = [(row, j) for j in range(cols)] + [(i, col) for i in range(rows) if i != row]
    return tuple(line) + ((0, 0),)


#: file name -> the cells whose final state a transient deck prints (``.meas ... FIND v(x<i>_<j>.state) AT=...``)
PRINTED_CELLS: dict[str, tuple[tuple[int, int], ...]] = {
    "write_v2_8x8.cir": _cross(3, 5, 8, 8),
    "coincidence_4x4.cir": tuple((i, j) for i in range(4) for j in range(4)),
}


def result_cards(cells, t_stop_s: float, max_step_s: float) -> list[str]:
    """``.meas`` cards that make ``ngspice -b`` run the transient and print each cell's final state.

    The state is read one time step before ``t_stop_s``, inside the drive's
    0 V tail (at least one edge, five steps, long): ngspice's last time point
    can fall a rounding error short of ``t_stop_s``, and a ``.meas`` outside
    the simulated interval fails with an error.
    """
    at = f"{float(t_stop_s) - float(max_step_s):.17g}"
    return [f".meas tran state{i}_{j} FIND v(x{i}_{j}.state) AT={at}" for i, j in cells]


def golden_text(name: str) -> str:
    """The deck ``name`` as the generator writes it now."""
    xb, drive = GOLDEN[name]()
    text = write_netlist(xb, drive)
    if not drive.is_transient:
        return text  # a .op deck: ngspice -b prints the operating point by itself
    body, tail = text.rsplit(".end\n", 1)
    if tail:
        raise DataError(f"golden deck {name}: the netlist writer's text does not end with .end")
    cards = ["* ---- results: final cell states, printed by plain `ngspice -b`"]
    cards += result_cards(PRINTED_CELLS[name], drive.t_stop_s, drive.max_step_s)
    return body + "\n".join(cards) + "\n.end\n"


def default_dir() -> Path:
    """netlists/ of the source checkout (it does not ship in the wheel)."""
    path = Path(__file__).resolve().parents[2] / "netlists"
    if not path.is_dir():
        raise DataError(f"no netlists/ folder at {path}: run from a source checkout or pass --out DIR")
    return path


def regenerate(out_dir: Path | None = None, *, check: bool = False) -> list[str]:
    """Write every golden deck into ``out_dir`` (default netlists/); with ``check`` only compare.

    Returns the names of the decks that were missing or differed.
    """
    out = Path(out_dir) if out_dir is not None else default_dir()
    changed = []
    for name in GOLDEN:
        text = golden_text(name)
        path = out / name
        if not path.is_file() or path.read_text() != text:
            changed.append(name)
            if not check:
                out.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return changed
