"""README.md and docs/ (guide, results, reference): every section anchor and link resolves, and every module
the docs name exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    return {github_anchor(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.MULTILINE)}


def test_github_anchor_rule():
    assert github_anchor("Floating-point SGD") == "floating-point-sgd"
    assert github_anchor("Stanford-PKU RRAM") == "stanford-pku-rram"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_between_docs_resolves(path):
    text = path.read_text(encoding="utf-8")
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if "://" in target:
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            bad.append(f"{target}: no file {dest}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no section with anchor #{anchor} in {dest.name}")
    assert not bad, "\n".join(bad)


def test_the_anchor_table_of_algorithms_md_lists_every_section():
    path = ROOT / "docs" / "algorithms.md"
    listed = set(re.findall(r"^\| \[`#([\w-]+)`\]\(#\1\)", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
    sections = anchors(path) - {github_anchor(path.read_text(encoding="utf-8").splitlines()[0].lstrip("# "))}
    assert listed == sections, f"not in the table: {sorted(sections - listed)}; not a section: {sorted(listed - sections)}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_memspice_module_the_docs_name_exists(path):
    # `memspice.a.b` in backticks: a module or package of the tree, or a name defined in one
    bad = []
    for name in sorted(set(re.findall(r"`(memspice(?:\.\w+)+)", path.read_text(encoding="utf-8")))):
        parts = name.split(".")
        n = len(parts)
        while n > 1 and not (ROOT.joinpath(*parts[:n]).with_suffix(".py").is_file()
                             or (ROOT.joinpath(*parts[:n]) / "__init__.py").is_file()):
            n -= 1
        if n == 1:
            bad.append(f"{name}: no such module")
        elif n < len(parts) and not hasattr(importlib.import_module(".".join(parts[:n])), parts[n]):
            bad.append(f"{name}: {'.'.join(parts[:n])} has no {parts[n]}")
    assert not bad, "\n".join(bad)
