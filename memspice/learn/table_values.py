"""Typed reading of one TOML table into a frozen dataclass: the value checks every learn/ config table shares."""

from __future__ import annotations

import dataclasses
import types
import typing

from memspice.config import check_table
from memspice.errors import ConfigError


def check_value(value, hint, where: str):
    """``value`` converted to the field type ``hint``, or ConfigError naming ``where``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return check_value(value, args[0], where)
    if origin is tuple:
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{where} = {value!r}: expected a non-empty list of integers, e.g. [64, 32, 10]")
        return tuple(check_value(v, typing.get_args(hint)[0], f"{where}[{i}]") for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} = {value!r}: expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} = {value!r}: expected an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} = {value!r}: expected a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} = {value!r}: expected a string")
        return value
    raise AssertionError(f"unhandled config type {hint}")


def typed_values(cls, table: dict, where: str) -> dict:
    """The entries of ``table`` converted to the types of ``cls``'s fields (the keys must be fields)."""
    hints = typing.get_type_hints(cls)
    return {k: check_value(v, hints[k], f"{where}.{k}") for k, v in table.items()}


def read_section(cls, table, where: str):
    """A ``cls`` (a dataclass) from ``table``: unknown keys and values of the wrong type are ConfigErrors."""
    check_table(table, [f.name for f in dataclasses.fields(cls)], where)
    return cls(**typed_values(cls, table, where))
