"""The energy table memspice ships, used by every training run whose config has no ``[energy] table``.

Provenance (also written in the table's ``description``): ngspice transients
of ``memspice energy measure`` (:func:`memspice.energy.measure_energy_table`)
on

* an 8x8 1R crossbar, ideal wires and drivers (0 Ω), virtual-ground readout;
* the project's default device (:mod:`memspice.validate.defaults`): VTEAM
  (Kvatinsky et al. 2015) with the ON speed slowed 1000x, k_on = −0.01 m/s,
  other parameters the preset's (R_on 50 Ω, R_off 1 kΩ);
* every cell at state x = 0.5 (R = 525 Ω, G = 1.905 mS);
* reads at the model's V_read = 10 mV: DAC levels 0.25, 0.5, 0.75, 1 of it,
  10 ns plateau, 1 ns edges; stochastic bit slots 2 ns, 0.1 ns edges;
  forward and backward (transposed) reads;
* programming pulses of −0.27 V (the default device's ON pulse), 50 ns
  plateau, 1 ns edges, V/2 and V/3 schemes, on the centre cell (4, 4).

Regenerate it (from a source checkout; ~6 s) with :data:`COMMAND`::

    memspice energy measure --model vteam --param k_on_m_per_s=-0.01 --rows 8 --cols 8 --state 0.5 \\
        --amplitude -0.27 -o circuits/energy_default.toml

``tests/test_energy_default.py`` re-measures it with ngspice and fails when
the shipped file is stale.

Why these choices: with ideal wires the per-cell energies do not depend on
the array size (no IR drop, no wire loss), so the model's scaling by the
cells of each layer's tile is exact for any layer; measure your own table
with ``--wire-ohm`` for wire loss. One amplitude only: every count of a
rule is priced at the ON pulse (−0.27 V); the default device's OFF pulse
(+0.038 V) costs ~50x less, so update energies are an upper bound for
push-pull pairs. Per-cell energies scale with the cells' conductance
(V²·G·t): the default device's 1.9 mS is ~240x the 8 µS centre of the
1-15 µS example tiles (examples/digits_*.toml), so set ``[energy] table``
to a table of your own device for absolute numbers; the default gives every
run an estimate on one stated circuit, so runs and rules compare.
"""

from __future__ import annotations

import functools
from pathlib import Path

from memspice.resources import data_file

#: file of the default table in the shipped data folder circuits/ (a .csv with the same rows sits beside it)
FILENAME = "energy_default.toml"
FOLDER = "circuits"
#: arguments of ``memspice energy measure`` that measure the default table (without ``-o``)
MEASURE_ARGS = ("--model", "vteam", "--param", "k_on_m_per_s=-0.01", "--rows", "8", "--cols", "8",
                "--state", "0.5", "--amplitude", "-0.27")
#: the command that regenerates the shipped file, from the top of a source checkout
COMMAND = "memspice energy measure " + " ".join(MEASURE_ARGS) + f" -o {FOLDER}/{FILENAME}"


def default_table_path() -> Path:
    """The shipped default table (memspice/_data/circuits/ installed, circuits/ in a checkout)."""
    return data_file(FOLDER, FILENAME)


@functools.lru_cache(maxsize=1)
def load_default_table():
    """The default :class:`~memspice.energy.EnergyTable` (read once per process)."""
    from memspice.energy.table import load_table

    return load_table(default_table_path())


def default_label() -> str:
    """What operations.json says produced the numbers: ``default: <file> (<crossbar>, <pulse>)``."""
    d = load_default_table().description
    amps = ", ".join(f"{a:g} V" for a in d.get("settings", {}).get("write_amplitudes_v", []))
    return (f"default: {FOLDER}/{FILENAME} ({d['crossbar']['summary']}, states x = {d['states']['mean']:g}, "
            f"read {d['states']['v_read_v']:g} V, pulses {amps})")


__all__ = ["COMMAND", "FILENAME", "MEASURE_ARGS", "default_label", "default_table_path", "load_default_table"]
