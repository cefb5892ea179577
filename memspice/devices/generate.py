"""Write models/: one Verilog-A module and one TOML card per model, from the definitions.

Usage (from a source checkout)::

    python -m memspice.devices.generate            # (re)write models/
    python -m memspice.devices.generate --check    # exit 1 and list the stale files

For every continuous model: ``NAME.va`` (Verilog-A) and ``NAME.toml`` (card:
parameter values with unit, allowed range and citation; state; equations).
For the stochastic pulse models (pcm, cbram), which have no Verilog-A
rendering: ``NAME.toml`` and ``NAME.sp`` (the ngspice subcircuit). The files
are checked in; tests/test_devices_models_dir.py fails when they are stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memspice.devices import all_model_names, get_model, model_names
from memspice.devices.cards import card_text
from memspice.resources import data_dir


def rendered_files() -> dict[str, str]:
    """file name -> text, for every model's preset."""
    files: dict[str, str] = {}
    for name in all_model_names():
        m = get_model(name)
        files[f"{name}.toml"] = card_text(m)
        if name in model_names():
            files[f"{name}.va"] = m.verilog_a()
        else:
            files[f"{name}.sp"] = m.spice_subckt()
    return files


def stale_files(folder: Path) -> list[str]:
    """Names of files in ``folder`` that differ from (or are missing against) the rendering."""
    out = []
    for fname, text in rendered_files().items():
        path = folder / fname
        if not path.is_file() or path.read_text() != text:
            out.append(fname)
    return out


def write(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fname, text in rendered_files().items():
        path = folder / fname
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            written.append(fname)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m memspice.devices.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder to write (default: the package's models/)")
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    args = parser.parse_args(argv)
    folder = args.out or data_dir("models")
    if args.check:
        stale = stale_files(folder)
        for f in stale:
            print(f"stale: {folder / f}")
        return 1 if stale else 0
    for f in write(folder):
        print(f"wrote {folder / f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
