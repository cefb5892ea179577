"""``memspice demo``: the main job end to end on built-in defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memspice.commands.output import format_table, print_json
from memspice.spice import simulate


def register(subparsers) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the main job end to end on built-in defaults",
        description="Build a small resistive crossbar, solve a read in ngspice and print the "
        "column currents next to the ideal G·V values.",
    )
    demo.add_argument("--out", type=Path, default=Path("demo-out"), help="folder for outputs (default demo-out)")
    demo.add_argument("--seed", type=int, default=1, help="seed of the random conductances (default 1)")
    demo.add_argument("--json", action="store_true", help="print a JSON document instead of tables")
    demo.set_defaults(func=_demo)


def _demo(args) -> int:
    rng = np.random.default_rng(args.seed)
    rows, cols = 4, 4
    g = rng.uniform(1e-5, 1e-4, size=(rows, cols))  # 10 kΩ .. 100 kΩ
    v = rng.uniform(0.05, 0.2, size=rows)
    lines = ["memspice demo: 4x4 resistive crossbar read"]
    lines += [f"Vr{i} r{i} 0 DC {v[i]:.15g}" for i in range(rows)]
    lines += [f"Vc{j} c{j} 0 DC 0" for j in range(cols)]  # virtual-ground readout
    lines += [f"R{i}_{j} r{i} c{j} {1 / g[i, j]:.15g}" for i in range(rows) for j in range(cols)]
    lines += [".op", ".end"]
    res = simulate("\n".join(lines))
    i_spice = np.array([res.i(f"vc{j}")[0] for j in range(cols)])  # current into each column's 0 V source
    i_ideal = g.T @ v
    rows_out = [(j, i_spice[j], i_ideal[j], abs(i_spice[j] / i_ideal[j] - 1)) for j in range(cols)]
    if args.json:
        print_json({"i_spice_a": i_spice, "i_ideal_a": i_ideal})
    else:
        print(format_table(["column", "I ngspice [A]", "I = G·V [A]", "rel. diff"], rows_out, "{:.9g}"))
    return 0
