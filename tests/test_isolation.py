"""Tests never read or write the user's own folders, and sweeps never write beside a shipped example."""

from __future__ import annotations

import os
from pathlib import Path

from memspice.external.card import user_models_dir
from memspice.spice.osdi import osdi_cache_dir
from memspice.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[1]


def test_models_and_cache_folders_are_temporary(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    for folder in (user_models_dir(), osdi_cache_dir()):
        assert base in folder.parents, folder
        assert Path.home() / ".local" not in folder.parents and Path.home() / ".cache" not in folder.parents
    assert not any(user_models_dir().glob("*.toml"))  # each test starts without imported models


def test_each_test_has_its_own_models_folder(tmp_path_factory):
    first = os.environ["MEMSPICE_MODELS"]
    assert Path(first).name.startswith("memspice-models")


def test_sweep_output_goes_to_the_current_folder_not_beside_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for stem in ("write_pulses", "train_seeds"):
        spec = load_sweep(ROOT / "examples" / "sweeps" / f"{stem}.toml")
        assert spec.output.parent == tmp_path  # was examples/sweeps/ before issue 25
        assert ROOT not in spec.output.parents
