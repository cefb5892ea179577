"""The issue-8 rules checkpoint their state: a run resumed after epoch 1 ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from memspice.learn import load_config, train

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("example", ["binary_stochastic", "sbe", "cbram_sc", "tiki_taka"])
def test_resume_after_epoch_1_of_2_is_bit_identical(tmp_path, example):
    # Reference: the same config run straight through. Rule state (accumulators,
    # SBE vectors, Tiki-Taka's fast tiles, their random streams) must survive the
    # checkpoint exactly, so every final weight agrees to the bit.
    cfg = load_config(EXAMPLES / f"digits_{example}.toml")
    cfg = dataclasses.replace(
        cfg, training=dataclasses.replace(cfg.training, epochs=2),
        data=dataclasses.replace(cfg.data, max_train=300),
    )
    if example == "tiki_taka":
        cfg = dataclasses.replace(cfg, rule=dataclasses.replace(cfg.rule, symmetry_pulses=20))
    full = train(cfg, tmp_path / "full", progress=False)
    train(cfg, tmp_path / "split", progress=False, stop_after_epochs=1)
    resumed = train(cfg, tmp_path / "split", progress=False, resume=True)
    for (w1, b1), (w2, b2) in zip(full.weights, resumed.weights):
        assert np.array_equal(w1, w2) and np.array_equal(b1, b2)
    assert full.stats == resumed.stats
