"""Fitting surrogate pulse-update models: recovery of known parameters, error bars, files, reports."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from memspice.calibrate import (
    calibrate_pulse_data,
    evaluate_model,
    fit_pulse_model,
    least_squares_fit,
    noise_estimates,
    predict_pulse_train,
    read_model_file,
    save_calibration,
)
from memspice.calibrate.fitting import ParameterSpec
from memspice.calibrate.synthetic import synthetic_pulse_train, up_down_pattern
from memspice.errors import DataError, ParameterError
from memspice.surrogate import (
    DeviceDraws,
    ExpStep,
    GongReRAMExpStep2018,
    SoftBounds,
    Tabulated,
    apply_pulse_counts,
)


def _recovered(fit, true_model, names, rel=0.05, n_se=2.0):
    """The issue's criterion: within 5 % of the truth, or within 2 reported standard errors."""
    for n in names:
        v, e = fit.model_params[n]
        t = getattr(true_model, n)
        assert abs(v - t) <= max(rel * abs(t), n_se * e), f"{n}: fitted {v:.6g} +- {e:.3g}, true {t:.6g}"


def test_engine_matches_closed_form_linear_regression(rng):
    # y = a + b x + noise: least squares has the closed form (X^T X)^-1 X^T y and
    # covariance s^2 (X^T X)^-1 (any regression text); the generic engine must agree
    x = np.linspace(0, 1, 50)
    y = 2.0 + 3.0 * x + 0.1 * rng.standard_normal(x.size)
    X = np.c_[np.ones_like(x), x]
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    r = y - X @ beta
    cov = (r @ r) / (x.size - 2) * np.linalg.inv(X.T @ X)
    res = least_squares_fit(lambda p: p["a"] + p["b"] * x, y,
                            [ParameterSpec("a", 1.0, -10, 10), ParameterSpec("b", 1.0, -10, 10)])
    np.testing.assert_allclose(res.values, beta, rtol=1e-7)
    np.testing.assert_allclose(res.stderr, np.sqrt(np.diag(cov)), rtol=1e-5)
    assert res.r_squared == pytest.approx(1 - (r @ r) / np.sum((y - y.mean()) ** 2), rel=1e-9)
    assert res.max_error == pytest.approx(np.max(np.abs(r)), rel=1e-6)


def test_unconstrained_parameter_gets_infinite_error():
    # c never enters the model: the data say nothing about it
    x = np.linspace(0, 1, 20)
    res = least_squares_fit(lambda p: p["a"] * x, 2 * x + 0.01 * np.sin(7 * x),
                            [ParameterSpec("a", 1.0, 0, 5), ParameterSpec("c", 1.0, 0, 5)])
    assert np.isfinite(res.stderr[0]) and np.isinf(res.stderr[1])


def test_trajectory_model_is_the_surrogates_per_pulse_engine():
    # predict_pulse_train must give exactly what the surrogate's own engine does
    # for a noise-free nominal device (the fitted model is then the model the tile runs)
    model = GongReRAMExpStep2018(step_d2d_rel=0.0, up_down_d2d_rel=0.0)
    up = up_down_pattern(30, 25)
    draws = DeviceDraws(np.array([model.g_min_s]), np.array([model.g_max_s]), np.ones(1), np.ones(1))
    g = [3e-6]
    cur = np.array([3e-6])
    for u in up:
        cur = apply_pulse_counts(model, cur, np.array([1 if u else -1]), draws, np.random.default_rng(0), engine="per_pulse")
        g.append(cur[0])
    np.testing.assert_allclose(predict_pulse_train(model, 3e-6, up), g, rtol=1e-13, atol=1e-20)


