"""The base of the sweep task kinds: declared parameter keys, their type checks, and the Task interface."""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from memspice.errors import ConfigError

__all__ = ["Key", "NUM", "Task", "prefixed"]

#: the TOML types of a number key
NUM = (int, float)


@dataclass(frozen=True)
class Key:
    """One parameter key: accepted Python types (from TOML), and a one-line description."""

    types: tuple
    doc: str
    required: bool = False


def _type_name(types: tuple) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}
    if set(types) == {int, float}:
        return "a number"
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check_type(name: str, value, types: tuple, where: str):
    if isinstance(value, bool) and bool not in types:
        raise ConfigError(f"{where}: {name} = {value!r}: expected {_type_name(types)}")
    if not isinstance(value, types):
        raise ConfigError(f"{where}: {name} = {value!r}: expected {_type_name(types)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {name} = {value!r}: must be finite")
    return value


@dataclass(frozen=True)
class Task(abc.ABC):
    """Base of the task kinds: declared keys and dotted prefixes, metric columns, check and run."""

    kind: str = ""
    keys: Mapping[str, Key] = field(default_factory=dict)
    prefixes: Mapping[str, Key] = field(default_factory=dict)  #: "params." -> type of every params.<name>
    metrics: tuple[str, ...] = ()

    def normalise(self, params: Mapping, *, where: str) -> dict:
        """``params`` checked for unknown keys, missing required keys and types (values are not changed)."""
        out = {}
        for name, value in params.items():
            if name in self.keys:
                out[name] = _check_type(name, value, self.keys[name].types, where)
                continue
            prefix = next((p for p in self.prefixes if name.startswith(p) and len(name) > len(p)), None)
            if prefix is None:
                known = sorted([*self.keys, *(p + "<name>" for p in self.prefixes)])
                raise ConfigError(f"{where}: unknown parameter {name!r} for a {self.kind!r} sweep; "
                                  f"its parameters are: {', '.join(known)}")
            out[name] = _check_type(name, value, self.prefixes[prefix].types, where)
        missing = [k for k, spec in self.keys.items() if spec.required and k not in out]
        if missing:
            raise ConfigError(f"{where}: a {self.kind!r} sweep needs {', '.join(missing)} (in [base], [grid] or [[cases]])")
        return out

    def check_points(self, points: Sequence[Mapping], *, base_dir: Path) -> None:
        """Build every point's values without simulating: bad values fail here, before the sweep starts."""

    @abc.abstractmethod
    def run(self, params: Mapping, *, base_dir: Path, workdir: Path) -> dict:
        """Run one point; the returned dict becomes the point's row in the results table."""


def prefixed(params: Mapping, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
