"""Tabulated surrogate of compact models vs the compact model itself (numpy) and vs ngspice.

The reference trajectory is the compact model integrated over a whole train
of 100 trapezoidal pulses (numpy integrator of memspice.devices, and the same
PWL waveform on the model's ngspice subcircuit); the surrogate applies its
dG(G) table once per pulse. Errors are RMS over the 100 post-pulse
conductances, relative to the device's conductance range.
"""

from __future__ import annotations

import numpy as np
import pytest

from memspice.devices import get_model
from memspice.spice import RunSettings, simulate
from memspice.surrogate import AnalogTile, TileConfig, tabulate_compact_model
from memspice.surrogate.tabulated import single_pulse_waveform

N_PULSES = 100

# (model, amplitude raising G, amplitude lowering G, width): amplitudes chosen
# so that 100 pulses move the device gradually across much of its range
CASES = {
    "vteam": ("vteam", -0.21, 0.025, 50e-9),
    "yakopcic": ("yakopcic", 0.5, -0.5, 1e-6),
}


def _pulse_train(amplitude_v, width_s, n):
    """PWL (t, v) of n pulses with edges width/10 and a gap of one width; sample times after each pulse."""
    edge = width_s / 10
    # corners only: both integrators step inside the linear segments themselves
    t1, v1 = single_pulse_waveform(amplitude_v, width_s, edge, edge, points_per_edge=1, points_flat=1)
    period = t1[-1] + width_s
    ts, vs, samples = [], [], []
    for k in range(n):
        ts += [t1 + k * period, [k * period + period * 0.999]]
        vs += [v1, [0.0]]
        samples.append(k * period + period * 0.995)
    return np.concatenate(ts), np.concatenate(vs), np.array(samples), edge


def _x_low_high_g(m):
    g = m.conductance(np.array([m.x_min, m.x_max]))
    return (m.x_min, m.x_max) if g[0] < g[1] else (m.x_max, m.x_min)


def _surrogate_trajectory(tab, g0, sign, n):
    tile = AnalogTile(1, 1, TileConfig(device=tab, update_engine="per_pulse"), np.random.default_rng(0))
    tile.set_conductances(np.array([[g0]]), np.array([[g0]]))
    out = []
    for _ in range(n):
        tile.apply_pulses(np.array([[sign]]))
        out.append(tile.g_plus[0, 0])
    return np.array(out)


def _numpy_trajectory(m, amp, width, x0, n):
    t, v, samples, _ = _pulse_train(amp, width, n)
    xs = m.integrate(t, v, np.array([x0]))[:, 0]
    return m.conductance(np.interp(samples, t, xs))


def _ngspice_trajectory(m, amp, width, x0, n):
    t, v, samples, edge = _pulse_train(amp, width, n)
    pwl = " ".join(f"{a:.12g} {b:.12g}" for a, b in zip(t, v))
    step = edge / 5  # time step bounded to 1/5 of a pulse edge (docs/algorithms.md, Numerical traps)
    deck = "\n".join(
        [
            f"* tabulated surrogate reference: {m.name} pulse train",
            m.spice_subckt(),
            f"V1 p 0 PWL({pwl})",
            m.spice_instance("1", "p", "0", x0),
            f".tran {step:.6g} {t[-1]:.12g} 0 {step:.6g}",
            ".end",
        ]
    )
    res = simulate(deck, RunSettings(backend="subprocess", timeout_s=120.0))
    xs = res.vectors[f"v(x1.{m.spice_state_node})"]
    return m.conductance(np.interp(samples, res.time, xs))


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    name, up, down, width = CASES[request.param]
    m = get_model(name)
    tab = tabulate_compact_model(m, up, down, width, n_points=201)
    return m, tab, up, down, width


@pytest.mark.parametrize("direction", ["up", "down"])
def test_tabulated_reproduces_numpy_compact_model(case, direction):
    m, tab, up, down, width = case
    x_lo, x_hi = _x_low_high_g(m)
    amp, x0, sign = (up, x_lo, +1) if direction == "up" else (down, x_hi, -1)
    ref = _numpy_trajectory(m, amp, width, x0, N_PULSES)
    got = _surrogate_trajectory(tab, float(m.conductance(np.array([x0]))[0]), sign, N_PULSES)
    g_range = tab.g_max_s - tab.g_min_s
    # the trajectory must actually move (a test of a device that stands still proves nothing)
    assert abs(ref[-1] - ref[0]) > 0.05 * g_range
    rms = np.sqrt(np.mean((got - ref) ** 2)) / g_range
    assert rms < 0.01, f"{m.name} {direction}: RMS error {rms:.2e} of the range"


@pytest.mark.spice
@pytest.mark.parametrize("direction", ["up", "down"])
def test_tabulated_reproduces_ngspice(case, direction):
    m, tab, up, down, width = case
    x_lo, x_hi = _x_low_high_g(m)
    amp, x0, sign = (up, x_lo, +1) if direction == "up" else (down, x_hi, -1)
    ref = _ngspice_trajectory(m, amp, width, x0, N_PULSES)
    got = _surrogate_trajectory(tab, float(m.conductance(np.array([x0]))[0]), sign, N_PULSES)
    g_range = tab.g_max_s - tab.g_min_s
    assert abs(ref[-1] - ref[0]) > 0.05 * g_range
    rms = np.sqrt(np.mean((got - ref) ** 2)) / g_range
    assert rms < 0.02, f"{m.name} {direction}: RMS error {rms:.2e} of the range vs ngspice"


def test_tabulate_refuses_swapped_polarity():
    from memspice.errors import ParameterError

    m = get_model("vteam")
    with pytest.raises(ParameterError, match="swap"):
        tabulate_compact_model(m, 0.025, -0.21, 50e-9, n_points=21)


def test_tabulated_model_checkpoints(rng):
    m = get_model("vteam")
    tab = tabulate_compact_model(m, -0.21, 0.025, 50e-9, n_points=21)
    tile = AnalogTile(3, 4, TileConfig(device=tab), rng)
    tile.apply_pulses(np.full((3, 4), 5))
    copy = AnalogTile.from_state_dict(tile.state_dict(), rng)
    assert copy.config.device == tab
    np.testing.assert_array_equal(copy.g_plus, tile.g_plus)
