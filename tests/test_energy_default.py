"""The energy table memspice ships (circuits/energy_default.toml): current, physically right, used by default."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest

from memspice.cli import build_parser, main
from memspice.commands.energy import measure_command
from memspice.devices import get_model
from memspice.energy import EnergyModel, load_default_table, load_table
from memspice.energy.config import energy_model_from_table, energy_table_label
from memspice.energy.default import FILENAME, FOLDER, MEASURE_ARGS, default_table_path
from memspice.errors import ConfigError
from memspice.validate import defaults

_ENERGIES = ("total_j", "per_cell_j", "per_line_j", "half_selected_j", "unselected_j")


def _key(e):
    return (e.kind, e.direction, e.encoding, e.level, e.scheme, e.voltage_v, e.width_s, e.rise_s, e.fall_s)


@pytest.mark.spice
def test_shipped_default_table_is_not_stale(tmp_path, capsys):
    # Reference: a fresh ngspice measurement with the documented command (memspice.energy.default).
    # Tolerance 0.1 %: one ngspice build reproduces these transients to ~1e-12; 0.1 % leaves room for
    # other builds, while any change of an input (a device parameter, the state, V_read by 1 %, a pulse
    # width) moves some entry by more. Fails -> regenerate with memspice.energy.default.COMMAND.
    out = tmp_path / FILENAME
    assert main(["energy", "measure", *MEASURE_ARGS, "-o", str(out)]) == 0
    capsys.readouterr()
    fresh, shipped = load_table(out), load_table(default_table_path())
    assert [_key(e) for e in shipped.entries] == [_key(e) for e in fresh.entries]
    for s, f in zip(shipped.entries, fresh.entries):
        for name in _ENERGIES:
            assert getattr(s, name) == pytest.approx(getattr(f, name), rel=1e-3, abs=1e-22), (_key(s), name)
    # same crossbar, device, states and settings; the recorded command differs only in its -o path
    sd, fd = dict(shipped.description), dict(fresh.description)
    assert sd.pop("command") == fd.pop("command").replace(shlex.quote(str(out)), f"{FOLDER}/{FILENAME}")
    assert sd == fd


def test_default_table_is_the_project_default_device_and_its_command():
    d = load_default_table().description
    # the default device of validate-update, co-simulation and the demo (memspice.validate.defaults)
    assert d["model"]["name"] == defaults.MODEL
    assert d["model"]["params"] == dict(get_model(defaults.MODEL, **defaults.MODEL_PARAMS).params)
    assert d["settings"]["write_amplitudes_v"] == [defaults.AMPLITUDE_UP_V]
    assert (d["crossbar"]["rows"], d["crossbar"]["cols"], d["crossbar"]["row_wire_ohm"]) == (8, 8, 0.0)
    # the file records the command that remakes it: MEASURE_ARGS, every option spelled out
    args = build_parser().parse_args(["energy", "measure", *MEASURE_ARGS, "-o", f"{FOLDER}/{FILENAME}"])
    assert d["command"] == measure_command(args)


def test_default_table_against_ohms_law():
    # Reference: V²·G·t_eff of an ohmic cell (VTEAM's I-V is linear, i = V/R(x)), R(x) = R_on + x(R_off − R_on),
    # t_eff = plateau + (rise + fall)/3 (∫(v/V)² dt of the trapezoid). Ideal wires: nothing else dissipates.
    table = load_default_table()
    d = table.description
    p, x = d["model"]["params"], d["states"]["mean"]
    g = 1.0 / (p["r_on_ohm"] + x * (p["r_off_ohm"] - p["r_on_ohm"]))
    v_read = d["states"]["v_read_v"]
    for e in table.select(kind="read"):  # 10 mV: far inside both thresholds, the state does not move
        assert e.per_cell_j == pytest.approx((e.level * v_read) ** 2 * g * e.effective_width_s, rel=1e-3)
        assert e.per_line_j == pytest.approx(8 * e.per_cell_j, rel=1e-9)  # 8 cells per driven line
    amp = d["settings"]["write_amplitudes_v"][0]
    for scheme, k in (("v/2", 2), ("v/3", 3)):
        e = table.one(kind="pulse", scheme=scheme)
        t = e.effective_width_s
        # half-selected cells see −|V|/k, inside v_on = −0.2 V: ohmic, no switching
        assert e.half_selected_j == pytest.approx((amp / k) ** 2 * g * t, rel=1e-3)
        if k == 2:  # V/2: unselected cells see 0 V
            assert e.unselected_j == pytest.approx(0.0, abs=1e-6 * e.half_selected_j)
        else:  # V/3: +|V|/3 = 0.09 V, above v_off = 0.02 V: they switch OFF a little (G only falls), bounded
            # by VTEAM's Eq. (1) OFF rate k_off/(w_off − w_on)·(v/v_off − 1)^α_off (guard factor ~1 at x = 0.5)
            dx = p["k_off_m_per_s"] / (p["w_off_m"] - p["w_on_m"]) * (-amp / 3 / p["v_off_v"] - 1) ** p["alpha_off"] * t
            g_off = 1.0 / (p["r_on_ohm"] + (x + dx) * (p["r_off_ohm"] - p["r_on_ohm"]))
            assert (amp / 3) ** 2 * g_off * t < e.unselected_j < (amp / 3) ** 2 * g * t
        # the selected cell switches ON a little (G only grows): between V²·G(x)·t and V²·G(x_end)·t, with
        # x_end from VTEAM's Eq. (1): dx/dt = k_on/(w_off − w_on)·(V/v_on − 1)^α_on (guard factor ~1 at x = 0.5)
        dx = p["k_on_m_per_s"] / (p["w_off_m"] - p["w_on_m"]) * (amp / p["v_on_v"] - 1) ** p["alpha_on"] * t
        g_end = 1.0 / (p["r_on_ohm"] + (x + dx) * (p["r_off_ohm"] - p["r_on_ohm"]))
        assert amp**2 * g * t < e.per_cell_j < amp**2 * g_end * t
        # every joule the sources deliver ends in a cell: 1 selected, 14 half-selected, 49 unselected
        assert e.total_j == pytest.approx(e.per_cell_j + 14 * e.half_selected_j + 49 * e.unselected_j, rel=1e-3)


def test_energy_config_without_table_uses_the_default(tmp_path):
    model = energy_model_from_table({"mac_j": 2e-12})  # digital keys alone: the default table prices the rest
    assert model.table == load_default_table() and model.digital.mac_j == 2e-12
    label = energy_table_label({})
    assert label.startswith(f"default: {FOLDER}/{FILENAME} (8x8 1R vteam") and "-0.27 V" in label
    assert energy_table_label({"table": "mine.toml"}, tmp_path) == str(tmp_path / "mine.toml")  # explicit wins
    with pytest.raises(ConfigError, match=r"\[energy\] table = 3"):
        energy_model_from_table({"table": 3})


def test_energy_estimate_cli_defaults_to_the_shipped_table(rng, tmp_path, capsys):
    # the hand-counted trains of test_energy_counters (28 coincidences, 26 half-selected cells over both
    # layers) priced with the default table's V/2 pulse: 2 devices x (28·E_sel + 26·E_half)
    from test_energy_counters import _counted_coincidence_step

    _counted_coincidence_step(rng).epoch_metrics(tmp_path, 1)
    assert main(["energy", "estimate", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    e_sel, e_half, _ = EnergyModel(load_default_table()).pulse_energies("v/2")
    assert doc["table"] == str(default_table_path())
    assert doc["epochs"][0]["energy_update_j"] == pytest.approx(2 * (28 * e_sel + 26 * e_half), rel=1e-12)
    assert np.isfinite(doc["epochs"][0]["energy_total_j"])
