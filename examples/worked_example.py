"""The three jobs of memspice on a 16x16 array, in a few minutes: run it, then change it.

    python examples/worked_example.py [--out runs/worked] [--wire-ohm 1.0] [--epochs 3]

1. Validate an update pulse: one V/2 write on a 16x16 VTEAM crossbar with
   wires, played in ngspice and predicted by the array-aware surrogate and by
   the wire-blind one; every cell's conductance change compared.
2. Calibrate a device: pulse trains on the VTEAM compact model in ngspice,
   fitted by a tabulated pulse-response model; the fit error and the
   closed-loop replay error.
3. Train with the surrogate: digits (8x8 images), 64-32-10, stochastic pulse
   coincidence on the calibrated device, next to floating-point SGD of the
   same network and seed; the histories load as pandas DataFrames.

Everything it writes goes under --out (default runs/worked-example): the
per-cell table and heat maps of job 1, the model file and fit report of job
2, the two training runs of job 3 and an overlay of their curves.
Things to change: --wire-ohm (watch the wire-blind error grow), the
amplitude, the fitted family ("soft-bounds", "tabulated", ...), the rule.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def validate_job(out: Path, wire_ohm: float) -> dict:
    """Job 1: one V/2 write through a 16x16 array, ngspice against the surrogates."""
    from memspice.validate import run_job, validate_config_from_dict

    job = {
        "seed": 1,
        "crossbar": {"rows": 16, "cols": 16, "model": "vteam", "wire_ohm": wire_ohm},
        "update": {"kind": "write", "scheme": "v/2", "amplitude_v": -0.27},
        "surrogate": {"kind": "array"},  # the write circuit solved for every cell's voltage
    }
    figures = {}
    for kind in ("array", "tabulated"):  # array-aware, then wire-blind
        job["surrogate"]["kind"] = kind
        result = run_job(validate_config_from_dict(job))
        result.write_outputs(out / f"validate-{kind}")
        figures[kind] = result.figures()
    return figures


def calibrate_job(out: Path):
    """Job 2: pulse trains on the VTEAM model in ngspice, fitted by a tabulated model."""
    from memspice.calibrate import PulseTrainExperiment, SpiceCell, calibrate_compact_model, save_calibration
    from memspice.devices import get_model

    # the device of job 1 (validate-update's default: VTEAM with k_on slowed 1000x); 70 ON pulses of
    # -0.27 V from x = 0.85 sweep its window (about 1.2 to 3 mS), then 70 OFF pulses of +0.038 V back
    model = get_model("vteam", k_on_m_per_s=-0.01)
    train = PulseTrainExperiment(amplitude_up_v=-0.27, amplitude_down_v=0.038, width_s=50e-9, rise_s=5e-9,
                                 n_up=70, x0=0.85)
    cal = calibrate_compact_model(model, train, "tabulated", where=SpiceCell(), workers=1, progress=False)
    save_calibration(cal, out / "vteam-fitted.toml", out / "fit-report")
    return cal


def train_job(out: Path, model_file: Path, epochs: int):
    """Job 3: digits on the calibrated device (stochastic coincidence) and in floating point."""
    from memspice.config import read_toml
    from memspice.learn import config_from_dict, load_config, train
    from memspice.learn.plots import plot_compare
    from memspice.results import load

    here = Path(__file__).resolve().parent
    common = {"training.epochs": epochs, "seed": 1}
    # the shipped stochastic-coincidence config with the calibrated device of job 2 as its tile:
    # [tile] model_file = "vteam-fitted.toml" in a config file does the same
    doc = read_toml(here / "digits_stochastic.toml", "training config")
    doc["tile"] = {"model_file": str(model_file.resolve())}
    doc["training"]["epochs"] = epochs
    sc = config_from_dict(doc, base_dir=here)
    fp = load_config(here / "digits_sgd.toml", common)
    runs = [("floating point", train(fp, out / "train-fp", progress=False)),
            ("stochastic coincidence", train(sc, out / "train-sc", progress=False))]
    plot_compare(out / "compare.png", [(label, run.history) for label, run in runs])
    return load(out / "train-fp"), load(out / "train-sc")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/worked-example"), help="output folder")
    parser.add_argument("--wire-ohm", type=float, default=1.0, help="wire resistance per segment (default 1 ohm)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    args = parser.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    figures = validate_job(out, args.wire_ohm)
    for kind, name in (("array", "array-aware"), ("tabulated", "wire-blind")):
        f = figures[kind]
        print(f"1. V/2 write, 16x16, {args.wire_ohm:g} ohm: {name} surrogate vs ngspice "
              f"dG RMS {100 * f['dg_rel_rms_error']:.3g} % of the programmed cells' mean dG")
    cal = calibrate_job(out)
    fit = cal.summary()
    print(f"2. tabulated fit of VTEAM pulse trains: RMS error {100 * fit['fits'][next(iter(fit['fits']))]['rms_rel_range']:.3g} % of the G range")
    fp, sc = train_job(out, out / "vteam-fitted.toml", args.epochs)
    print(f"3. digits, {args.epochs} epochs: FP {100 * fp['test_accuracy_frac'].iloc[-1]:.1f} %, "
          f"stochastic coincidence {100 * sc['test_accuracy_frac'].iloc[-1]:.1f} % test accuracy")
    print(f"outputs in {out}/ (compare.png: the two runs' loss and accuracy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
