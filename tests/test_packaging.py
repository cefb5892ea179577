"""A non-editable install carries models/ and circuits/ (docs/design.md: they are package data)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_models_and_circuits(tmp_path):
    # Reference: the files in the source tree. Every model card / Verilog-A file and
    # every periphery subcircuit must appear under memspice/_data/ in the wheel,
    # where memspice.resources looks for them in an installed package.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = tmp_path.glob("memspice-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("models", "circuits"):
        expected = {f"memspice/_data/{folder}/{p.name}" for p in (ROOT / folder).iterdir() if p.is_file()}
        assert expected and expected <= names, sorted(expected - names)
