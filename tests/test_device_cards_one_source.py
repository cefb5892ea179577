"""The published device numbers live once, in the device cards: the surrogate presets and the cbram-sc encoder read them."""

from __future__ import annotations

import numpy as np

from memspice.devices import get_model
from memspice.devices.cbram import CBRAM_DEFAULTS, PoissonSwitching
from memspice.devices.pcm import PCM_DEFAULTS
from memspice.learn.robustness import RobustnessSettings
from memspice.learn.stochastic_computing import CBRAMSwitching
from memspice.surrogate import NandakumarPCM2018, PCMReadNandakumar2018, PCMStatistical


def test_pcm_presets_are_the_pcm_card():
    card = PCM_DEFAULTS
    for preset in (PCMStatistical(), NandakumarPCM2018()):
        for name in ("g_min_s", "g_max_s", "mean_offset_s", "mean_slope", "std_offset_s", "std_slope"):
            assert getattr(preset, name) == card[name], name
    read = PCMReadNandakumar2018()
    assert (read.g_noise_rel, read.g_noise_abs_s, read.drift_nu) == (
        card["read_noise_slope"], card["read_noise_offset_s"], card["drift_nu"])
    assert RobustnessSettings(levels={}).drift_nu == card["drift_nu"]
    assert dict(get_model("pcm").params) == dict(card)


def test_cbram_device_and_encoder_share_one_law():
    cell, device = CBRAMSwitching(), get_model("cbram")
    assert (cell.tau0_s, cell.v0_v) == (CBRAM_DEFAULTS["tau0_s"], CBRAM_DEFAULTS["v0_v"])
    assert cell.law == device.set_law == PoissonSwitching(CBRAM_DEFAULTS["tau0_s"], CBRAM_DEFAULTS["v0_v"])
    v = np.linspace(0.0, 4.5, 10)
    np.testing.assert_array_equal(cell.tau_s(v), device.tau_s(v))
    # a square pulse (no edges): the device's switching probability is the encoder's set probability
    np.testing.assert_array_equal(cell.set_probability(v, 1e-6), device.switch_probability(v, 1e-6))
    # the encoder's amplitude for a target probability inverts the law
    p = np.array([0.01, 0.3, 0.9])
    amp, width = cell.pulses_for(p)
    np.testing.assert_allclose(cell.law.switch_probability(amp, width), p, rtol=1e-12)
