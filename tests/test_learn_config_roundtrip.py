"""A configuration written out by a run (checkpoints, summary.json) loads back as the same value."""

from __future__ import annotations

from pathlib import Path

import pytest

from memspice.errors import ConfigError
from memspice.learn.config import config_from_dict, load_config

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_config_round_trips(path):
    # Reference: the config parsed from the shipped file. `--resume` rebuilds the
    # config from to_dict(), so the rebuilt value must equal it field by field.
    config = load_config(path)
    assert config_from_dict(config.to_dict()) == config


@pytest.mark.parametrize("section", ["data", "network", "training", "rule", "tile", "cosim", "energy"])
@pytest.mark.parametrize("value", [1, "x", False, [1, 2]])
def test_a_section_that_is_not_a_table_is_named(section, value):
    with pytest.raises(ConfigError, match=rf"\[{section}\] must be a table"):
        config_from_dict({section: value})


def test_energy_table_must_exist(tmp_path):
    doc = load_config(EXAMPLES[0]).to_dict()
    doc["energy"] = {"table": str(tmp_path / "missing.toml")}
    with pytest.raises(ConfigError, match="energy"):
        config_from_dict(doc)
