"""The generated reference pages (docs/reference/) against the code they describe.

The references here are the code itself, read independently of the page
generator's own tables: argparse's parser walked action by action, and
``dataclasses.fields`` of every config class a table names as its source.
A renamed option or key, or a page nobody regenerated, fails here.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import re

from memspice import docgen
import memspice.docgen.config_pages  # noqa: F401  (docgen.config_pages.SWEEP)
from memspice.cli import build_parser


def test_pages_on_disk_are_what_the_code_generates():
    # `python -m memspice.docgen --check` compares the same way; a stale page is a failed test
    for rel, text in docgen.pages().items():
        path = docgen.ROOT / rel
        assert path.is_file(), f"{rel} missing; run `python -m memspice.docgen`"
        assert path.read_text(encoding="utf-8") == text, f"{rel} is stale; run `python -m memspice.docgen`"


def _walk(parser, words=()):
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*words, name))


def test_every_cli_option_of_every_command_is_in_the_reference():
    page = docgen.render_cli()
    missing = []
    for words, parser in _walk(build_parser()):
        if words and parser.prog.split()[-1] == words[-1]:  # aliases share their command's section
            assert f"memspice {' '.join(words)}" in page, words
        for action in parser._actions:
            if action.help is argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
                continue
            for opt in action.option_strings:
                if not re.search(rf"`[^`]*{re.escape(opt)}\b", page):
                    missing.append((words, opt))
    assert not missing, f"options absent from docs/reference/cli.md: {missing[:10]}"


def test_every_field_of_every_source_dataclass_is_a_documented_key():
    tables = docgen.config_tables()
    checked = 0
    for table in tables:
        if table.file == docgen.config_pages.SWEEP:
            continue  # a sweep kind's table lists its task's declared keys, not a dataclass's fields
        module_name, _, cls_name = table.source.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), cls_name)
        except (ImportError, AttributeError, ValueError):
            continue  # a module-level source (key tuple, sweep task), not a dataclass
        if not dataclasses.is_dataclass(cls):
            continue
        keys = {k.key for k in table.keys}
        # a rule's table leaves the keys common to every rule to the parent [rule] table
        parent = table.name.split(" name =")[0]
        keys |= {k.key for t in tables if t.name == parent for k in t.keys}
        # a field holding a nested table is documented as its own table, not as a key
        nested = {t.name.strip("[]").split(".")[-1] for t in tables}
        for f in dataclasses.fields(cls):
            if f.name.startswith("_") or f.name in nested:
                continue
            assert f.name in keys or any(f.name in t.name for t in tables), (table.name, f.name)
            checked += 1
    assert checked > 50  # the training, validate and sweep configs together have well over 50 keys


def test_check_mode_reports_a_stale_page(tmp_path, capsys):
    # write the pages into a scratch root, spoil one, and --check must fail naming it
    assert docgen.main(["--root", str(tmp_path)]) == 0
    page = tmp_path / docgen.REFERENCE_DIR / "cli.md"
    page.write_text(page.read_text() + "stale\n")
    assert docgen.main(["--root", str(tmp_path), "--check"]) == 1
    assert "cli.md" in capsys.readouterr().err
