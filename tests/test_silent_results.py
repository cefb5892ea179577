"""Silent wrong results of issue 25: each is now refused or correct, checked against an independent number."""

from __future__ import annotations

import numpy as np
import pytest
import tomli_w

from memspice.circuit import Crossbar, PulseShape, WriteScheme, write
from memspice.circuit.transient import check_states_in_bounds
from memspice.devices import get_model
from memspice.energy.table import FORMAT, EnergyEntry, load_table
from memspice.errors import CircuitError, ConfigError, DataError, ParameterError
from memspice.learn import config_from_dict, train


def test_a_write_amplitude_far_outside_any_device_is_refused(cli):
    code, _, err = cli(["crossbar", "write", "--amplitude", "1e9"])
    assert code == 2 and "far outside any memristive device" in err and "<= 100 V" in err


def test_a_state_outside_its_bounds_is_never_reported():
    vteam = get_model("vteam")  # state in [0, 1]
    with pytest.raises(CircuitError, match=r"cell \(0, 1\) is 27\.5, outside the vteam state range \[0, 1\]"):
        check_states_in_bounds(vteam, np.array([[0.5, 27.5]]))  # the reported state
    check_states_in_bounds(vteam, np.array([[0.0, 1.0 + 0.5e-3]]))  # within the 1e-3-of-range tolerance


@pytest.mark.parametrize("field,value,words", [("per_cell_j", -1e-12, "is negative"), ("total_j", float("nan"), "finite"),
                                               ("half_selected_j", float("inf"), "finite")])
def test_energy_tables_with_negative_or_nan_entries_are_refused(field, value, words, tmp_path):
    entry = {"kind": "pulse", "voltage_v": 1.0, "width_s": 5e-8, "rise_s": 1e-9, "fall_s": 1e-9, "total_j": 1e-11,
             "per_cell_j": 2e-12, "scheme": "v/2"}
    with pytest.raises(ParameterError, match=words):
        EnergyEntry(**{**entry, field: value})
    path = tmp_path / "e.toml"  # TOML has nan and inf literals: a hand-edited table can hold them
    path.write_text(tomli_w.dumps({"format": FORMAT, "description": {}, "entries": [{**entry, field: value}]}))
    with pytest.raises(DataError, match="bad entry"):
        load_table(path)


def test_batch_larger_than_the_training_set_is_refused(tmp_path):
    cfg = config_from_dict({"data": {"name": "digits", "max_train": 50, "max_test": 20},
                            "network": {"sizes": [64, 8, 10]}, "training": {"epochs": 1, "batch_size": 64},
                            "rule": {"name": "sgd", "learning_rate": 0.5}})
    # 50 samples, batch 64: it was cut silently to one batch of 50
    with pytest.raises(ConfigError, match=r"batch_size = 64 is larger than the training set \(50 samples"):
        train(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()  # refused before writing: not even an empty folder is left


def test_pcm_crossbar_write_is_refused_instead_of_reporting_no_change(cli):
    code, _, err = cli(["crossbar", "write", "--model", "pcm", "--amplitude", "1"])
    assert code == 2 and "holds each cell's state" in err and "pulse_response" in err


@pytest.mark.spice
@pytest.mark.parametrize("seed", [1, 2, 3])  # seed 3 draws e_set = 0.0018 for a half-selected cell
def test_cbram_cells_in_a_crossbar_switch_by_their_own_drawn_thresholds(seed):
    m = get_model("cbram")
    pulse = PulseShape(width_s=10e-9, rise_s=1e-9, fall_s=1e-9)
    # V = 4.7 V on the selected row: switch probability p = 0.41 per device (the numpy law, Jo et al. 2009);
    # a device switches when its hazard H = -ln(1 - p) passes its own unit-exponential threshold e_set
    p = float(m.switch_probability(4.7, pulse.width_s, pulse.rise_s, pulse.fall_s))
    hazard = -np.log1p(-p)
    res = write(Crossbar.uniform(m, 4, 8, 0.0), WriteScheme(4.7, 1, target="row", pulse=pulse),
                rng=np.random.default_rng(seed))
    e_set, _ = m.draw_thresholds(np.random.default_rng(seed), (4, 8))  # the draws of the run, replayed
    expected = e_set[1] < hazard
    assert 0 < expected.sum() < 8  # with one shared threshold (the old deck) all 8 would agree
    np.testing.assert_array_equal(res.states_after[1] > 0.5, expected)
    # half-selected rows at 2.35 V: hazard 1.4e-7 -- no draw is that small, so none switches (with a fixed
    # 1e-3-wide threshold step, seed 3's cell (2, 4) at e_set = 0.0018 switched without a pulse)
    assert np.max(np.delete(res.states_after, 1, axis=0)) < 1e-6
    with pytest.raises(ParameterError, match="draws each cell's switching thresholds"):
        write(Crossbar.uniform(m, 2, 2, 0.0), WriteScheme(4.7, 1, target="row", pulse=pulse))


def test_a_deck_without_an_analysis_is_refused_with_the_reason(tmp_path, cli):
    deck = tmp_path / "noan.cir"
    deck.write_text("* no analysis\nV1 a 0 1\nR1 a 0 1k\n.end\n")  # ngspice printed its memory statistics only
    code, _, err = cli(["run", deck])
    assert code == 2 and "has no analysis card" in err and ".op" in err


def test_a_network_too_large_for_memory_is_refused_with_size_and_limit(cli):
    from pathlib import Path

    config = Path(__file__).resolve().parents[1] / "examples" / "digits_sgd.toml"
    code, _, err = cli(["train", config, "--set", "network.sizes=[64, 1000000000, 10]", "--no-progress"])
    # 64e9 + 10e9 = 7.4e10 weights x 64 B (BYTES_PER_WEIGHT) = 4.74e12 B = 4.31 TiB (hand calculation)
    assert code == 2 and "74000000000 weights" in err and "4.31 TiB" in err
