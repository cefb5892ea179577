"""models/ is generated from the definitions: it must be current, and its cards must round-trip."""

from __future__ import annotations

import pytest

from memspice.devices import all_model_names, get_model
from memspice.devices.cards import read_card
from memspice.devices.generate import stale_files
from memspice.resources import data_dir


def test_models_folder_is_not_stale():
    stale = stale_files(data_dir("models"))
    assert not stale, f"models/ is stale ({', '.join(stale)}); run `python -m memspice.devices.generate`"


@pytest.mark.parametrize("name", all_model_names())
def test_card_round_trips_to_the_preset(name):
    # Reading a card back must rebuild exactly the preset (same values, same subcircuit name).
    card_name, values = read_card(data_dir("models") / f"{name}.toml")
    assert card_name == name
    preset = get_model(name)
    rebuilt = get_model(name, **values)
    assert dict(rebuilt.params) == dict(preset.params)
    assert rebuilt.subckt_name == preset.subckt_name
