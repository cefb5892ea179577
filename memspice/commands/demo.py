"""``memspice demo``: the main job end to end on built-in defaults.

1. calibrate a surrogate from ngspice for the default device
   (memspice.validate.defaults: VTEAM with k_on = -0.01 m/s; pulse trains of
   -0.27 V / +0.038 V, 50 ns, on one cell; memspice.calibrate, "tabulated");
2. validate one update on a 16x16 array in ngspice against the array-aware
   surrogate (the write circuit solved per slot, memspice.surrogate.array_write)
   and the calibrated wire-blind one: a V/2 write of six cells with
   near-ideal wires (0.01 ohm per segment), the same write with 1 ohm per
   segment, and one stochastic-coincidence step (memspice.validate);
3. train a 64-32-10 network on digits: the floating-point baseline, and the
   stochastic pulse-coincidence rule on tiles of the calibrated device that
   train through the crossbar's write circuit (0.01 ohm segments,
   memspice.surrogate.array_tile, "mean-field"), with
   SPICE co-simulation checkpoints of the output layer
   (memspice.validate.cosim) on 0.01 ohm wires, and the same training with
   checkpoints on 1 ohm wires;
4. print the summary table (accuracy against floating point, surrogate
   against SPICE, energy per update) and write plots and files to --out.

``run_demo`` is the same job as a function (the CLI only prints).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from memspice.commands.output import format_table, print_json
from memspice.errors import DataError
from memspice.inputs import arg_positive_int, arg_seed, output_dir

#: training set-up of the demo (digits, 64-32-10, sigmoid; η = 0.5 as examples/digits_*.toml)
SIZES = [64, 32, 10]
LEARNING_RATE = 0.5
LEARNING_RATE_DECAY = 0.85  # eta x 0.85^epoch for both networks: the pulsed run settles (seeds 1-3: 88.3, 90.3,
                            # 87.2 % with it, 83.6, 91.6, 88.3 % without)
BATCH = 16


def register(subparsers) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="the main job end to end: calibrate from SPICE, validate an update, train with SPICE checkpoints",
        description="Calibrate a surrogate of the default device (VTEAM) against ngspice, validate one update "
        "step on a 16x16 crossbar in ngspice, train a small network on digits with the stochastic "
        "pulse-coincidence rule and SPICE co-simulation checkpoints, and print a summary table (accuracy vs "
        "floating point, surrogate-vs-SPICE errors, energy per update). Plots and files go to --out.",
    )
    demo.add_argument("-o", "--out", type=Path, default=Path("demo-out"), help="folder for outputs (default demo-out)")
    demo.add_argument("--seed", type=arg_seed, default=1, help="seed of everything random (default 1)")
    demo.add_argument("--epochs", type=arg_positive_int, default=15, help="training epochs of both networks (default 15)")
    demo.add_argument("--cosim-every", type=arg_positive_int, default=270, metavar="K",
                      help="SPICE checkpoint every K mini-batches (default 270, every 3 epochs)")
    demo.add_argument("--json", action="store_true", help="print a JSON document instead of tables")
    demo.set_defaults(func=_demo)


def _step(progress: bool, text: str) -> None:
    if progress:
        print(f"memspice demo: {text}", flush=True)


def run_demo(out_dir: str | Path, *, seed: int = 1, epochs: int = 15, cosim_every: int = 270,
             progress: bool = True) -> dict:
    """Run the demo into ``out_dir`` (must not hold an earlier demo run); returns the summary document."""
    from memspice.calibrate import PulseTrainExperiment, SpiceCell, calibrate_compact_model, save_calibration
    from memspice.calibrate.modelfile import model_to_table
    from memspice.circuit import PulseShape
    from memspice.circuit.spec import CrossbarSpec
    from memspice.devices import get_model
    from memspice.learn import config_from_dict, train
    from memspice.validate import (
        CellSurrogate, coincidence_schedule, defaults, tabulate_level, validate_update, write_schedule,
    )
    from memspice.validate.predict import PulseLevel, schedule_amplitudes

    out = Path(out_dir)
    if (out / "summary.json").exists():
        raise DataError(f"{str(out)!r} already holds a demo run (summary.json); remove it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    model = get_model(defaults.MODEL, **defaults.MODEL_PARAMS)
    up, down = defaults.AMPLITUDE_UP_V, defaults.AMPLITUDE_DOWN_V
    pulse = PulseShape(width_s=defaults.WIDTH_S, rise_s=defaults.EDGE_S, fall_s=defaults.EDGE_S,
                       delay_s=defaults.EDGE_S, tail_s=defaults.EDGE_S)

    # 1 ---------------------------------------------------------------- calibration from SPICE
    _step(progress, f"1/4 calibrating the surrogate of {model.name} against ngspice pulse trains ...")
    t0 = time.perf_counter()
    # 70 ON pulses from x = 0.85 sweep the operating window (~1.2 to 3 mS); then 70 OFF pulses back
    train_exp = PulseTrainExperiment(amplitude_up_v=up, width_s=pulse.width_s, n_up=70, amplitude_down_v=down,
                                     rise_s=pulse.rise_s, x0=0.85)
    cal = calibrate_compact_model(model, train_exp, "tabulated", where=SpiceCell(), workers=1, progress=False)
    cal_paths = save_calibration(cal, out / "calibration" / "device.toml", out / "calibration" / "report")
    device = cal.model
    cal_fig = cal.summary()
    timings["calibration_s"] = time.perf_counter() - t0

    # 2 ---------------------------------------------------------------- one update step in SPICE, 16 x 16
    _step(progress, "2/4 validating update steps on a 16x16 crossbar in ngspice ...")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    g_lo, g_hi = device.g_min_s, device.g_max_s
    # states inside the calibrated window (the surrogate's table covers [g_lo, g_hi])
    from memspice.validate.cosim_tile import states_for_conductance

    x_lo, x_hi = sorted(states_for_conductance(model, np.array([g_lo * 1.02, g_hi * 0.9])))
    states = rng.uniform(x_lo, x_hi, size=(16, 16))
    cells = [(0, 2), (3, 7), (6, 12), (9, 1), (12, 9), (15, 15)]
    sched = write_schedule((16, 16), cells, up, scheme="v/2", pulse=pulse)

    def surrogate_for(s) -> CellSurrogate:
        levels = [PulseLevel(up, device, True, "calibrated (ngspice pulse trains)"),
                  PulseLevel(down, device, False, "calibrated (ngspice pulse trains)")]
        levels += [tabulate_level(model, a, pulse) for a in schedule_amplitudes(s) if a not in (up, down)]
        return CellSurrogate(tuple(levels))

    validations, wire_blind = {}, {}

    def validate(label, xb, s):
        # the array-aware surrogate (default) against ngspice, and the calibrated wire-blind one on the same run
        v = validate_update(xb, s)
        v.write_outputs(out / f"validate-{label}")
        validations[label] = v
        blind = dataclasses.replace(v, g_surrogate_s=surrogate_for(s).predict_schedule(v.g_before_s, s))
        wire_blind[label] = blind.figures()["dg_rel_rms_error"]

    for label, wire in (("write", 0.01), ("write-1ohm", 1.0)):
        validate(label, CrossbarSpec(model=model, states=states, wire_ohm=wire).build(), sched)
    x = rng.uniform(-1, 1, 16)
    d = rng.uniform(-1, 1, 16)
    csched, _ = coincidence_schedule(x, d, amplitude_up_v=up, amplitude_down_v=down, bl=10, c_x=0.8, c_d=0.8,
                                     rng=rng, pulse=pulse)
    validate("coincidence", CrossbarSpec(model=model, states=states, wire_ohm=0.01).build(), csched)
    timings["validation_s"] = time.perf_counter() - t0

    # 3 ---------------------------------------------------------------- training with SPICE checkpoints
    _step(progress, f"3/4 training {'-'.join(map(str, SIZES))} on digits: floating point, then stochastic "
                    f"coincidence on the calibrated device with SPICE checkpoints every {cosim_every} steps ...")
    t0 = time.perf_counter()
    base = {"seed": seed, "data": {"name": "digits"}, "network": {"sizes": SIZES},
            "training": {"epochs": epochs, "batch_size": BATCH, "learning_rate_decay": LEARNING_RATE_DECAY}}
    fp = train(config_from_dict({**base, "rule": {"name": "sgd", "learning_rate": LEARNING_RATE}}),
               out / "train-fp", progress=progress)
    timings["train_fp_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # one crossbar for the tile's writes and the checkpoints: the compact model, its pulses, 0.01 ohm wires
    crossbar = {"model": defaults.MODEL, "model_params": dict(defaults.MODEL_PARAMS), "amplitude_up_v": up,
                "amplitude_down_v": down, "width_s": pulse.width_s, "edge_s": pulse.rise_s, "wire_ohm": 0.01}
    analog_doc = {
        **base,
        "network": {"sizes": SIZES, "weight_scaling_omega": 0.8},
        "rule": {"name": "stochastic-coincidence", "learning_rate": LEARNING_RATE, "bl": 10},
        # the calibrated device, trained through the crossbar's write circuit: every pulse at the voltage the
        # array leaves the device (mean-field writes)
        "tile": {**model_to_table(device), "array": {**crossbar, "refactor": "mean-field"}},
        "cosim": {"every_steps": int(cosim_every), "layer": -1, "max_inputs": 16, "max_outputs": 8, "n_reads": 8,
                  **crossbar, "timeout_s": 300.0},
    }
    analog = train(config_from_dict(analog_doc), out / "train-analog", progress=progress)
    timings["train_analog_s"] = time.perf_counter() - t0
    cos_rows = _read_cosim(out / "train-analog" / "cosim.csv")
    # the same run with 1 ohm wires in the checkpoints' crossbar: the array-aware prediction follows the
    # circuit, the tile (which trains without wires) does not
    t0 = time.perf_counter()
    _step(progress, "3b/4 the same training with SPICE checkpoints on 1 ohm wires ...")
    doc_1ohm = {**analog_doc, "cosim": {**analog_doc["cosim"], "wire_ohm": 1.0, "every_steps": 2 * int(cosim_every)}}
    train(config_from_dict(doc_1ohm), out / "train-analog-1ohm", progress=progress)
    timings["train_analog_1ohm_s"] = time.perf_counter() - t0
    cos_rows_1ohm = _read_cosim(out / "train-analog-1ohm" / "cosim.csv")

    # 4 ---------------------------------------------------------------- summary and plots
    _step(progress, "4/4 writing the summary ...")
    def mean(key, rows=cos_rows):
        vals = [float(r[key]) for r in rows if r["status"] == "ok" and r[key] not in ("", "nan")]
        vals = [v for v in vals if np.isfinite(v)]
        return float(np.mean(vals)) if vals else float("nan")

    summary = {
        "device": {"model": model.name, "params": dict(model.params), "amplitude_up_v": up, "amplitude_down_v": down,
                   "width_s": pulse.width_s, "edge_s": pulse.rise_s},
        "calibration": {"rms_rel_range": cal.fits[0][1].rms_rel_range, "rms_error_s": cal_fig.get("rms_error_s"),
                        "g_min_s": g_lo, "g_max_s": g_hi, "model_file": str(cal_paths["model"])},
        "validation": {k: {**v.figures(), "dg_rel_rms_error_wire_blind": wire_blind[k]} for k, v in validations.items()},
        "training": {
            "fp_test_accuracy": fp.test_accuracy,
            "analog_test_accuracy": analog.test_accuracy,
            "accuracy_gap": fp.test_accuracy - analog.test_accuracy,
            "epochs": epochs,
            "pulses": analog.stats.get("pulses"),
        },
        "cosim": {
            "checkpoints": len(cos_rows),
            "failures": sum(r["status"] != "ok" for r in cos_rows),
            "output_rel_rms_mean": mean("output_rel_rms"),
            "dg_rel_rms_mean": mean("dg_rel_rms"),
            "dg_rel_rms_tile_mean": mean("dg_rel_rms_tile"),
            "dg_rel_rms_inside_mean": mean("dg_rel_rms_inside"),
            "energy_per_update_j_mean": mean("energy_j"),
            "energy_per_pulsed_device_j_mean": mean("energy_per_pulsed_device_j"),
        },
        "cosim_1ohm": {
            "checkpoints": len(cos_rows_1ohm),
            "failures": sum(r["status"] != "ok" for r in cos_rows_1ohm),
            "output_rel_rms_mean": mean("output_rel_rms", cos_rows_1ohm),
            "dg_rel_rms_mean": mean("dg_rel_rms", cos_rows_1ohm),
            "dg_rel_rms_tile_mean": mean("dg_rel_rms_tile", cos_rows_1ohm),
        },
        "timings_s": {**timings, "total_s": time.perf_counter() - t_start},
    }
    _plot(out / "summary.png", fp.history, analog.history, cos_rows)
    from memspice.config import to_jsonable

    (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=2) + "\n", encoding="utf-8")
    return summary


def _read_cosim(path: Path) -> list[dict]:
    import csv

    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _plot(path: Path, fp_hist, an_hist, cos_rows) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 2, 1)
    for hist, label in ((fp_hist, "floating point"), (an_hist, "stochastic coincidence, calibrated VTEAM")):
        ax.plot([h["epoch"] for h in hist], [100 * h["test_accuracy"] for h in hist], "-o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("digits 64-32-10")
    ax = fig.add_subplot(1, 2, 2)
    ok = [r for r in cos_rows if r["status"] == "ok"]
    steps = [int(r["step"]) for r in ok]
    for key, label in (("output_rel_rms", "read output"), ("dg_rel_rms", "ΔG, array-aware (all pulsed)"),
                       ("dg_rel_rms_tile", "ΔG, the tile's own (all pulsed)")):
        ax.plot(steps, [100 * float(r[key]) if r[key] not in ("", "nan") else np.nan for r in ok], "-o", markersize=3,
                label=label)
    bad = [int(r["step"]) for r in cos_rows if r["status"] != "ok"]
    if bad:
        ax.plot(bad, [0.0] * len(bad), "rx", label="failed checkpoint")
    ax.set_xlabel("training step")
    ax.set_ylabel("surrogate vs ngspice, RMS (%)")
    ax.set_title("co-simulation checkpoints (output layer)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def summary_rows(s: dict) -> list[tuple[str, str]]:
    """(quantity, value) rows of the printed table."""
    pct = lambda v: "n/a" if v is None or not np.isfinite(v) else f"{100 * v:.3g} %"  # noqa: E731
    pj = lambda v: "n/a" if v is None or not np.isfinite(v) else f"{v * 1e12:.4g} pJ"  # noqa: E731
    rows = [("calibration fit error (RMS, of G range)", pct(s["calibration"]["rms_rel_range"]))]
    names = {"write": "V/2 write 16x16, 0.01 ohm", "write-1ohm": "V/2 write 16x16, 1 ohm",
             "coincidence": "coincidence step 16x16, 0.01 ohm"}
    for k, f in s["validation"].items():
        n = names.get(k, k)
        rows += [(f"{n}: ΔG surrogate vs SPICE (RMS, array-aware / wire-blind)",
                  f"{pct(f['dg_rel_rms_error'])} / {pct(f.get('dg_rel_rms_error_wire_blind'))}"),
                 (f"{n}: half-select disturb (SPICE)", pct(f["disturb_ratio_spice"])),
                 (f"{n}: worst IR-drop loss", pct(f["ir_loss_worst"])),
                 (f"{n}: energy per programmed cell", pj(f["energy_per_cell_j"]))]
    t, c, c1 = s["training"], s["cosim"], s["cosim_1ohm"]
    rows += [
        ("test accuracy, floating point", pct(t["fp_test_accuracy"])),
        ("test accuracy, stochastic coincidence (surrogate)", pct(t["analog_test_accuracy"])),
        ("accuracy gap to floating point", pct(t["accuracy_gap"])),
        ("SPICE checkpoints (failed)", f"{c['checkpoints']} ({c['failures']})"),
        ("checkpoint read-output error (mean RMS)", pct(c["output_rel_rms_mean"])),
        ("checkpoint ΔG error, 0.01 ohm (mean RMS, array-aware / tile / tile inside bounds)",
         f"{pct(c['dg_rel_rms_mean'])} / {pct(c['dg_rel_rms_tile_mean'])} / {pct(c['dg_rel_rms_inside_mean'])}"),
        ("checkpoint ΔG error, 1 ohm (mean RMS, array-aware / tile)",
         f"{pct(c1['dg_rel_rms_mean'])} / {pct(c1['dg_rel_rms_tile_mean'])}"),
        ("checkpoint read-output error, 1 ohm (mean RMS)", pct(c1["output_rel_rms_mean"])),
        ("energy per update step (checkpoint, SPICE)", pj(c["energy_per_update_j_mean"])),
        ("energy per pulsed device (checkpoint, SPICE)", pj(c["energy_per_pulsed_device_j_mean"])),
        ("wall time", f"{s['timings_s']['total_s']:.0f} s"),
    ]
    return rows


def _demo(args) -> int:
    output_dir(args.out, "--out")
    summary = run_demo(args.out, seed=args.seed, epochs=args.epochs, cosim_every=args.cosim_every,
                       progress=not args.json)
    if args.json:
        print_json(summary)
    else:
        print()
        print(format_table(["quantity", "value"], summary_rows(summary)))
        print(f"\noutputs in {args.out}/: summary.json, summary.png, calibration/, validate-*/, train-fp/, train-analog/, train-analog-1ohm/")
    return 0
