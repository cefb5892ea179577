"""Fits that scale to lab-sized cycle data: trains side by side, cycles of long trains, grouped Jacobians.

References: the per-train loop of predict_pulse_train (the surrogate's own
per-pulse engine, tested against it in test_calibrate_fit); the generating
model of synthetic data (known parameters, Gaussian read noise of known std);
hand counts of the cycle cuts.
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.calibrate import PulseData, calibrate_pulse_data
from memspice.calibrate.families import predict_pulse_train, predict_pulse_trains
from memspice.calibrate.pulsefit import MAX_FREE_RUN, split_cycles
from memspice.calibrate.synthetic import synthetic_pulse_train, up_down_pattern
from memspice.surrogate import SoftBounds, Tabulated

TRUE = SoftBounds(g_min_s=2e-6, g_max_s=20e-6, dg_up_s=0.4e-6, dg_down_s=0.3e-6)
READ_NOISE_S = 30e-9


def test_trains_side_by_side_equal_one_at_a_time_bit_for_bit(rng):
    ups = [rng.random(n) < 0.6 for n in (5, 40, 17, 1)]
    g0 = [3e-6, 19e-6, 2e-6, 10e-6]
    nodes = np.linspace(TRUE.g_min_s, TRUE.g_max_s, 9)
    table = Tabulated(g_min_s=TRUE.g_min_s, g_max_s=TRUE.g_max_s, g_table_s=tuple(nodes),
                      dg_up_table_s=tuple(0.4e-6 * (1 - (nodes - 2e-6) / 18e-6) + 1e-9),
                      dg_down_table_s=tuple(-0.3e-6 * (nodes - 2e-6) / 18e-6 - 1e-9))
    for model in (TRUE, table):
        together = predict_pulse_trains(model, g0, ups)
        for g, u, got in zip(g0, ups, together):
            np.testing.assert_array_equal(got, predict_pulse_train(model, g, u))


def test_split_cycles_cuts_at_every_return_to_potentiation():
    up = up_down_pattern(5, 4, cycles=3)  # 27 pulses: cycles start at pulses 1, 10, 19
    g = np.linspace(1e-6, 2e-6, up.size + 1)
    d = PulseData(g, np.r_[0.0, np.where(up, 1.0, -1.0)], np.r_[0.0, np.full(up.size, 5e-8)], device="d")
    cycles = split_cycles(d, 1)
    assert [c.n_pulses for c in cycles] == [9, 9, 9]
    assert cycles[1].conductance_s[0] == g[9] and cycles[2].conductance_s[-1] == g[-1]  # shared boundary reads
    assert [c.meta["cycle"] for c in cycles] == [0, 1, 2] and cycles[0].voltage_v[0] == 0.0


@pytest.mark.parametrize("family", ["soft-bounds", "tabulated"])
def test_thirteen_thousand_reads_recover_the_generating_device(family):
    # 50 cycles of 130 up and 130 down pulses in ONE train (13,001 reads): longer than MAX_FREE_RUN, so it is
    # fitted cycle by cycle; the residual must come down to the read noise and the device must come back
    rng = np.random.default_rng(7)
    up = up_down_pattern(130, 130, cycles=50)
    assert up.size > MAX_FREE_RUN
    d = synthetic_pulse_train(TRUE, up, 3e-6, rng, read_noise_s=READ_NOISE_S, amplitude_v=1.2, device="d0")
    cal = calibrate_pulse_data([d], family)
    fit = cal.fits[0][1]
    assert len(fit.data) == 50
    # residual RMS = the read noise within its sampling error (13,000 draws: ~1 %) plus a little model error
    assert READ_NOISE_S * 0.97 < fit.fit.rms_error < READ_NOISE_S * 1.05
    g = np.linspace(4e-6, 18e-6, 12)  # where both directions visit many times (the edges are sparse)
    u = (g - TRUE.g_min_s) / TRUE.g_range_s
    lo, rr = np.full(g.size, TRUE.g_min_s), np.full(g.size, TRUE.g_range_s)
    for direction in (True, False):
        want = TRUE.mean_step_s(u, np.full(g.size, direction), lo, rr)
        m = cal.model
        um = (g - m.g_min_s) / m.g_range_s
        got = m.mean_step_s(um, np.full(g.size, direction), np.full(g.size, m.g_min_s), np.full(g.size, m.g_range_s))
        # the mean step over the window within 3 % of the largest step (steps are ~1/50 of the range;
        # 13,000 reads with 30 nS noise pin them to well under that)
        assert np.max(np.abs(got - want)) < 0.03 * TRUE.dg_up_s, (family, direction)


def test_many_short_trains_fit_as_one_with_an_initial_state_each():
    rng = np.random.default_rng(3)
    up = up_down_pattern(40, 40)
    trains = [synthetic_pulse_train(TRUE, up, 3e-6, rng, read_noise_s=READ_NOISE_S, device="d0") for _ in range(30)]
    cal = calibrate_pulse_data(trains, "soft-bounds")
    params = cal.fits[0][1].model_params
    for name in ("dg_up_s", "dg_down_s", "g_min_s", "g_max_s"):
        value, err = params[name]
        # within four standard errors of the truth (a fit of 2,430 reads, errors from its own Jacobian)
        assert abs(value - getattr(TRUE, name)) < 4 * err + 1e-12, (name, value, err)
