"""Write the sweep files of the Babu et al. study: accuracy against dynamic range, levels and variability.

Babu, Rudy, ... "Stochastic Deep Learning in Memristive Networks" (arXiv 1711.03640) train with the
stochastic pulse-coincidence update and vary the device: dynamic range G_max/G_min, number of
conductance levels, and the variability of the programming step. Their claims (docs/algorithms.md, "Stochastic pulse coincidence"):
within 3 % of floating point with a dynamic range as low as 15 and 32 levels; programming
variability is the parameter that hurts most.

The sweep machinery crosses independent lists, but a device step depends on two of them
(dg = (G_max - G_min) / levels), so every (dynamic range, levels) pair is written as one [[cases]]
entry and crossed with the [grid] of variabilities. The results table has the device parameters;
babu_heatmap.py recovers dynamic range = g_max_s / G_min and levels = (g_max_s - G_min) / dg_up_s.

    python examples/studies/make_babu_study.py   # babu_fashion_sweep, _quick, _medium, _small_fp .toml
    memspice sweep examples/studies/babu_fashion_quick.toml --workers 2
    memspice sweep examples/studies/babu_fashion_medium.toml --workers 1
    memspice sweep examples/studies/babu_fashion_small_fp.toml   # FP baseline of quick and medium
    python examples/studies/babu_heatmap.py examples/studies/babu_fashion_quick.csv --baseline 0.743
"""

from __future__ import annotations

import argparse
from pathlib import Path

import tomli_w

G_MIN_S = 1.0e-6  # as in babu_fashion_base.toml
HERE = Path(__file__).resolve().parent

FULL = {
    "dynamic_range": [5, 10, 15, 25, 50, 100],
    "levels": [8, 16, 32, 64, 128, 256],
    "variability": [0.0, 0.1, 0.2, 0.3, 0.5],
    "overrides": {},
}
#: the reduced scale of the quick and medium studies: 6000 training images (10 % of them held out for
#: validation), 2000 test images, one hidden layer of 64, 3 epochs (about 4 s a point on one core)
SMALL_SCALE = {"data.max_train": 6000, "data.max_test": 2000, "network.sizes": [784, 64, 10],
               "training.epochs": 3}
QUICK = {  # a 3 x 3 x 2 corner of the full grid at the reduced scale: about 75 s on 2 cores
    "dynamic_range": [5, 15, 100],
    "levels": [8, 32, 256],
    "variability": [0.0, 0.5],
    "overrides": SMALL_SCALE,
}
MEDIUM = {  # the whole 6 x 6 x 5 grid at the reduced scale: about 15 min on one core
    **{k: FULL[k] for k in ("dynamic_range", "levels", "variability")},
    "overrides": SMALL_SCALE,
}
#: (spec, file stem) of every sweep file the script writes
STUDIES = ((FULL, "babu_fashion_sweep"), (QUICK, "babu_fashion_quick"), (MEDIUM, "babu_fashion_medium"))

#: device-to-device spread at dynamic range 15 / 32 levels, the reduced scale, three seeds a point (issue 23):
#: the spread of each device's step factor (f = 1 + step_d2d_rel xi, fixed for the device's life, so it does not
#: average out over pulses as the cycle-to-cycle c2c_rel does) and, separately, of its upper bound
#: (g_max_d2d_s, given here as a fraction of the range G_max - G_min), each crossed with c2c_rel 0 and 50 %
D2D = {
    "dynamic_range": 15, "levels": 32,
    "step_d2d_rel": [0.0, 0.1, 0.3, 0.5, 1.0],
    "bound_d2d_of_range": [0.1, 0.3],
    "variability": [0.0, 0.5],
    "seeds": [1, 2, 3],
    "overrides": SMALL_SCALE,
}


