"""``.include`` and ``.lib`` cards of a user's deck: resolved as ngspice resolves them, cycles refused.

ngspice reads an ``.include`` path relative to the folder of the file that
holds the card. memspice runs a deck from a temporary folder (the subprocess
backend) or from the caller's folder (the shared library), so
:func:`resolve_includes` rewrites every include path of the deck to an
absolute one first -- a deck that ``ngspice -b deck.cir`` runs, ``memspice
run deck.cir`` runs too. It also follows the included files: a file that
includes itself, directly or through others, would make ngspice recurse until
the stack overflows (a segfault that takes down Python with the shared
backend), so it is refused here with the chain, before ngspice sees it.
"""

from __future__ import annotations

import re
from pathlib import Path

from memspice.errors import DataError, SpiceError

__all__ = ["MAX_INCLUDE_DEPTH", "resolve_includes"]

#: deepest chain of includes followed (ngspice itself has no limit but the stack)
MAX_INCLUDE_DEPTH = 64

_CARD = re.compile(r"""^(?P<head>\s*\.(?:include|inc|lib)\s+)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>\S+))(?P<rest>.*)$""",
                   re.IGNORECASE)


def _cards(text: str):
    """(line number, match) of each include-like card; a one-word ``.lib NAME`` (a section start) is not one."""
    for k, line in enumerate(text.splitlines()):
        m = _CARD.match(line)
        if m is None:
            continue
        if line.lstrip()[:4].lower() == ".lib" and m.group("bare") is not None and not m.group("rest").strip():
            continue  # `.lib section` inside a library file
        yield k, m


def _target(m) -> str:
    return next(g for g in (m.group("dq"), m.group("sq"), m.group("bare")) if g is not None)


def _follow(path: Path, chain: tuple[Path, ...], missing_ok: bool) -> None:
    if path in chain:
        loop = " -> ".join(str(p) for p in (*chain[chain.index(path):], path))
        raise SpiceError(f"the deck includes itself: {loop}; ngspice would recurse until it crashes -- remove the "
                         "include that closes the loop")
    if len(chain) >= MAX_INCLUDE_DEPTH:
        raise SpiceError(f"includes nested deeper than {MAX_INCLUDE_DEPTH} files at {path}; flatten the deck")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        if missing_ok:
            return
        raise DataError(f"included file {str(path)!r} cannot be read") from None
    for _, m in _cards(text):
        target = Path(_target(m)).expanduser()
        target = target if target.is_absolute() else path.parent / target
        if target.is_file() or not missing_ok:
            if not target.is_file():
                raise DataError(f"{path}: .include {_target(m)!r} not found (looked for {str(target)!r})")
            _follow(target.resolve(), (*chain, path), missing_ok)


def resolve_includes(text: str, base_dir: str | Path, *, source: str | Path | None = None,
                     missing_ok: bool = False) -> str:
    """``text`` with each include path absolute (relative ones taken from ``base_dir``); cycles refused.

    ``source``: the file ``text`` came from (so a deck that includes itself is
    caught). ``missing_ok``: leave a missing file to ngspice's own message
    instead of a DataError naming it.
    """
    base = Path(base_dir)
    top = Path(source).resolve() if source is not None else None
    lines = text.splitlines()
    for k, m in _cards(text):
        raw = _target(m)
        target = Path(raw).expanduser()
        target = (target if target.is_absolute() else base / target).resolve()
        if not target.is_file():
            if missing_ok:
                continue
            raise DataError(f".include {raw!r} (line {k + 1}) not found: looked for {str(target)!r}; paths are "
                            f"relative to the deck's folder {str(base)!r}")
        _follow(target, (top,) if top is not None else (), missing_ok)
        lines[k] = f'{m.group("head")}"{target}"{m.group("rest")}'
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")
