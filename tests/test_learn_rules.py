"""Update rules against their equations (docs/algorithms.md, "Stochastic pulse coincidence" and "Mixed precision"), on the real AnalogTile."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.errors import ConfigError, ParameterError
from memspice.learn.layers import AnalogDense, program_weights
from memspice.learn.network import Network
from memspice.learn.rules import FloatSGD, MixedPrecision, StochasticCoincidence, default_epsilon
from memspice.learn.tiles import make_tile, tile_config_from_table

# A noise-free constant-step device: 100 levels of 0.1 uS on [1, 11] uS, so
# one push-pull pulse moves W by exactly 2 * 0.1 / 10 = 0.02 (w_max = 1).
IDEAL = {"device": "ConstantStep", "device_params": {"dg_up_s": 0.1e-6, "dg_down_s": 0.1e-6}}


def _layer(n_out, n_in, table, seed=0):
    tile = make_tile(n_out, n_in + 1, tile_config_from_table(table), np.random.default_rng(seed))
    program_weights(tile, np.zeros((n_out, n_in + 1)))  # push-pull pairs centred, PCM pairs at g_min
    return AnalogDense(tile)


@pytest.mark.parametrize("update_management", [False, True])
def test_coincidence_counts_have_the_sgd_expectation(update_management):
    # docs/algorithms.md, "Stochastic pulse coincidence": E[n_ij] = BL p_i q_j with sign -sign(x_i d_j), and
    # C_x C_d = eta_s / (BL dw_min) with eta_s = eta / B per sample, so
    # E[n] dw_min = -(eta/B) sum_b d_b x_b^T (the mini-batch SGD step).
    # Checked over R = 4000 independent draws against 5 standard errors.
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, (4, 5))
    d = rng.normal(0, 0.3, (4, 3))
    dw_min, eta, reps = 0.01, 0.05, 4000
    rule = StochasticCoincidence(eta, bl=10, update_management=update_management)
    draws = np.stack([rule.coincidence_counts(x, d, dw_min, rng) for _ in range(reps)])
    expected = -(eta / 4) * d.T @ x / dw_min
    stderr = draws.std(axis=0) / np.sqrt(reps)
    assert np.all(np.abs(draws.mean(axis=0) - expected) < 5 * stderr + 1e-12)
    assert rule.stats()["clipped_probability_fraction"] == 0.0  # the expectation holds only without clipping


def test_coincidence_step_moves_tile_by_counts_times_dw_min():
    # On the noise-free constant-step tile each signed count is exactly one
    # push-pull step of 0.02 in weight units.
    layer = _layer(3, 4, IDEAL)
    tile = layer.tile
    assert tile.dw_min == pytest.approx(0.02, rel=1e-12)
    w0 = tile.get_weights()
    rule = StochasticCoincidence(0.5, bl=10)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (8, 4))
    d = rng.normal(0, 0.2, (8, 3))
    counts = rule.coincidence_counts(layer.tile_inputs(x), d, tile.dw_min, np.random.default_rng(2))
    rule.step(Network([layer]), [x], [d], np.random.default_rng(2))
    assert np.abs(counts).sum() > 0
    np.testing.assert_allclose(tile.get_weights() - w0, counts * 0.02, atol=1e-12)


def test_mixed_precision_accumulator_keeps_what_the_device_did_not_take():
    # Nandakumar et al.: p = floor(|chi|/eps) pulses of sign(chi), chi -= p eps sign(chi).
    # On a noise-free device (step exactly eps) the sum of applied change and
    # accumulator equals the summed SGD steps to rounding, and |chi| < eps.
    layer = _layer(3, 4, IDEAL)
    rule = MixedPrecision(0.3, refresh_every=0)
    rng = np.random.default_rng(3)
    w0 = layer.tile.get_weights()
    total = np.zeros_like(w0)
    for _ in range(25):
        x = rng.uniform(0, 1, (6, 4))
        d = rng.normal(0, 0.2, (6, 3))
        total -= (0.3 / 6) * d.T @ layer.tile_inputs(x)
        rule.step(Network([layer]), [x], [d], rng)
    chi = rule.state_dict()["chi"][0]
    np.testing.assert_allclose(layer.tile.get_weights() - w0 + chi, total, atol=1e-12)
    assert np.all(np.abs(chi) < 0.02)
    assert rule.stats()["pulses"] > 0


def test_mixed_precision_epsilon_for_pcm_is_the_set_step_from_g_min():
    # Statistical PCM (docs/algorithms.md, "Mixed precision"): mean SET step 0.892 uS - 0.084 G; at
    # G = 0.1 uS that is 0.8836 uS; on [0.1, 20] uS with w_max = 1 the weight
    # scale is 19.9 uS per unit, so eps = 0.8836 / 19.9 = 0.04440.
    layer = _layer(2, 2, {"device": "NandakumarPCM2018"})
    assert default_epsilon(layer.tile) == pytest.approx((0.892 - 0.084 * 0.1) / 19.9, rel=1e-9)


def test_mixed_precision_refresh_brings_pcm_pairs_back_below_threshold():
    # SET-only PCM pairs fill up; a refresh re-programs every pair with a
    # device above g_min + threshold * range to its weight with the other
    # device at g_min. So right after it, every pair is either below the
    # level or has one device exactly at g_min (0.1 uS).
    layer = _layer(4, 6, {"device": "NandakumarPCM2018"})
    rule = MixedPrecision(2.0, refresh_every=5, refresh_threshold=0.3)
    rng = np.random.default_rng(5)
    for _ in range(5):
        x = rng.uniform(0, 1, (8, 6))
        d = rng.normal(0, 1.0, (8, 4))
        rule.step(Network([layer]), [x], [d], rng)
    tile = layer.tile
    level = 0.1e-6 + 0.3 * 19.9e-6
    assert rule.stats()["refreshed_pairs"] > 0
    below = np.maximum(tile.g_plus, tile.g_minus) < level
    parked = np.minimum(tile.g_plus, tile.g_minus) == 0.1e-6
    assert np.all(below | parked)
    assert np.count_nonzero(~below) > 0  # some refreshed pairs hold weights beyond the level


def test_float_rule_refuses_analog_layers_and_vice_versa():
    layer = _layer(2, 2, IDEAL)
    x, d = np.ones((1, 2)), np.ones((1, 2))
    with pytest.raises(ParameterError, match="rule 'sgd' updates floating-point layers"):
        FloatSGD(0.1).step(Network([layer]), [x], [d], np.random.default_rng(0))
    from memspice.learn.layers import FloatDense

    with pytest.raises(ParameterError, match="programs crossbar tiles"):
        StochasticCoincidence(0.1).step(Network([FloatDense(np.zeros((2, 2)))]), [x], [d], np.random.default_rng(0))


def test_tile_table_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"tile.device = 'Memristor'"):
        tile_config_from_table({"device": "Memristor"})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) dg_s in \[tile.device_params\]"):
        tile_config_from_table({"device": "ConstantStep", "device_params": {"dg_s": 1e-8}})
    with pytest.raises(ConfigError, match=r"\[tile.mapping\]"):
        tile_config_from_table({"mapping": {"g_min_s": 2e-6, "g_max_s": 1e-6}})


def test_weight_scaling_keeps_the_float_network_and_its_sgd_step():
    # Same seed, same initial weights: the analog network with omega = 0.5 must
    # present the floating-point network's weights (to rounding), with each
    # layer's largest tile weight at exactly 0.5 w_max (aihwkit's weight scaling).
    from memspice.learn.network import build_network

    table = tile_config_from_table(IDEAL)
    fp = build_network([6, 5, 3], np.random.default_rng(9))
    rngs = iter(np.random.default_rng(s) for s in range(2))
    an = build_network(
        [6, 5, 3], np.random.default_rng(9), tile_factory=lambda o, i: make_tile(o, i, table, next(rngs)),
        weight_scaling_omega=0.5,
    )
    for (wf, bf), (wa, ba), layer in zip(fp.weights(), an.weights(), an.layers):
        np.testing.assert_allclose(wa, wf, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(ba, bf)
        assert np.abs(layer.tile.get_weights()).max() == pytest.approx(0.5, rel=1e-12)
    # Mixed precision on the scaled layer: s * (tile change + chi) is the float
    # SGD step -(eta/B) sum delta x^T of the layer's own weights.
    layer = an.layers[0]
    rule = MixedPrecision(0.3, refresh_every=0)
    rng = np.random.default_rng(3)
    w0 = layer.out_scale * layer.tile.get_weights()
    total = np.zeros_like(w0)
    for _ in range(10):
        x = rng.uniform(0, 1, (6, 6))
        d = rng.normal(0, 0.2, (6, 5))
        total -= (0.3 / 6) * d.T @ layer.tile_inputs(x)
        rule.step(Network([layer]), [x], [d], rng)
    chi = rule.state_dict()["chi"][0]
    np.testing.assert_allclose(layer.out_scale * (layer.tile.get_weights() + chi) - w0, total, atol=1e-12)


# --------------------------------------------------------------------------- pulse trains


@pytest.mark.parametrize("sampler", ["geometric", "per_slot"])
def test_pulse_trains_follow_the_per_slot_bernoulli_law(sampler):
    # Reference: every (sample, slot, line) fires independently with p = min(c|v|, 1), so the
    # number of pulses of one line in its BL slots is Binomial(BL, p) (pmf by hand below) and
    # every slot fires with probability p. Checked over 20,000 draws within 5 standard errors.
    from math import comb

    from memspice.learn.rules.pulse_trains import SAMPLERS as _SAMPLERS

    rng = np.random.default_rng(3)
    bl, reps = 10, 20_000
    values = np.array([[0.0, 0.02, -0.3, 0.9, 1.0]])  # scale 0.5: p = 0, 0.01, 0.15, 0.45, 0.5
    p = 0.5 * np.abs(values[0])
    counts = np.zeros((reps, values.shape[1]), dtype=int)
    slot_hits = np.zeros((bl, values.shape[1]))
    signs_ok = True
    for r in range(reps):
        trains = _SAMPLERS[sampler](values, 0.5, bl, rng)
        np.add.at(counts[r], trains.line, 1)
        np.add.at(slot_hits, (trains.slot, trains.line), 1)
        signs_ok &= bool(np.all(trains.sign == np.sign(values[0, trains.line])))
        assert np.all(np.diff(trains.slot) >= 0)  # slots ascending (coincidences() relies on it)
    assert signs_ok
    for i, pi in enumerate(p):
        for k in (0, 1, 2):
            pmf = comb(bl, k) * pi**k * (1 - pi) ** (bl - k)
            freq = np.mean(counts[:, i] == k)
            assert abs(freq - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / reps) + 1e-12, (sampler, i, k, freq, pmf)
        se = np.sqrt(pi * (1 - pi) / reps)
        assert np.all(np.abs(slot_hits[:, i] / reps - pi) <= 5 * se + 1e-12)


def test_thinning_sampler_clips_probabilities_above_one():
    # p = min(c|v|, 1): a line with c|v| = 3 fires in every slot, one with 0 never.
    from memspice.learn.rules.pulse_trains import bernoulli_trains as _bernoulli_trains

    trains = _bernoulli_trains(np.array([[6.0, 0.0, -6.0]]), 0.5, 7, np.random.default_rng(0))
    assert sorted(zip(trains.slot.tolist(), trains.line.tolist())) == [(t, i) for t in range(7) for i in (0, 2)]
    assert np.all(trains.sign[trains.line == 2] == -1.0)


def test_coincidences_equal_the_dense_train_product():
    # Reference: the dense matrix product -sum_slots cols^T rows of the same trains.
    from memspice.learn.rules.pulse_trains import bernoulli_trains as _bernoulli_trains, coincidences

    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (6, 40)) * (rng.random((6, 40)) < 0.7)
    d = rng.normal(0, 1, (6, 9))
    rows, cols = _bernoulli_trains(x, 0.3, 10, rng), _bernoulli_trains(d, 0.3, 10, rng)
    cells, counts = coincidences(rows, cols)
    dense = cols.toarray().T @ rows.toarray()
    expected = np.flatnonzero(np.rint(dense).reshape(-1))
    np.testing.assert_array_equal(cells, expected)
    np.testing.assert_array_equal(counts, np.rint(dense).reshape(-1)[expected].astype(int))
    assert np.abs(counts).sum() > 20  # the case is not empty


def test_apply_cell_pulses_equals_the_dense_update_and_checks_its_cells():
    # The sparse entry point must give the state of apply_pulses on the dense matrix, bit for
    # bit (same devices in the same order, same random stream), on a noisy soft-bounds device.
    table = {"device": "SoftBounds", "device_params": {"c2c_rel": 0.3}}
    tiles = [make_tile(5, 8, tile_config_from_table(table), np.random.default_rng(9)) for _ in range(2)]
    n = np.zeros((5, 8), dtype=np.int64)
    n[0, 3], n[2, 0], n[4, 7] = 3, -2, 1
    tiles[0].apply_pulses(n)
    cells = np.flatnonzero(n)
    tiles[1].apply_cell_pulses(cells, n.reshape(-1)[cells])
    np.testing.assert_array_equal(tiles[0].g_plus, tiles[1].g_plus)
    np.testing.assert_array_equal(tiles[0].g_minus, tiles[1].g_minus)
    with pytest.raises(ParameterError, match="ascending distinct"):
        tiles[1].apply_cell_pulses(np.array([5, 3]), np.array([1, 1]))
    with pytest.raises(ParameterError, match="ascending distinct"):
        tiles[1].apply_cell_pulses(np.array([40]), np.array([1]))


def test_coincidences_by_sparse_product_equal_the_slot_by_slot_count():
    # Reference: the dense count, slot by slot, colsᵀ rows of the ±1 train matrices
    # (PulseTrains.toarray), for trains small enough for the pulse pairing and large
    # enough for SciPy's sparse product (both paths of coincidences): exactly equal.
    from memspice.learn.rules.pulse_trains import _SPARSE_PRODUCT_PAIRS, bernoulli_trains, coincidences

    rng = np.random.default_rng(12)
    for scale in (0.02, 0.3):
        x = rng.uniform(-1, 1, (16, 40))
        d = rng.uniform(-1, 1, (16, 30))
        rows, cols = bernoulli_trains(x, scale, 10, rng), bernoulli_trains(d, scale, 10, rng)
        dense = np.rint(cols.toarray().T @ rows.toarray()).astype(np.int64).reshape(-1)
        cells, counts = coincidences(rows, cols)
        expect = np.flatnonzero(dense)
        np.testing.assert_array_equal(cells, expect)
        np.testing.assert_array_equal(counts, dense[expect])
        pairs = int((np.abs(cols.toarray()).T @ np.abs(rows.toarray())).sum())  # coincident pulse pairs
        assert (pairs >= _SPARSE_PRODUCT_PAIRS) == (scale == 0.3), pairs  # one case per path
