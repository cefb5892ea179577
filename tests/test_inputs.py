"""memspice.inputs: one check per input kind (paths, sizes, numbers, names, files), through the real CLI.

Every case runs ``memspice.cli.main`` under the ``cli`` fixture's hard time
limit and checks the exit status (2: a usage or memspice error), that the
message names the input and the fix, and that nothing was written. The
expected numbers are hand calculations written next to them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from memspice.cli import build_parser
from memspice.errors import DataError, ParameterError
from memspice.inputs import (
    check_allocation, check_name, floats, input_file, number, output_dir, output_file, positive_int, read_text, seed,
)

ROOT = Path(__file__).resolve().parents[1]
DECK = ROOT / "netlists" / "read_8x8.cir"
CONFIG = ROOT / "examples" / "digits_sgd.toml"


# --------------------------------------------------------------------------- paths

def test_input_file_tells_a_folder_from_a_missing_file(tmp_path, cli):
    code, _, err = cli(["run", tmp_path])
    assert code == 2 and "is a folder; give a file" in err
    code, _, err = cli(["run", tmp_path / "nope.cir"])
    assert code == 2 and "does not exist" in err


def test_binary_and_non_utf8_files_are_refused_as_text(tmp_path, cli):
    binary = tmp_path / "deck.cir"
    binary.write_bytes(bytes(range(256)) * 4)  # NUL bytes: a binary file
    code, _, err = cli(["run", binary])
    assert code == 2 and "binary file" in err and "Traceback" not in err
    latin = tmp_path / "latin.cir"
    latin.write_bytes("* r\u00e9sistance\n".encode("latin-1"))  # 0xe9 alone is not UTF-8; byte 3
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 3\)"):
        read_text(latin, "netlist")


@pytest.mark.parametrize("argv", [
    ["crossbar", "netlist", "-o", "{missing}/x.cir"],
    ["models", "export", "vteam", "--out", "{missing}/x.sp"],
    ["models", "plot", "vteam", "--out", "{missing}/x.png"],
    ["run", str(DECK), "--csv", "{missing}/x.csv"],
    ["energy", "measure", "--rows", "2", "--cols", "2", "-o", "{missing}/e.toml"],
    ["calibrate", "--from-spice", "vteam", "--amplitude", "-0.2", "--width", "5e-8", "-o", "{missing}/f.toml"],
])
def test_output_file_whose_folder_is_missing_is_refused_before_work(argv, tmp_path, cli):
    missing = tmp_path / "no" / "such"
    t0 = time.monotonic()
    code, _, err = cli([a.format(missing=missing) for a in argv])
    assert code == 2 and "does not exist; create it first" in err, err
    assert not (tmp_path / "no").exists()
    assert time.monotonic() - t0 < 20  # refused before any simulation


@pytest.mark.parametrize("argv", [
    ["crossbar", "netlist", "-o", "{dir}"],
    ["models", "export", "vteam", "--out", "{dir}"],
    ["run", str(DECK), "--csv", "{dir}"],
])
def test_output_file_that_is_a_folder_is_refused(argv, tmp_path, cli):
    code, _, err = cli([a.format(dir=tmp_path) for a in argv])
    assert code == 2 and "is a folder; give a file name" in err, err


def test_output_folder_that_is_a_file_is_refused(tmp_path, cli):
    f = tmp_path / "taken"
    f.write_text("mine")
    for argv in (["train", CONFIG, "--out", f], ["validate-update", "--out", f], ["demo", "--out", f]):
        code, _, err = cli(argv)
        assert code == 2 and "is a file; give a folder" in err, (argv, err)
    assert f.read_text() == "mine"
    with pytest.raises(ParameterError, match="so the folder cannot be made"):
        output_dir(f / "sub", "--out")


def test_path_checks_accept_what_they_should(tmp_path):
    assert input_file(DECK) == DECK
    assert output_file(tmp_path / "new.csv") == tmp_path / "new.csv"
    assert output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"  # made later by the caller
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------- sizes

@pytest.mark.parametrize("value", ["-5", "0", "2.5", "nan", "x"])
def test_rows_must_be_a_positive_whole_number(value, cli):
    code, _, err = cli(["crossbar", "read", "--rows", value])
    assert code == 2 and "argument --rows" in err and "give a whole number >= 1" in err


def test_a_crossbar_too_large_for_memory_is_refused_with_size_and_limit(cli):
    code, _, err = cli(["crossbar", "read", "--rows", "100000", "--cols", "100000"], timeout_s=20)
    # 1e10 cells x 4096 B (BYTES_PER_CELL) = 4.096e13 B = 37.25 TiB (hand calculation)
    assert code == 2 and "100000x100000 crossbar" in err and "37.3 TiB" in err and "the limit here is" in err


def test_check_allocation_names_size_and_limit():
    # 8x8 cells x 4096 B = 262144 B = 256 KiB; limit 100000 B = 97.7 KiB
    with pytest.raises(ParameterError, match=r"needs about 256 KiB of memory; the limit here is 97.7 KiB"):
        check_allocation(8 * 8 * 4096, "an 8x8 crossbar", "use fewer rows", limit=100_000)
    check_allocation(8 * 8 * 4096, "an 8x8 crossbar", "use fewer rows", limit=262_144)  # exactly at the limit: fine


def test_a_circuit_deck_too_large_is_refused_at_once_not_after_minutes(cli):
    t0 = time.monotonic()
    code, _, err = cli(["crossbar", "read", "--rows", "100000", "--cols", "8", "--solver", "ngspice",
                        "--timeout", "10"], timeout_s=30)
    assert code == 2 and "too large for a circuit deck" in err and "--solver nodal" in err
    assert time.monotonic() - t0 < 10  # the issue saw 170 s of deck building


def test_positive_int_and_seed():
    assert positive_int(8.0, "rows") == 8 and seed(0) == 0
    for bad in (True, -1, 0, 1.5, "8x", float("inf")):
        with pytest.raises(ParameterError, match="rows"):
            positive_int(bad, "rows")
    with pytest.raises(ParameterError, match=">= 0"):
        seed(-1)


# --------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("argv,option,fix", [
    (["run", str(DECK), "--timeout", "nan"], "--timeout", "NaN is not a value"),
    (["run", str(DECK), "--timeout", "-1"], "--timeout", "give a number > 0"),
    (["crossbar", "read", "--seed", "-1"], "--seed", "give a whole number >= 0"),
    (["crossbar", "read", "--v-read", "-inf"], "--v-read", "give a finite number"),
    (["crossbar", "write", "--amplitude", "1", "--width", "-1e-9"], "--width", "give a number > 0"),
    (["evaluate", str(DECK), "--max-test", "0"], "--max-test", "give a whole number >= 1"),
    (["energy", "measure", "--amplitude", "1,nan"], "--amplitude", "comma-separated finite numbers"),
])
def test_bad_numbers_are_usage_errors_naming_the_option(argv, option, fix, cli):
    code, _, err = cli(argv)
    assert code == 2 and f"argument {option}" in err and fix in err, err


def test_negative_numbers_and_comma_lists_need_no_equals_sign():
    parser = build_parser()
    a = parser.parse_args(["crossbar", "write", "--amplitude", "-1e-1", "--width", "1e-8", "--v-read", "-.05"])
    assert a.amplitude == -0.1 and a.width == 1e-8 and a.v_read == -0.05
    a = parser.parse_args(["energy", "measure", "--amplitude", "-0.5,1", "--dac-levels", "0.5,1"])
    assert a.amplitude == (-0.5, 1.0) and a.dac_levels == (0.5, 1.0)
    a = parser.parse_args(["calibrate", "--from-spice", "vteam", "--amplitude", "-2.117E-1", "--amplitude-down",
                           "9.2e-2", "--width", "5e-8", "-o", "f.toml"])
    assert a.amplitude == -0.2117 and a.amplitude_down == 0.092
    a = parser.parse_args(["models", "import", "x.va", "--state-range", "-1", "-1e-3"])
    assert a.state_range == [-1.0, -0.001]


def test_number_and_floats():
    assert number(" -1e-9 ", "width") == -1e-9
    assert number("inf", "t", finite=False) == float("inf")
    with pytest.raises(ParameterError, match="width = 'nan'"):
        number("nan", "width")
    assert floats("0.25, 0.5,1,") == (0.25, 0.5, 1.0)
    with pytest.raises(ParameterError, match="comma-separated"):
        floats("0.25;0.5")


# --------------------------------------------------------------------------- names

@pytest.mark.parametrize("name", ["../../x", "a\nb", "a b", "a.b", "", "-x", "x" * 65, "a/b", "ünïcode"])
def test_bad_names_are_refused(name):
    with pytest.raises(ParameterError, match="--name"):
        check_name(name, "--name")


def test_good_names_pass():
    for name in ("vteam", "my_cell-2", "X" * 64, "0drift"):
        assert check_name(name) == name


@pytest.mark.parametrize("name", ["../../x", "two\nlines"])
def test_models_import_refuses_a_path_or_newline_name_before_writing(name, tmp_path, cli, monkeypatch):
    va = tmp_path / "cell.va"
    va.write_text("module cell(p, n); inout p, n; electrical p, n; analog I(p, n) <+ V(p, n) * 1e-3; endmodule\n")
    monkeypatch.setenv("MEMSPICE_MODELS", str(tmp_path / "models"))
    code, _, err = cli(["models", "import", va, "--name", name])
    assert code == 2 and "--name" in err and "no path separators" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cell.va"]
