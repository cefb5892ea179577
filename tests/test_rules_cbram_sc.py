"""CBRAM stochastic computing (Lammie et al. 2021; docs/algorithms.md, "CBRAM stochastic computing"): switching law, products, digits accuracy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from memspice.errors import ParameterError
from memspice.learn import load_config, train
from memspice.learn.rules import SGDConfig
from memspice.learn.stochastic_computing import CBRAMSwitching, bitstreams, sc_multiply, sc_outer_sum

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_switching_probability_against_hand_calculation():
    # Jo et al. 2009 cell: tau(3.5 V) = 2.85e5 s * exp(-3.5/0.155) = 4.448e-5 s
    # (by hand: 3.5/0.155 = 22.581, e^-22.581 = e^-22 * e^-0.581 = 2.789e-10 *
    # 0.5595 = 1.561e-10); a 1 us pulse sets it with P = 1 - exp(-0.02248) = 0.02223.
    cell = CBRAMSwitching()
    assert float(cell.tau_s(3.5)) == pytest.approx(4.448e-5, rel=2e-3)
    assert float(cell.set_probability(3.5, 1e-6)) == pytest.approx(0.02223, rel=2e-3)
    # the encoder inverts the law: asking for p gives a pulse that sets with p
    p = np.array([1e-3, 0.1, 0.5, 0.9])
    np.testing.assert_allclose(cell.encoded_probability(p), p, rtol=1e-9)
    width_cell = CBRAMSwitching(encoding="width")
    np.testing.assert_allclose(width_cell.encoded_probability(p), p, rtol=1e-9)


def test_amplitude_dac_rounding_is_the_encoding_error():
    # A 4-bit DAC over [0, 4.5] V has 0.3 V steps; near p = 0.5 (V = 4.031 V)
    # one step changes tau by e^(0.3/0.155) = 6.9x, so the encoded probability
    # lands on a grid point: 3.9 V -> tau = 2.85e5 * e^-25.161 = 3.368e-6 s,
    # P = 1 - exp(-1e-6/3.368e-6) = 1 - e^-0.29687 = 0.2569 instead of 0.5.
    cell = CBRAMSwitching(amplitude_bits=4)
    assert float(cell.encoded_probability(np.array([0.5]))[0]) == pytest.approx(0.2569, rel=2e-3)


@pytest.mark.parametrize("encoding", ["amplitude", "width"])
def test_mean_product_equals_xy_within_3_standard_errors(encoding):
    # E[count(a AND b)/L] = p q for independent streams (the AND of two
    # Bernoulli bits is Bernoulli(pq)); signs multiply separately. Over R
    # repetitions the mean must lie within 3 standard errors of x*y everywhere
    # (x*y = 0 exactly: no bits, no error).
    rng = np.random.default_rng(21)
    cell = CBRAMSwitching(encoding=encoding)
    x = np.array([0.9, -0.5, 0.3, -0.8, 0.05, 1.0, 0.0])
    y = np.array([0.7, 0.6, -0.2, -0.9, 0.5, 1.0, 0.4])
    reps, length = 4000, 64
    draws = np.stack([sc_multiply(x, y, length, cell, rng) for _ in range(reps)])
    # standard error from the binomial variance q(1-q)/L of the count, q = |xy| p_full^2
    # (the sample estimate is useless at x = y = 1, where a 0 bit has odds 1e-5)
    q = np.abs(x * y) * cell.p_full**2
    se = np.sqrt(q * (1 - q) / length / reps) / cell.p_full**2
    exact = x * y
    assert np.all(np.abs(draws.mean(axis=0) - exact) <= 3 * se + 1e-12), (draws.mean(axis=0), exact, se)


def test_product_variance_falls_as_one_over_stream_length():
    # Var[count/L] = q(1 - q)/L with q = |xy| (binomial count); so L * Var is the
    # same for every L. Measured at L = 16 ... 1024 over 20000 repetitions, the
    # variance must match q(1-q)/L within 6 % (the sampling error of a variance
    # estimate from 20000 draws is sqrt(2/20000) = 1 %), and fall 64x from L=16 to 1024.
    rng = np.random.default_rng(22)
    cell = CBRAMSwitching()
    x, y = np.full(20000, 0.8), np.full(20000, -0.6)  # one product, 20000 independent repetitions
    q = 0.48
    variances = {}
    for length in (16, 64, 256, 1024):
        est = sc_multiply(x, y, length, cell, rng)
        variances[length] = est.var(ddof=1)
        assert variances[length] == pytest.approx(q * (1 - q) / length, rel=0.06)
    assert variances[16] / variances[1024] == pytest.approx(64.0, rel=0.1)


def test_outer_sum_is_an_unbiased_gradient_estimate():
    # sum_b d_b x_b^T with per-sample scaling: mean over 3000 draws within 4 SE of the exact matrix.
    rng = np.random.default_rng(23)
    cell = CBRAMSwitching()
    x = rng.uniform(0, 1, (4, 5))
    d = rng.normal(0, 0.3, (4, 3))
    draws = np.stack([sc_outer_sum(x, d, 32, cell, rng)[0] for _ in range(3000)])
    se = draws.std(axis=0, ddof=1) / np.sqrt(3000)
    assert np.all(np.abs(draws.mean(axis=0) - d.T @ x) <= 4 * se + 1e-12)
    assert sc_outer_sum(x, d, 32, cell, rng)[1] == 32 * 4 * (5 + 3)  # bits = CBRAM write pulses


def test_bad_operands_are_refused():
    cell = CBRAMSwitching()
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        bitstreams(np.array([1.2]), 8, cell, rng)
    with pytest.raises(ParameterError, match="stream length"):
        sc_multiply(np.array([0.5]), np.array([0.5]), 0, cell, rng)
    with pytest.raises(ParameterError, match="probability"):
        CBRAMSwitching(v_max_v=2.0)  # the strongest pulse would set a cell with P = 1e-6


def test_cbram_sc_on_digits_within_3_percent_of_fp(tmp_path):
    # Issue target: the shipped digits config within 3 percentage points of the
    # FP baseline of the same network (64-32-10 sigmoid, batch 16, 20 epochs, eta 0.5).
    cfg = load_config(EXAMPLES / "digits_cbram_sc.toml")
    fp_cfg = dataclasses.replace(cfg, rule=SGDConfig(learning_rate=cfg.rule.learning_rate), tile={})
    sc = train(cfg, tmp_path / "sc", progress=False)
    fp = train(fp_cfg, tmp_path / "fp", progress=False)
    assert sc.test_accuracy >= fp.test_accuracy - 0.03, (sc.test_accuracy, fp.test_accuracy)
    assert sc.stats["pulses"] > 0 and sc.stats["stream_bits"] > 0
