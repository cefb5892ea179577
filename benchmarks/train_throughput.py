"""Training throughput of `memspice train` against a plain float32 numpy SGD of the same network (the limit).

The limit: a ~30-line float32 numpy mini-batch SGD of the 784-256-128-10
sigmoid MLP with softmax + cross-entropy output (the network, activation,
initialisation and update of memspice's own ``sgd`` rule, memspice.learn),
batch 64, learning rate 0.1, written here and timed in the same run as the
rows: one epoch over the same Fashion-MNIST training samples, timed before
every run of a row (and once before and after all of them); the fastest is
the limit row, and each row's ratio pairs its runs with the limit runs just
before them.

Rows: ``memspice train`` itself, end to end through its Python API (the path
the CLI takes: memspice.learn.config.load_config with overrides, then
memspice.learn.trainer.train, progress off) with the shipped configs
examples/fashion_{sgd,stochastic,mixed_precision,tiki_taka}.toml, overridden
to one epoch, ``--batch`` samples per mini-batch (the limit's batch), a
``--samples`` cap on the training set (data.max_train; validation_fraction
0.001 so that the issue's full figure, 59,940 = all of Fashion-MNIST's 60,000
but 60, is reachable), and 1,000 test images. The rules keep their shipped
learning rates and devices.

Columns: samples/s of the training loop (samples / the epoch's train_time_s of
train()'s timing, timing.csv: every mini-batch's forward, backward, update and
the loop's own loss bookkeeping, first mini-batch included), its ratio to the
limit's samples/s, the issue's target for that ratio and whether it is met;
wall s: the whole train() call (dataset load, network and tiles, the first
step -- Tiki-Taka's zero-shift pulses happen there -- the epoch, evaluation,
checkpoints); first step s: train_time_s minus the time between the first and
last mini-batch callbacks; steady samples/s: the loop without its first step.

BLAS runs on one thread (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS
= 1, set before numpy is imported) for the limit and the rows alike. If aihwkit
is importable, the same network on its analog tiles (ConstantStep device) adds
a row timed over the same samples (aihwkit is not a dependency of memspice).

``--hidden 1024 512``: the same comparison for the network 784-1024-512-10
(the shipped configs with ``network.sizes`` overridden, the limit of the same
sizes); its table goes to train_throughput_784-1024-512-10.{csv,txt} unless
``--csv`` says otherwise.

``--repeat N``: every row N times, each run paired with a run of the limit just
before it (the same load on a shared machine); a row's ratio is the median of
its N paired ratios, its samples/s the fastest run.

    python benchmarks/train_throughput.py [--samples 6000] [--batch 64] [--hidden H1 H2 ...] [--repeat N] [--csv FILE] [--json]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported: one BLAS thread for the limit and the rows

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (784, 256, 128, 10)
BATCH = 64
LIMIT_LR = 0.1
FULL_SAMPLES = 59940  # the figure: Fashion-MNIST's 60,000 training images but 60 (validation_fraction 0.001)
VALIDATION_FRACTION = 0.001
MAX_TEST = 1000

# (rule as in the issue, shipped config, target ratio samples/s / limit's samples/s)
ROWS = (
    ("sgd", "fashion_sgd.toml", 0.9),
    ("stochastic_coincidence", "fashion_stochastic.toml", 0.67),
    ("mixed_precision", "fashion_mixed_precision.toml", 0.67),
    ("tiki_taka", "fashion_tiki_taka.toml", 0.4),
)


def blas_threads() -> str:
    """What the BLAS libraries loaded by numpy actually use (threadpoolctl if present, else the variables)."""
    try:
        from threadpoolctl import threadpool_info

        info = threadpool_info()
        if info:
            return ", ".join(f"{i.get('internal_api', '?')} {i.get('num_threads', '?')}" for i in info)
    except ImportError:
        pass
    return f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"


def load_data(samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The training split `memspice train` sees (seed 1 of the shipped configs, same validation_fraction)."""
    from memspice.learn.datasets import load_fashion_mnist
    from memspice.learn.run_state import Streams

    data = load_fashion_mnist(Streams(1).data, validation_fraction=VALIDATION_FRACTION, max_train=samples)
    return data.train.x, data.train.y


