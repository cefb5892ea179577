"""Regenerate soft_bounds_devices.csv: a GENERATED, measured-style pulse-response file.

    python examples/measured/make_soft_bounds_devices.py

Four devices drawn from one soft-bounds model with device-to-device variation,
each given two cycles of 40 potentiation (+1.2 V, 50 ns) and 40 depression
(-1.2 V, 50 ns) pulses, read with 30 nS of Gaussian read noise. The nominal
parameters and the per-device draws are written into the file's comment
header, so a fit can be checked against them
(`memspice calibrate --from-csv ... --family soft-bounds`).
"""

from pathlib import Path

import numpy as np

from memspice.calibrate.data import write_pulse_csv
from memspice.calibrate.synthetic import synthetic_pulse_train, up_down_pattern
from memspice.surrogate import SoftBounds

SEED = 2024
NOMINAL = SoftBounds(g_min_s=2.0e-6, g_max_s=20.0e-6, dg_up_s=1.2e-6, dg_down_s=0.9e-6,
                     step_d2d_rel=0.1, g_min_d2d_s=0.1e-6, g_max_d2d_s=1.0e-6)
READ_NOISE_S = 30e-9
N_DEVICES = 4


def main(path: Path = Path(__file__).with_name("soft_bounds_devices.csv")) -> Path:
    rng = np.random.default_rng(SEED)
    draws = NOMINAL.draw_devices((N_DEVICES,), rng)
    up = up_down_pattern(40, 40, cycles=2)
    data, lines = [], []
    for k in range(N_DEVICES):
        one = type(draws)(lo_s=draws.lo_s[k:k + 1], hi_s=draws.hi_s[k:k + 1],
                          f_up=draws.f_up[k:k + 1], f_down=draws.f_down[k:k + 1])
        g0 = float(draws.lo_s[k] + 0.05 * (draws.hi_s[k] - draws.lo_s[k]))
        data.append(synthetic_pulse_train(NOMINAL, up, g0, rng, read_noise_s=READ_NOISE_S, draws=one,
                                          amplitude_v=1.2, width_s=50e-9, device=f"d{k}"))
        lines.append(f"  d{k}: g_min_s = {draws.lo_s[k]:.6e}, g_max_s = {draws.hi_s[k]:.6e}, "
                     f"dg_up_s = {NOMINAL.dg_up_s * draws.f_up[k]:.6e}, dg_down_s = {NOMINAL.dg_down_s * draws.f_down[k]:.6e}")
    comments = [
        "GENERATED DATA, NOT A MEASUREMENT: written by examples/measured/make_soft_bounds_devices.py",
        f"model: memspice.surrogate.SoftBounds, nominal {NOMINAL}",
        f"numpy seed {SEED}; read noise {READ_NOISE_S:g} S (Gaussian std); no write noise",
        "pulses: 2 cycles of 40 x +1.2 V then 40 x -1.2 V, 50 ns each; pulse 0 is the initial read",
        "true per-device parameters:",
        *lines,
    ]
    return write_pulse_csv(path, data, comments)


if __name__ == "__main__":
    print(main())
