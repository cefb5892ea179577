"""``.include`` in a user's deck: relative paths resolved as ``ngspice -b`` does, include loops refused before
ngspice (whose recursion segfaulted the shared backend)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
DECK = "* {title}\n{include}\nV1 a 0 1\nR1 a 0 1k\n.op\n.end\n"


def _memspice(*args, cwd):
    return subprocess.run([sys.executable, "-m", "memspice", *map(str, args)], capture_output=True, text=True,
                          env=ENV, cwd=cwd, timeout=120)


@pytest.mark.spice
@pytest.mark.parametrize("backend", ["subprocess", "shared"])
def test_self_and_mutual_includes_are_refused_with_the_chain(tmp_path, backend):
    (tmp_path / "self.cir").write_text(DECK.format(title="self", include=".include self.cir"))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.inc").write_text(".include b.inc\n")
    (sub / "b.inc").write_text(".INC 'a.inc'\n")
    (tmp_path / "loop.cir").write_text(DECK.format(title="loop", include='.include "sub/a.inc"'))
    for deck, chain in (("self.cir", "self.cir -> "), ("loop.cir", "a.inc -> ")):
        done = _memspice("run", deck, "--backend", backend, cwd=tmp_path)  # a child: a segfault cannot hit pytest
        assert done.returncode == 2, (done.returncode, done.stderr)  # was signal 11 with the shared backend
        assert "the deck includes itself" in done.stderr and chain in done.stderr


@pytest.mark.spice
def test_a_relative_include_resolves_from_the_decks_folder(tmp_path):
    sub = tmp_path / "deck"
    (sub / "parts").mkdir(parents=True)
    (sub / "parts" / "r.inc").write_text("R1 a 0 1k\n")
    (sub / "rel.cir").write_text("* rel\n.include parts/r.inc\nV1 a 0 1\n.op\n.end\n")
    done = _memspice("run", sub / "rel.cir", "--json", cwd=tmp_path)  # run from another folder, as ngspice -b can
    assert done.returncode == 0, done.stderr
    import json

    doc = json.loads(done.stdout)
    # Ohm's law: 1 V across 1 kOhm draws 1 mA out of V1's positive terminal (ngspice: i(v1) = -1 mA)
    assert doc["vectors"]["i(v1)"][0] == pytest.approx(-1e-3, rel=1e-9)
    (sub / "parts" / "r.inc").unlink()
    done = _memspice("run", sub / "rel.cir", cwd=tmp_path)
    assert done.returncode == 2 and "not found" in done.stderr and "parts/r.inc" in done.stderr