def float32_sgd_epoch(x: np.ndarray, y: np.ndarray, batch: int, lr: float, seed: int = 0, sizes=SIZES) -> float:
    """One epoch of plain float32 mini-batch SGD of the ``sizes`` sigmoid MLP (softmax + cross-entropy); seconds.

    memspice's sgd rule: Glorot-uniform W, zero b; z = x W^T + b; sigmoid hidden; softmax output;
    delta_L = p - onehot(y); delta_k = (delta_{k+1} W_{k+1}) * a(1-a); W -= (lr/B) delta^T x, b -= (lr/B) sum delta.
    """
    rng = np.random.default_rng(seed)
    ws = [rng.uniform(-(lim := np.sqrt(6.0 / (i + o))), lim, (o, i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    x = np.ascontiguousarray(x, dtype=np.float32)
    eye = np.eye(sizes[-1], dtype=np.float32)
    order = rng.permutation(x.shape[0])
    loss = 0.0
    t0 = time.perf_counter()
    for s in range(0, x.shape[0], batch):
        idx = order[s : s + batch]
        a, yb = x[idx], y[idx]
        acts = [a]
        for k, (w, b) in enumerate(zip(ws, bs)):
            z = a @ w.T + b
            if k < len(ws) - 1:
                a = np.float32(0.5) * (np.float32(1.0) + np.tanh(np.float32(0.5) * z))
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                a = e / e.sum(axis=1, keepdims=True)
            acts.append(a)
        loss -= float(np.log(np.maximum(a[np.arange(len(idx)), yb], 1e-30)).sum())
        d = a - eye[yb]
        scale = np.float32(lr / len(idx))
        for k in range(len(ws) - 1, -1, -1):
            back = d @ ws[k] if k > 0 else None
            ws[k] -= scale * (d.T @ acts[k])
            bs[k] -= scale * d.sum(axis=0)
            if back is not None:
                d = back * acts[k] * (np.float32(1.0) - acts[k])
    return time.perf_counter() - t0


def time_memspice(config_name: str, samples: int, batch: int, n: int, sizes=SIZES) -> dict:
    """`memspice train` (its Python API, as the CLI calls it) of one shipped config for one epoch of ``n`` samples
    (``network.sizes`` = ``sizes``)."""
    from memspice.learn.config import load_config
    from memspice.learn.trainer import train

    overrides = {
        "training.epochs": 1,
        "training.batch_size": batch,
        "data.max_train": samples,
        "data.validation_fraction": VALIDATION_FRACTION,
        "data.max_test": MAX_TEST,
        "network.sizes": list(sizes),
    }
    stamps: list[float] = []
    with tempfile.TemporaryDirectory(prefix="memspice-train-throughput-") as out:
        t0 = time.perf_counter()
        config = load_config(ROOT / "examples" / config_name, overrides)
        result = train(config, Path(out) / "run", progress=False, on_batch=lambda e, b: stamps.append(time.perf_counter()))
        wall = time.perf_counter() - t0
    train_s = float(result.timing[-1]["train_time_s"])
    loop_after_first = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
    return {
        "samples": n,
        "train_s": train_s,
        "samples_per_s": n / train_s,
        "wall_s": wall,
        "first_step_s": train_s - loop_after_first,
        "steady_samples_per_s": (n - batch) / loop_after_first if len(stamps) > 1 else float("nan"),
        "eval_s": float(result.timing[-1]["eval_time_s"]),
        "test_accuracy": float(result.test_accuracy),
    }


def time_aihwkit(x: np.ndarray, y: np.ndarray, batch: int, sizes=SIZES) -> dict | None:
    """The same network on aihwkit's analog tiles (ConstantStep, AnalogSGD lr 0.1), one epoch; None without aihwkit."""
    try:
        import torch
        from aihwkit.nn import AnalogLinear, AnalogSequential
        from aihwkit.optim import AnalogSGD
        from aihwkit.simulator.configs import SingleRPUConfig
        from aihwkit.simulator.configs.devices import ConstantStepDevice
    except ImportError:
        return None
    torch.set_num_threads(1)
    t_wall = time.perf_counter()
    torch.manual_seed(0)
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    cfg = SingleRPUConfig(device=ConstantStepDevice())
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(AnalogLinear(n_in, n_out, bias=True, rpu_config=cfg))
        if k < len(sizes) - 2:
            layers.append(torch.nn.Sigmoid())
    model = AnalogSequential(*layers)
    opt = AnalogSGD(model.parameters(), lr=LIMIT_LR)
    opt.regroup_param_groups(model)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(xt.shape[0])
    t0 = time.perf_counter()
    for s in range(0, xt.shape[0], batch):
        idx = order[s : s + batch]
        opt.zero_grad()
        loss = loss_fn(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    t = time.perf_counter() - t0
    return {"samples": int(xt.shape[0]), "train_s": t, "samples_per_s": xt.shape[0] / t,
            "wall_s": time.perf_counter() - t_wall}


COLUMNS = ("rule", "config", "samples", "batch", "samples_per_s", "ratio_to_limit", "target_ratio", "target_met",
           "wall_s", "train_s", "first_step_s", "steady_samples_per_s", "eval_s", "test_accuracy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6000,
                        help=f"training samples of the one epoch (data.max_train; default 6000, the issue's full "
                             f"figure is {FULL_SAMPLES})")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"mini-batch size (default {BATCH})")
    parser.add_argument("--rules", nargs="+", choices=[r[0] for r in ROWS], default=[r[0] for r in ROWS],
                        help="rows to run (default all)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every row (and the limit, before and after the rows) this many times and keep "
                             "the fastest: the figure of a quiet machine on a shared one (default 1)")
    parser.add_argument("--hidden", type=int, nargs="+", default=list(SIZES[1:-1]),
                        help="hidden layer widths of the network 784-...-10 (default 256 128, the shipped configs')")
    parser.add_argument("--csv", type=Path, default=None,
                        help="CSV of the rows (default benchmarks/results/train_throughput.csv, "
                             "train_throughput_784-H1-H2-10.csv for other --hidden; the table goes "
                             "to the same name with .txt)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of the table")
    args = parser.parse_args(argv)
    sizes = (SIZES[0], *args.hidden, SIZES[-1])
    if any(h < 1 for h in args.hidden):
        parser.error(f"--hidden {args.hidden}: every width must be >= 1")
    label = "-".join(map(str, sizes))
    if args.csv is None:
        args.csv = RESULTS / ("train_throughput.csv" if sizes == SIZES else f"train_throughput_{label}.csv")

    x, y = load_data(args.samples)
    n = int(x.shape[0])
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: give at least 1")
    float32_sgd_epoch(x[: 4 * args.batch], y[: 4 * args.batch], args.batch, LIMIT_LR, sizes=sizes)  # warm-up

    def limit() -> float:
        return float32_sgd_epoch(x, y, args.batch, LIMIT_LR, sizes=sizes)

    # every run of a row is paired with a run of the limit just before it: on a shared machine the
    # two see the same load, and the row's ratio is the median of its paired ratios
    limit_runs = [limit()]
    measured = []
    for rule, config_name, target in ROWS:
        if rule in args.rules:
            runs, ratios = [], []
            for _ in range(args.repeat):
                lim = limit()
                limit_runs.append(lim)
                runs.append(time_memspice(config_name, args.samples, args.batch, n, sizes))
                ratios.append(lim / runs[-1]["train_s"])
            best = dict(min(runs, key=lambda m: m["train_s"]))
            best["ratio_to_limit"] = float(np.median(ratios))
            measured.append((rule, config_name, target, best))
    aihwkit = time_aihwkit(x, y, args.batch, sizes)
    limit_runs.append(limit())
    limit_s = min(limit_runs)
    limit_rate = n / limit_s

    def row(rule, config_name, target, m):
        r = {c: "" for c in COLUMNS}
        r.update({"rule": rule, "config": config_name, "batch": args.batch, **m})
        if "ratio_to_limit" not in m:
            r["ratio_to_limit"] = m["samples_per_s"] / limit_rate
        if target is not None:
            r["target_ratio"] = target
            r["target_met"] = "met" if r["ratio_to_limit"] >= target else "not met"
        return r

    rows = [row("float32 numpy sgd (limit)", "benchmarks/train_throughput.py", None,
                {"samples": n, "train_s": limit_s, "samples_per_s": limit_rate})]
    rows += [row(*m) for m in measured]
    if aihwkit is not None:
        rows.append(row("aihwkit ConstantStep (analog SGD)", "aihwkit", None, aihwkit))

    from memspice.commands.output import format_table, write_csv_rows

    threads = blas_threads()
    if args.csv is not None:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        write_csv_rows(args.csv, COLUMNS, rows)
    if args.json:
        json.dump({"sizes": sizes, "batch": args.batch, "samples": n, "data": "fashion-mnist",
                   "blas_threads": threads, "limit_s": limit_runs, "rows": rows},
                  sys.stdout, indent=2)
        print()
        return 0

    def cell(v, fmt):
        return fmt.format(v) if isinstance(v, float) and v == v else ("" if isinstance(v, float) else str(v))

    lines = [
        f"training throughput: `memspice train` (Python API, progress off), one epoch of {n} Fashion-MNIST samples, "
        f"{label}, batch {args.batch}",
        f"limit: plain float32 numpy SGD of the same network (sigmoid, softmax + cross-entropy, lr {LIMIT_LR}), "
        f"{len(limit_runs)} runs, {min(limit_runs):.3f}-{max(limit_runs):.3f} s; the fastest is the limit row",
        f"BLAS threads: OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1 set before numpy import ({threads})",
        f"samples/s: samples / train() epoch train_time_s (timing.csv), the fastest of {args.repeat} run(s); ratio: "
        "the median over those runs of (run samples/s / samples/s of the limit run just before it); "
        "wall s: the whole train() call incl. dataset load, first step, evaluation of 60 + 1000 images, checkpoints",
        "",
        format_table(
            ["rule", "samples/s", "ratio to limit", "target", "met", "wall s", "first step s", "steady samples/s"],
            [(r["rule"], cell(r["samples_per_s"], "{:.0f}"), cell(r["ratio_to_limit"], "{:.3f}"),
              "" if r["target_ratio"] == "" else f">= {r['target_ratio']}", r["target_met"],
              cell(r["wall_s"], "{:.2f}") if r["wall_s"] != "" else "", cell(r["first_step_s"], "{:.3f}")
              if r["first_step_s"] != "" else "", cell(r["steady_samples_per_s"], "{:.0f}")
              if r["steady_samples_per_s"] != "" else "") for r in rows],
            "{:.4g}",
        ),
    ]
    if aihwkit is None:
        lines.append("(aihwkit not installed: no aihwkit row)")
    text = "\n".join(lines)
    print(text)
    if args.csv is not None:
        args.csv.with_suffix(".txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
