"""Your own Verilog-A cell goes where a built-in model goes: the registry, reads, and the refusals that say what to edit.

The cells in tests/data/external/ are written for these tests (drift_cell.va:
state on an internal node, mixed-case parameter names; opvar_cell.va: state
only an output variable; refuse_*.va: one silent case each).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memspice.circuit import Crossbar, ReadStimulus
from memspice.circuit import read as circuit_read
from memspice.cli import main as cli_main
from memspice.errors import ConfigError, ParameterError
from memspice.external import import_verilog_a, resolve_model, write_external_card
from memspice.spice.osdi import VerilogACompileError

pytestmark = pytest.mark.spice

DATA = Path(__file__).resolve().parent / "data" / "external"
DRIFT = DATA / "drift_cell.va"
# drift_cell.va's header: I = (G_off + (G_on - G_off) w) V_s sinh(V / V_s); defaults typed again here
G_ON, G_OFF, V_S = 1.0e-4, 2.0e-6, 0.25


def _drift_current(v, w, g_on=G_ON):
    return (G_OFF + (g_on - G_OFF) * np.asarray(w)) * V_S * np.sinh(np.asarray(v) / V_S)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    mp = pytest.MonkeyPatch()
    mp.setenv("MEMSPICE_MODELS", str(folder))
    yield folder
    mp.undo()


@pytest.fixture(autouse=True)
def _models_env(_isolated_user_folders, models_dir, monkeypatch):
    """This module's cases share one models folder (conftest gives every test its own): set it after conftest."""
    monkeypatch.setenv("MEMSPICE_MODELS", str(models_dir))


def test_imported_cell_resolves_by_name_and_reads_like_its_hand_iv(models_dir, capsys):
    # Mixed-case parameter G_on set as given: VACASK only takes the lower-case name, so it is stored lower-case.
    assert cli_main(["models", "import", str(DRIFT), "--state", "w", "--param", "G_on=1.2e-4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["values"] == {"g_on": 1.2e-4}
    model = resolve_model("drift_cell")
    assert model is resolve_model("drift_cell")  # one build per process
    # hand I-V: every cell of an ideal-wire, virtual-ground array sees the read voltage 0.1 V
    w = np.random.default_rng(3).uniform(0, 1, (4, 4))
    ref = _drift_current(0.1, w, 1.2e-4).sum(axis=0)
    vac = circuit_read(Crossbar(model, w), ReadStimulus(np.full(4, 0.1)), solver="vacask")
    np.testing.assert_allclose(vac.i_cols_a[0], ref, rtol=1e-9)
    # nodal: the chord conductance I(v_read, w)/v_read from VACASK operating points, monotone-cubic in w
    # over 257 states; measured 1.2e-8 relative (seed 3, 4x4), so 1e-5
    nod = circuit_read(Crossbar(model, w), ReadStimulus(np.full(4, 0.1)), solver="nodal")
    np.testing.assert_allclose(nod.i_cols_a[0], ref, rtol=1e-5)
    # the CLI takes the imported name like a built-in one
    assert cli_main(["crossbar", "read", "--model", "drift_cell", "--rows", "4", "--cols", "4", "--state", "0.25",
                     "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    got = np.asarray(out["i_cols_a"] if "i_cols_a" in out else out["columns"]["i_a"], dtype=float).ravel()
    np.testing.assert_allclose(got, np.full(4, 4 * _drift_current(0.1, 0.25, 1.2e-4)), rtol=1e-5)


def test_unknown_model_names_both_kinds_and_how_to_import(models_dir):
    with pytest.raises(ParameterError, match=r"unknown model 'no_such_cell'; built-in: .*vteam.*imported: .*"
                                             r"memspice models import FILE.va"):
        resolve_model("no_such_cell")


def test_opvar_state_cell_reads_its_hand_iv():
    # opvar_cell.va: I = (g_min + (g_max - g_min) m^2) V, the state m only an output variable
    m = import_verilog_a(DATA / "opvar_cell.va", state="m")
    x = np.array([0.01, 0.3, 0.7, 0.99])  # its state range, [0.01, 0.99] (m is the logistic of an integral)
    np.testing.assert_allclose(m.conductance(x), 1e-6 + 4.9e-5 * x ** 2, rtol=1e-6)


def test_device_without_settable_state_is_refused_by_a_crossbar():
    # state = the read conductance: taking a state 0.5 as 0.5 S was the silent wrong read
    m = import_verilog_a(DRIFT)
    with pytest.raises(ParameterError, match=r"state cannot be set.*--state NAME --init-param NAME"):
        Crossbar(m, np.full((2, 2), 0.5))


def test_init_param_without_state_is_an_error():
    with pytest.raises(ParameterError, match=r"init_param='w_init' without a state.*--state NAME.*internal nodes: w"):
        import_verilog_a(DRIFT, init_param="w_init")


def test_no_instance_parameter_says_what_to_edit():
    with pytest.raises(ParameterError, match=r'mark the model parameter s_init as one: \(\*type="instance"\*\) '
                                             r'parameter real s_init.*--init-param s_init'):
        import_verilog_a(DATA / "refuse_no_instance.va", state="s")


def test_case_clash_is_refused():
    with pytest.raises(ParameterError, match=r"R and r, which differ only in case.*rename one"):
        import_verilog_a(DATA / "refuse_case_clash.va")


@pytest.mark.parametrize("name, line, words", [("refuse_comma_range.va", 7, "Verilog-A ranges use a colon"),
                                               ("refuse_rdist.va", 9, r"\$rdist_normal, which openvaf-r does not")])
def test_openvaf_errors_carry_a_hint_with_the_line(name, line, words):
    with pytest.raises(VerilogACompileError, match=rf"hint: {name}:{line} uses .*{words}"):
        import_verilog_a(DATA / name)


def test_import_may_not_take_a_builtin_name(tmp_path):
    m = import_verilog_a(DATA / "opvar_cell.va", state="m", name="vteam")
    with pytest.raises(ConfigError, match=r"cannot be called 'vteam'.*--name NAME"):
        write_external_card(m, tmp_path / "x.toml")
