"""Reading TOML files and writing plain JSON values: shared by every stage.

Each stage validates its own tables; this module only turns a path into a
dict with an error that names the file when it is missing or not TOML, and
numpy values into what ``json`` can write.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from memspice.errors import ConfigError, MemspiceError


def read_toml(path: str | Path, what: str = "config file", *, hint: str = "",
              error: type[MemspiceError] = ConfigError) -> dict:
    """The TOML document at ``path``; ``error`` naming the file when it is missing or malformed.

    ``what`` names the file kind in messages ("sweep file", "model file");
    ``hint`` is appended to the missing-file message (where examples live).
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {str(path)!r} does not exist" + (f"; {hint}" if hint else ""))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{what} {str(path)!r} is not valid TOML: {exc}") from None


def check_table(table, keys, where: str) -> dict:
    """``table`` if it is a TOML table whose keys all belong to ``keys``; else ConfigError naming [where]."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table, got {table!r}")
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(map(str, unknown))} in [{where}]; its keys are: {', '.join(keys)}")
    return table


def to_jsonable(value):
    """numpy values -> plain JSON values, recursively; NaN and inf -> None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
