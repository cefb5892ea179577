"""Where the shipped data folders (models/, circuits/) are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

from memspice.errors import DataError

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``models`` or ``circuits``.

    A wheel carries them as ``memspice/_data/<name>``; a source checkout
    (editable install) has them beside the package, at the repository top.
    """
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise DataError(
        f"memspice's data folder {name!r} is missing from {_PACKAGE}; reinstall the package "
        "(`pip install .`) or run from a full source checkout"
    )


def data_file(folder: str, filename: str) -> Path:
    """A file inside a shipped data folder, with a clear error when it is absent."""
    path = data_dir(folder) / filename
    if not path.is_file():
        available = ", ".join(sorted(p.name for p in path.parent.iterdir())) or "nothing"
        raise DataError(f"no file {filename!r} in memspice's {folder}/ (has: {available})")
    return path
