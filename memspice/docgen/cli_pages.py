"""The CLI reference: every command and option, from the argparse parser."""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import functools
import inspect
import os
import re
import sys
import textwrap
import typing
from pathlib import Path

from memspice.docgen.common import _anchor, _HEADER, KeyDoc, TableDoc, ROOT, REFERENCE_DIR  # noqa: F401
from memspice.docgen.config_pages import _cell, _clean  # noqa: F401


# --------------------------------------------------------------------------- the CLI

@contextlib.contextmanager
def _columns(width: int):
    """argparse wraps to the terminal width; fix it so the page does not depend on who generates it."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def cli_commands(parser: argparse.ArgumentParser | None = None, words: tuple[str, ...] = ()):
    """(words, parser, help) of every command and subcommand, depth first, sorted by name."""
    if parser is None:
        from memspice.cli import build_parser

        parser = build_parser()
    out = [(words, parser, parser.description or "")]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name in sorted(action.choices):
                sub = action.choices[name]
                if sub.prog.split()[-1] != name:
                    continue  # an alias
                child = cli_commands(sub, (*words, name))
                child[0] = (child[0][0], child[0][1], helps.get(name) or sub.description or "")
                out += child
    return out


def visible_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The options and positionals a command's --help shows (subcommand choosers and hidden ones left out)."""
    return [a for a in parser._actions
            if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)]


def _option_name(action: argparse.Action) -> str:
    return ", ".join(action.option_strings) if action.option_strings else (action.metavar or action.dest)


def render_cli() -> str:
    lines = [_HEADER, "# CLI reference", "",
             "Every command and option of `memspice`, generated from its argparse parser "
             "(`python -m memspice.docgen`); `memspice COMMAND --help` prints the same.", ""]
    with _columns(100):
        commands = cli_commands()
        lines += ["Commands:", ""]
        for words, _, help_ in commands[1:]:
            title = "memspice " + " ".join(words)
            lines.append(f"- [`{title}`](#{_anchor(title)}): {_clean(help_ or '').split('. ')[0].rstrip('.')}")
        for words, parser, help_ in commands:
            title = "memspice" + ("".join(" " + w for w in words))
            lines += ["", f"## {title}", ""]
            desc = parser.description or help_
            if desc:
                lines += [desc.strip(), ""]
            formatter = parser._get_formatter()
            lines += ["```text", parser.format_usage().strip(), "```", ""]
            actions = visible_options(parser)
            if actions:
                lines += ["| option | value | default | description |", "|---|---|---|---|"]
                for a in actions:
                    value = _option_value(a)
                    default = "" if a.default in (None, argparse.SUPPRESS, False) or a.nargs == 0 else _toml_cli(a.default)
                    if a.required:
                        default = "required"
                    help_text = _clean(formatter._expand_help(a)) if a.help else ""
                    if a.choices and not isinstance(a.choices, dict) and "{" not in value:
                        help_text += " Choices: " + ", ".join(map(str, a.choices)) + "."
                    lines.append(f"| `{_option_name(a)}` | {_cell(value)} | {_cell(default)} | {_cell(help_text)} |")
                lines.append("")
            if parser.epilog:
                lines += ["```text", textwrap.dedent(parser.epilog).strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _option_value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    if action.choices and not action.metavar:
        metavar = "{" + ",".join(map(str, action.choices)) + "}"
    suffix = {"?": " (optional)", "*": " ...", "+": " [...]"}.get(action.nargs, "")
    if isinstance(action.nargs, int) and action.nargs > 1:
        metavar = " ".join([metavar] * action.nargs)
    return f"`{metavar}`{suffix}"


def _toml_cli(value) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return f"`{value}`"
