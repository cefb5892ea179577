"""The energy table (ngspice) against V²/R·t, its storage, and the energy model's arithmetic."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memspice.circuit import Crossbar, PulseShape
from memspice.cli import main
from memspice.devices import get_model
from memspice.energy import DigitalCosts, EnergyEntry, EnergyModel, EnergySettings, EnergyTable, load_table, \
    measure_energy_table, save_table
from memspice.learn.counters import FIELDS

R_OHM = 1e4
READ = PulseShape(width_s=10e-9, rise_s=1e-9, fall_s=1e-9, delay_s=1e-9, tail_s=1e-9)
BIT = PulseShape(width_s=2e-9, rise_s=0.2e-9, fall_s=0.2e-9, delay_s=0.2e-9, tail_s=0.2e-9)
WRITE = PulseShape(width_s=50e-9, rise_s=2e-9, fall_s=1e-9, delay_s=1e-9, tail_s=1e-9)


def t_eff(p: PulseShape) -> float:
    # ∫ (v/V)² dt of a trapezoid: plateau + one third of each linear edge (∫0^τ (t/τ)² dt = τ/3)
    return p.width_s + (p.rise_s + p.fall_s) / 3


@pytest.fixture(scope="module")
def resistor_table():
    """A 3x4 array of fixed 10 kΩ resistors (r_on = r_off), ideal wires, V_read 0.2 V, V_write 1.2 V."""
    model = get_model("resistor", r_on_ohm=R_OHM, r_off_ohm=R_OHM)
    xb = Crossbar.uniform(model, 3, 4, 1.0)
    settings = EnergySettings(v_read_v=0.2, dac_levels=(0.5, 1.0), read_pulse=READ, bit_pulse=BIT,
                              write_amplitudes_v=(1.2,), write_pulse=WRITE, selected=(1, 2))
    return measure_energy_table(xb, settings)


@pytest.mark.spice
@pytest.mark.parametrize("scheme, half_fraction, unsel_fraction", [("v/2", 1 / 2, 0.0), ("v/3", 1 / 3, 1 / 3)])
def test_pulse_energy_of_linear_resistor_is_v2_over_r_times_t(resistor_table, scheme, half_fraction, unsel_fraction):
    e = resistor_table.one(kind="pulse", scheme=scheme)
    v = 1.2
    analytic = v**2 / R_OHM * t_eff(WRITE)  # selected cell: the full V across R for the pulse
    assert e.per_cell_j == pytest.approx(analytic, rel=5e-3)
    # half-selected cells see V/2 (V/3), unselected 0 (V/2 scheme) or -V/3 (V/3 scheme): energy ∝ v²
    assert e.half_selected_j == pytest.approx(analytic * half_fraction**2, rel=5e-3)
    assert e.unselected_j == pytest.approx(analytic * unsel_fraction**2, rel=5e-3, abs=1e-20)
    # ideal wires and drivers: every joule the sources deliver ends in a cell (1 selected, 3+2 half, 6 unselected)
    cells = e.per_cell_j + 5 * e.half_selected_j + 6 * e.unselected_j
    assert e.total_j == pytest.approx(cells, rel=1e-6)


@pytest.mark.spice
def test_read_energy_of_linear_resistor_per_row_and_level(resistor_table):
    for direction, cells_per_line in (("forward", 4), ("backward", 3)):
        for u in (0.5, 1.0):
            e = resistor_table.one(kind="read", direction=direction, encoding="analog", level=u)
            analytic = (u * 0.2) ** 2 / R_OHM * t_eff(READ)
            assert e.per_cell_j == pytest.approx(analytic, rel=5e-3)
            assert e.per_line_j == pytest.approx(cells_per_line * analytic, rel=5e-3)
        bit = resistor_table.one(kind="read", direction=direction, encoding="stochastic")
        assert bit.per_cell_j == pytest.approx(0.2**2 / R_OHM * t_eff(BIT), rel=5e-3)


@pytest.mark.spice
def test_read_energy_follows_each_rows_conductance():
    # different conductance per cell: a row activation costs V² t Σ_j G_ij; per line = mean over rows
    model = get_model("resistor", r_on_ohm=1e4, r_off_ohm=1e5)
    states = np.array([[0.0, 0.5, 1.0], [1.0, 1.0, 0.25]])
    xb = Crossbar(model, states)
    settings = EnergySettings(v_read_v=0.1, dac_levels=(1.0,), read_pulse=READ, bit_pulse=BIT,
                              write_amplitudes_v=(1.0,), write_pulse=WRITE, schemes=("v/2",), backward=False)
    table = measure_energy_table(xb, settings)
    g = 1e-5 + states * (1e-4 - 1e-5)  # G(X) = 1/R_off + X (1/R_on - 1/R_off)
    analytic_per_line = 0.1**2 * t_eff(READ) * g.sum(axis=1).mean()
    e = table.one(kind="read", direction="forward", encoding="analog", level=1.0)
    assert e.per_line_j == pytest.approx(analytic_per_line, rel=5e-3)


@pytest.mark.spice
def test_table_round_trip_and_description(resistor_table, tmp_path):
    toml_path, csv_path = save_table(resistor_table, tmp_path / "e.toml")
    back = load_table(toml_path)
    assert back.entries == resistor_table.entries  # floats survive bit for bit
    assert back.description["model"]["params"]["r_on_ohm"] == R_OHM
    assert back.description["crossbar"]["rows"] == 3 and back.description["crossbar"]["cols"] == 4
    assert csv_path.read_text().count("\n") == len(resistor_table.entries) + 1


@pytest.mark.spice
def test_energy_measure_cli_json(tmp_path, capsys):
    out = tmp_path / "t.toml"
    args = ["energy", "measure", "--model", "resistor", "--param", "r_on_ohm=2e4", "--param", "r_off_ohm=2e4",
            "--rows", "2", "--cols", "2", "--state", "1", "--v-read", "0.1", "--amplitude", "1.0",
            "--write-width", "20e-9", "--edge", "1e-9", "--dac-levels", "1", "--no-backward", "-o", str(out), "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    pulse = [e for e in doc["entries"] if e["kind"] == "pulse" and e["scheme"] == "v/2"][0]
    assert pulse["per_cell_j"] == pytest.approx(1.0 / 2e4 * (20e-9 + 2e-9 / 3), rel=5e-3)  # V²/R t
    assert out.is_file() and out.with_suffix(".csv").is_file()


def _synthetic_table() -> EnergyTable:
    """Made-up but consistent numbers (J): an ohmic read e(u) = 4e-15 u², pulses 1e-12 / 0.25e-12 / 0."""
    common = dict(voltage_v=0.2, width_s=1e-8, rise_s=0.0 + 1e-9, fall_s=1e-9, total_j=0.0)
    entries = [EnergyEntry(kind="read", direction=d, encoding="analog", level=u, per_cell_j=4e-15 * u * u, **common)
               for d in ("forward", "backward") for u in (0.25, 0.5, 1.0)]
    entries += [EnergyEntry(kind="read", direction=d, encoding=enc, level=1.0, per_cell_j=val, **common)
                for d in ("forward", "backward") for enc, val in (("binary", 4e-15), ("stochastic", 1e-15))]
    pulse = dict(voltage_v=1.0, width_s=5e-8, rise_s=1e-9, fall_s=1e-9, total_j=0.0)
    entries += [EnergyEntry(kind="pulse", scheme="v/2", per_cell_j=1e-12, half_selected_j=0.25e-12, **pulse),
                EnergyEntry(kind="pulse", scheme="v/3", per_cell_j=1e-12, half_selected_j=1e-12 / 9,
                            unselected_j=1e-12 / 9, **pulse)]
    return EnergyTable(description={}, entries=tuple(entries))


def _counts(**values) -> dict:
    c = dict.fromkeys(FIELDS, 0.0)
    c.update(values)
    return c


def test_energy_model_read_encodings_by_hand():
    table = _synthetic_table()
    shape = (3, 5)  # n_out = 3 columns, n_cols = 5 rows
    c = _counts(forward_reads=2, forward_rows=7, forward_sum_abs=4.0, forward_sum_sq=3.0, forward_conversions=6)
    digital = DigitalCosts(adc_conversion_j=1e-12, mac_j=0.0, accumulator_update_j=0.0)
    # analog: the quadratic fit recovers a2 = 4e-15 exactly; 2 arrays x 3 cells per row x Σu²
    e = EnergyModel(table, digital=digital).layer_energy(c, shape)
    assert e["forward_read_j"] == pytest.approx(2 * 3 * 4e-15 * 3.0, rel=1e-9)
    assert e["adc_j"] == pytest.approx(6e-12)
    assert e["backward_read_j"] == 0.0
    # binary: full-scale energy per driven row; stochastic: BL·Σ|u| bits of 1e-15 J per cell
    e = EnergyModel(table, forward_encoding="binary").layer_energy(c, shape)
    assert e["forward_read_j"] == pytest.approx(2 * 3 * 4e-15 * 7, rel=1e-12)
    e = EnergyModel(table, forward_encoding="stochastic", bl=8).layer_energy(c, shape)
    assert e["forward_read_j"] == pytest.approx(2 * 3 * 1e-15 * 8 * 4.0, rel=1e-12)
    # energy per MAC: forward read energy / (reads·n_out·n_cols)
    assert e["forward_j_per_mac"] == pytest.approx(e["forward_read_j"] / (2 * 15))


def test_energy_model_update_by_hand():
    table = _synthetic_table()
    shape = (3, 5)
    zero = DigitalCosts(adc_conversion_j=0.0, mac_j=0.0, accumulator_update_j=0.0)
    # coincidence trains: 10 coincidences at 1 pJ + 40 half-selected at 0.25 pJ, two devices per count
    c = _counts(slots=4, coincidences=10, half_selected=40)
    e = EnergyModel(table, digital=zero).layer_energy(c, shape, devices_per_pulse=2)
    assert e["update_j"] == pytest.approx(2 * (10e-12 + 40 * 0.25e-12))
    # cell by cell, V/3: each pulse 1 selected + (5+3-2) half + (4·2) unselected at 1/9 pJ; 7 pulses, 1 device
    c = _counts(cell_pulses=7, programmed_cells=3, digital_macs=100, accumulator_updates=15)
    e = EnergyModel(table, write_scheme="v/3", digital=DigitalCosts(mac_j=1e-12, accumulator_update_j=2e-12,
                                                                    adc_conversion_j=0.0)).layer_energy(c, shape, 1)
    assert e["update_j"] == pytest.approx(7 * (1e-12 + 6e-12 / 9 + 8e-12 / 9))
    assert e["digital_update_j"] == pytest.approx(100e-12 + 30e-12)
    assert e["total_j"] == pytest.approx(e["update_j"] + e["digital_update_j"])
