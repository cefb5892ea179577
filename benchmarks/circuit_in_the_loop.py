"""Circuit in the loop vs the array-aware surrogate vs the wire-blind tile: one training set-up, three write paths.

    python benchmarks/circuit_in_the_loop.py                       # digits 64-4-10, 1 ohm, one mini-batch of 16
    python benchmarks/circuit_in_the_loop.py --samples 320 --epochs 2 --wire 1.0 --engine vacask

The same training config (stochastic coincidence, VTEAM crossbar with the
validate defaults, [tile.array]) is run three ways, with the same seed and so
the same pulse trains:

* circuit: the output layer's updates played in the circuit engine
  (``circuit_layers = [-1]``; VACASK by default), every sample's pulses;
* array: every layer through the array-aware surrogate (engine "nodal");
* wire-blind: the tile's device tabulated from the same compact model, net pulse
  counts at the nominal voltage.

It reports per epoch the test accuracy and the wall time of each, and for
the output layer the RMS difference of the weight change (against the
common initial weights) between the array-aware and the circuit run, and
between the wire-blind and the circuit run, relative to the circuit run's
RMS weight change. That comparison is sharp for the first mini-batch only:
after it the networks' inputs and errors differ slightly, the Bernoulli
pulse draws (probabilities from |x| and |delta|) then differ pulse for
pulse, and the runs are statistically alike but no longer weight for weight
(measured, 1 ohm: 0.76 % after one mini-batch of 16, 72 % after three).
Longer runs compare accuracies. Not a test: nothing asserts a figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import save_rows  # noqa: E402
from memspice.devices import get_model  # noqa: E402
from memspice.learn import config_from_dict, train  # noqa: E402
from memspice.learn.rules import registry  # noqa: E402
from memspice.learn.run_state import Streams, new_network  # noqa: E402
from memspice.surrogate import tabulate_compact_model  # noqa: E402
from memspice.validate import defaults  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WINDOW = {"g_min_s": 1.2e-3, "g_max_s": 3.0e-3}


def config(mode: str, wire: float, samples: int, epochs: int, engine: str) -> dict:
    array = {"model": defaults.MODEL, "model_params": dict(defaults.MODEL_PARAMS),
             "amplitude_up_v": defaults.AMPLITUDE_UP_V, "amplitude_down_v": defaults.AMPLITUDE_DOWN_V,
             "width_s": defaults.WIDTH_S, "edge_s": defaults.EDGE_S, "wire_ohm": wire}
    if mode == "circuit":
        array.update(circuit_layers=[-1], circuit_engine=engine)
    tile = {"array": array, "mapping": dict(WINDOW)}
    if mode == "wire-blind":
        from memspice.calibrate.modelfile import model_to_table

        m = get_model(defaults.MODEL, **defaults.MODEL_PARAMS)
        tab = tabulate_compact_model(m, defaults.AMPLITUDE_UP_V, defaults.AMPLITUDE_DOWN_V, defaults.WIDTH_S,
                                     rise_s=defaults.EDGE_S, fall_s=defaults.EDGE_S)
        tile = {**model_to_table(dataclasses.replace(tab, **WINDOW)), "mapping": dict(WINDOW)}
    return {"seed": 3, "data": {"name": "digits", "max_train": samples, "max_test": 300},
            "network": {"sizes": [64, 4, 10], "weight_scaling_omega": 0.8},
            "training": {"epochs": epochs, "batch_size": 16},
            "rule": {"name": "stochastic-coincidence", "learning_rate": 0.5, "bl": 10}, "tile": tile}


def initial_output_weights(doc: dict) -> np.ndarray:
    cfg = config_from_dict(doc)
    net, _ = new_network(cfg, registry.build_rule(cfg.rule), Streams(cfg.seed))
    return _flat(net.weights()[-1])


def _flat(wb) -> np.ndarray:
    """(W, b) of a layer as one array (the bias column beside the weights)."""
    w, b = wb
    return np.concatenate([np.asarray(w, dtype=float), np.asarray(b, dtype=float).reshape(-1, 1)], axis=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=16, help="training samples (default 16: one mini-batch)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs (default 1)")
    ap.add_argument("--wire", type=float, default=1.0, help="ohm per wire segment (default 1)")
    ap.add_argument("--engine", default="vacask", choices=("vacask", "ngspice"), help="circuit engine (default vacask)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/memspice-circuit-in-the-loop"), help="run folders")
    ap.add_argument("--csv", type=Path, default=RESULTS / "circuit_in_the_loop.csv", help="CSV output")
    args = ap.parse_args(argv)
    runs, rows = {}, []
    w0 = initial_output_weights(config("array", args.wire, args.samples, args.epochs, args.engine))
    for mode in ("circuit", "array", "wire-blind"):
        t = time.perf_counter()
        res = train(config_from_dict(config(mode, args.wire, args.samples, args.epochs, args.engine)),
                    args.out / mode, progress=False)
        runs[mode] = (res, time.perf_counter() - t)
        print(f"{mode:>10}: test accuracy {100 * res.test_accuracy:.2f} %  ({runs[mode][1]:.1f} s)", flush=True)
    dw_c = _flat(runs["circuit"][0].weights[-1]) - w0
    rms_c = float(np.sqrt(np.mean(dw_c**2)))
    for mode, (res, wall) in runs.items():
        dw = _flat(res.weights[-1]) - w0
        diff = float(np.sqrt(np.mean((dw - dw_c) ** 2))) / rms_c if rms_c else float("nan")
        for h, tm in zip(res.history, res.timing):
            rows.append({"mode": mode, "engine": args.engine if mode == "circuit" else "", "wire_ohm": args.wire,
                         "samples": args.samples, "epoch": h["epoch"], "test_accuracy": h["test_accuracy"],
                         "train_time_s": tm["train_time_s"], "wall_s": wall, "dw_out_rel_rms_vs_circuit": diff})
        print(f"{mode:>10}: output-layer weight change vs circuit {100 * diff:.3g} % RMS")
    save_rows(args.csv, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
