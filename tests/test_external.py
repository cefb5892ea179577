"""External Verilog-A devices: import, single cell and 8x8 arrays in VACASK, the tabulated surrogate,
calibration fits, an imported built-in model against the built-in path, training, and bad input.

The device under test is tests/data/external/filament_gap.va, written for these tests (not rendered
by memspice): a filament-gap cell with a tunnelling current and an exponential hopping rate. Its
equations are in the file's header; the independent references below (`_current`, `_gap_rate`) are
those equations typed in again in numpy/scipy, never the model's own code path.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from memspice.calibrate import evaluate_model
from memspice.calibrate.modelfile import model_to_table
from memspice.circuit import Crossbar, PulseShape, ReadStimulus, WriteScheme
from memspice.circuit import read as builtin_read
from memspice.circuit import write as builtin_write
from memspice.cli import main as cli_main
from memspice.devices import get_model
from memspice.calibrate.imported import measure_pulse_response, measured_pulse_data
from memspice.cell.imported_pulses import PulseProtocol, measure_pulse_trains
from memspice.external import import_verilog_a, inspect_verilog_a, load_external_card
from memspice.errors import ParameterError
from memspice.resources import data_file
from memspice.spice import RunSettings
from memspice.spice.osdi import VerilogACompileError

pytestmark = pytest.mark.spice

DATA = Path(__file__).resolve().parent / "data" / "external"
GAP_VA = DATA / "filament_gap.va"

# The file's parameter defaults (filament_gap.va), typed in again for the references.
I0, G0, V0 = 2.0e-4, 0.25, 0.4
GAP_MIN, GAP_MAX = 0.3, 0.9
K_SET = K_RESET = 1.0e5
V_SET, V_RESET, V_SLOPE = 1.0, 0.9, 0.08
V_READ = 0.1
UP_V, DOWN_V, WIDTH_S = 1.2, -1.0, 10e-9  # set shrinks the gap (raises G), reset widens it


def _current(v, gap):
    """Header equation: I = i0 exp(-gap/g0) sinh(V/v0)."""
    return I0 * np.exp(-np.asarray(gap) / G0) * np.sinh(np.asarray(v) / V0)


def _gap_rate(v, gap, gap_init):
    """Header state equation, plus the 1 TOhm hold to gap_init on the 1 pF state capacitor (1/s)."""
    span = GAP_MAX - GAP_MIN
    rate = (-K_SET * np.exp((v - V_SET) / V_SLOPE) * (gap - GAP_MIN) / span
            + K_RESET * np.exp((-v - V_RESET) / V_SLOPE) * (GAP_MAX - gap) / span)
    return rate - (gap - gap_init) * 1.0  # (V - gap_init) * 1e-12 A / 1e-12 F


def _gap_after(t_s, v_v, gap0):
    """The gap along a PWL waveform, integrated with scipy (an independent solver)."""
    def f(t, y):
        return [_gap_rate(np.interp(t, t_s, v_v), y[0], gap0)]

    edge = float(np.min(np.diff(t_s)))
    sol = solve_ivp(f, (t_s[0], t_s[-1]), [gap0], method="LSODA", rtol=1e-9, atol=1e-12, max_step=edge / 20,
                    dense_output=True)
    return sol.sol


@pytest.fixture(scope="module")
def gap_model():
    return import_verilog_a(GAP_VA, state="gap")


@pytest.fixture(scope="module")
def gap_grid(gap_model):
    return measure_pulse_response(gap_model, [UP_V, -1.1, DOWN_V, 1.1], [WIDTH_S, 20e-9], n_pulses=20, n_starts=5)


# --------------------------------------------------------------------------- import


def test_inspect_reads_module_terminals_nodes_and_parameters():
    # Reference: the declarations in filament_gap.va.
    iface = inspect_verilog_a(GAP_VA)
    assert iface.module == "filament_gap"
    assert iface.terminals == ("te", "be")
    assert iface.internal_nodes == ("gap",)
    assert iface.opvars == ("gap_nm",)
    assert iface.instance_parameters == ("gap_init",)
    p = {q.name: q for q in iface.parameters}
    assert p["k_set"].default == K_SET and p["v_reset"].default == V_RESET and p["g0"].default == G0
    assert p["i0"].low == 0 and not p["i0"].low_inclusive and p["i0"].high is None
    assert (p["gap_init"].low, p["gap_init"].high, p["gap_init"].low_inclusive) == (0.3, 0.9, True)
    assert p["v_set"].kind == "model" and p["gap_init"].kind == "instance"


def test_import_maps_terminals_and_state_and_measures_read_conductance(gap_model):
    m = gap_model
    assert m.terminals == ("te", "be")
    assert (m.state.kind, m.state.name, m.state.init_param) == ("node", "gap", "gap_init")
    assert (m.x_min, m.x_max, m.x0_default) == (0.3, 0.9, 0.6)  # the init parameter's declared range/default
    # Reference: the header's current equation at the read voltage, G = I(v_read)/v_read. The table is
    # VACASK's answer on a 257-state grid, interpolated monotone-cubically in log G: within 1e-6.
    x = np.linspace(0.3, 0.9, 37)
    np.testing.assert_allclose(m.conductance(x), _current(V_READ, x) / V_READ, rtol=1e-6)
    np.testing.assert_allclose(m.current(-0.05, x), _current(-0.05, x), rtol=1e-6)


def test_output_variable_state_reads_the_same_gap():
    # The module exposes the gap twice: as node `gap` and as the output variable `gap_nm` (same value).
    m = import_verilog_a(GAP_VA, state="gap_nm", init_param="gap_init")
    assert m.state.kind == "opvar"
    res = measure_pulse_trains(m, [np.full(5, UP_V)], PulseProtocol(WIDTH_S), x0=[0.8])[0]
    ref = measure_pulse_trains(import_verilog_a(GAP_VA, state="gap"), [np.full(5, UP_V)], PulseProtocol(WIDTH_S),
                           x0=[0.8])[0]
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-12)
    assert ref.x[-1] < 0.8 - 0.04  # five set pulses moved it by (measured) 0.049 nm


# --------------------------------------------------------------------------- single cell and 8x8 in VACASK


def test_single_cell_pulse_train_matches_independent_ode(gap_model):
    # Reference: the header's state equation integrated by scipy along the same PWL waveform; the
    # read conductance from the header's current equation. 10 set then 10 reset pulses from gap 0.7.
    amps = np.r_[np.full(10, UP_V), np.full(10, DOWN_V)]
    proto = PulseProtocol(WIDTH_S)
    res = measure_pulse_trains(gap_model, [amps], proto, x0=[0.7])[0]
    t, v, reads = proto.waveform(amps, V_READ)
    gap_ref = _gap_after(t, v, 0.7)(reads)[0]
    span = GAP_MAX - GAP_MIN
    assert np.max(np.abs(res.x - gap_ref)) < 0.01 * span
    g_ref = _current(V_READ, gap_ref) / V_READ
    assert np.max(np.abs(res.g_s - g_ref)) < 0.01 * np.ptp(_current(V_READ, np.array([0.3, 0.9])) / V_READ)
    assert np.ptp(gap_ref) > 0.1 * span  # the train moved the gap by a tenth of its range at least


def test_8x8_read_matches_hand_calculation(gap_model, rng):
    # Ideal wires and virtual-ground readout: every cell sees its row voltage, so column j carries
    # sum_i i0 exp(-gap_ij/g0) sinh(V_i/v0) (header equation), to VACASK's solver precision.
    gaps = rng.uniform(0.3, 0.9, (8, 8))
    v_rows = rng.uniform(0.05, 0.2, 8)
    res = builtin_read(Crossbar(gap_model, gaps), ReadStimulus(v_rows), solver="vacask")
    ref = _current(v_rows[:, None], gaps).sum(axis=0)
    np.testing.assert_allclose(res.i_cols_a[0], ref, rtol=1e-9)
    # per-cell currents come from the device's table (17 voltages up to 2 v_read, cubic in v):
    # measured error 7e-6 at the table's edge, so 1e-5
    np.testing.assert_allclose(res.i_cells_a[0], _current(v_rows[:, None], gaps), rtol=1e-5)


def test_8x8_read_through_memspice_circuit_read_vacask(gap_model, rng):
    # The imported device through the normal entry point, memspice.circuit.read(solver="vacask"): the
    # VACASK writer asks the device for its card, instance lines and state saves. Reference: the same
    # hand calculation as above (ideal wires, virtual ground: column j carries
    # sum_i i0 exp(-gap_ij/g0) sinh(V_i/v0)), two read vectors, to 1e-9.
    gaps = rng.uniform(0.3, 0.9, (8, 8))
    v_rows = rng.uniform(0.05, 0.2, (2, 8))
    xb = Crossbar(gap_model, gaps)
    res = builtin_read(xb, ReadStimulus(v_rows), solver="vacask")
    assert res.solver == "vacask" and res.i_cols_a.shape == (2, 8)
    for k in range(2):
        np.testing.assert_allclose(res.i_cols_a[k], _current(v_rows[k][:, None], gaps).sum(axis=0), rtol=1e-9)
    # the same call again (what the removed external runner was): identical numbers
    np.testing.assert_array_equal(builtin_read(xb, ReadStimulus(v_rows), solver="vacask").i_cols_a, res.i_cols_a)


def test_8x8_v2_write_selected_and_half_selected(gap_model, rng):
    # Ideal wires: the selected cell sees the full 1.2 V trapezoid (1 ns delay/edges, 10 ns top), the
    # half-selected ones 0.6 V. Reference for the selected cell: scipy on the header equation; the
    # half-selected cells must move less than 1 % of the selected change (0.6 V is 5 e-folds below v_set).
    gaps = rng.uniform(0.5, 0.9, (8, 8))
    pulse = PulseShape(width_s=WIDTH_S, rise_s=1e-9, fall_s=1e-9, delay_s=1e-9, tail_s=1e-9)
    res = builtin_write(Crossbar(gap_model, gaps), WriteScheme(UP_V, (3, 4), pulse=pulse), RunSettings(engine="vacask"))
    change = res.states_after - res.states_before
    t = np.array([0, 1, 2, 12, 13, 14]) * 1e-9
    v = np.array([0, 0, UP_V, UP_V, 0, 0])
    ref = _gap_after(t, v, gaps[3, 4])(t[-1])[0] - gaps[3, 4]
    assert change[3, 4] == pytest.approx(ref, rel=0.01)
    half = np.ones((8, 8), bool)
    half[3, 4] = False
    assert np.max(np.abs(change[half])) < 0.01 * abs(change[3, 4])
    # Energy: the sources deliver at least what the selected cell dissipates on the plateau alone.
    e_cell = float(UP_V * _current(UP_V, gaps[3, 4] + change[3, 4]) * WIDTH_S)
    assert res.total_energy_j > e_cell


def test_8x8_1t1r_gates_isolate_unselected_rows(gap_model, rng):
    # 1T1R: only row 3's access transistors are on; the other rows' cells must not move at all,
    # while the selected cell, in series with its transistor, moves less than in a 1R array.
    gaps = rng.uniform(0.5, 0.9, (8, 8))
    xb = Crossbar(gap_model, gaps, cell="1T1R", row_wire_ohm=1.0, col_wire_ohm=1.0)
    res = builtin_write(xb, WriteScheme(1.8, (3, 4), pulse=PulseShape(width_s=WIDTH_S)), RunSettings(engine="vacask"))
    change = res.states_after - res.states_before
    others = np.ones(8, bool)
    others[3] = False
    assert np.max(np.abs(change[others])) < 1e-6
    assert change[3, 4] < -0.05


# --------------------------------------------------------------------------- surrogate and calibration


def test_tabulated_surrogate_reproduces_held_out_vacask_train(gap_model, gap_grid):
    # Held out: a random 100-pulse mix of set and reset pulses from gap 0.77 (a start not in the
    # grid), measured in VACASK. The table made from the grid's trains must follow it within 2 % RMS
    # of the device's conductance range.
    tab = gap_grid.tabulated(UP_V, DOWN_V, WIDTH_S)
    rng = np.random.default_rng(7)
    amps = np.where(rng.random(100) < 0.55, UP_V, DOWN_V)
    held = measure_pulse_trains(gap_model, [amps], PulseProtocol(WIDTH_S), x0=[0.77])[0]
    ev = evaluate_model(tab, measured_pulse_data(held), potentiation_polarity=1)
    g_range = tab.g_max_s - tab.g_min_s
    assert ev.rms_error_s < 0.02 * g_range
    assert np.ptp(held.g_s) > 0.1 * g_range  # the held-out train covers a tenth of the range at least
    # the table's bounds are the conductances of the state bounds (header equation at gap 0.9 / 0.3)
    assert tab.g_min_s == pytest.approx(_current(V_READ, GAP_MAX) / V_READ, rel=1e-3)
    assert tab.g_max_s == pytest.approx(_current(V_READ, GAP_MIN) / V_READ, rel=1e-3)


def test_grid_polarity_and_amplitude_ordering(gap_grid):
    # Set pulses (positive) raise G; a larger amplitude moves it more (exponential rate), and a
    # twice longer pulse moves it about twice as far from mid-range.
    assert gap_grid.potentiation_polarity() == 1
    dg = gap_grid.mean_change_s()
    a = {float(x): k for k, x in enumerate(gap_grid.amplitudes_v)}
    assert dg[a[UP_V], 0] > dg[a[1.1], 0] > 0 > dg[a[DOWN_V], 0] > dg[a[-1.1], 0]
    assert dg[a[1.1], 1] > 1.5 * dg[a[1.1], 0]


def test_calibration_fit_on_vacask_measurements(gap_grid):
    # calibrate's fitting on the measured trains: a soft-bounds fit of the 10 trains (5 starts x
    # 2 polarities) within 2 % RMS of their conductance range.
    fit = gap_grid.fit("soft-bounds", UP_V, DOWN_V, WIDTH_S)
    assert fit.rms_rel_range < 0.02
    assert fit.potentiation_polarity == 1


# --------------------------------------------------------------------------- one of our own models


def test_imported_vteam_matches_builtin_path(rng):
    # models/vteam.va imported as an external model against the built-in VTEAM: a read of an 8x8
    # array with 1 ohm wires (built-in: the nodal solver, exact for VTEAM's linear I-V) within 1e-6,
    # and a 100-pulse trajectory (built-in: the numpy integration) within 1 % of the state range.
    builtin = get_model("vteam")
    imported = import_verilog_a(data_file("models", "vteam.va"), state="xs", v_read_v=builtin.v_read_v)
    assert imported.state.init_param == "x0" and (imported.x_min, imported.x_max) == (0.0, 1.0)
    x = rng.uniform(0.05, 0.95, (8, 8))
    stim = ReadStimulus(rng.uniform(0.005, 0.01, 8))
    kw = dict(row_wire_ohm=1.0, col_wire_ohm=1.0)
    ext = builtin_read(Crossbar(imported, x, **kw), stim, solver="vacask")
    ref = builtin_read(Crossbar(builtin, x, **kw), stim, solver="nodal")
    np.testing.assert_allclose(ext.i_cols_a, ref.i_cols_a, rtol=1e-6)
    np.testing.assert_allclose(imported.conductance(x), builtin.conductance(x), rtol=1e-6)

    amps = np.r_[np.full(50, 0.1), np.full(50, -0.21)]  # test_vacask_models' VTEAM train
    proto = PulseProtocol(10e-9)
    res = measure_pulse_trains(imported, [amps], proto, x0=[0.5])[0]
    t, v, reads = proto.waveform(amps, builtin.v_read_v)
    x_ref = np.interp(reads, t, builtin.integrate(t, v, np.array(0.5)))
    assert np.sqrt(np.mean((res.x - x_ref) ** 2)) < 0.01
    assert np.ptp(x_ref) > 0.1


# --------------------------------------------------------------------------- training


def test_digits_training_with_imported_device_within_5_percent_of_fp(gap_grid, tmp_path):
    # Same 64-32-10 network, seed and learning rate: floating point vs mixed-precision pulses
    # (Nandakumar et al. 2018) on the tabulated filament-gap device. Issue target: within 5 points.
    from memspice.learn import config_from_dict, train

    base = {"seed": 1, "data": {"name": "digits"}, "network": {"sizes": [64, 32, 10]},
            "training": {"epochs": 10, "batch_size": 16}}
    fp = train(config_from_dict(dict(base, rule={"name": "sgd", "learning_rate": 0.5})), tmp_path / "fp",
               progress=False)
    tile = dict(model_to_table(gap_grid.tabulated(UP_V, DOWN_V, WIDTH_S)), pair_scheme="push_pull")
    hw = train(config_from_dict(dict(base, rule={"name": "mixed-precision", "learning_rate": 0.5}, tile=tile)),
               tmp_path / "hw", progress=False)
    assert fp.test_accuracy >= 0.95
    assert hw.test_accuracy >= fp.test_accuracy - 0.05, (hw.test_accuracy, fp.test_accuracy)
    assert hw.stats["pulses"] > 0


# --------------------------------------------------------------------------- CLI and cards


def test_cli_import_writes_card_listed_beside_builtins(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEMSPICE_MODELS", str(tmp_path / "models"))
    assert cli_main(["models", "import", str(GAP_VA), "--state", "gap", "--param", "v_set=1.05", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["terminals"] == {"p": "te", "n": "be", "ports": ["te", "be"]}
    assert doc["state"]["init_param"] == "gap_init" and doc["values"] == {"v_set": 1.05}
    # read conductance at the state's ends: header equation
    assert doc["read_conductance_s"]["at_min"] == pytest.approx(_current(V_READ, 0.3) / V_READ, rel=1e-6)
    card = Path(doc["card"])
    assert card == tmp_path / "models" / "filament_gap.toml"
    assert cli_main(["models", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["filament_gap"]["kind"] == "external" and "vteam" in rows
    assert cli_main(["models", "show", "filament_gap"]) == 0
    assert "state: gap (node) in [0.3, 0.9]" in capsys.readouterr().out
    again = load_external_card(card)
    assert again.params == {"v_set": 1.05}
    np.testing.assert_allclose(again.conductance([0.4, 0.8]), _current(V_READ, np.array([0.4, 0.8])) / V_READ,
                               rtol=1e-6)


# --------------------------------------------------------------------------- bad input


def _missing_semicolon():
    lines = (DATA / "bad_syntax.va").read_text().splitlines()
    return next(k for k, ln in enumerate(lines, 1) if ln.strip() == "I(p, n) <+ V(p, n) / r") + 1


@pytest.mark.parametrize("case", ["does-not-compile", "three-terminals-unmapped", "unknown-parameter",
                                  "parameter-out-of-range", "unknown-state", "never-changes"])
def test_bad_input_gives_its_specific_error(case):
    if case == "does-not-compile":
        with pytest.raises(VerilogACompileError) as err:
            import_verilog_a(DATA / "bad_syntax.va")
        # openvaf-r's message, and the line it points at: the `end` after the statement missing its ';'
        assert "expected ';'" in str(err.value)
        assert err.value.line_number == _missing_semicolon()
    elif case == "three-terminals-unmapped":
        with pytest.raises(ParameterError, match=r"3 electrical terminals \(te, be, ht\).*--terminals P N"):
            import_verilog_a(DATA / "three_terminal.va", state="x")
        m = import_verilog_a(DATA / "three_terminal.va", state="x", terminals=("te", "be"))
        assert m.vacask_nodes("a", "b") == "a b b"  # the heater terminal tied to n
    elif case == "unknown-parameter":
        with pytest.raises(ParameterError, match=r"no parameter 'v_sett'; its parameters are: gap_init, i0"):
            import_verilog_a(GAP_VA, state="gap", params={"v_sett": 1.0})
    elif case == "parameter-out-of-range":
        with pytest.raises(ParameterError, match=r"k_set = -1.0 is outside its declared range \(0, inf\)"):
            import_verilog_a(GAP_VA, state="gap", params={"k_set": -1.0})
    elif case == "unknown-state":
        with pytest.raises(ParameterError, match=r"no internal node or output variable 'gapp'.*internal nodes: gap"):
            import_verilog_a(GAP_VA, state="gapp")
    else:
        m = import_verilog_a(DATA / "stuck_cell.va", state="s")
        with pytest.raises(ParameterError, match=r"never changes: pulses of 1.5, -1.5, 3 V"):
            measure_pulse_response(m, [1.5, -1.5, 3.0], [10e-9], n_pulses=3, n_starts=2)
