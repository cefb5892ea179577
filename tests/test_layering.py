"""The package keeps the layer order of docs/design.md: no import against it, no module over 450 lines.

The order is read from the ``layers`` code block of docs/design.md (one stage
per line: ``<number> <name>: memspice.a, memspice.b``). A module may import
from its own stage and from the stages above it (smaller numbers), at module
level, inside functions and under ``if TYPE_CHECKING`` alike; relative
imports are resolved first, and ``importlib.import_module("memspice...")``
with a literal name counts as an import too. ``memspice`` on its own in the
block means the top-level ``__init__.py`` only, not everything below it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "memspice"
DESIGN = ROOT / "docs" / "design.md"
MAX_LINES = 450

_BLOCK = re.compile(r"^```layers[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_STAGE = re.compile(r"^\s*(\d+)\s+([\w-]+)\s*:\s*(.+?)\s*$")


def layer_order() -> dict[str, tuple[int, str]]:
    """module or package name -> (stage number, stage name), from docs/design.md."""
    blocks = _BLOCK.findall(DESIGN.read_text(encoding="utf-8"))
    assert len(blocks) == 1, f"{DESIGN} must hold exactly one ```layers code block, found {len(blocks)}"
    order: dict[str, tuple[int, str]] = {}
    numbers = []
    for line in blocks[0].splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _STAGE.match(line)
        assert match, f"{DESIGN}: cannot read the layer line {line!r} (want '<number> <name>: memspice.a, memspice.b')"
        number, name = int(match.group(1)), match.group(2)
        numbers.append(number)
        for module in re.split(r"[,\s]+", match.group(3)):
            if not module:
                continue
            assert module == "memspice" or module.startswith("memspice."), f"{DESIGN}: {module!r} is not a memspice module"
            assert module not in order, f"{DESIGN}: {module} is named in two stages"
            order[module] = (number, name)
    assert numbers == sorted(set(numbers)), f"{DESIGN}: the stage numbers must increase line by line, got {numbers}"
    return order


def stage_of(module: str, order: dict[str, tuple[int, str]]) -> tuple[int, str] | None:
    """The stage of a dotted module name: the longest entry of the block that is it or a package above it."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix == "memspice" and module != "memspice":
            return None  # the root entry is the top-level __init__ only
        if prefix in order:
            return order[prefix]
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(text: str, module: str, *, is_package: bool, filename: str = "<text>") -> list[tuple[int, str, str | None]]:
    """(line, imported memspice module, fallback) for every import in ``text`` of ``module``.

    Relative imports are resolved against ``module``. For ``from X import y``
    the import is of ``X.y``, with ``X`` as the fallback when ``X.y`` is in no
    stage itself (then y is a name defined in X).
    """
    tree = ast.parse(text, filename=filename)
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level - 1 >= len(base):
                    raise AssertionError(f"{filename}:{node.lineno}: relative import above the memspice package")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                if alias.name == "*":
                    found.append((node.lineno, source, None))
                else:
                    found.append((node.lineno, f"{source}.{alias.name}", source))
        elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
              and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value, None))
    return [(line, name, fb) for line, name, fb in found if name == "memspice" or name.startswith("memspice.")]


def resolve(name: str, fallback: str | None, order) -> tuple[str, tuple[int, str] | None]:
    """The imported module and its stage (None: in no stage)."""
    stage = stage_of(name, order)
    if stage is None and fallback is not None:
        return fallback, stage_of(fallback, order)
    return name, stage


