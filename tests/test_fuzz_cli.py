"""Fuzzing every command's parser and every file reader: a clean exit or a memspice error, never a traceback.

Property, for each command (``memspice.cli.main`` under a hard time limit of
HANG_S): one option of a cheap, valid base command line takes a hostile
value (negative, NaN, infinities, huge, empty, text, a comma list, a path to
a folder, a missing path, a binary file, a newline, ``..``; never a writable path outside
the test's folders). The call must
return an exit status -- 0 or 1 (accepted), 2 (a usage or memspice error, with
``error:`` and a message on stderr) -- and nothing may escape: any exception
fails the case with the input hypothesis minimised it to. Values that must be
refused (a negative size or seed, NaN anywhere, a path that is a folder where
a file goes) are checked to give status 2.

For each file reader, random bytes and random text: the reader returns or
raises a MemspiceError with a message (tests/test_fuzz.py's rule).
The generated cases are few per command (``FAST``) so the file stays fast.
"""

from __future__ import annotations

import atexit
import shutil
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memspice.errors import MemspiceError
from test_fuzz import _time_limit, memspice_errors_only

HANG_S = 30.0  # one CLI call (with its own --timeout 5 on simulator runs) longer than this is a hang
FAST = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
READERS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ROOT = Path(__file__).resolve().parents[1]

_WORK = Path(tempfile.mkdtemp(prefix="memspice-fuzz-cli-"))
atexit.register(shutil.rmtree, _WORK, True)
FOLDER = _WORK / "a-folder"
FOLDER.mkdir()
BINARY = _WORK / "binary.bin"
BINARY.write_bytes(bytes(range(256)) * 8)
MISSING = _WORK / "no" / "such" / "file.txt"

#: values no option takes as they are
MUST_FAIL = ["nan", "-nan", "NaN", "inf", "-inf", "1e309", "-1e309", "abc", "", "\n", "a\nb", "0x10"]
#: the rest of the hostile set: sometimes fine (then the command runs), never a traceback
HOSTILE = MUST_FAIL + ["１", "-1", "0", "-0", "-1e-9", "1e9", "2.5", "1,2", "-1,-2", "../x", str(FOLDER),
                       str(MISSING), str(BINARY), "0,0", "x" * 300, "-5", "1e-300"]
hostile = st.one_of(st.sampled_from(HOSTILE), st.text(alphabet=string.printable, max_size=8),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.integers(-10**12, 10**12).map(str))


