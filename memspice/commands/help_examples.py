"""One example per command for ``memspice COMMAND --help`` (the epilog), in one place.

:func:`add_examples` is called by :func:`memspice.cli.build_parser` after every
command has registered: a command whose own epilog already has an example
keeps it; every other leaf command gets its line from :data:`EXAMPLES`.
tests/test_cli_consistency.py fails when a command has none.
"""

from __future__ import annotations

import argparse

#: "command path" -> example command lines (what a user types; every one runs as written from the repository)
EXAMPLES: dict[str, tuple[str, ...]] = {
    "doctor": ("memspice doctor --json",),
    "run": ("memspice run netlists/read_8x8.cir --csv read.csv",),
    "crossbar netlist": ("memspice crossbar netlist --rows 4 --cols 4 --stimulus v/2 --amplitude -0.2 -o xb.cir",),
    "crossbar read": ("memspice crossbar read --rows 16 --cols 16 --wire-ohm 1 --solver ngspice",),
    "crossbar write": ("memspice crossbar write --rows 4 --cols 4 --amplitude -0.25 --width 50e-9 --select 1,2",),
    "crossbar golden": ("memspice crossbar golden --check",),
    "models list": ("memspice models list",),
    "models show": ("memspice models show vteam --param k_on_m_per_s=-0.01",),
    "models export": ("memspice models export vteam --format va -o vteam.va",),
    "models plot": ("memspice models plot yakopcic -o yakopcic.png",),
    "models import": ("memspice models import tests/data/external/drift_cell.va --state w",),
    "energy measure": ("memspice energy measure --rows 8 --cols 8 --amplitude -0.25,0.1 -o energy.toml",),
    "energy estimate": ("memspice energy estimate runs/digits-sgd --forward-encoding stochastic",),
    "evaluate": ("memspice evaluate runs/digits-sc/checkpoints/last.npz --drift 0,1e4,1e8 --max-test 200",),
    "train": ("memspice train examples/digits_sgd.toml --out runs/digits-sgd --set training.epochs=5",),
    "validate-update": ("memspice validate-update --rows 8 --cols 8 --amplitude -0.27 --cells '1,2;5,6' -o val",),
    "demo": ("memspice demo -o demo-out --epochs 3",),
}


class ExampleFormatter(argparse.HelpFormatter):
    """Wraps a description as argparse does; keeps a text with line breaks (an example block) as written."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path), parser
        return
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def leaf_commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every leaf command of ``parser`` ("crossbar read", "train", ...) -> its parser."""
    return dict(_leaves(parser))


def add_examples(parser: argparse.ArgumentParser) -> None:
    for name, sub in leaf_commands(parser).items():
        if sub.epilog and "memspice " in sub.epilog:
            continue  # the command's own examples
        lines = EXAMPLES.get(name)
        if not lines:
            continue
        sub.epilog = ("example:\n" if len(lines) == 1 else "examples:\n") + "".join(f"  {line}\n" for line in lines)
        if sub.formatter_class is argparse.HelpFormatter:
            sub.formatter_class = ExampleFormatter
