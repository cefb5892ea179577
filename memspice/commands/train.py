"""``memspice train CONFIG.toml``: train a network with a hardware learning rule."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from memspice.commands.output import format_table, print_json
from memspice.inputs import input_file, output_dir


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a network on the surrogate with a learning rule from a TOML config",
        description="Train the network described by CONFIG.toml (dataset, sizes, rule, tile) and write "
        "metrics.csv, timing.csv, curves.png, checkpoints/ and summary.json to the output folder. "
        "Ctrl-C saves a checkpoint; --resume continues from it bit for bit. "
        "Every config key is documented in memspice.learn.config; examples/ has one config per rule.",
    )
    p.add_argument("config", type=Path, help="training configuration (TOML)")
    p.add_argument("-o", "--out", type=Path, default=None, help="output folder (default runs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
        help="replace a config value, e.g. --set rule.learning_rate=1.0 --set seed=2 (repeatable; "
        "values are TOML; give the same --set again with --resume)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_train)


def _train(args) -> int:
    from memspice.learn.config import load_config, parse_override
    from memspice.learn.trainer import train

    input_file(args.config, "training config")
    if args.out is not None:
        output_dir(args.out, "--out")
    overrides = dict(parse_override(text) for text in args.overrides)
    # a file named on the command line is relative to the current folder, not to the config file
    for key in ("tile.model_file",):
        if isinstance(overrides.get(key), str) and not Path(overrides[key]).is_absolute():
            overrides[key] = str(Path(overrides[key]).resolve())
    config = load_config(args.config, overrides)
    out = args.out if args.out is not None else Path("runs") / args.config.stem
    result = train(config, out, resume=args.resume, progress=not (args.no_progress or args.json))
    rows = [
        (
            h["epoch"],
            100.0 * h["train_accuracy"],
            100.0 * h["validation_accuracy"],
            100.0 * h["test_accuracy"],
            h["validation_loss"],
            t["train_time_s"],
        )
        for h, t in zip(result.history, result.timing)
    ]
    if args.json:
        print_json(
            {
                "out_dir": str(out),
                "epochs_completed": result.epochs_completed,
                "interrupted": result.interrupted,
                "test_accuracy": result.test_accuracy,
                "history": result.history,
                "timing": result.timing,
                "stats": result.stats,
            }
        )
    else:
        print(
            format_table(
                ["epoch", "train acc [%]", "val acc [%]", "test acc [%]", "val loss [nat]", "train time [s]"],
                rows,
                "{:.4g}",
            )
        )
        print(f"rule {config.rule.name}: test accuracy {100 * result.test_accuracy:.2f} %; outputs in {out}")
    if result.interrupted:
        sets = "".join(f" --set {shlex.quote(text)}" for text in args.overrides)
        print(
            f"memspice: interrupted after {result.epochs_completed} epoch(s); checkpoint saved, "
            f"continue with: memspice train {args.config}{sets} --out {out} --resume",
            file=sys.stderr,
        )
        return 130
    return 0