def test_soft_bounds_parameters_recovered(rng):
    true = SoftBounds(g_min_s=2e-6, g_max_s=20e-6, dg_up_s=1.5e-6, dg_down_s=1.0e-6)
    data = synthetic_pulse_train(true, up_down_pattern(40, 40, cycles=2), 3e-6, rng, read_noise_s=0.05e-6)
    fit = fit_pulse_model(data, "soft-bounds")
    assert isinstance(fit.model, SoftBounds)
    _recovered(fit, true, ["g_min_s", "g_max_s", "dg_up_s", "dg_down_s"])
    # the residual RMS is the read noise (50 nS) to within sampling error (161 reads: ~6 %)
    assert fit.fit.rms_error == pytest.approx(0.05e-6, rel=0.2)


def test_exp_step_parameters_recovered(rng):
    # the aihwkit ReRAM exp-step preset shape (Gong et al. 2018) on a 1-11 uS device
    true = ExpStep(g_min_s=1e-6, g_max_s=11e-6, dg_up_s=0.5e-6, dg_down_s=0.3e-6,
                   a=-0.5, b=-0.5, gamma_up=5.0, gamma_down=5.0, A_up=-1.18445, A_down=-0.081404)
    # 20 nS read noise (0.2 % of the range): A and gamma of one direction are
    # strongly correlated, and at this noise their errors are ~1 %
    data = synthetic_pulse_train(true, up_down_pattern(40, 40, cycles=2), 2e-6, rng, read_noise_s=0.02e-6)
    fit = fit_pulse_model(data, "exp-step")
    assert isinstance(fit.model, ExpStep)
    _recovered(fit, true, ["g_min_s", "g_max_s", "dg_up_s", "dg_down_s", "gamma_up", "gamma_down", "A_up", "A_down"])


def test_noise_estimates_separate_read_and_write_noise(rng):
    # soft bounds with 40 nS additive write noise per pulse and 25 nS read noise;
    # 8 cycles (640 steps) give ~ +-15 % on each std by the method of moments
    true = SoftBounds(g_min_s=2e-6, g_max_s=20e-6, dg_up_s=1.0e-6, dg_down_s=1.0e-6, c2c_abs_s=40e-9)
    data = synthetic_pulse_train(true, up_down_pattern(40, 40, cycles=8), 3e-6, rng, read_noise_s=25e-9)
    fit = fit_pulse_model(data, "soft-bounds")
    noise = noise_estimates(fit)
    assert noise.write_noise_s == pytest.approx(40e-9, rel=0.25)
    assert noise.read_noise_s == pytest.approx(25e-9, rel=0.3)


def test_tabulated_fit_reproduces_a_held_out_train(rng):
    # a power-law device fitted with the tabulated family, then run on a train of
    # another count from another start: within 2 % RMS of the range
    from memspice.surrogate import PowerStep

    true = PowerStep(g_min_s=1e-6, g_max_s=11e-6, dg_up_s=0.8e-6, dg_down_s=0.6e-6, gamma_up=2.0, gamma_down=0.7)
    data = synthetic_pulse_train(true, up_down_pattern(40, 40), 1.2e-6, rng, read_noise_s=20e-9)
    fit = fit_pulse_model(data, "tabulated", n_nodes=10)
    assert isinstance(fit.model, Tabulated)
    held = synthetic_pulse_train(true, up_down_pattern(12, 9, cycles=3), 4e-6, rng, read_noise_s=0.0)
    ev = evaluate_model(fit.model, held, fit.potentiation_polarity)
    assert ev.rms_rel_range < 0.02


def test_pcm_family_needs_set_pulses_only(rng):
    # Nandakumar's PCM mean step 0.892 uS - 0.084 G (docs/algorithms.md, "Mixed precision"), no noise
    from memspice.surrogate import PCMStatistical

    true = PCMStatistical(std_offset_s=0.0, std_slope=0.0)
    data = synthetic_pulse_train(true, np.ones(40, dtype=bool), 0.2e-6, rng, read_noise_s=0.05e-6)
    fit = fit_pulse_model(data, "pcm")
    _recovered(fit, true, ["mean_offset_s", "mean_slope"])
    both = synthetic_pulse_train(SoftBounds(), up_down_pattern(5), 2e-6, rng)
    with pytest.raises(ParameterError, match="potentiation \\(SET\\) pulses only"):
        fit_pulse_model(both, "pcm")


