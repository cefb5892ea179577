"""Stochastic pulse models: CBRAM Poisson switching statistics and seeded SPICE, statistical PCM."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.cell import pulse_response
from memspice.cell.stochastic_spice import stochastic_pulse_response
from memspice.devices import get_model
from memspice.errors import ParameterError
from memspice.spice import simulate


@pytest.mark.parametrize("amplitude_v", [2.2, 2.4, 2.6])
def test_cbram_switched_fraction_matches_poisson_law(amplitude_v, rng):
    # Reference: P = 1 - exp(-t/tau(V)), tau(V) = tau0 exp(-V/V0) (Jo et al. 2009), with the
    # pulse chosen so that t/tau(V) = 0.7 at each voltage (P = 0.50). 10,000 seeded devices,
    # one pulse each; the observed fraction must lie within 3 standard errors of P.
    m = get_model("cbram")
    width = 0.7 * float(m.tau_s(amplitude_v))
    p = float(m.switch_probability(amplitude_v, width))
    assert p == pytest.approx(1 - np.exp(-0.7), rel=1e-12)
    n = 10_000
    x = m.apply_pulse(np.zeros(n), amplitude_v, width, rng)
    se = np.sqrt(p * (1 - p) / n)
    assert abs(x.mean() - p) < 3 * se, (x.mean(), p, se)


def test_cbram_edges_count_through_the_hazard_integral():
    # A trapezoid with edges t_r = t_f: hazard of the edges = t_r (V0/A)(1 - e^(-A/V0)) / tau(A) each
    # (closed-form integral of exp(v/V0) over a linear ramp).
    m = get_model("cbram")
    a, w, tr = 2.4, 1e-3, 2e-4
    expected = 1 - np.exp(-(w + 2 * tr * (0.155 / a) * (1 - np.exp(-a / 0.155))) / m.tau_s(a))
    assert m.switch_probability(a, w, tr, tr) == pytest.approx(expected, rel=1e-12)


def _cbram_deck(m, n, amplitude_v, width, seed):
    rng = np.random.default_rng(seed)
    e_set, e_reset = m.draw_thresholds(rng, (n,))
    edge = width / 10
    lines = ["cbram seeded", m.spice_subckt().rstrip(),
             f"V1 a 0 PWL(0 0 {edge!r} {amplitude_v!r} {edge + width!r} {amplitude_v!r} {2 * edge + width!r} 0 {3 * edge + width!r} 0)"]
    lines += [m.spice_instance(f"d{k}", "a", "0", x0=0, e_set=float(e_set[k]), e_reset=float(e_reset[k])) for k in range(n)]
    lines += [".options method=gear reltol=1e-5", f".tran {edge / 5!r} {3 * edge + width!r} 0 {edge / 5!r}", ".end", ""]
    return "\n".join(lines), e_set, edge


@pytest.mark.spice
def test_cbram_seeded_spice_is_reproducible_and_follows_its_draws():
    # 60 devices in one netlist, thresholds drawn from a seeded Generator and written into the
    # instance lines. (1) The same seed gives the same netlist and bit-identical results twice.
    # (2) Each device switched exactly when its drawn threshold is below the pulse's hazard
    # (closed form, see the edge test): the SPICE run implements the drawn Poisson process.
    m = get_model("cbram")
    n, amplitude, width = 60, 2.4, 0.7 * float(get_model("cbram").tau_s(2.4))
    deck_a, e_set, edge = _cbram_deck(m, n, amplitude, width, seed=7)
    deck_b, _, _ = _cbram_deck(m, n, amplitude, width, seed=7)
    assert deck_a == deck_b
    ra, rb = simulate(deck_a), simulate(deck_b)
    final_a = np.array([ra.v(f"xd{k}.state")[-1] for k in range(n)])
    final_b = np.array([rb.v(f"xd{k}.state")[-1] for k in range(n)])
    np.testing.assert_array_equal(final_a, final_b)
    hazard = -np.log1p(-m.switch_probability(amplitude, width, edge, edge))
    expected = (e_set < hazard).astype(float)
    clear = np.abs(e_set - hazard) > 5e-3  # the smooth threshold step is 1e-3 wide
    np.testing.assert_allclose(final_a[clear], expected[clear], atol=1e-3)
    assert 0.2 < expected.mean() < 0.8  # both outcomes occur


def test_cbram_needs_a_generator():
    with pytest.raises(ParameterError, match="numpy.random.Generator"):
        get_model("cbram").apply_pulse(np.zeros(3), 2.4, 1e-3, rng=None)


def test_pcm_step_statistics_match_the_published_model(rng):
    # Nandakumar 2018: dG ~ N(-0.084 G + 0.892 uS, (0.09 G + 0.575 uS)^2). At G = 5 uS:
    # mean 0.472 uS, std 1.025 uS. 20,000 devices: sample mean within 3 SE, std within 3 %.
    m = get_model("pcm")
    g0 = np.full(20_000, 5e-6)
    dg = m.set_pulse(g0, rng) - g0  # G = 5 uS is far from both bounds (a 10-sigma step reaches them)
    mean, std = -0.084 * 5e-6 + 0.892e-6, 0.09 * 5e-6 + 0.575e-6
    assert abs(dg.mean() - mean) < 3 * std / np.sqrt(dg.size)
    assert dg.std() == pytest.approx(std, rel=0.03)


def test_pcm_drift_and_bounds(rng):
    m = get_model("pcm")
    # G(t) = G(t0)(t/t0)^-0.04: a 10 uS device read 1000 s after programming at t0 = 1 s -> 7.59 uS.
    assert m.drift(10e-6, 1000.0, 1.0) == pytest.approx(10e-6 * 1000 ** -0.04, rel=1e-12)
    g = m.set_pulses(np.full(500, 1e-6), 200, rng)
    assert g.min() >= m.x_min and g.max() <= m.x_max  # saturation at the published range
    # the mean step vanishes at G = 0.892/0.084 = 10.6 uS: long trains settle around there
    assert 8e-6 < g[-1].mean() < 13e-6


@pytest.mark.spice
def test_pcm_ngspice_pulse_engine_matches_numpy():
    # Same draws (one standard normal per pulse from the seeded Generator) in both engines;
    # the SPICE rendering integrates the step over the pulse and must land within 0.1 % of G_max.
    m = get_model("pcm")
    a = pulse_response(m, 30, 1.0, 50e-9, rise_s=1e-9, fall_s=1e-9, x0=1e-6, rng=np.random.default_rng(5))
    b = stochastic_pulse_response(m, 30, 1.0, 50e-9, rise_s=1e-9, fall_s=1e-9, x0=1e-6,
                                  rng=np.random.default_rng(5), simulator="ngspice")
    assert np.max(np.abs(a.x - b.x)) < 1e-3 * m.x_max
    assert np.ptp(a.x) > 3e-6


@pytest.mark.spice
def test_cell_pulse_response_runs_the_stochastic_devices_in_ngspice():
    # memspice.cell.pulse_response(simulator="ngspice") on pcm/cbram is the stochastic SPICE run
    # (memspice.cell.stochastic_spice), not the devices' numpy-only method.
    pcm = get_model("pcm")
    kw = dict(rise_s=1e-9, fall_s=1e-9, x0=1e-6, simulator="ngspice")
    a = pulse_response(pcm, 5, 1.0, 50e-9, rng=np.random.default_rng(3), **kw)
    b = stochastic_pulse_response(pcm, 5, 1.0, 50e-9, rng=np.random.default_rng(3), **kw)
    assert a.simulator == "ngspice"
    np.testing.assert_array_equal(a.x, b.x)
    cbram = get_model("cbram")
    # a SET pulse 20 time constants long switches every device (P(no switch) = exp(-20))
    r = pulse_response(cbram, 2, 2.4, 20 * float(cbram.tau_s(2.4)), x0=0.0, simulator="ngspice",
                       rng=np.random.default_rng(1))
    assert r.simulator == "ngspice" and r.trace is not None
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-9)
    with pytest.raises(ParameterError, match="simulator"):
        pulse_response(pcm, 2, 1.0, 50e-9, rng=np.random.default_rng(3), simulator="xyce")