def shown(name: str) -> str:
    """``name`` cut to the module or package that exists in the tree (``memspice.spice.osdi.compile_va`` -> ``memspice.spice.osdi``)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        path = ROOT.joinpath(*parts[:n])
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return ".".join(parts[:n])
    return name


def python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_import_goes_against_the_layer_order_of_docs_design_md():
    order = layer_order()
    problems: list[str] = []
    seen: set = set()
    for path in python_files():
        here = module_name(path)
        own = stage_of(here, order)
        rel = path.relative_to(ROOT)
        if own is None:
            problems.append(f"{rel}: module {here} is in no stage of docs/design.md")
            continue
        imports = imports_in(path.read_text(encoding="utf-8"), here, is_package=path.name == "__init__.py",
                             filename=str(rel))
        for line, name, fallback in sorted(imports):
            target, stage = resolve(name, fallback, order)
            target = shown(target)
            if stage is None:
                problems.append(f"{rel}:{line} imports {target}, which is in no stage of docs/design.md")
            elif stage[0] > own[0] and (rel, line, target) not in seen:
                seen.add((rel, line, target))
                problems.append(f"{rel}:{line} imports {target} (stage {stage[0]}, {stage[1]}) "
                                f"but is in stage {own[0]} ({own[1]})")
    assert not problems, f"{len(problems)} import(s) against the layer order:\n" + "\n".join(problems)


def test_the_layer_block_names_every_subpackage_and_top_level_module():
    # a new package (or a module beside cli.py) cannot dodge the rule by being left out of the block
    order = layer_order()
    present = {"memspice"}
    present |= {f"memspice.{p.name}" for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    present |= {f"memspice.{p.stem}" for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    missing = sorted(present - set(order))
    assert not missing, f"docs/design.md's layer block does not name: {', '.join(missing)}"


def test_no_module_is_over_450_lines():
    counts = {p.relative_to(ROOT): len(p.read_text(encoding="utf-8").splitlines()) for p in python_files()}
    over = sorted(((n, str(p)) for p, n in counts.items() if n > MAX_LINES), reverse=True)
    assert not over, f"{len(over)} module(s) over {MAX_LINES} lines:\n" + "\n".join(f"{p}: {n}" for n, p in over)


def test_the_import_walker_resolves_relative_local_and_from_imports():
    # the checker itself, on a made-up module memspice.devices.probe: what it would report
    order = {"memspice": (0, "foundation"), "memspice.errors": (0, "foundation"), "memspice.devices": (1, "devices"),
             "memspice.circuit": (4, "circuit")}
    text = (
        "from memspice import __version__\n"
        "from . import library\n"
        "def f():\n"
        "    from ..circuit import run\n"
        "    import memspice.circuit.stimulus as stim\n"
        "    from memspice import circuit, errors\n"
        "    importlib.import_module('memspice.circuit.nodal')\n"
        "import numpy\n"
    )
    got = [(line, *resolve(name, fb, order)) for line, name, fb in imports_in(text, "memspice.devices.probe",
                                                                              is_package=False)]
    assert sorted(got) == sorted([
        (1, "memspice", (0, "foundation")),
        (2, "memspice.devices.library", (1, "devices")),
        (4, "memspice.circuit.run", (4, "circuit")),
        (5, "memspice.circuit.stimulus", (4, "circuit")),
        (6, "memspice.circuit", (4, "circuit")),
        (6, "memspice.errors", (0, "foundation")),
        (7, "memspice.circuit.nodal", (4, "circuit")),
    ])
    # in a package's __init__, "." is the package itself
    assert imports_in("from .cards import x\n", "memspice.devices", is_package=True) == [
        (1, "memspice.devices.cards.x", "memspice.devices.cards")]
    assert stage_of("memspice.nowhere", order) is None
    assert module_name(PACKAGE / "devices" / "__init__.py") == "memspice.devices"


def test_each_subpackage_states_its_stage():
    # Each subpackage's docstring tells a reader its stage and what it may import;
    # the sentence must say what docs/design.md's block says (the block is the source).
    order = layer_order()
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        package = f"memspice.{init.parent.name}"
        number, name = order[package]
        doc = " ".join((ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or "").split())
        match = re.search(r"Stage (\d+) of the layer order \(docs/design\.md\): may import (.*?)nothing later\.|"
                          r"Stage (\d+) of the layer order \(docs/design\.md\): may import only the foundation", doc)
        assert match, f"{init}: its docstring must state 'Stage {number} of the layer order (docs/design.md): may import ...'"
        stated = int(match.group(1) or match.group(3))
        assert stated == number, f"{init} says stage {stated}; docs/design.md puts {package} in stage {number} ({name})"
        named = set(re.findall(r"memspice\.\w+", match.group(2) or ""))
        earlier = {m for m, (n, _) in order.items() if 0 < n < number and m.count(".") == 1}
        assert named == earlier, f"{init}: names {sorted(named)} as importable; the stages before {number} are {sorted(earlier)}"