def test_device_statistics_recover_the_spread(rng):
    # 12 devices with 15 % step variation and 1 uS spread of G_max: the spread of the
    # per-device fits (fit error removed) estimates them; with 12 devices the sample
    # std itself scatters by ~1/sqrt(2*11) = 21 %, so the band is 40 %
    nominal = SoftBounds(g_min_s=2e-6, g_max_s=20e-6, dg_up_s=1.2e-6, dg_down_s=0.9e-6,
                         step_d2d_rel=0.15, g_max_d2d_s=1.0e-6)
    draws = nominal.draw_devices((12,), rng)
    data = []
    for k in range(12):
        one = DeviceDraws(draws.lo_s[k:k + 1], draws.hi_s[k:k + 1], draws.f_up[k:k + 1], draws.f_down[k:k + 1])
        data.append(synthetic_pulse_train(nominal, up_down_pattern(40, 40), float(draws.lo_s[k]) + 0.5e-6, rng,
                                          read_noise_s=20e-9, draws=one, device=f"d{k}"))
    cal = calibrate_pulse_data(data, "soft-bounds")
    f_true = 0.5 * (draws.f_up + draws.f_down)
    assert cal.statistics.d2d["step_d2d_rel"] == pytest.approx(np.std(f_true / f_true.mean(), ddof=1), rel=0.15)
    assert cal.statistics.d2d["g_max_d2d_s"] == pytest.approx(np.std(draws.hi_s, ddof=1), rel=0.15)
    assert cal.model.step_d2d_rel == cal.statistics.d2d["step_d2d_rel"]
    assert cal.model.dg_up_s == pytest.approx(1.2e-6 * f_true.mean(), rel=0.03)


def test_model_file_loads_into_surrogate_and_training_config(tmp_path, rng):
    true = SoftBounds(g_min_s=2e-6, g_max_s=20e-6, dg_up_s=1.5e-6, dg_down_s=1.0e-6)
    data = synthetic_pulse_train(true, up_down_pattern(30, 30), 3e-6, rng, read_noise_s=0.05e-6)
    cal = calibrate_pulse_data([data], "soft-bounds")
    paths = save_calibration(cal, tmp_path / "fitted.toml", tmp_path / "report")
    model, calib = read_model_file(paths["model"])
    assert model == cal.model  # exact round trip of every field
    assert calib["rms_error_s"] == pytest.approx(cal.fits[0][1].fit.rms_error)
    # the [tile] table is what `memspice train` reads
    from memspice.learn.tiles import tile_config_from_table

    table = tomllib.loads(paths["model"].read_text())["tile"]
    assert tile_config_from_table(table).device == cal.model
    report = paths["report"].read_text()
    assert "| dg_up_s |" in report and "![data vs fit]" in report
    assert (tmp_path / "report" / "device0_residuals.png").stat().st_size > 1000


def test_tabulated_model_file_round_trip(tmp_path, rng):
    from memspice.calibrate.modelfile import write_model_file

    true = SoftBounds(dg_up_s=1e-6, dg_down_s=1e-6)
    data = synthetic_pulse_train(true, up_down_pattern(15, 15), 2e-6, rng, read_noise_s=0.02e-6)
    fit = fit_pulse_model(data, "tabulated", n_nodes=5)
    model, _ = read_model_file(write_model_file(tmp_path / "t.toml", fit.model))
    assert model == fit.model


def test_bad_model_file_is_a_data_error(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('format = "memspice.calibrate.fitted/1"\n[tile]\ndevice = "os.system"\n')
    with pytest.raises(DataError, match="not a pulse-update model class"):
        read_model_file(p)
