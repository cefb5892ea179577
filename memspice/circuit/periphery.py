"""The hand-written periphery subcircuits in circuits/ (TIA, driver, sense resistor, NMOS card).

The folder is found by :func:`memspice.resources.data_dir`: beside the package
in a source checkout (``<repo>/circuits``), under ``memspice/_data/circuits``
in an installed wheel. Decks written by memspice inline the text of these
files, so a deck runs with plain ``ngspice -b`` from any directory.
"""

from __future__ import annotations

from pathlib import Path

from memspice.resources import data_dir, data_file

#: file in circuits/ -> the subcircuit or model name it defines
TIA_FILE, TIA_SUBCKT = "tia.cir", "ms_tia"
SENSE_FILE, SENSE_SUBCKT = "sense_resistor.cir", "ms_sense"
DRIVER_FILE, DRIVER_SUBCKT = "write_driver.cir", "ms_write_driver"
NMOS_FILE, NMOS_MODEL = "access_nmos.lib", "ms_nmos"


def circuits_dir() -> Path:
    """The circuits/ folder, installed or in a checkout."""
    return data_dir("circuits")


def circuit_text(filename: str) -> str:
    """Text of one file in circuits/ (DataError naming what is there if it is missing)."""
    return data_file("circuits", filename).read_text()
