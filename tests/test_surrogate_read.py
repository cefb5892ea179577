"""Read path of the surrogate tile: ideal product, DAC/ADC, read noise, drift."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.errors import ParameterError
from memspice.surrogate import (
    AnalogTile,
    ConstantStep,
    PCMReadNandakumar2018,
    PCMStatistical,
    QuantisationRangeWarning,
    ReadConfig,
    TileConfig,
    quantise,
)


def _tile(rng, n_out=12, n_in=20, **read):
    cfg = TileConfig(device=ConstantStep(), read=ReadConfig(**read))
    tile = AnalogTile(n_out, n_in, cfg, rng)
    tile.set_weights(rng.uniform(-1, 1, (n_out, n_in)))
    return tile


def test_ideal_forward_and_backward_are_the_matrix_products(rng):
    tile = _tile(rng)
    w = tile.get_weights()
    x = rng.standard_normal((5, 20))
    d = rng.standard_normal((5, 12))
    # reference: the products written out with einsum, independent of the tile
    np.testing.assert_allclose(tile.forward(x), np.einsum("oi,bi->bo", w, x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(tile.backward(d), np.einsum("oi,bo->bi", w, d), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(tile.forward(x[0]), w @ x[0], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("bits", [1, 3, 6])
def test_dac_gives_exactly_2_to_the_b_levels(rng, bits):
    # a dense ramp over the DAC range through a diagonal tile W = 0.5 I:
    # the outputs take exactly 2^b distinct values, evenly spaced by
    # 0.5 (hi - lo)/(2^b - 1), first and last at 0.5 lo and 0.5 hi.
    lo, hi = -0.8, 1.2
    cfg = TileConfig(device=ConstantStep(), read=ReadConfig(dac_bits=bits, dac_range=(lo, hi)))
    tile = AnalogTile(1, 1, cfg, rng)
    tile.set_weights(np.array([[0.5]]))
    x = np.linspace(lo, hi, 20001)[:, None]
    y = tile.forward(x)[:, 0]
    levels = np.unique(np.round(y, 12))
    assert levels.size == 2**bits
    np.testing.assert_allclose(np.diff(levels), 0.5 * (hi - lo) / (2**bits - 1), rtol=1e-9)
    assert levels[0] == pytest.approx(0.5 * lo) and levels[-1] == pytest.approx(0.5 * hi)


@pytest.mark.parametrize("bits", [2, 5])
def test_adc_gives_exactly_2_to_the_b_levels(rng, bits):
    lo, hi = -3.0, 3.0
    cfg = TileConfig(device=ConstantStep(), read=ReadConfig(adc_bits=bits, adc_range=(lo, hi)))
    tile = AnalogTile(1, 1, cfg, rng)
    tile.set_weights(np.array([[1.0]]))
    y = tile.forward(np.linspace(lo, hi, 5001)[:, None])[:, 0]
    levels = np.unique(np.round(y, 12))
    assert levels.size == 2**bits
    np.testing.assert_allclose(np.diff(levels), (hi - lo) / (2**bits - 1), rtol=1e-9)


def test_out_of_range_input_errors_or_warns_by_configuration(rng):
    x = np.array([[0.5] * 19 + [1.5]])
    tile = _tile(rng, dac_bits=8, dac_range=(-1.0, 1.0), out_of_range="error")
    with pytest.raises(ParameterError, match=r"outside the 8-bit converter range \[-1, 1\]"):
        tile.forward(x)
    tile = _tile(rng, dac_bits=8, dac_range=(-1.0, 1.0), out_of_range="warn")
    with pytest.warns(QuantisationRangeWarning, match="saturated"):
        y = tile.forward(x)
    # saturated, not dropped: the last input acts as exactly 1.0
    x_sat = np.array([[0.5] * 19 + [1.0]])
    np.testing.assert_allclose(y, quantise(x_sat, 8, (-1.0, 1.0), "error", "DAC input") @ tile.get_weights().T, rtol=1e-12)


def test_out_of_range_adc_output_is_reported(rng):
    tile = _tile(rng, adc_bits=6, adc_range=(-0.1, 0.1), out_of_range="error")
    with pytest.raises(ParameterError, match="ADC output"):
        tile.forward(np.ones((1, 20)))


def test_conductance_read_noise_has_configured_variance(rng):
    # sigma_G = 0.03 G + 0.13 µS per device and read (PCM, docs/algorithms.md, "Mixed precision");
    # for one output the noise is Gaussian with variance
    # sum_i (sigma+_i^2 + sigma-_i^2) x_i^2 / g_scale^2 (independent devices).
    read = PCMReadNandakumar2018(drift_nu=0.0)
    cfg = TileConfig(device=PCMStatistical(), read=read)
    tile = AnalogTile(4, 30, cfg, rng)
    tile.set_weights(rng.uniform(-1, 1, (4, 30)))
    x = rng.uniform(-1, 1, 30)
    reps = 20000
    y = tile.forward(np.tile(x, (reps, 1)))
    g_scale = tile.mapping.g_scale_s
    sig2 = ((0.03 * tile.g_plus + 0.13e-6) ** 2 + (0.03 * tile.g_minus + 0.13e-6) ** 2) / g_scale**2
    expected_std = np.sqrt(sig2 @ (x * x))
    exact = tile.get_weights() @ x
    for j in range(4):
        s = y[:, j]
        se_mean = s.std() / np.sqrt(reps)
        assert abs(s.mean() - exact[j]) <= 3 * se_mean
        assert abs(s.std(ddof=1) - expected_std[j]) <= 3 * expected_std[j] / np.sqrt(2 * reps)


def test_additive_output_noise_has_configured_std(rng):
    tile = _tile(rng, out_noise_std=0.05)
    x = rng.uniform(-1, 1, 20)
    y = tile.forward(np.tile(x, (20000, 1))) - tile.get_weights() @ x
    assert abs(y.std(ddof=1) - 0.05) <= 3 * 0.05 / np.sqrt(2 * y.size)
    assert abs(y.mean()) <= 3 * 0.05 / np.sqrt(y.size)


def test_pcm_drift_follows_power_law(rng):
    # G(t) = G(t0) (t/t0)^-nu with nu = 0.04 (Nandakumar): 1000 s after
    # programming a read sees the conductances scaled by 1000^-0.04 = 0.7586.
    cfg = TileConfig(device=PCMStatistical(), read=PCMReadNandakumar2018(g_noise_rel=0.0, g_noise_abs_s=0.0))
    tile = AnalogTile(3, 5, cfg, rng)
    w = rng.uniform(-1, 1, (3, 5))
    tile.set_weights(w)
    x = rng.uniform(-1, 1, 5)
    np.testing.assert_allclose(tile.forward(x), w @ x, rtol=1e-12)  # before t0: no drift
    tile.advance_time(1000.0)
    factor = 1000.0**-0.04
    assert factor == pytest.approx(0.758577575, rel=1e-8)
    g_eff = tile.effective_conductances()
    np.testing.assert_allclose(g_eff[0], tile.g_plus * factor, rtol=1e-12)
    # both devices scale alike, so W_eff = factor W (G_min is not subtracted)
    np.testing.assert_allclose(tile.forward(x), factor * (w @ x), rtol=1e-12, atol=1e-15)
    # a pulse re-programs from the drifted state and restarts that device's clock
    tile.apply_pulses(np.eye(3, 5, dtype=int))  # unipolar: SET pulses on G+ of the diagonal
    g_eff = tile.effective_conductances()
    assert g_eff[0, 0, 0] == tile.g_plus[0, 0]  # just programmed: no drift yet
    assert g_eff[1, 0, 0] == pytest.approx(tile.g_minus[0, 0] * factor, rel=1e-12)  # not pulsed: still drifted


def test_cached_reads_follow_pulses_before_and_after_drift(rng):
    # The tile keeps W and the read-noise variances between reads and patches
    # them at the pulsed cells. Reference: the same quantities computed from
    # scratch from effective_conductances() (the definition), after sparse
    # pulses with no drift yet (t < t0), after the clock passes t0, and after
    # pulses on a drifting tile (where the pulsed devices restart their clocks).
    read = PCMReadNandakumar2018()
    tile = AnalogTile(6, 9, TileConfig(device=PCMStatistical(), read=read), rng)
    tile.set_weights(rng.uniform(-0.4, 0.4, (6, 9)))
    g_scale = tile.mapping.g_scale_s

    def check():
        g = tile.effective_conductances()
        w = (g[0] - g[1]) / g_scale
        sig2 = ((0.03 * g + 0.13e-6) ** 2).sum(axis=0) / g_scale**2
        # the mean of a noisy read is W x, its variance sig2 x^2 (float32: 1e-6 relative)
        np.testing.assert_array_equal(tile._weights_for(read, "fwd"), w)
        np.testing.assert_allclose(tile._noise_var(read), sig2, rtol=1e-6)

    for dt in (0.0, 0.5, 1e4, 0.0):  # t0 = 1 s: the third step starts the drift
        tile.advance_time(dt)
        check()
        counts = np.zeros((6, 9), dtype=np.int64)
        counts[rng.integers(0, 6, 4), rng.integers(0, 9, 4)] = rng.choice([-2, -1, 1, 3], 4)
        tile.apply_pulses(counts)  # a few cells: the sparse path that patches the caches
        check()
    assert tile.time_s > read.drift_t0_s and not np.array_equal(tile.effective_conductances(), tile._g)


def test_read_config_rejects_bad_values():
    with pytest.raises(ParameterError, match="dac_bits"):
        ReadConfig(dac_bits=0)
    with pytest.raises(ParameterError, match="adc_range"):
        ReadConfig(adc_range=(1.0, -1.0))
    with pytest.raises(ParameterError, match="out_of_range"):
        ReadConfig(out_of_range="clip")
