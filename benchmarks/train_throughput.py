"""Training throughput: samples per second for a 784-256-128-10 MLP, batch 64.

Rows: floating-point numpy SGD (the reference), and every pulsed rule on the
surrogate tile (stochastic coincidence with a 32-level constant-step device,
mixed precision with the statistical PCM). If aihwkit is importable, the same
network on its analog tiles with a ConstantStep device runs in the same table
(aihwkit is not a dependency of memspice).

Each row times ``--batches`` mini-batches of forward + backward + update on
Fashion-MNIST images (random images in [0, 1] when the files are absent),
after a few warm-up batches, and reports the best of ``--repeats`` runs. The
ratio column is time per sample relative to floating point; the project's
target for a pulsed rule is <= 1.5.

    python benchmarks/train_throughput.py [--batches 100] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (784, 256, 128, 10)
BATCH = 64


def _data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    from memspice.errors import DataError
    from memspice.learn.datasets import load_fashion_mnist

    try:
        data = load_fashion_mnist(rng, max_train=n)
        return data.train.x, data.train.y, "fashion-mnist"
    except DataError:
        return rng.uniform(0, 1, (n, SIZES[0])), rng.integers(0, 10, n), "random"


def _memspice_setups():
    from memspice.learn.config import load_config
    from memspice.learn.rules import FloatSGD, MixedPrecision, StochasticCoincidence
    from memspice.learn.tiles import tile_config_from_table
    from memspice.learn.trainer import make_rule

    sc_tile = tile_config_from_table(
        {
            "device": "ConstantStep",
            "pair_scheme": "push_pull",
            "device_params": {"g_min_s": 1e-6, "g_max_s": 15e-6, "dg_up_s": 14e-6 / 32, "dg_down_s": 14e-6 / 32},
        }
    )
    mp_tile = tile_config_from_table({"device": "NandakumarPCM2018", "read_preset": "PCMReadNandakumar2018"})
    mp_tile_ideal = tile_config_from_table({"device": "NandakumarPCM2018"})
    # the shipped Fashion-MNIST config (eta 2.0, omega 0.1): many more pulses per batch than eta 0.1
    shipped = load_config(Path(__file__).resolve().parent.parent / "examples" / "fashion_mixed_precision.toml")
    return [
        ("fp numpy sgd", FloatSGD(0.1), None, None),
        ("stochastic coincidence (BL 10, 32 levels)", StochasticCoincidence(0.1, bl=10), sc_tile, None),
        (
            "stochastic coincidence, one uniform per slot",
            StochasticCoincidence(0.1, bl=10, sampler="per_slot"),
            sc_tile,
            None,
        ),
        ("mixed precision (PCM, read noise)", MixedPrecision(0.1), mp_tile, None),
        ("mixed precision (PCM, ideal read)", MixedPrecision(0.1), mp_tile_ideal, None),
        (
            "mixed precision, fashion_mixed_precision.toml (eta 2.0, omega 0.1)",
            make_rule(shipped),
            tile_config_from_table(shipped.tile),
            shipped.network.weight_scaling_omega,
        ),
    ]


def _time_memspice(rule, tile_config, omega, x, y, batches: int, repeats: int) -> float:
    from memspice.learn.network import build_network
    from memspice.learn.tiles import make_tile

    best = np.inf
    for r in range(repeats):
        rng = np.random.default_rng(r)
        factory = None
        if tile_config is not None:
            def factory(n_out, n_cols, _rng=rng):
                return make_tile(n_out, n_cols, tile_config, _rng)
        net = build_network(SIZES, rng, tile_factory=factory, weight_scaling_omega=omega)
        step_rng = np.random.default_rng(100 + r)

        def step(b):
            s = (b * BATCH) % (x.shape[0] - BATCH)
            trace = net.forward_train(x[s : s + BATCH])
            deltas = net.backward(trace, y[s : s + BATCH])
            rule.step(net, trace.inputs, deltas, step_rng)

        for b in range(3):  # warm-up: BLAS threads, caches, first allocations
            step(b)
        t0 = time.perf_counter()
        for b in range(batches):
            step(b)
        best = min(best, time.perf_counter() - t0)
    return best


def _time_aihwkit(x, y, batches: int, repeats: int) -> float | None:
    try:
        import torch
        from aihwkit.nn import AnalogLinear, AnalogSequential
        from aihwkit.optim import AnalogSGD
        from aihwkit.simulator.configs import SingleRPUConfig
        from aihwkit.simulator.configs.devices import ConstantStepDevice
    except ImportError:
        return None
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    best = np.inf
    for r in range(repeats):
        torch.manual_seed(r)
        cfg = SingleRPUConfig(device=ConstantStepDevice())
        layers = []
        for k, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            layers.append(AnalogLinear(n_in, n_out, bias=True, rpu_config=cfg))
            if k < len(SIZES) - 2:
                layers.append(torch.nn.Sigmoid())
        model = AnalogSequential(*layers)
        opt = AnalogSGD(model.parameters(), lr=0.1)
        opt.regroup_param_groups(model)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step(b):
            s = (b * BATCH) % (x.shape[0] - BATCH)
            opt.zero_grad()
            loss = loss_fn(model(xt[s : s + BATCH]), yt[s : s + BATCH])
            loss.backward()
            opt.step()

        for b in range(3):
            step(b)
        t0 = time.perf_counter()
        for b in range(batches):
            step(b)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100, help="timed mini-batches per run (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per row; the best is reported (default 3)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    x, y, source = _data(BATCH * (args.batches + 4), np.random.default_rng(0))
    rows = []
    for name, rule, tile_config, omega in _memspice_setups():
        t = _time_memspice(rule, tile_config, omega, x, y, args.batches, args.repeats)
        rows.append((name, t))
    t_aihwkit = _time_aihwkit(x, y, args.batches, args.repeats)
    if t_aihwkit is not None:
        rows.append(("aihwkit ConstantStep (analog SGD)", t_aihwkit))
    n = args.batches * BATCH
    t_fp = rows[0][1]
    table = [
        {"setup": name, "samples_per_s": n / t, "us_per_sample": 1e6 * t / n, "time_vs_fp": t / t_fp} for name, t in rows
    ]
    if args.json:
        json.dump({"sizes": SIZES, "batch": BATCH, "data": source, "rows": table}, sys.stdout, indent=2)
        print()
        return 0
    from memspice.commands.output import format_table

    print(f"training throughput, {'-'.join(map(str, SIZES))}, batch {BATCH}, {n} samples per run, data: {source}")
    print(
        format_table(
            ["setup", "samples/s", "us/sample", "time vs fp"],
            [(r["setup"], r["samples_per_s"], r["us_per_sample"], r["time_vs_fp"]) for r in table],
            "{:.4g}",
        )
    )
    if t_aihwkit is None:
        print("(aihwkit not installed: no aihwkit row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