def sweep_document(spec: dict, name: str, output: str) -> dict:
    cases = []
    for dr in spec["dynamic_range"]:
        g_max = dr * G_MIN_S
        for n in spec["levels"]:
            dg = (g_max - G_MIN_S) / n
            cases.append({
                "tile.device_params.g_max_s": g_max, "tile.mapping.g_max_s": g_max,
                "tile.device_params.dg_up_s": dg, "tile.device_params.dg_down_s": dg,
            })
    return {
        "sweep": {"kind": "train", "name": name, "output": output},
        "base": {"config": "babu_fashion_base.toml", **spec["overrides"]},
        "grid": {"tile.device_params.c2c_rel": spec["variability"]},
        "cases": cases,
    }


def d2d_document(spec: dict, name: str, output: str) -> dict:
    """The device-to-device sweep (D2D): step spreads with exact bounds, then bound spreads with exact steps."""
    g_max = spec["dynamic_range"] * G_MIN_S
    dg = (g_max - G_MIN_S) / spec["levels"]
    device = {"tile.device_params.g_max_s": g_max, "tile.mapping.g_max_s": g_max,
              "tile.device_params.dg_up_s": dg, "tile.device_params.dg_down_s": dg}
    cases = [{**device, "tile.device_params.step_d2d_rel": s, "tile.device_params.g_max_d2d_s": 0.0}
             for s in spec["step_d2d_rel"]]
    cases += [{**device, "tile.device_params.step_d2d_rel": 0.0,
               "tile.device_params.g_max_d2d_s": b * (g_max - G_MIN_S)} for b in spec["bound_d2d_of_range"]]
    return {
        "sweep": {"kind": "train", "name": name, "output": output},
        "base": {"config": "babu_fashion_base.toml", **spec["overrides"]},
        "grid": {"tile.device_params.c2c_rel": spec["variability"], "seed": spec["seeds"]},
        "cases": cases,
    }


def baseline_document(overrides: dict, name: str, output: str) -> dict:
    """A one-point sweep: the floating-point example (../fashion_sgd.toml, same seed) at the study's scale.

    The learning rate is held constant as in babu_fashion_base.toml (learning_rate_decay = 1), whatever
    schedule the example uses, so the baseline differs from the study's points in the rule alone.
    """
    return {
        "sweep": {"kind": "train", "name": name, "output": output},
        "base": {"config": "../fashion_sgd.toml", **overrides, "training.learning_rate_decay": 1.0},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="folder for the sweep files (default: beside this script)")
    args = ap.parse_args()
    for spec, stem in STUDIES:
        path = args.out / f"{stem}.toml"
        doc = sweep_document(spec, stem, f"{stem}.csv")
        header = (f"# Written by make_babu_study.py (do not edit by hand): {len(doc['cases'])} (dynamic range, levels)"
                  f" cases x {len(spec['variability'])} variabilities.\n")
        path.write_text(header + tomli_w.dumps(doc), encoding="utf-8")
        print(f"wrote {path}")
    stem = "babu_fashion_small_fp"
    path = args.out / f"{stem}.toml"
    header = ("# Written by make_babu_study.py (do not edit by hand): the FP baseline (rule sgd) at the scale of the"
              " quick and medium studies.\n")
    path.write_text(header + tomli_w.dumps(baseline_document(SMALL_SCALE, stem, f"{stem}.csv")), encoding="utf-8")
    print(f"wrote {path}")
    stem = "babu_fashion_d2d"
    path = args.out / f"{stem}.toml"
    doc = d2d_document(D2D, stem, f"{stem}.csv")
    header = (f"# Written by make_babu_study.py (do not edit by hand): DR {D2D['dynamic_range']} / {D2D['levels']} levels,"
              f" {len(doc['cases'])} device-to-device cases x {len(D2D['variability'])} c2c x {len(D2D['seeds'])} seeds.\n")
    path.write_text(header + tomli_w.dumps(doc), encoding="utf-8")
    print(f"wrote {path}")
    stem = "babu_fashion_d2d_fp"
    path = args.out / f"{stem}.toml"
    doc = baseline_document(SMALL_SCALE, stem, f"{stem}.csv")
    doc["grid"] = {"seed": D2D["seeds"]}
    header = "# Written by make_babu_study.py (do not edit by hand): the FP baseline of babu_fashion_d2d, same seeds.\n"
    path.write_text(header + tomli_w.dumps(doc), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
