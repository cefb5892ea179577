"""Energy per epoch of each learning rule beside its accuracy, and the ratios the seed papers claim.

Trains every config given (short runs: --epochs), then applies one measured energy table to each
run's counters.csv (memspice.energy.estimate_run):

    memspice energy measure --model resistor --param r_on_ohm=66667 --param r_off_ohm=1e6 \
        --rows 8 --cols 8 --state 0.5 --v-read 0.2 --amplitude 1.0 -o runs/energy/table.toml
    python examples/studies/energy_per_rule.py runs/energy/table.toml examples/digits_*.toml \
        --epochs 2 --out runs/energy

Printed: per rule, test accuracy and the energy of the last epoch by part; then
* MAC energy of binary (Bernoulli-sampled) inputs vs analog DAC inputs: forward-read energy per MAC
  of the binary-stochastic run (binary encoding) over that of the SGD-on-crossbar run (analog encoding)
  — Li et al. (arXiv 2304.12866) claim > 1000x;
* update energy of SBE vs per-sample stochastic-coincidence SGD (Hoskins et al. 2019 claim large savings
  from ~20x fewer matrix updates at batch 128).
"""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

from memspice.energy import EnergyModel, estimate_run, load_table
from memspice.learn.config import config_from_dict
from memspice.learn.trainer import train

ENCODING = {"binary-stochastic": "binary"}  # forward encoding per rule; the others drive analog DAC levels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table", type=Path)
    ap.add_argument("configs", type=Path, nargs="+")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--max-train", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("runs/energy"))
    args = ap.parse_args()
    table = load_table(args.table)
    rows = {}
    for path in args.configs:
        doc = tomllib.loads(path.read_text())
        doc.setdefault("training", {})["epochs"] = args.epochs
        if args.max_train:
            doc.setdefault("data", {})["max_train"] = args.max_train
        config = config_from_dict(doc, base_dir=path.resolve().parent)
        run = args.out / path.stem
        result = train(config, run, resume=(run / "checkpoints" / "last.npz").is_file(), progress=False)
        model = EnergyModel(table, forward_encoding=ENCODING.get(config.rule.name, "analog"))
        last = estimate_run(run, model)[-1]
        ops = json.loads((run / "operations.json").read_text())["totals"]
        rows[config.rule.name] = {"accuracy": result.test_accuracy, **last, "ops": ops}
        print(f"{config.rule.name:24s} acc {100 * result.test_accuracy:6.2f} %  "
              + "  ".join(f"{k[7:-2]} {last[k]:.3e}" for k in last if k.startswith("energy_")), flush=True)
    if "binary-stochastic" in rows and "stochastic-coincidence" in rows:
        r = rows["stochastic-coincidence"]["forward_j_per_mac"] / rows["binary-stochastic"]["forward_j_per_mac"]
        print(f"forward-read energy per MAC, analog DAC inputs / binary inputs: {r:.3g}x (paper: > 1000x)")
    if "sbe" in rows and "stochastic-coincidence" in rows:
        r = rows["stochastic-coincidence"]["energy_update_j"] / rows["sbe"]["energy_update_j"]
        m = rows["stochastic-coincidence"]["ops"]["outer_products"] / max(rows["sbe"]["ops"]["outer_products"], 1)
        print(f"update energy per epoch, SGD (stochastic coincidence) / SBE: {r:.3g}x; matrix updates {m:.3g}x")
    (args.out / "energy_per_rule.json").write_text(json.dumps(rows, indent=2, default=float))


if __name__ == "__main__":
    main()
