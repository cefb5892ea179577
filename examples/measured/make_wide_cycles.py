"""Regenerate wide_set.csv and wide_reset.csv: GENERATED cycles in the wide layout labs use.

    python examples/measured/make_wide_cycles.py

Three devices drawn from one soft-bounds model with device-to-device
variation of the step (10 %) and of the bounds, 20 cycles each of 100 set
(+1.2 V, 50 ns) then 100 reset (-1.2 V, 50 ns) pulses, read with 30 nS of
Gaussian read noise and 1 % cycle-to-cycle write noise: 12,000 reads. One
column per cycle, headed DEVICE/cycle K, conductances in uS; the set file
holds the reads after the set pulses, the reset file those after the reset
pulses. The generating parameters are in the files' comment headers. Fit:

    memspice calibrate --set-csv examples/measured/wide_set.csv --reset-csv examples/measured/wide_reset.csv \
        --set-voltage 1.2 --reset-voltage -1.2 --pulse-width 50e-9 --family tabulated -o fitted.toml --report rep/
"""

from pathlib import Path

import numpy as np

from memspice.calibrate.synthetic import synthetic_pulse_train, up_down_pattern
from memspice.calibrate.wide import write_set_reset
from memspice.surrogate import SoftBounds

SEED = 2026
NOMINAL = SoftBounds(g_min_s=2.0e-6, g_max_s=20.0e-6, dg_up_s=0.5e-6, dg_down_s=0.4e-6,
                     step_d2d_rel=0.1, g_min_d2d_s=0.1e-6, g_max_d2d_s=1.0e-6, c2c_rel=0.01)
READ_NOISE_S = 30e-9
N_DEVICES, N_CYCLES, N_PULSES = 3, 20, 100


def main(folder: Path = Path(__file__).parent) -> tuple[Path, Path]:
    rng = np.random.default_rng(SEED)
    draws = NOMINAL.draw_devices((N_DEVICES,), rng)
    trains, lines = [], []
    for k in range(N_DEVICES):
        one = type(draws)(lo_s=draws.lo_s[k:k + 1], hi_s=draws.hi_s[k:k + 1],
                          f_up=draws.f_up[k:k + 1], f_down=draws.f_down[k:k + 1])
        g0 = float(draws.lo_s[k] + 0.05 * (draws.hi_s[k] - draws.lo_s[k]))
        trains.append(synthetic_pulse_train(NOMINAL, up_down_pattern(N_PULSES, N_PULSES, N_CYCLES), g0, rng,
                                            read_noise_s=READ_NOISE_S, draws=one, amplitude_v=1.2, device=f"d{k}"))
        lines.append(f"  d{k}: g_min_s = {draws.lo_s[k]:.6e}, g_max_s = {draws.hi_s[k]:.6e}, "
                     f"dg_up_s = {NOMINAL.dg_up_s * draws.f_up[k]:.6e}, dg_down_s = {NOMINAL.dg_down_s * draws.f_down[k]:.6e}")
    comments = [
        "GENERATED DATA, NOT A MEASUREMENT: written by examples/measured/make_wide_cycles.py",
        f"model: memspice.surrogate.SoftBounds, nominal {NOMINAL}",
        f"numpy seed {SEED}; read noise {READ_NOISE_S:g} S (Gaussian std)",
        f"{N_CYCLES} cycles per device of {N_PULSES} x +1.2 V then {N_PULSES} x -1.2 V, 50 ns each",
        "true per-device parameters:",
        *lines,
    ]
    return write_set_reset(folder / "wide_set.csv", folder / "wide_reset.csv", trains, comments=comments)


if __name__ == "__main__":
    print(*main())
