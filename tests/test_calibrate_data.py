"""CSV formats of calibration data: units converted at the edge, every malformed case its own message."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from memspice.calibrate.data import PulseData, read_iv_csv, read_pulse_csv, write_iv_csv, write_pulse_csv, IVData
from memspice.errors import DataError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "measured" / "soft_bounds_devices.csv"

GOOD = """\
# a comment line, then the header
device,pulse,voltage [V],width [s],conductance [S]
a,0,0,0,2e-06
a,1,1.2,5e-08,2.5e-06
a,2,-1.2,5e-08,2.2e-06
"""


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_prefixed_units_are_converted_to_si(tmp_path):
    # 2 uS = 2e-6 S, 50 ns = 5e-8 s, 1200 mV = 1.2 V: hand conversion
    text = "pulse,voltage [mV],width [ns],conductance [uS]\n0,0,0,2\n1,1200,50,2.5\n2,-1200,50,2.2\n"
    (d,) = read_pulse_csv(_write(tmp_path, text))
    assert d.device == "device0"
    np.testing.assert_allclose(d.conductance_s, [2e-6, 2.5e-6, 2.2e-6], rtol=1e-15)
    np.testing.assert_allclose(d.voltage_v, [0, 1.2, -1.2], rtol=1e-15)
    np.testing.assert_allclose(d.width_s, [0, 5e-8, 5e-8], rtol=1e-15)
    # +1.2 V raised G by 0.5 uS, -1.2 V lowered it: positive pulses potentiate
    assert d.potentiation_polarity() == 1


def test_resistance_column_becomes_conductance(tmp_path):
    # 1 kOhm -> 1 mS, 500 ohm -> 2 mS
    text = "pulse,voltage [V],width [s],resistance [kohm]\n0,0,0,1\n1,-0.3,1e-6,0.5\n"
    (d,) = read_pulse_csv(_write(tmp_path, text))
    np.testing.assert_allclose(d.conductance_s, [1e-3, 2e-3], rtol=1e-15)
    assert d.potentiation_polarity() == -1


def test_round_trip_keeps_full_precision(tmp_path, rng):
    g = 1e-6 + 1e-6 * rng.random(11)
    v = np.r_[0.0, rng.choice([-1.0, 1.0], 10)]
    w = np.r_[0.0, np.full(10, 3.3e-8)]
    data = [PulseData(g, v, w, device="x1"), PulseData(g[::-1].copy(), v, w, device="x2")]
    back = read_pulse_csv(write_pulse_csv(tmp_path / "rt.csv", data, comments=["generated in a test"]))
    assert [b.device for b in back] == ["x1", "x2"]
    for a, b in zip(data, back):
        assert np.array_equal(a.conductance_s, b.conductance_s)  # repr round trip: bit-exact
        assert np.array_equal(a.voltage_v, b.voltage_v)


def test_iv_round_trip(tmp_path):
    t = np.linspace(0, 1e-3, 9)
    v = np.sin(2 * np.pi * 1e3 * t)
    i = v / 1e3
    (back,) = read_iv_csv(write_iv_csv(tmp_path / "iv.csv", [IVData(t, v, i)]))
    assert np.array_equal(back.current_a, i)


def test_example_file_is_labelled_generated_and_loads():
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "GENERATED DATA, NOT A MEASUREMENT" in text.splitlines()[0]
    devices = read_pulse_csv(EXAMPLE)
    assert [d.device for d in devices] == ["d0", "d1", "d2", "d3"]
    # 2 cycles of 40 up + 40 down pulses per device, plus the initial read
    assert all(d.n_pulses == 160 for d in devices)


HEADER = "device,pulse,voltage [V],width [s],conductance [S]\n"

MALFORMED = [
    # (name, file text, expected message pattern)
    ("missing column",
     "device,pulse,voltage [V],conductance [S]\na,0,0,2e-6\na,1,1,3e-6\n",
     r"line 1: missing column 'width'"),
    ("wrong unit",
     "device,pulse,voltage [V],width [s],conductance [V]\na,0,0,0,2e-6\na,1,1,5e-8,3e-6\n",
     r"line 1, column 5 'conductance \[V\]': has unit \[V\], which is not a conductance unit"),
    ("no unit",
     "device,pulse,voltage,width [s],conductance [S]\na,0,0,0,2e-6\na,1,1,5e-8,3e-6\n",
     r"line 1, column 3 'voltage': has no unit"),
    ("non-numeric cell",
     HEADER + "a,0,0,0,2e-6\na,1,1.2,5e-8,abc\n",
     r"line 3, column 5 'conductance \[S\]': 'abc' is not a number"),
    ("NaN",
     HEADER + "a,0,0,0,2e-6\na,1,nan,5e-8,3e-6\n",
     r"line 3, column 3 'voltage \[V\]': NaN"),
    ("empty cell",
     HEADER + "a,0,0,0,2e-6\na,1,1.2,,3e-6\n",
     r"line 3, column 4 'width \[s\]': empty cell"),
    ("ragged row",
     HEADER + "a,0,0,0,2e-6\na,1,1.2,5e-8\n",
     r"line 3: 4 cells but the header has 5 columns"),
    ("pulse numbers out of order",
     HEADER + "a,0,0,0,2e-6\na,2,1.2,5e-8,3e-6\n",
     r"line 3, column 2 'pulse': pulse number 2 for device 'a', expected 1"),
    ("negative conductance",
     HEADER + "a,0,0,0,2e-6\na,1,1.2,5e-8,-3e-6\n",
     r"line 3, column 5 'conductance \[S\]': conductance -3e-06 must be > 0"),
    ("device split in two blocks",
     HEADER + "a,0,0,0,2e-6\na,1,1,5e-8,3e-6\nb,0,0,0,2e-6\nb,1,1,5e-8,3e-6\na,2,1,5e-8,3e-6\n",
     r"line 6, column 'device': device 'a' appears again"),
    ("infinite value",
     HEADER + "a,0,0,0,2e-6\na,1,1.2,inf,3e-6\n",
     r"line 3, column 4 'width \[s\]': 'inf' is infinite"),
    ("header only",
     "# nothing measured\n" + HEADER,
     r"the header \(line 2\) is followed by no data rows"),
]


@pytest.mark.parametrize("name,text,pattern", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_pulse_csv_names_line_and_column(tmp_path, name, text, pattern):
    path = _write(tmp_path, text)
    with pytest.raises(DataError) as info:
        read_pulse_csv(path)
    msg = str(info.value)
    assert str(path) in msg
    assert re.search(pattern, msg), msg


def test_iv_time_must_increase(tmp_path):
    text = "time [us],voltage [V],current [mA]\n0,0,0\n1,0.1,0.1\n1,0.2,0.2\n"
    with pytest.raises(DataError, match=r"line 4, column 1 'time \[us\]': time 1e-06 s does not increase"):
        read_iv_csv(_write(tmp_path, text))


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_pulse_csv(tmp_path / "nope.csv")