def _run(argv) -> tuple[int, str]:
    import contextlib
    import io

    from memspice.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _time_limit(HANG_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    text = err.getvalue()
    assert code in (0, 1, 2, 130), (argv, code, text)
    if code == 2:
        assert "error:" in text and len(text.strip()) > len("memspice: error:"), (argv, text)
    assert "Traceback" not in text, (argv, text)
    return code, text


# --------------------------------------------------------------------------- commands

CROSSBAR = ["--rows", "--cols", "--wire-ohm", "--row-wire-ohm", "--col-wire-ohm", "--contact-ohm", "--driver-ohm",
            "--state", "--seed", "--v-read", "--model", "--cell", "--readout"]

COMMANDS = {
    "crossbar read": (["crossbar", "read", "--rows", "2", "--cols", "2"], CROSSBAR + ["--solver", "--timeout"]),
    "crossbar read ngspice": (["crossbar", "read", "--rows", "2", "--cols", "2", "--solver", "ngspice", "--timeout",
                               "5"], CROSSBAR),
    "crossbar netlist": (["crossbar", "netlist", "--rows", "2", "--cols", "2", "-o", _WORK / "x.cir"],
                         CROSSBAR + ["--stimulus", "--amplitude", "--width", "--edge", "--select", "-o", "--engine"]),
    "crossbar write": (["crossbar", "write", "--rows", "2", "--cols", "2", "--amplitude", "-0.2", "--timeout", "5"],
                       ["--amplitude", "--width", "--edge", "--select", "--scheme", "--steps-per-edge", "--state",
                        "--seed", "--model"]),
    "models show": (["models", "show", "vteam"], ["--param"]),
    "models export": (["models", "export", "vteam", "--out", _WORK / "m.sp"], ["--format", "--param", "--out"]),
    "run": (["run", ROOT / "netlists" / "read_8x8.cir", "--timeout", "5"], ["--timeout", "--csv", "--backend"]),
    "evaluate": (["evaluate", BINARY, "--max-test", "5"], ["--max-test", "--seed", "--repeats", "--gaussian",
                                                          "--drift", "--drift-nu", "--out", "--reference"]),
    "energy estimate": (["energy", "estimate", FOLDER], ["--table", "--bl", "--write-voltage", "--adc-energy",
                                                        "--mac-energy", "--forward-encoding"]),
    "calibrate": (["calibrate", "--from-csv", ROOT / "examples" / "measured" / "soft_bounds_devices.csv",
                   "--no-plots", "-o", _WORK / "fit.toml"], ["--family", "--nodes", "--fix", "--polarity", "-o",
                                                             "--report", "--from-csv"]),
    "sweep dry-run": (["sweep", ROOT / "examples" / "sweeps" / "write_pulses.toml", "--dry-run"],
                      ["--workers", "--output", "--scheduler"]),
    "train": (["train", ROOT / "examples" / "digits_sgd.toml", "--no-progress", "--set", "training.epochs=1",
               "--set", "data.max_train=50", "--set", "data.max_test=20"], ["--set", "--out"]),
    "validate-update": (["validate-update", "--rows", "2", "--cols", "2", "--cells", "0,0", "--timeout", "5",
                         "--surrogate", "tabulated"], ["--rows", "--cols", "--state", "--amplitude", "--width",
                                                       "--edge", "--cells", "--pulses", "--seed", "--wire-ohm",
                                                       "--model", "--config"]),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_fuzz_every_command_with_one_hostile_option(command, tmp_path, monkeypatch):
    base, options = COMMANDS[command]
    monkeypatch.chdir(tmp_path)  # outputs of accepted cases stay in the test's folder
    if command in ("train", "validate-update"):
        base = [*base, "--out", tmp_path / "out"]

    @FAST
    @given(option=st.sampled_from(options), value=hostile)
    def case(option, value):
        argv = [*base, option, value]
        if command == "train" and option == "--out":
            argv = [*base, "--out", value]  # the last --out wins
        if command == "train" and option == "--set":
            value = f"training.{value}" if "=" in value else f"training.batch_size={value}"
            argv = [*base, "--set", value]
        code, _ = _run(argv)
        if value in MUST_FAIL and option not in ("--model", "--param", "--fix", "--set", "--scheduler", "--select",
                                                 "--cells", "--out", "-o", "--csv", "--report", "--output"):
            assert code == 2, (argv, code)  # a number option never takes NaN, infinities, text or nothing
        if command == "train" and (tmp_path / "out" / ".memspice.lock").exists():
            raise AssertionError("a finished run left its lock")

    case()


@FAST
@given(option=st.sampled_from(["--seed", "--epochs", "--cosim-every"]),
       value=st.sampled_from(["-1", "0", "nan", "inf", "1.5", "x", "-1e9", ""]))
def test_fuzz_demo_refuses_bad_numbers_before_any_work(option, value):
    if option == "--seed" and value == "0":
        value = "-3"  # seed 0 is a valid seed: the demo would run for minutes
    code, err = _run(["demo", option, value, "--out", _WORK / "demo"])
    assert code == 2 and f"argument {option}" in err


@pytest.mark.parametrize("name", ["../../x", "a\nb", ".hidden", "a b", "", "x" * 65, "a/b"])
def test_models_import_names_are_checked_before_compiling(name, tmp_path):
    va = tmp_path / "c.va"
    va.write_text("module c(p, n); inout p, n; electrical p, n; analog I(p, n) <+ V(p, n); endmodule\n")
    code, err = _run(["models", "import", va, "--name", name])
    assert code == 2 and "--name" in err


# --------------------------------------------------------------------------- file readers

def _readers():
    from memspice.calibrate.modelfile import read_model_file
    from memspice.energy.table import load_table
    from memspice.external.card import load_external_card
    from memspice.inputs import read_text
    from memspice.learn.checkpoint import load_checkpoint
    from memspice.learn.datasets import read_idx
    from memspice.spice.includes import resolve_includes
    from memspice.spice.rawfile import read_raw
    from memspice.validate.config import load_validate_config

    return {
        "checkpoint": load_checkpoint, "energy table": load_table, "validate config": load_validate_config,
        "raw file": read_raw, "idx": read_idx, "model file": read_model_file, "model card": load_external_card,
        "netlist": lambda p: resolve_includes(read_text(p, "netlist"), p.parent, source=p),
    }


@pytest.mark.parametrize("reader", sorted(_readers()))
def test_fuzz_every_file_reader_with_random_bytes_and_text(reader, tmp_path):
    fn = _readers()[reader]

    @READERS
    @given(data=st.one_of(st.binary(max_size=300),
                          st.text(alphabet=string.printable + "é\x00", max_size=300).map(lambda t: t.encode()),
                          st.sampled_from([b"", b"PK\x03\x04" + b"\0" * 40, b"\x93NUMPY\x01\x00", b"[x]\n",
                                           b"format = 'memspice.energy.table/1'\n[[entries]]\nkind = 'pulse'\n",
                                           b"\x00\x00\x08\x01\x00\x00\x00\x02ab", b".include x.cir\n"])))
    def case(data):
        path = tmp_path / "f.dat"
        path.write_bytes(data)
        memspice_errors_only(fn, path)

    case()
    for special in (FOLDER, MISSING):  # a folder where a file goes, a missing file
        with pytest.raises(MemspiceError, match=r"\S"):
            with _time_limit(HANG_S):
                fn(special)
