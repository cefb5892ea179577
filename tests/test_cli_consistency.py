"""The CLI speaks one language: an example in every command's --help that parses, the same option names for
the same things (-o/--out for every output, --seed, --timeout, --no-progress, --json)."""

from __future__ import annotations

import re
import shlex

import pytest

from memspice.cli import build_parser, main
from memspice.commands.help_examples import leaf_commands

LEAVES = leaf_commands(build_parser())


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_every_command_help_has_an_example_that_parses(command, capsys):
    assert main([*command.split(), "--help"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    examples = []
    for k, line in enumerate(lines):
        if line.startswith(f"memspice {command}"):
            while line.endswith("\\") and k + 1 < len(lines):  # a command continued on the next line
                k += 1
                line = line[:-1] + " " + lines[k]
            examples.append(re.split(r"\s{2,}(?=[^-\s])|\s+#", line)[0])  # without the comment after it
    assert examples, f"memspice {command} --help shows no example"
    for line in examples:
        argv = shlex.split(line)[1:]
        try:
            args = build_parser().parse_args(argv)  # the reference: argparse accepts the option names and values
        except SystemExit as exc:
            pytest.fail(f"example {line!r} does not parse (exit {exc.code})")
        assert callable(args.func)


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_the_same_thing_has_the_same_option_name(command):
    parser = LEAVES[command]
    by_dest = {a.dest: a.option_strings for a in parser._actions if a.option_strings}
    for dest in ("out", "output"):
        if dest in by_dest:
            assert {"-o", "--out"} <= set(by_dest[dest]), f"{command}: write -o/--out, got {by_dest[dest]}"
    for dest, spelled in (("seed", "--seed"), ("timeout", "--timeout"), ("json", "--json")):
        if dest in by_dest:
            assert spelled in by_dest[dest], f"{command}: {by_dest[dest]}"
    progress = [a for a in parser._actions if a.option_strings and "progress" in (a.help or "")]
    for a in progress:
        assert "--no-progress" in a.option_strings, f"{command}: {a.option_strings} should be --no-progress"
