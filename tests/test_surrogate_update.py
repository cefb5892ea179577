"""Pulse-update models of the surrogate tile, against closed forms and sampling error bounds.

Statistical checks use 256x256 tiles (65 536 devices) and accept a deviation
of 3 standard errors: SE(mean) = s / sqrt(N), SE(std) ~= s / sqrt(2 (N - 1))
for near-Gaussian samples. Seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.errors import ParameterError
from memspice.surrogate import (
    AnalogTile,
    ConstantStep,
    GokmenVlasov2016,
    LinearStep,
    NandakumarPCM2018,
    PCMStatistical,
    PowerStep,
    SoftBounds,
    TileConfig,
    WeightMapping,
    apply_pulse_counts,
)

N_SIDE = 256
G_MIN, G_MAX = 1.0e-6, 11.0e-6
R = G_MAX - G_MIN


def _tile(device, rng, n_out=N_SIDE, n_in=N_SIDE, **cfg):
    return AnalogTile(n_out, n_in, TileConfig(device=device, **cfg), rng)


def _within_3se_mean(sample, expected, what, increment=0.0):
    # increments are computed in float32 (fast_update): allow 1e-6 of the
    # increment on top of the sampling error (matters only when the spread is
    # tiny, e.g. soft bounds after thousands of pulses)
    se = sample.std(ddof=1) / np.sqrt(sample.size)
    tol = 3 * se + 1e-6 * abs(increment)
    assert abs(sample.mean() - expected) <= tol, f"{what}: mean {sample.mean():.6g} vs {expected:.6g} (tol = {tol:.3g})"


def _within_3se_std(sample, expected, what):
    se = sample.std(ddof=1) / np.sqrt(2.0 * (sample.size - 1))
    assert abs(sample.std(ddof=1) - expected) <= 3 * se, f"{what}: std {sample.std(ddof=1):.6g} vs {expected:.6g} (3 SE = {3 * se:.3g})"


# --------------------------------------------------------------------------
# constant step


@pytest.mark.parametrize("engine", ["auto", "per_pulse"])
def test_constant_step_moves_exactly_n_steps_until_the_bound(rng, engine):
    # 100 steps of 0.1 µS span the 10 µS range; counts 0..149 per cell, so
    # cells with k > 100 must stop exactly at G_max (hand calculation).
    dg = 0.1e-6
    dev = ConstantStep(dg_up_s=dg, dg_down_s=dg)
    tile = _tile(dev, rng, 10, 15, update_engine=engine)
    k = np.arange(150).reshape(10, 15)
    tile.apply_pulses(k)
    expected = np.minimum(G_MIN + k * dg, G_MAX)
    # exact to double rounding: 1e-15 of the range is 1e-5 of one step
    np.testing.assert_allclose(tile.g_plus, expected, rtol=0, atol=1e-15 * R)
    # push_pull: the G- devices got depression pulses at G_min and stay there
    np.testing.assert_array_equal(tile.g_minus, np.full(k.shape, G_MIN))
    # and back down: 60 depression pulses from every state
    tile.apply_pulses(np.full(k.shape, -60))
    np.testing.assert_allclose(tile.g_plus, np.maximum(expected - 60 * dg, G_MIN), rtol=0, atol=1e-15 * R)


def test_constant_step_one_call_equals_pulses_one_by_one(rng):
    # 37 calls of +1 pulse and one call of +37 must give the same conductance:
    # noise-free, the n-pulse closed form is exact.
    dev = ConstantStep(dg_up_s=0.3e-6, dg_down_s=0.2e-6)
    a = _tile(dev, np.random.default_rng(1), 4, 4)
    b = _tile(dev, np.random.default_rng(1), 4, 4)
    for _ in range(37):
        a.apply_pulses(np.ones((4, 4), dtype=int))
    b.apply_pulses(np.full((4, 4), 37))
    np.testing.assert_allclose(a.g_plus, b.g_plus, rtol=0, atol=1e-14 * R)
    np.testing.assert_allclose(a.g_plus, G_MAX)  # 37 x 0.3 µS > 10 µS: at the bound


# --------------------------------------------------------------------------
# soft bounds


def test_soft_bounds_step_is_linear_in_g(rng):
    # one pulse from states spread over the range: dG = dg_up (G_max - G)/R
    # and dG = -dg_down (G - G_min)/R (the model's defining equations).
    dev = SoftBounds(dg_up_s=0.2e-6, dg_down_s=0.1e-6)
    tile = _tile(dev, rng, 1, 101)
    g0 = np.linspace(G_MIN, G_MAX, 101)[None, :]
    tile.set_conductances(g0, g0)
    tile.apply_pulses(np.ones((1, 101), dtype=int))
    # float32 increments: relative error 1e-6 of a step
    np.testing.assert_allclose(tile.g_plus - g0, 0.2e-6 * (G_MAX - g0) / R, rtol=0, atol=1e-6 * 0.2e-6)
    np.testing.assert_allclose(tile.g_minus - g0, -0.1e-6 * (g0 - G_MIN) / R, rtol=0, atol=1e-6 * 0.1e-6)


@pytest.mark.parametrize("n_pulses", [10, 200, 3000])
def test_soft_bounds_mean_after_n_pulses_follows_closed_form(rng, n_pulses):
    # Multiplicative cycle noise has zero mean, so E[G_n] obeys the noise-free
    # recursion: E[G_n] = G_max - (G_max - G_0) (1 - dg/R)^n -> G_max.
    dg = 0.05e-6
    dev = SoftBounds(dg_up_s=dg, dg_down_s=dg, c2c_rel=0.5)
    tile = _tile(dev, rng)
    tile.apply_pulses(np.full(tile.shape, n_pulses))
    expected = G_MAX - R * (1.0 - dg / R) ** n_pulses
    _within_3se_mean(tile.g_plus.ravel(), expected, f"soft bounds after {n_pulses} pulses", increment=expected - G_MIN)
    if n_pulses == 3000:
        # 3000 pulses of at most 0.05 µS: within 3e-7 of the range of G_max
        assert abs(tile.g_plus.mean() - G_MAX) < 1e-6 * R


def test_soft_bounds_closed_form_matches_pulse_by_pulse_simulation(rng):
    # The closed-form engine draws one Gaussian with the exact mean and
    # variance of the n-pulse recursion; an explicit pulse-by-pulse Monte
    # Carlo (the per_pulse engine) is the independent reference.
    dev = SoftBounds(dg_up_s=0.1e-6, dg_down_s=0.1e-6, c2c_rel=0.4, c2c_abs_s=0.02e-6)
    closed = _tile(dev, np.random.default_rng(5))
    steps = _tile(dev, np.random.default_rng(6), update_engine="per_pulse")
    for t in (closed, steps):
        t.set_conductances(np.full(t.shape, G_MIN + 0.3 * R), np.full(t.shape, G_MIN + 0.3 * R))
        t.apply_pulses(np.full(t.shape, 25))
    ref = steps.g_plus.ravel()
    got = closed.g_plus.ravel()
    se_mean = np.hypot(ref.std(), got.std()) / np.sqrt(ref.size)
    assert abs(got.mean() - ref.mean()) <= 3 * se_mean
    se_std = np.hypot(ref.std(), got.std()) / np.sqrt(2 * ref.size)
    assert abs(got.std() - ref.std()) <= 3 * se_std


# --------------------------------------------------------------------------
# variability


def test_device_to_device_step_variation_matches_configuration(rng):
    # one pulse on every G+ from mid-range, no cycle noise: dG / dg = f_up,
    # which has mean 1 and std step_d2d_rel by construction.
    dg = 0.1e-6
    dev = ConstantStep(dg_up_s=dg, dg_down_s=dg, step_d2d_rel=0.2)
    tile = _tile(dev, rng)
    g0 = np.full(tile.shape, G_MIN + 0.5 * R)
    tile.set_conductances(g0, g0)
    tile.apply_pulses(np.ones(tile.shape, dtype=int))
    ratio = ((tile.g_plus - g0) / dg).ravel()
    _within_3se_mean(ratio, 1.0, "d2d step factor")
    _within_3se_std(ratio, 0.2, "d2d step factor")


def test_device_to_device_bound_variation_matches_configuration(rng):
    # enough pulses to saturate every device: G+ = its own G_max, drawn with
    # mean G_max and std g_max_d2d_s.
    dev = ConstantStep(dg_up_s=0.5e-6, dg_down_s=0.5e-6, g_max_d2d_s=0.8e-6)
    tile = _tile(dev, rng)
    tile.apply_pulses(np.full(tile.shape, 100))
    g = tile.g_plus.ravel()
    _within_3se_mean(g, G_MAX, "upper bound")
    _within_3se_std(g, 0.8e-6, "upper bound")


@pytest.mark.parametrize("n_pulses", [1, 16])
def test_cycle_to_cycle_noise_matches_configuration(rng, n_pulses):
    # constant step with multiplicative c2c noise: the sum of n independent
    # steps dg (1 + c2c xi) has mean n dg and std sqrt(n) c2c dg.
    dg, c2c = 0.05e-6, 0.3
    dev = ConstantStep(dg_up_s=dg, dg_down_s=dg, c2c_rel=c2c)
    tile = _tile(dev, rng)
    g0 = np.full(tile.shape, G_MIN + 0.3 * R)
    tile.set_conductances(g0, g0)
    tile.apply_pulses(np.full(tile.shape, n_pulses))
    d = (tile.g_plus - g0).ravel()
    _within_3se_mean(d, n_pulses * dg, "c2c mean")
    _within_3se_std(d, np.sqrt(n_pulses) * c2c * dg, "c2c std")


def test_pcm_set_pulse_statistics_match_nandakumar(rng):
    # docs/algorithms.md, "Mixed precision": mean dG = -0.084 G + 0.892 µS, std = 0.09 G + 0.575 µS.
    # From G = 5 µS: mean 0.472 µS, std 1.025 µS; the bounds (0.1, 20 µS) are
    # more than 4.7 std away, so clipping does not bias the sample.
    dev = NandakumarPCM2018()
    tile = _tile(dev, rng)
    assert tile.config.scheme == "unipolar"
    g0 = np.full(tile.shape, 5.0e-6)
    tile.set_conductances(g0, g0)
    tile.apply_pulses(np.ones(tile.shape, dtype=int))
    d = (tile.g_plus - g0).ravel()
    _within_3se_mean(d, -0.084 * 5e-6 + 0.892e-6, "PCM mean SET step")
    _within_3se_std(d, 0.09 * 5e-6 + 0.575e-6, "PCM std SET step")
    np.testing.assert_array_equal(tile.g_minus, g0)  # unipolar: G- untouched by W-up pulses


def test_pcm_many_pulses_match_pulse_by_pulse(rng):
    # 8 SET pulses from 2 µS: closed form vs explicit per-pulse Monte Carlo
    # (same model, independent engine), mean and std within 3 SE.
    dev = PCMStatistical()
    a = _tile(dev, np.random.default_rng(11))
    b = _tile(dev, np.random.default_rng(12), update_engine="per_pulse")
    for t in (a, b):
        t.set_conductances(np.full(t.shape, 2e-6), np.full(t.shape, 2e-6))
        t.apply_pulses(np.full(t.shape, 8))
    x, y = a.g_plus.ravel(), b.g_plus.ravel()
    # clipping at 0.1 µS touches < 1 % of paths here; allow it in the bound
    assert abs(x.mean() - y.mean()) <= 3 * np.hypot(x.std(), y.std()) / np.sqrt(x.size) + 0.01 * x.std()
    assert abs(x.std() - y.std()) <= 3 * np.hypot(x.std(), y.std()) / np.sqrt(2 * x.size) + 0.02 * x.std()


def test_pcm_refuses_push_pull():
    with pytest.raises(ParameterError, match="unipolar"):
        TileConfig(device=PCMStatistical(), pair_scheme="push_pull")


# --------------------------------------------------------------------------
# nonlinear families (per-pulse engine)


def test_power_step_follows_its_recursion(rng):
    # noise-free power step, 30 pulses: iterate the defining equation by hand
    dev = PowerStep(dg_up_s=0.4e-6, dg_down_s=0.4e-6, gamma_up=2.0, gamma_down=0.5)
    tile = _tile(dev, rng, 1, 3)
    tile.apply_pulses(np.array([[30, 1, 5]]))
    for col, n in enumerate((30, 1, 5)):
        g = G_MIN
        for _ in range(n):
            g = min(g + 0.4e-6 * ((G_MAX - g) / R) ** 2.0, G_MAX)
        assert tile.g_plus[0, col] == pytest.approx(g, rel=1e-12)


def test_linear_step_from_exponential_levels_reaches_bound_in_n_levels(rng):
    # docs/algorithms.md, "Binary stochastic learning": with N levels the device goes from G_min to G_max in
    # exactly N potentiation pulses (geometric sum of the exponential model).
    dev = LinearStep.from_exponential_levels(64, 3.0)
    tile = _tile(dev, rng, 1, 1)
    tile.apply_pulses(np.array([[63]]))
    assert tile.g_plus[0, 0] < G_MAX
    tile.apply_pulses(np.array([[1]]))
    assert tile.g_plus[0, 0] == pytest.approx(G_MAX, abs=1e-6 * R)


# --------------------------------------------------------------------------
# tile mechanics


def test_set_get_weights_round_trip_and_range_check(rng):
    tile = _tile(ConstantStep(), rng, 5, 7)
    w = rng.uniform(-1, 1, (5, 7))
    tile.set_weights(w)
    np.testing.assert_allclose(tile.get_weights(), w, rtol=0, atol=1e-15)
    # W = (G+ - G-)/g_scale with g_scale = 10 µS / 1: hand calculation
    assert tile.g_plus[0, 0] - tile.g_minus[0, 0] == pytest.approx(w[0, 0] * 10e-6, rel=1e-12)
    with pytest.raises(ParameterError, match="w_max"):
        tile.set_weights(np.full((5, 7), 1.5))


def test_coincidence_update_counts_and_weight_change(rng):
    # Pulse trains: coincidences counted by hand (loop over slots); with both
    # devices mid-range and a constant step, each coincidence moves W by
    # (dg_up + dg_down)/g_scale = dw_min.
    dg = 0.01e-6
    dev = ConstantStep(dg_up_s=dg, dg_down_s=dg)
    tile = _tile(dev, rng, 6, 9)
    mid = np.full(tile.shape, G_MIN + 0.5 * R)
    tile.set_conductances(mid, mid)
    rows = rng.random((10, 9)) < 0.4
    cols = rng.random((10, 6)) < 0.5
    sign = np.where(rng.random((6, 9)) < 0.5, -1, 1)
    w0 = tile.get_weights()
    n = tile.apply_coincidences(rows, cols, sign)
    manual = np.zeros((6, 9), dtype=int)
    for s in range(10):
        manual += np.outer(cols[s], rows[s]).astype(int)
    np.testing.assert_array_equal(n, manual * sign)
    assert tile.dw_min == pytest.approx(2 * dg / 10e-6)
    np.testing.assert_allclose(tile.get_weights() - w0, manual * sign * tile.dw_min, rtol=0, atol=1e-12)


def test_same_seed_same_tile_and_updates():
    dev = GokmenVlasov2016()
    results = []
    for _ in range(2):
        rng = np.random.default_rng(99)
        tile = _tile(dev, rng, 32, 48)
        tile.set_weights(rng.uniform(-0.5, 0.5, tile.shape))
        tile.apply_pulses(rng.integers(-5, 6, tile.shape))
        results.append((tile.draws.hi_s.copy(), tile.g_plus.copy(), tile.g_minus.copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_state_dict_round_trip_is_exact(rng):
    dev = GokmenVlasov2016()
    tile = _tile(dev, rng, 16, 20)
    tile.set_weights(rng.uniform(-0.5, 0.5, tile.shape))
    tile.apply_pulses(rng.integers(-3, 4, tile.shape))
    state = tile.state_dict()
    copy = AnalogTile.from_state_dict(state, np.random.default_rng(7))
    tile.rng = np.random.default_rng(7)
    np.testing.assert_array_equal(copy.get_weights(), tile.get_weights())
    assert copy.config == tile.config
    n = rng.integers(-3, 4, tile.shape)
    tile.apply_pulses(n)
    copy.apply_pulses(n)
    # identical device-to-device draws and generator: identical futures
    np.testing.assert_array_equal(copy.get_weights(), tile.get_weights())


def test_unipolar_refresh_keeps_weights(rng):
    dev = PCMStatistical()
    tile = _tile(dev, rng, 8, 8, mapping=WeightMapping(0.1e-6, 20e-6, 1.0))
    tile.set_weights(np.full((8, 8), 0.1))
    tile.apply_pulses(np.full((8, 8), -20))  # G- grows towards its saturation
    w = tile.get_weights()
    full = np.maximum(tile.g_plus, tile.g_minus) >= 0.1e-6 + 0.3 * 19.9e-6
    refreshed = tile.refresh(threshold=0.3)
    assert refreshed == np.count_nonzero(full) > 0
    # the weight is kept and the refreshed pairs have one device back at G_min
    np.testing.assert_allclose(tile.get_weights(), w, rtol=0, atol=1e-14)
    assert np.all(np.minimum(tile.g_plus, tile.g_minus)[full] == 0.1e-6)


def test_mean_weight_step_matches_single_pulse(rng):
    # noise-free soft bounds, one +1 pulse: the change of W equals the
    # expected step the tile reports for every cell's current state.
    dev = SoftBounds(dg_up_s=0.2e-6, dg_down_s=0.1e-6, step_d2d_rel=0.1)
    tile = _tile(dev, rng, 20, 30)
    tile.set_weights(rng.uniform(-0.8, 0.8, tile.shape))
    expected = tile.mean_weight_step(+1)
    w0 = tile.get_weights()
    tile.apply_pulses(np.ones(tile.shape, dtype=int))
    np.testing.assert_allclose(tile.get_weights() - w0, expected, rtol=1e-5, atol=1e-12)


def test_reference_engine_rejects_non_affine_closed_form():
    with pytest.raises(ParameterError, match="affine"):
        apply_pulse_counts(PowerStep(), np.ones(2) * G_MIN, np.ones(2, dtype=int),
                           PowerStep().draw_devices((2,), np.random.default_rng(0)),
                           np.random.default_rng(0), "closed_form")


@pytest.mark.parametrize("fraction", [0.05, 0.6])
@pytest.mark.parametrize("device", [SoftBounds(dg_up_s=0.2e-6, dg_down_s=0.1e-6, step_d2d_rel=0.2, g_max_d2d_s=0.5e-6),
                                    PCMStatistical(std_offset_s=0.0, std_slope=0.0)])
def test_sparse_and_dense_paths_equal_the_pulse_by_pulse_recursion(device, fraction):
    # Noise-free devices: the closed-form engine (sparse path below 25 % of
    # cells pulsed, dense block path above) must equal iterating the model's
    # one-pulse equation pulse by pulse (per_pulse engine) to float32
    # rounding of the increment.
    rng = np.random.default_rng(3)
    n = rng.integers(-6, 7, (40, 50)) * (rng.random((40, 50)) < fraction)
    a = _tile(device, np.random.default_rng(4), 40, 50)
    b = _tile(device, np.random.default_rng(4), 40, 50, update_engine="per_pulse")
    for t in (a, b):
        t.set_weights(np.random.default_rng(5).uniform(-0.9, 0.9, (40, 50)) * (device.g_range_s / t.mapping.g_range_s))
        t.apply_pulses(n)
        t.apply_pulses(-n // 2)
    np.testing.assert_allclose(a.g_plus, b.g_plus, rtol=0, atol=1e-6 * 0.2e-6 * 6)
    np.testing.assert_allclose(a.g_minus, b.g_minus, rtol=0, atol=1e-6 * 0.2e-6 * 6)
