"""The reference pages, generated from the code: every config key and every CLI option.

``python -m memspice.docgen`` (or ``make docs``) writes

* ``docs/reference/config.md``: every key of the three TOML files memspice
  reads -- a training config (``memspice train``), a validate-update job
  (``memspice validate-update --config``) and a sweep file
  (``memspice sweep run``) -- one table per TOML table with the key, its type,
  its default and its description;
* ``docs/reference/cli.md``: every command and option of the ``memspice``
  command, from its argparse parser (usage, options, defaults, examples).

Nothing here is a second list of keys: the tables are the fields of the
frozen dataclasses the config readers build (``dataclasses.fields``), the
key tuples they check against (``check_table``) and the sweep tasks' declared
keys; a description is the field's docstring (the string literal after the
field), else its ``#:`` or trailing ``#`` comment, else the key's entry in
the docstring of the module that reads the table. ``--check`` exits 1 when a
page on disk differs from what the code generates (tests/test_docs_reference.py
does the same), so a renamed key or option cannot leave the reference stale.

Stage 12 of the layer order (docs/design.md): may import memspice.devices,
memspice.spice, memspice.external, memspice.circuit, memspice.cell, memspice.surrogate,
memspice.calibrate, memspice.energy, memspice.validate, memspice.learn and
memspice.sweep (and the foundation modules), nothing later.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memspice.docgen.common import REFERENCE_DIR, ROOT, KeyDoc, TableDoc
from memspice.docgen.config_pages import config_tables, render_config
from memspice.docgen.cli_pages import cli_commands, render_cli

__all__ = ["KeyDoc", "TableDoc", "ROOT", "REFERENCE_DIR", "config_tables", "render_config", "render_cli", "cli_commands", "pages", "main"]


# --------------------------------------------------------------------------- writing and checking

def pages() -> dict[Path, str]:
    """Relative path -> generated text of every reference page."""
    return {REFERENCE_DIR / "config.md": render_config(), REFERENCE_DIR / "cli.md": render_cli()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m memspice.docgen",
        description="Write docs/reference/config.md and cli.md from the code (config dataclasses, argparse).",
        epilog="example:\n  python -m memspice.docgen --check    exit 1 if the pages on disk are stale",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root to write under (default: this checkout)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every stale page")
    args = parser.parse_args(argv)
    stale = []
    for rel, text in pages().items():
        path = args.root / rel
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(rel))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel}")
    if stale:
        print(f"stale: {', '.join(stale)}; regenerate with `python -m memspice.docgen` (make docs)", file=sys.stderr)
        return 1
    return 0
