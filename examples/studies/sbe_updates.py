"""Rank-1 matrix updates to a training-loss target against batch size (Hoskins et al. 2019, Fig. of updates).

Hoskins et al., "Streaming batch eigenupdates for hardware neural networks" (Front. Neurosci. 13:793,
2019) count the rank-1 (outer-product) updates a crossbar needs to bring the training loss to a
target (MNIST 784-100-10 ReLU, cross-entropy, loss 1e-2, learning rate tuned per method on 5 epochs,
900-epoch cutoff): SBE about 20x fewer than per-sample SGD at batch 128. This script runs the same
measurement with memspice's [training] target_loss (memspice.learn.target: the mean cross-entropy on
the whole training set after each epoch) on floating-point weights, for

    sgd       per-sample SGD: B rank-1 updates per layer and batch (rule "sgd")
    mbgd      mini-batch gradient descent as one full-rank update per layer and batch (the same run
              as sgd, the same trajectory; counted as steps x layers)
    exact-1   the batch gradient's top singular triplet by a full SVD, one update per layer and batch
    sbe-1     streaming SBE, rank 1 (rule "sbe", pulse_mode "float")
    exact-K   top-K singular triplets (K updates per layer and batch)
    sbe-K     streaming SBE, rank K

Each (method, batch size) first gets its learning rate: the grid --lrs, each trained --tune-epochs
epochs, the one with the lowest training loss kept (a diverged run counts as infinite loss). Then
it trains to --target or --max-epochs. Results: tuning.csv and updates.csv in --out (a run already
in them is not repeated), the table updates.md and the plot updates.png (updates to target vs batch
size, log-log, as the paper's figure).

    python examples/studies/sbe_updates.py --out runs/sbe_digits           # digits, ~10-15 min on one core
    python examples/studies/sbe_updates.py --out runs/sbe_digits --table   # table and plot only
    python examples/studies/sbe_updates.py --out runs/sbe_fashion --data fashion-mnist --max-train 6000 \\
        --hidden 100 --target 0.3 --batches 8 32 128 512
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
from pathlib import Path

from memspice.errors import ParameterError
from memspice.learn import config_from_dict, train

TUNE_COLUMNS = ("method", "batch", "learning_rate", "seed", "epochs", "train_set_loss")
RUN_COLUMNS = ("method", "batch", "learning_rate", "seed", "target_loss", "reached", "epochs", "steps",
               "updates", "final_train_set_loss", "test_accuracy")


def methods(k: int) -> dict:
    """Method name -> [rule] table (mbgd is counted from the sgd run)."""
    sbe = {"name": "sbe", "pulse_mode": "float"}
    return {
        "sgd": {"name": "sgd"},
        "exact-1": {**sbe, "estimator": "exact", "rank": 1},
        "sbe-1": {**sbe, "rank": 1},
        f"exact-{k}": {**sbe, "estimator": "exact", "rank": k},
        f"sbe-{k}": {**sbe, "rank": k},
    }


def base_config(args, rule: dict, lr: float, batch: int, seed: int, epochs: int, target: float, action: str):
    data = {"name": args.data}
    if args.max_train:
        data["max_train"] = args.max_train
    if args.max_test:
        data["max_test"] = args.max_test
    n_in = 64 if args.data == "digits" else 784
    return config_from_dict({
        "seed": seed,
        "data": data,
        "network": {"sizes": [n_in, args.hidden, 10], "activation": "relu"},
        "training": {"epochs": epochs, "batch_size": batch, "target_loss": target, "target_action": action},
        "rule": {**rule, "learning_rate": lr},
    })


def run_one(config) -> dict:
    """Train ``config`` in a temporary folder; its last metrics row, the target record, and the accuracy."""
    with tempfile.TemporaryDirectory(prefix="sbe-study-") as tmp:
        try:
            result = train(config, tmp, progress=False, plot=False)
        except ParameterError:  # "training diverged": this learning rate is too large
            return {"diverged": True}
        target = json.loads((Path(tmp) / "summary.json").read_text())["target"]
    return {"diverged": False, "last": result.history[-1], "target": target,
            "epochs": result.epochs_completed, "test_accuracy": result.test_accuracy}


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _append(path: Path, columns, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.DictWriter(fh, columns)
        if new:
            w.writeheader()
        w.writerow({c: row[c] for c in columns})


def tune(args, out: Path, name: str, rule: dict, batch: int, seed: int) -> float:
    """The learning rate of the grid with the lowest training loss after --tune-epochs epochs."""
    path = out / "tuning.csv"
    done = {(r["method"], int(r["batch"]), float(r["learning_rate"]), int(r["seed"])): float(r["train_set_loss"])
            for r in _read(path)}
    losses = {}
    for lr in args.lrs:
        key = (name, batch, lr, seed)
        if key not in done:
            res = run_one(base_config(args, rule, lr, batch, seed, args.tune_epochs, 1e-300, "mark"))
            loss = math.inf if res["diverged"] else float(res["last"]["train_set_loss"])
            if not math.isfinite(loss):
                loss = math.inf
            _append(path, TUNE_COLUMNS, {"method": name, "batch": batch, "learning_rate": lr, "seed": seed,
                                         "epochs": args.tune_epochs, "train_set_loss": loss})
            done[key] = loss
        losses[lr] = done[key]
    return min(losses, key=lambda lr: (losses[lr], lr))


def _latest(rows: list[dict]) -> list[dict]:
    """The last row of each (method, batch, seed): a run repeated with a later cutoff replaces the earlier one."""
    last = {(r["method"], r["batch"], r["seed"]): r for r in rows}
    return list(last.values())


def study(args, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "updates.csv"
    # a run is done if it reached the target, or ran to this cutoff (a larger --max-epochs runs it again)
    done = {(r["method"], int(r["batch"]), int(r["seed"])) for r in _latest(_read(path))
            if r["reached"] == "True" or (r["epochs"] and int(r["epochs"]) >= args.max_epochs)}
    for seed in args.seeds:
        for batch in args.batches:
            for name, rule in methods(args.rank).items():
                if (name, batch, seed) in done:
                    continue
                lr = tune(args, out, name, rule, batch, seed)
                res = run_one(base_config(args, rule, lr, batch, seed, args.max_epochs, args.target, "stop"))
                if res["diverged"]:
                    rows = [{"method": name, "reached": False, "epochs": "", "steps": "", "updates": "",
                             "final_train_set_loss": math.inf, "test_accuracy": ""}]
                else:
                    t, last = res["target"], res["last"]
                    layers = 2  # one hidden layer
                    common = {"reached": t["reached"], "epochs": res["epochs"], "steps": last["steps_total"],
                              "final_train_set_loss": last["train_set_loss"], "test_accuracy": res["test_accuracy"]}
                    rows = [{"method": name, **common, "updates": last["outer_products_total"]}]
                    if name == "sgd":  # the same trajectory as mini-batch GD: one full-rank update per layer and step
                        rows.append({"method": "mbgd", **common, "updates": last["steps_total"] * layers})
                for row in rows:
                    row.update({"batch": batch, "learning_rate": lr, "seed": seed, "target_loss": args.target})
                    _append(path, RUN_COLUMNS, row)
                    print(f"{row['method']:>8} B={batch:<4} lr={lr:<6g} reached={row['reached']} "
                          f"epochs={row['epochs']} updates={row['updates']}", file=sys.stderr, flush=True)


def table(args, out: Path) -> str:
    """updates.md (updates to target per method and batch size, ratios at --ratio-batch) and updates.png."""
    rows = _latest(_read(out / "updates.csv"))
    if not rows:
        raise SystemExit(f"no results in {out / 'updates.csv'}; run the study first")
    order = ["sgd", "mbgd", "exact-1", "sbe-1", f"exact-{args.rank}", f"sbe-{args.rank}"]
    batches = sorted({int(r["batch"]) for r in rows})
    cell = {}
    for r in rows:
        cell.setdefault((r["method"], int(r["batch"])), []).append(r)

    def mean_updates(method, batch):
        rs = cell.get((method, batch), [])
        if not rs or not all(r["reached"] == "True" for r in rs):
            return None
        return sum(float(r["updates"]) for r in rs) / len(rs)

    def show(method, batch):
        rs = cell.get((method, batch), [])
        if not rs:
            return "–"
        if not all(r["reached"] == "True" for r in rs):
            return f"not reached ({max(int(r['epochs'] or 0) for r in rs)} ep.)"
        epochs = "/".join(r["epochs"] for r in rs)
        lr = "/".join(f"{float(r['learning_rate']):g}" for r in rs)
        return f"{mean_updates(method, batch):,.0f} ({epochs} ep., η {lr})"

    target = rows[0]["target_loss"]
    lines = [f"Rank-1 updates (summed over the 2 layers) to a training loss of {target} nats; in brackets the "
             "epochs and the tuned learning rate.", "",
             "| method | " + " | ".join(f"B = {b}" for b in batches) + " |",
             "|---|" + "---|" * len(batches)]
    for m in order:
        if any((m, b) in cell for b in batches):
            lines.append(f"| {m} | " + " | ".join(show(m, b) for b in batches) + " |")
    rb = args.ratio_batch
    sgd = mean_updates("sgd", rb)
    lines.append("")
    for m in order[1:]:
        other = mean_updates(m, rb)
        if sgd is not None and other is not None:
            lines.append(f"- at B = {rb}: (sgd updates) / ({m} updates) = {sgd / other:.1f}x")
    text = "\n".join(lines) + "\n"
    (out / "updates.md").write_text(text, encoding="utf-8")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for m in order:
        pts = [(b, mean_updates(m, b)) for b in batches if mean_updates(m, b) is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=m)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel(f"rank-1 updates to training loss {target}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(f"{args.data} 2-layer ReLU, updates to target vs batch size")
    fig.tight_layout()
    fig.savefig(out / "updates.png", dpi=120)
    plt.close(fig)
    return text


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for tuning.csv, updates.csv, updates.md/.png")
    p.add_argument("--data", default="digits", choices=["digits", "fashion-mnist"])
    p.add_argument("--max-train", type=int, default=None, help="training images kept (data.max_train)")
    p.add_argument("--max-test", type=int, default=None)
    p.add_argument("--hidden", type=int, default=100, help="hidden units (the paper: 100)")
    p.add_argument("--target", type=float, default=0.05, help="training-loss target, nats")
    p.add_argument("--max-epochs", type=int, default=300,
                   help="cutoff (the paper: 900); raised, the runs that did not reach the target run again")
    p.add_argument("--tune-epochs", type=int, default=5, help="epochs of each learning-rate trial (the paper: 5)")
    p.add_argument("--lrs", type=float, nargs="+", default=[0.03, 0.1, 0.3, 1.0])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32, 128, 512])
    p.add_argument("--rank", type=int, default=4, help="K of exact-K and sbe-K")
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--ratio-batch", type=int, default=128)
    p.add_argument("--table", action="store_true", help="only make the table and plot from updates.csv")
    args = p.parse_args(argv)
    if not args.table:
        study(args, args.out)
    print(table(args, args.out))


if __name__ == "__main__":
    main()
