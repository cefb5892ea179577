"""``memspice evaluate CHECKPOINT``: inference robustness of a trained network (memspice.learn.robustness)."""

from __future__ import annotations

from pathlib import Path

from memspice.commands.output import format_table, print_json
from memspice.devices.pcm import PCM_DEFAULTS
from memspice.inputs import arg_float, arg_floats, arg_positive_int, arg_seed, input_file, output_dir


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="accuracy of a trained network under input noise, read noise, drift and d2d variation",
        description="Sweep perturbations of the inputs (Gaussian, salt-and-pepper) and of the devices (read noise, "
        "drift after a time t, device-to-device variation) over the test set of the run that wrote CHECKPOINT, "
        "next to a floating-point reference of the same architecture. Writes robustness.csv and robustness.png. "
        "Give --LEVELS '' to skip a perturbation. Details: memspice.learn.robustness.",
    )
    p.add_argument("checkpoint", type=Path, help="checkpoint .npz of a training run (e.g. RUN/checkpoints/last.npz)")
    p.add_argument("--reference", type=Path, default=None,
                   help="checkpoint of the FP reference (an sgd run of the same architecture: sizes and conv layers); "
                        "default: FP copy of the weights")
    p.add_argument("--gaussian", type=arg_floats, default=(0.0, 0.1, 0.2, 0.3, 0.5), metavar="L,...",
                   help="input noise std levels (default 0,0.1,0.2,0.3,0.5)")
    p.add_argument("--salt-pepper", type=arg_floats, default=(0.0, 0.05, 0.1, 0.2, 0.3), metavar="L,...",
                   help="salt-and-pepper fractions (default 0,0.05,0.1,0.2,0.3)")
    p.add_argument("--read-noise", type=arg_floats, default=(0.0, 0.02, 0.05, 0.1, 0.2), metavar="L,...",
                   help="relative conductance read noise levels (default 0,0.02,0.05,0.1,0.2)")
    p.add_argument("--drift", type=arg_floats, default=(0.0, 1e2, 1e4, 1e6, 1e8), metavar="T,...",
                   help="times after programming in s (default 0,1e2,1e4,1e6,1e8)")
    p.add_argument("--d2d", type=arg_floats, default=(0.0, 0.05, 0.1, 0.2, 0.3), metavar="L,...",
                   help="relative device-to-device conductance variation (default 0,0.05,0.1,0.2,0.3)")
    p.add_argument("--drift-nu", type=arg_float, default=PCM_DEFAULTS["drift_nu"],
                   help="drift exponent nu (default: the PCM card's, %(default)s, Nandakumar et al. 2018)")
    p.add_argument("--drift-nu-d2d", type=arg_float, default=0.0, help="device-to-device std of nu (default 0)")
    p.add_argument("--repeats", type=arg_positive_int, default=3, help="draws per point (default 3)")
    p.add_argument("--max-test", type=arg_positive_int, default=None, help="evaluate on the first N test samples only")
    p.add_argument("--seed", type=arg_seed, default=0, help="seed of the perturbation draws (default 0)")
    p.add_argument("-o", "--out", type=Path, default=None, help="output folder (default: the run folder of CHECKPOINT)")
    p.add_argument("--json", action="store_true", help="print a JSON document instead of the table")
    p.set_defaults(func=_evaluate)


def _evaluate(args) -> int:
    import numpy as np

    from memspice.learn import robustness as rb

    input_file(args.checkpoint, "checkpoint")
    if args.reference is not None:
        input_file(args.reference, "--reference")
    if args.out is not None:
        output_dir(args.out, "--out")
    net, config, _ = rb.load_checkpoint_network(args.checkpoint)
    test = rb.checkpoint_test_split(config)
    x, y = test.x, test.y
    if args.max_test is not None:
        x, y = x[: args.max_test], y[: args.max_test]
    reference = None
    if args.reference is not None:
        reference, _, _ = rb.load_checkpoint_network(args.reference)
        reference = rb.float_copy(reference)
    analog = all(getattr(layer, "tile", None) is not None for layer in net.layers)
    levels = {"gaussian": args.gaussian, "salt_pepper": args.salt_pepper}
    if analog:
        levels.update({"read_noise": args.read_noise, "drift": args.drift, "d2d": args.d2d})
    levels = {k: v for k, v in levels.items() if v}
    settings = rb.RobustnessSettings(levels=levels, repeats=args.repeats, drift_nu=args.drift_nu,
                                     drift_nu_d2d=args.drift_nu_d2d)
    points = rb.robustness_sweep(net, x, y, settings, np.random.default_rng(args.seed), reference=reference)
    run_dir = args.checkpoint.resolve().parent
    if run_dir.name == "checkpoints":
        run_dir = run_dir.parent
    out = args.out if args.out is not None else run_dir
    csv_path = rb.write_robustness_csv(out / "robustness.csv", points)
    title = f"{config.data.name} {config.network.label()}, rule {config.rule.name}"  # e.g. 64-conv8k3-10
    png = rb.plot_robustness(out / "robustness.png", points, title,
                             labels={"evaluated": config.rule.name, "reference": "FP reference"})
    if args.json:
        print_json({"checkpoint": str(args.checkpoint), "rule": config.rule.name, "test_samples": int(len(y)),
                    "csv": str(csv_path), "png": str(png), "points": [p.__dict__ for p in points]})
        return 0
    rows = [(p.perturbation, p.level, p.network, 100 * p.accuracy, 100 * p.accuracy_std) for p in points]
    print(format_table(("perturbation", "level", "network", "accuracy %", "std %"), rows, "{:.4g}"))
    print(f"wrote {csv_path} and {png}")
    return 0
